"""Requisitions from mirrored iCIMS job fields and from free-text postings.

A posting's skills are split into must-haves and nice-to-haves by where they appear: under a
"Requirements / Must have / Minimum qualifications" heading (or in a sentence saying "required") versus
"Preferred / Nice to have / Bonus" (or "... is a plus"). Skills are canonical taxonomy labels, so a
posting's "Postgres" and a resume's "PostgreSQL" meet.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from agents.enrichment.credentials import DEGREE_ORDER, find_certifications, find_degrees
from agents.enrichment.fields import field_value
from agents.enrichment.location import US_STATES, remote_mode
from agents.enrichment.seniority import tier_from_title
from agents.enrichment.skills import canonical_skill, find_skills, skill_index
from agents.enrichment.text import evidence, lines, trim_span
from agents.enrichment.titles import map_title
from agents.models import DegreeLevel, Evidence, Location, RemoteMode, Requisition
from tools.reference import occupations
from tools.settings import DEFAULT_FIELD_MAP

Mode = Literal["must", "nice", "neutral"]

# At most this many skills per list: postings that name thirty tools do not require thirty tools, and
# long lists would dilute the points each must-have is worth.
MAX_MUST = 10
MAX_NICE = 10
_SKIP_KINDS = frozenset({"transversal"})

_MUST_HEADINGS = re.compile(
    r"^(?:minimum|basic|required|essential|key|core|technical|mandatory)?\s*"
    r"(?:qualifications?|requirements?|skills(?:\s+(?:and|&)\s+(?:qualifications|experience))?|must[\s-]haves?|"
    r"must\s+have|what\s+you(?:'ll|\s+will)?\s+need|what\s+we(?:'re|\s+are)\s+looking\s+for|who\s+you\s+are|"
    r"you\s+have|you\s+bring|your\s+profile|desired\s+candidate\s+profile|candidate\s+profile|experience|"
    r"job\s+requirements|eligibility(?:\s+criteria)?|education\s+and\s+experience)\s*:?$",
    re.IGNORECASE,
)
_NICE_HEADINGS = re.compile(
    r"^(?:preferred|desired|additional|bonus|nice[\s-]to[\s-]haves?|good[\s-]to[\s-]have|pluses|"
    r"preferred\s+(?:qualifications?|skills|experience|requirements?)|desired\s+(?:qualifications?|skills)|"
    r"additional\s+(?:qualifications?|skills)|bonus\s+points?|extra\s+credit)\s*:?$",
    re.IGNORECASE,
)
_NEUTRAL_HEADINGS = re.compile(
    r"^(?:responsibilities|key\s+responsibilities|duties|job\s+duties|what\s+you(?:'ll|\s+will)\s+do|"
    r"about\s+(?:us|the\s+(?:company|role|team|job|position))|benefits|perks|overview|job\s+description|"
    r"role\s+description|company\s+description|the\s+role|the\s+opportunity|summary|job\s+summary|"
    r"position\s+summary|compensation|why\s+join\s+us|our\s+company|who\s+we\s+are)\s*:?$",
    re.IGNORECASE,
)
# Headings written inline ("Minimum qualifications: BA/BS ... Preferred qualifications: ...").
_INLINE_HEADING = re.compile(
    r"(?P<h>(?:minimum|basic|required|preferred|desired|additional)\s+qualifications?|requirements|"
    r"responsibilities|nice[\s-]to[\s-]have|must[\s-]have|required|preferred)\s*:",
    re.IGNORECASE,
)
_NICE_CUE = re.compile(
    r"\b(?:preferred|is\s+a\s+plus|are\s+a\s+plus|a\s+plus|plus\s+points?|nice[\s-]to[\s-]have|bonus|desirable|"
    r"good[\s-]to[\s-]have|ideally|advantageous|an\s+advantage|would\s+be\s+great|optional)\b",
    re.IGNORECASE,
)
_MUST_CUE = re.compile(
    r"\b(?:required|require[sd]?|must|minimum|at\s+least|mandatory|essential|need\s+to\s+have|proficien\w*|"
    r"strong|solid|expert(?:ise)?|hands[\s-]on|experience\s+(?:with|in|using))\b",
    re.IGNORECASE,
)
_YEARS = re.compile(
    r"\b(?:(?:minimum|min\.?|at\s+least)\s+(?:of\s+)?)?(?P<n>\d{1,2})(?:\s*(?:-|–|to)\s*\d{1,2})?\s*\+?\s*"
    r"(?:years?|yrs?)\b(?:'|’)?(?:\s+of)?(?:\s+[\w/-]+){0,5}?\s+(?:experience|exp)\b",
    re.IGNORECASE,
)
_REMOTE_POSTING = re.compile(
    r"(?P<remote>\bfully\s+remote|\b100%\s+remote|\bremote\s+(?:position|role|job|work|first|opportunity)|"
    r"\(\s*remote\s*\)|\bwork\s+from\s+home|\bwfh|\btelecommute)|\b(?P<hybrid>hybrid)\b|"
    r"\b(?P<onsite>on-?site|in[\s-]office)\b",
    re.IGNORECASE,
)
_PLACE = re.compile(
    r"\b(?P<city>[A-Z][A-Za-z.'-]+(?:[ \t]+[A-Z][A-Za-z.'-]+){0,3}),[ \t]*(?P<state>[A-Z]{2})\b"
)


@dataclass
class Requirements:
    """What a posting asks for, with the span in the posting behind each item."""

    must_have: list[str] = field(default_factory=list)
    nice_to_have: list[str] = field(default_factory=list)
    min_years: float | None = None
    education: DegreeLevel | None = None
    certifications: list[str] = field(default_factory=list)
    remote: RemoteMode | None = None
    location: Location = field(default_factory=Location)
    evidence: dict[str, Evidence] = field(default_factory=dict)


def _segments(text: str) -> list[tuple[int, int, Mode]]:
    """Spans of the posting with the mode their heading (or their own wording) gives them."""
    out: list[tuple[int, int, Mode]] = []
    mode: Mode = "neutral"
    for line in lines(text):
        lo, hi = trim_span(text, line.start, line.end)
        if lo >= hi:
            continue
        raw = text[lo:hi]
        heading = raw.strip(" :*#-").strip()
        if len(heading) <= 60:
            if _MUST_HEADINGS.match(heading):
                mode = "must"
                continue
            if _NICE_HEADINGS.match(heading):
                mode = "nice"
                continue
            if _NEUTRAL_HEADINGS.match(heading):
                mode = "neutral"
                continue
        # Inline headings split a line into parts with their own modes.
        cuts = [(m.start(), m.end(), _heading_mode(m.group("h"))) for m in _INLINE_HEADING.finditer(raw)]
        pieces: list[tuple[int, int, Mode]] = []
        pos, current = 0, mode
        for c_start, c_end, c_mode in cuts:
            if c_start > pos:
                pieces.append((lo + pos, lo + c_start, current))
            pos, current = c_end, c_mode
        pieces.append((lo + pos, hi, current))
        if cuts:
            mode = current
        for p_lo, p_hi, p_mode in pieces:
            # Sentences can say it themselves: "Experience with Docker is a plus."
            for s_lo, s_hi in _sentences(text, p_lo, p_hi):
                sentence = text[s_lo:s_hi]
                s_mode: Mode = p_mode
                if _NICE_CUE.search(sentence):
                    s_mode = "nice"
                elif p_mode == "neutral" and _MUST_CUE.search(sentence):
                    s_mode = "must"
                out.append((s_lo, s_hi, s_mode))
    return out


def _heading_mode(heading: str) -> Mode:
    h = heading.casefold()
    if h.startswith(("preferred", "desired", "additional", "nice")):
        return "nice"
    if h.startswith("responsibilities"):
        return "neutral"
    return "must"


def _sentences(text: str, lo: int, hi: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    pos = lo
    for m in re.finditer(r"(?<=[.!?;])\s+(?=[A-Za-z])|\s+[•·▪]\s*", text[lo:hi]):
        out.append((pos, lo + m.start()))
        pos = lo + m.end()
    out.append((pos, hi))
    return [(a, b) for a, b in out if b > a]


def parse_requirements(text: str, title: str = "") -> Requirements:
    """Must-haves, nice-to-haves, minimum years, degree, certifications and work mode of a posting."""
    req = Requirements()
    index = skill_index()
    segments = _segments(text)
    buckets: dict[Mode, list[str]] = {"must": [], "nice": [], "neutral": []}
    where: dict[str, Evidence] = {}
    # A technology in the title ("Java Developer") is a must-have whatever the text says; other title
    # words ("Data Analyst") name the job, which the occupation criterion already scores.
    for mention in find_skills(title, "requisition"):
        if index.kind(mention.skill) == "technology":
            buckets["must"].append(mention.skill)
    degree_spans = [(h.start, h.end) for h in find_degrees(text, in_education_section=False)]
    for lo, hi, mode in segments:
        # The field of a degree ("BS in Computer Science") is an education requirement, not a skill.
        has_degree = any(lo <= a < hi for a, _b in degree_spans)
        for hit in index.find(text[lo:hi]):
            if index.kind(hit.label) in _SKIP_KINDS or (has_degree and index.kind(hit.label) == "digital"):
                continue
            buckets[mode].append(hit.label)
            where.setdefault(hit.label, evidence(text, lo + hit.start, lo + hit.end, "requisition"))
    must = _unique(buckets["must"])
    nice = [s for s in _unique(buckets["nice"]) if s not in must]
    neutral = [s for s in _unique(buckets["neutral"]) if s not in must and s not in nice]
    if not must:
        # No stated requirements: the skills the posting names first stand in for them.
        must, neutral = neutral[:6], neutral[6:]
    req.must_have = must[:MAX_MUST]
    req.nice_to_have = (nice + neutral)[:MAX_NICE]
    for name in (*req.must_have, *req.nice_to_have):
        if name in where:
            req.evidence[f"skill:{name}"] = where[name]

    def in_mode(pos: int, wanted: Mode) -> bool:
        return any(a <= pos < b and m == wanted for a, b, m in segments)

    years = [m for m in _YEARS.finditer(text) if not in_mode(m.start(), "nice")]
    if years:
        first = years[0]
        n = int(first.group("n"))
        if 0 < n <= 20:
            req.min_years = float(n)
            req.evidence["min_years"] = evidence(text, first.start(), first.end(), "requisition")

    required_levels: list[tuple[DegreeLevel, int, int]] = []
    for hit in find_degrees(text, in_education_section=False):
        if not in_mode(hit.start, "nice"):
            sentence = _sentence_at(text, hit.start)
            if _NICE_CUE.search(sentence):
                continue
            required_levels.append((hit.level, hit.start, hit.end))
    if required_levels:
        # "Bachelor's or Master's degree": the lowest degree named is the requirement.
        level, lo, hi = min(required_levels, key=lambda t: (DEGREE_ORDER.index(t[0]), t[1]))
        req.education = level
        req.evidence["education"] = evidence(text, lo, hi, "requisition")

    for cert in find_certifications(text):
        if not in_mode(cert.start, "nice"):
            req.certifications.append(cert.name)
            req.evidence[f"certification:{cert.name}"] = evidence(text, cert.start, cert.end, "requisition")

    m = _REMOTE_POSTING.search(text)
    if m is None and re.search(r"\bremote\b", title, re.IGNORECASE):
        req.remote = "Remote"  # "Senior Engineer (Remote)": the title says so; no span in the text
    elif m is not None:
        req.remote = "Remote" if m.group("remote") else "Hybrid" if m.group("hybrid") else "On-site"
        req.evidence["remote"] = evidence(text, m.start(), m.end(), "requisition")
    for place in _PLACE.finditer(text):
        if place.group("state") in US_STATES:
            req.location = Location(
                city=place.group("city"),
                state=place.group("state"),
                country="US",
                evidence=evidence(text, place.start(), place.end(), "requisition"),
            )
            break
    return req


def _sentence_at(text: str, pos: int) -> str:
    lo = max(text.rfind("\n", 0, pos), text.rfind(". ", 0, pos)) + 1
    hi_candidates = [i for i in (text.find("\n", pos), text.find(". ", pos)) if i >= 0]
    hi = min(hi_candidates) if hi_candidates else len(text)
    return text[lo:hi]


def _unique(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def _occupation(code: str | None, title: str) -> tuple[str | None, str | None]:
    occ = occupations()
    if code:
        code = code.strip()
        if re.fullmatch(r"\d{2}-\d{4}", code):
            code += ".00"
        if code in occ:
            return code, occ[code].title
    match = map_title(title)
    return (match.code, match.title) if match else (None, None)


def requisition_from_posting(query_id: str, title: str, description: str) -> Requisition:
    """A Requisition from a free-text posting (the eval's queries, or a job pasted by a recruiter)."""
    description = description or ""
    req = parse_requirements(description, title)
    code, occupation_title = _occupation(None, title)
    tier = tier_from_title(title)
    return Requisition(
        job_id=str(query_id),
        title=title,
        description=description,
        occupation_code=code,
        occupation_title=occupation_title,
        must_have=req.must_have,
        nice_to_have=req.nice_to_have,
        min_years=req.min_years,
        seniority=tier[0] if tier else None,
        education=req.education,
        certifications=req.certifications,
        location=req.location,
        remote=req.remote,
        evidence=req.evidence,
    )


def _split_skills(value: Any) -> list[str]:
    text = field_value(value) if not isinstance(value, list) else "; ".join(str(v) for v in value)
    if not text:
        return []
    parts = [p.strip() for p in re.split(r"[;\n]", text) if p.strip()]
    if len(parts) == 1 and "," in parts[0]:
        parts = [p.strip() for p in parts[0].split(",") if p.strip()]
    # Canonical label when the taxonomy knows the name ("Postgres" -> "PostgreSQL"), else as typed.
    return _unique([canonical_skill(p) or p for p in parts])


def _job_location(node: Any) -> Location:
    value = field_value(node)
    if not value:
        return Location()
    # "Boston, MA" or "Harbor Analytics - Boston" (company - city).
    m = re.search(r"(?P<city>[A-Za-z][A-Za-z .'-]*?),\s*(?P<state>[A-Z]{2})\b", value)
    if m is not None:
        return Location(city=m.group("city").strip(), state=m.group("state"))
    if " - " in value:
        return Location(city=value.rsplit(" - ", 1)[1].strip() or None)
    return Location(city=value.strip())


def requisition_from_job(
    job_id: str, fields: dict, *, field_map: Mapping[str, str] | None = None
) -> Requisition:
    """A Requisition from mirrored iCIMS job fields (CONTRACTS.md): title, overview, responsibilities and
    qualifications as the description; must-have / nice-to-have skills, SOC code and remote mode from the
    tenant's custom fields (parsed from the description when those are empty)."""
    fmap = {**DEFAULT_FIELD_MAP, **(field_map or {})}
    title = field_value(fields.get("jobtitle")) or ""
    parts = [field_value(fields.get(key)) for key in ("overview", "responsibilities", "qualifications")]
    description = "\n\n".join(p for p in parts if p)
    parsed = parse_requirements(description, title)
    must = _split_skills(fields.get(fmap["job_must_have_skills"]))
    nice = [s for s in _split_skills(fields.get(fmap["job_nice_to_have_skills"])) if s not in must]
    if not must and not nice:
        must, nice = parsed.must_have, parsed.nice_to_have
    code, occupation_title = _occupation(field_value(fields.get(fmap["job_soc_code"])), title)
    remote_value = field_value(fields.get(fmap["job_remote"]))
    remote = remote_mode(remote_value) if remote_value else parsed.remote
    location = _job_location(fields.get("joblocation"))
    if location.city is None and location.state is None:
        location = parsed.location
    tier = tier_from_title(title)
    evidence_map = {k: v for k, v in parsed.evidence.items() if not k.startswith("skill:")}
    for name in (*must, *nice):
        key = f"skill:{name}"
        if key in parsed.evidence:
            evidence_map[key] = parsed.evidence[key]
    return Requisition(
        job_id=str(job_id),
        title=title,
        description=description,
        occupation_code=code,
        occupation_title=occupation_title,
        must_have=must,
        nice_to_have=nice,
        min_years=parsed.min_years,
        seniority=tier[0] if tier else None,
        education=parsed.education,
        certifications=parsed.certifications,
        location=location,
        remote=remote,
        evidence=evidence_map,
    )
