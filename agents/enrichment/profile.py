"""`enrich`: a CandidateProfile from resume text plus iCIMS person fields, every item with its evidence.

Two sources, two kinds of evidence: spans of the resume text (`source="resume"`) and spans of
`profile_source_text(fields)`, a fixed rendering of the structured iCIMS fields (`source="profile"`),
kept on the profile as `profile_text` so that scoring can verify those quotes the same way.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from agents.enrichment.credentials import DEGREE_ORDER, degree_level, find_certifications, find_degrees
from agents.enrichment.dates import Span, find_spans, parse_date, total_years
from agents.enrichment.skills import find_skills
from agents.enrichment.text import Line, evidence, heading_kind, lines, sections, trim_span
from agents.enrichment.titles import TitleMatch, map_title, tier_from_title, tier_from_years
from agents.models import (
    CandidateProfile,
    Certification,
    EducationItem,
    Evidence,
    EvidenceSource,
    IndustryMention,
    Location,
    RemoteMode,
    Role,
    Seniority,
)
from tools.settings import DEFAULT_FIELD_MAP

EXTRACTOR_VERSION = "deterministic-1"


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


US_STATES = _word_set(
    """AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY
    NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR"""
)


# ---------------------------------------------------------------- iCIMS fields -> source text


def _value(node: Any) -> str | None:
    """Text of an iCIMS field value: plain strings, list nodes {id, value} or {abbrev, value}."""
    if node is None:
        return None
    if isinstance(node, Mapping):
        for key in ("value", "formattedvalue", "abbrev"):
            v = node.get(key)
            if isinstance(v, str) and v.strip():
                return v.strip()
        return None
    text = str(node).strip()
    return text or None


class _Builder:
    """Appends labelled lines and remembers where each value landed."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0

    def add(self, *pieces: str | None) -> list[tuple[int, int] | None]:
        """One line from alternating label/value pieces; returns the span of each piece."""
        spans: list[tuple[int, int] | None] = []
        for piece in pieces:
            if piece is None:
                spans.append(None)
                continue
            spans.append((self.pos, self.pos + len(piece)))
            self.parts.append(piece)
            self.pos += len(piece)
        self.parts.append("\n")
        self.pos += 1
        return spans

    def text(self) -> str:
        return "".join(self.parts)


@dataclass
class _FieldFacts:
    text: str
    work: list[tuple[dict[str, Any], tuple[int, int], tuple[int, int] | None]]  # entry, title span, line span
    education: list[tuple[dict[str, Any], tuple[int, int]]]
    address: tuple[str | None, str | None, str | None, tuple[int, int] | None]
    remote: tuple[str, tuple[int, int]] | None


def _render(fields: Mapping[str, Any] | None, field_map: Mapping[str, str]) -> _FieldFacts:
    b = _Builder()
    work: list[tuple[dict[str, Any], tuple[int, int], tuple[int, int] | None]] = []
    education: list[tuple[dict[str, Any], tuple[int, int]]] = []
    address: tuple[str | None, str | None, str | None, tuple[int, int] | None] = (None, None, None, None)
    remote: tuple[str, tuple[int, int]] | None = None
    fields = fields or {}
    for entry in fields.get("addresses") or []:
        if not isinstance(entry, Mapping):
            continue
        city = _value(entry.get("addresscity"))
        state_node = entry.get("addressstate")
        state = (
            _value({"abbrev": state_node.get("abbrev")}) if isinstance(state_node, Mapping) else None
        ) or _value(state_node)
        country_node = entry.get("addresscountry")
        country = (
            _value({"abbrev": country_node.get("abbrev")}) if isinstance(country_node, Mapping) else None
        ) or _value(country_node)
        if not (city or state):
            continue
        place = ", ".join(p for p in (city, state) if p)
        spans = b.add("Address: ", place, " " + country if country else None)
        address = (city, state, country, spans[1])
        break
    remote_field = field_map.get("remote_preference", DEFAULT_FIELD_MAP["remote_preference"])
    pref = _value(fields.get(remote_field))
    if pref:
        spans = b.add("Remote preference: ", pref)
        assert spans[1] is not None
        remote = (pref, spans[1])
    for entry in fields.get("workexperience") or []:
        if not isinstance(entry, Mapping):
            continue
        title = _value(entry.get("worktitle"))
        if not title:
            continue
        employer = _value(entry.get("workemployer"))
        start = _value(entry.get("workstartdate")) or "?"
        end = _value(entry.get("workenddate")) or "present"
        spans = b.add("Work: ", title, " | " + employer if employer else None, f" | {start} - {end}")
        assert spans[1] is not None
        line_start = spans[0][0] if spans[0] else spans[1][0]
        line_end = spans[3][1] if spans[3] else spans[1][1]
        work.append((dict(entry), spans[1], (line_start, line_end)))
        description = _value(entry.get("workdescription"))
        if description:
            b.add("  ", description.replace("\n", " "))
    for entry in fields.get("education") or []:
        if not isinstance(entry, Mapping):
            continue
        degree = _value(entry.get("degree"))
        if not degree:
            continue
        major = _value(entry.get("major"))
        school = _value(entry.get("school"))
        grad = _value(entry.get("graduationdate"))
        spans = b.add(
            "Education: ",
            degree,
            ", " + major if major else None,
            " | " + school if school else None,
            " | " + grad if grad else None,
        )
        assert spans[1] is not None
        end = next(s for s in reversed(spans) if s is not None)[1]
        education.append((dict(entry), (spans[1][0], end)))
    return _FieldFacts(b.text(), work, education, address, remote)


def profile_source_text(fields: Mapping[str, Any] | None, field_map: Mapping[str, str] | None = None) -> str:
    """The deterministic text rendering of iCIMS person fields that `source="profile"` evidence quotes."""
    return _render(fields, {**DEFAULT_FIELD_MAP, **(field_map or {})}).text


# ---------------------------------------------------------------- roles from resume text

_ANON = re.compile(r"Company Name|City\s*,\s*State|ï¼\u200b|ï¼|\u200b", re.IGNORECASE)
_CONNECTIVES = frozenset({"and", "or", "of", "the", "a", "an", "with", "for", "to", "in", "at", "member"})
# Labels that sit next to dates but are not titles ("Duration: Mar 2016 - Sept 2017").
_NOT_TITLE_WORDS = frozenset(
    {
        "duration",
        "period",
        "dates",
        "date",
        "description",
        "company",
        "project",
        "responsibilities",
        "from",
        "since",
        "tenure",
        "experience",
        "city",
        "state",
        "location",
        "employer",
        "present",
        "current",
    }
)
_NOT_TITLE = re.compile(r"[@:;]|https?://|\b(?:19|20)\d{2}\b|^\W*$")


@dataclass(frozen=True, slots=True)
class _ParsedRole:
    role: Role
    title_span: tuple[int, int]
    span: Span


@lru_cache(maxsize=8192)
def _cached_title(title: str) -> TitleMatch | None:
    return map_title(title)


def _title_in(text: str, lo: int, hi: int) -> tuple[int, int, str | None] | None:
    """A plausible job title inside text[lo:hi] (with an employer if the piece says "Title | Employer"),
    as (start, end, employer)."""
    lo, hi = trim_span(text, lo, hi)
    if lo >= hi:
        return None
    anon = _ANON.search(text, lo, hi)
    if anon is not None:
        # LiveCareer writes "Title Company Name City , State" or "Company Name City , State Title".
        before = trim_span(text, lo, anon.start())
        if before[1] - before[0] >= 3:
            lo, hi = before
        else:
            last = None
            for last in _ANON.finditer(text, lo, hi):  # noqa: B007 - we want the final match
                pass
            assert last is not None
            lo, hi = trim_span(text, last.end(), hi)
            if lo >= hi:
                return None
    employer: str | None = None
    piece = text[lo:hi]
    if "|" in piece:
        parts = [p for p in re.finditer(r"[^|]+", piece) if p.group().strip()]
        if not parts:
            return None
        first = parts[0]
        if len(parts) > 1:
            employer = parts[1].group().strip() or None
        lo, hi = trim_span(text, lo + first.start(), lo + first.end())
    else:
        at = re.search(r"\s+(?:at|@)\s+", piece)
        comma = piece.find(",")
        if at is not None and at.start() > 0:
            employer = piece[at.end() :].strip(" ,") or None
            lo, hi = trim_span(text, lo, lo + at.start())
        elif comma > 0 and piece[comma + 1 :].strip() and _cached_title(piece[:comma]) is not None:
            # "Data Analyst, Lakeside Bank": the part before the comma is the title.
            employer = piece[comma + 1 :].strip(" ,") or None
            lo, hi = trim_span(text, lo, lo + comma)
    title = text[lo:hi]
    words = title.split()
    if not (1 <= len(words) <= 10) or len(title) > 80 or _NOT_TITLE.search(title):
        return None
    if title.endswith(".") and len(words) > 4:
        return None  # a sentence, not a title
    if heading_kind(title) is not None or title.casefold() in _NOT_TITLE_WORDS:
        return None
    if _cached_title(title) is None:
        # Unknown titles must at least look like one: no leading connective, past-tense verb or bullet
        # text ("Processed payments for vendors", "and Volunteer").
        head = words[0]
        if head[:1].islower() or head.casefold() in _CONNECTIVES or re.fullmatch(r"[A-Za-z]{4,}ed", head):
            return None
        if len(words) > 6:
            return None
    return lo, hi, employer


def _role_title(text: str, all_lines: list[Line], k: int, span: Span) -> tuple[int, int, str | None] | None:
    line = all_lines[k]
    before = _title_in(text, line.start, span.text_start)
    if before is not None:
        return before
    after_text = text[span.text_end : line.end].strip()
    neighbours = [k - 1, k + 1] if after_text else [k + 1, k - 1]
    found: list[tuple[int, int, str | None]] = []
    for j in neighbours:
        if not 0 <= j < len(all_lines):
            continue
        other = all_lines[j]
        if find_spans(other.text(text), as_of=date(2100, 1, 1)):
            continue  # the neighbour is another role's date line
        got = _title_in(text, other.start, other.end)
        if got is not None:
            found.append(got)
    # Prefer the neighbour that reads as an occupation; otherwise the first plausible one.
    for got in found:
        if _cached_title(text[got[0] : got[1]]) is not None:
            return got
    if found:
        return found[0]
    return _title_in(text, span.text_end, line.end)


def _employer_after(text: str, lo: int, hi: int) -> str | None:
    """An organisation name right after the dates ("Jan 2019 - Present  Acme Corp, Boston, MA")."""
    tail = _ANON.sub(" ", text[lo:hi]).strip(" -–|,")
    tail = re.split(r"\s+[-–|]\s+|\s*,\s*|\s{2,}", tail)[0].strip()
    if not (2 <= len(tail) <= 60) or len(tail.split()) > 6 or re.search(r"[\d*•.;:]", tail):
        return None
    if tail.casefold() in _NOT_TITLE_WORDS:
        return None
    return tail if tail[:1].isupper() else None


def _roles_from_text(text: str, as_of: date) -> list[_ParsedRole]:
    all_lines = lines(text)
    kinds = [kind for kind, _line in sections(text)]
    out: list[_ParsedRole] = []
    for k, line in enumerate(all_lines):
        if kinds[k] in ("education", "certifications"):
            continue
        line_text = line.text(text)
        spans = find_spans(line_text, as_of=as_of)
        if not spans:
            continue
        if find_degrees(line_text, in_education_section=False):
            continue  # "May 2011 to May 2014 Bachelor of Science ..." is schooling, not a job
        for local in spans[:1]:  # one role per line; a second range is usually a note
            span = Span(
                local.start,
                local.end,
                local.current,
                line.start + local.text_start,
                line.start + local.text_end,
            )
            got = _role_title(text, all_lines, k, span)
            if got is None:
                continue
            t_lo, t_hi, employer = got
            if employer is None:
                employer = _employer_after(text, span.text_end, line.end)
            title = text[t_lo:t_hi]
            lo, hi = min(t_lo, span.text_start), max(t_hi, span.text_end)
            match = _cached_title(title)
            role = Role(
                title=title,
                employer=employer,
                start=span.start,
                end=None if span.current else span.end,
                current=span.current,
                occupation_code=match.code if match else None,
                occupation_title=match.title if match else None,
                evidence=evidence(text, lo, hi, "resume"),
            )
            out.append(_ParsedRole(role, (t_lo, t_hi), span))
    return out


def _roles_from_fields(facts: _FieldFacts, as_of: date) -> list[_ParsedRole]:
    out: list[_ParsedRole] = []
    for entry, title_span, line_span in facts.work:
        start = _iso_date(_value(entry.get("workstartdate")))
        end_text = _value(entry.get("workenddate"))
        end = _iso_date(end_text)
        current = end_text is None
        title = facts.text[title_span[0] : title_span[1]]
        match = _cached_title(title)
        lo, hi = line_span or title_span
        role = Role(
            title=title,
            employer=_value(entry.get("workemployer")),
            start=start,
            end=end,
            current=current,
            occupation_code=match.code if match else None,
            occupation_title=match.title if match else None,
            evidence=evidence(facts.text, lo, hi, "profile"),
        )
        span_end = date(as_of.year, as_of.month, 1) if current else end
        if start is not None and span_end is not None and span_end >= start:
            span = Span(start, span_end, current, lo, hi)
        else:
            span = Span(date.min, date.min, current, lo, hi)
        out.append(_ParsedRole(role, title_span, span))
    return out


def _iso_date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return parse_date(text)


def _same_role(a: Role, b: Role) -> bool:
    if a.start is None or b.start is None:
        return False
    if (a.start.year, a.start.month) != (b.start.year, b.start.month):
        return False
    ta, tb = a.title.casefold(), b.title.casefold()
    return ta in tb or tb in ta or (a.occupation_code is not None and a.occupation_code == b.occupation_code)


# ---------------------------------------------------------------- other facts

_YEARS_STATED = re.compile(
    r"\b(?P<n>\d{1,2})\+?\s*(?:\+\s*)?(?:years?|yrs?)(?:'|’)?\s+(?:of\s+)?(?:[a-z-]+\s+){0,3}?experience\b",
    re.IGNORECASE,
)
_CONTACT_PLACE = re.compile(
    r"\b(?P<city>[A-Z][A-Za-z.'-]+(?:[ \t]+[A-Z][A-Za-z.'-]+){0,3}),[ \t]*(?P<state>[A-Z]{2})\b"
    r"(?:[ \t]+\d{5}(?:-\d{4})?)?"
)
_REMOTE_TEXT = re.compile(
    r"\b(?:open\s+to|seeking|prefers?|preferred|preference\s+for|looking\s+for|available\s+for|interested\s+in)"
    r"\s+(?:a\s+|an\s+)?(?:fully\s+|100%\s+)?(?P<mode>remote|hybrid|on-?site|in-office|in\s+office)\b",
    re.IGNORECASE,
)

# Industry -> keywords (lower case, matched as whole words). Small on purpose: a domain label for
# filtering and summaries, not a classifier.
INDUSTRIES: dict[str, tuple[str, ...]] = {
    "healthcare": (
        "hospital",
        "clinic",
        "clinical",
        "patient",
        "patients",
        "nursing",
        "medical center",
        "healthcare",
        "health care",
    ),
    "finance and banking": (
        "bank",
        "banking",
        "credit union",
        "financial services",
        "investment",
        "investments",
        "wealth management",
    ),
    "accounting": ("cpa firm", "accounting firm", "public accounting"),
    "insurance": ("insurance", "underwriting", "claims adjuster"),
    "retail": ("retail", "store", "stores", "merchandising", "e-commerce", "ecommerce"),
    "hospitality and food service": (
        "restaurant",
        "hotel",
        "catering",
        "culinary",
        "kitchen",
        "banquet",
        "hospitality",
    ),
    "education": (
        "school",
        "schools",
        "university",
        "college",
        "classroom",
        "students",
        "student",
        "curriculum",
    ),
    "technology": ("software", "saas", "cloud", "it services", "information technology", "tech startup"),
    "manufacturing": (
        "manufacturing",
        "manufacturer",
        "production line",
        "assembly line",
        "plant floor",
        "factory",
    ),
    "construction": ("construction", "contractor", "jobsite", "job site", "general contractor"),
    "government": (
        "federal",
        "county",
        "municipal",
        "state agency",
        "department of",
        "public sector",
        "government",
    ),
    "nonprofit": ("nonprofit", "non-profit", "charity", "charitable", "foundation", "ngo"),
    "logistics and transportation": (
        "warehouse",
        "logistics",
        "freight",
        "trucking",
        "shipping",
        "distribution center",
    ),
    "energy and utilities": ("oil and gas", "utility", "utilities", "energy", "solar", "power plant"),
    "telecommunications": ("telecom", "telecommunications", "wireless carrier"),
    "media and marketing": ("advertising agency", "marketing agency", "media", "publishing", "broadcasting"),
    "legal": ("law firm", "legal services", "litigation"),
    "real estate": ("real estate", "property management", "leasing office"),
    "pharma and biotech": (
        "pharmaceutical",
        "biotech",
        "biotechnology",
        "clinical trials",
        "clinical trial",
        "life sciences",
    ),
    "automotive": ("automotive", "dealership", "auto repair"),
    "aviation": ("aviation", "airline", "aircraft", "airport"),
    "military and defense": ("army", "navy", "air force", "marine corps", "military", "defense contractor"),
    "fitness and wellness": ("fitness", "gym", "wellness center"),
}
_INDUSTRY_KEYS: dict[tuple[str, ...], str] = {
    tuple(phrase.split()): name for name, phrases in INDUSTRIES.items() for phrase in phrases
}
_INDUSTRY_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def _industries(text: str, source: EvidenceSource) -> list[IndustryMention]:
    """Up to three industries named at least twice outside the education section (where "university"
    says where someone studied, not where they worked)."""
    skip = [(line.start, line.end) for kind, line in sections(text) if kind == "education"]
    words = [(m.group(), m.start(), m.end()) for m in _INDUSTRY_WORD.finditer(text.casefold())]
    counts: dict[str, int] = {}
    first: dict[str, tuple[int, int]] = {}
    i = 0
    while i < len(words):
        step = 1
        for n in (3, 2, 1):
            if i + n > len(words):
                continue
            name = _INDUSTRY_KEYS.get(tuple(w for w, _s, _e in words[i : i + n]))
            if name is None:
                continue
            lo, hi = words[i][1], words[i + n - 1][2]
            if not any(a <= lo < b for a, b in skip):
                counts[name] = counts.get(name, 0) + 1
                first.setdefault(name, (lo, hi))
            step = n
            break
        i += step
    ranked = sorted((n for n in counts if counts[n] >= 2), key=lambda n: (-counts[n], first[n][0]))
    return [IndustryMention(industry=n, evidence=evidence(text, *first[n], source)) for n in ranked[:3]]


def _ev(text: str, m: re.Match[str], source: EvidenceSource) -> Evidence:
    return evidence(text, m.start(), m.end(), source)


def _remote_mode(value: str) -> RemoteMode | None:
    v = value.casefold().replace("-", "").replace(" ", "")
    if v.startswith("remote"):
        return "Remote"
    if v.startswith("hybrid"):
        return "Hybrid"
    if v in ("onsite", "inoffice", "office", "onpremises"):
        return "On-site"
    return None


def _headline(text: str) -> tuple[int, int] | None:
    """The first line when it reads as a job title (LiveCareer-style resumes open with the headline)."""
    for line in lines(text)[:3]:
        lo, hi = trim_span(text, line.start, line.end)
        if lo >= hi:
            continue
        first = text[lo:hi]
        if len(first) > 80 or re.search(r"[@\d|]", first) or heading_kind(first) is not None:
            return None
        match = _cached_title(first)
        if match is None:
            return None
        # A person's name can end in an occupational noun ("John Baker"); accept the weaker head-noun
        # matches only for the upper-case headline style.
        if match.confidence >= 0.8 or first.isupper():
            return lo, hi
        return None
    return None


# ---------------------------------------------------------------- enrich


def enrich(
    person_id: str,
    resume_text: str | None,
    fields: dict | None = None,
    *,
    as_of: date | None = None,
    field_map: Mapping[str, str] | None = None,
) -> CandidateProfile:
    """Deterministic extraction from resume text and iCIMS person fields.

    `as_of` resolves "Present" in date ranges (defaults to today); `field_map` overrides the tenant's
    custom field ids (defaults to `tools.settings.DEFAULT_FIELD_MAP`)."""
    today = as_of or date.today()
    fmap = {**DEFAULT_FIELD_MAP, **(field_map or {})}
    text = resume_text or ""
    facts = _render(fields, fmap)
    ptext = facts.text

    # Skills: the resume first, then anything only the structured work descriptions mention.
    skills = find_skills(text, "resume")
    seen = {s.skill for s in skills}
    for mention in find_skills(ptext, "profile"):
        if mention.skill not in seen:
            seen.add(mention.skill)
            skills.append(mention)

    # Roles: resume text and iCIMS work history, the same job counted once.
    parsed = _roles_from_text(text, today)
    for field_role in _roles_from_fields(facts, today):
        if not any(_same_role(field_role.role, p.role) for p in parsed):
            parsed.append(field_role)
    parsed.sort(key=lambda p: (p.role.current, p.span.end, p.span.start), reverse=True)
    roles = [p.role for p in parsed]

    intervals = [(p.span.start, p.span.end) for p in parsed if p.span.start != date.min]
    years: float | None = total_years(intervals) if intervals else None
    years_evidence = [p.role.evidence for p in parsed if p.span.start != date.min and p.role.evidence]
    if years is None:
        stated = _YEARS_STATED.search(text)
        if stated is not None:
            years = float(stated.group("n"))
            years_evidence = [_ev(text, stated, "resume")]

    # Headline and occupation: the resume's own headline, else the most recent titled role.
    headline: str | None = None
    headline_ev: Evidence | None = None
    occupation: TitleMatch | None = None
    first = _headline(text)
    if first is not None:
        headline = text[first[0] : first[1]]
        headline_ev = evidence(text, first[0], first[1], "resume")
        occupation = _cached_title(headline)
    if headline is None and parsed:
        top = parsed[0]
        source_text, source = (
            (text, "resume")
            if top.role.evidence and top.role.evidence.source == "resume"
            else (
                ptext,
                "profile",
            )
        )
        headline = top.role.title
        headline_ev = evidence(source_text, top.title_span[0], top.title_span[1], source)  # type: ignore[arg-type]
    if occupation is None and headline is not None:
        occupation = _cached_title(headline)
    if occupation is None:
        for p in parsed:
            if p.role.occupation_code:
                occupation = _cached_title(p.role.title)
                break

    # Seniority: a level word in the headline wins; otherwise the years.
    seniority: Seniority | None = None
    seniority_ev: Evidence | None = None
    if headline is not None and headline_ev is not None and headline_ev.start is not None:
        tier = tier_from_title(headline)
        if tier is not None:
            seniority = tier[0]
            src_text = text if headline_ev.source == "resume" else ptext
            seniority_ev = evidence(
                src_text, headline_ev.start + tier[1], headline_ev.start + tier[2], headline_ev.source
            )
    if seniority is None and years is not None:
        seniority = tier_from_years(years)
        seniority_ev = years_evidence[0] if years_evidence else None
        if seniority_ev is None:
            seniority = None

    # Education: degree mentions in the resume (section-aware), then the iCIMS education entries.
    education: list[EducationItem] = []
    kinds = {line.start: kind for kind, line in sections(text)}
    for line in lines(text):
        in_edu = kinds.get(line.start) == "education"
        for hit in find_degrees(line.text(text), in_education_section=in_edu):
            lo, hi = line.start + hit.start, line.start + hit.end
            line_lo, line_hi = trim_span(text, line.start, line.end)
            quote_lo, quote_hi = (line_lo, line_hi) if line_hi - line_lo <= 160 else (lo, hi)
            year_match = re.search(r"\b(19[5-9]\d|20[0-4]\d)\b", text[line.start : line.end])
            education.append(
                EducationItem(
                    level=hit.level,
                    field=hit.field,
                    evidence=evidence(text, quote_lo, quote_hi, "resume"),
                    year=int(year_match.group(1)) if year_match else None,
                )
            )
    for entry, span in facts.education:
        level = degree_level(_value(entry.get("degree")))
        if level is None:
            continue
        grad = _iso_date(_value(entry.get("graduationdate")))
        item = EducationItem(
            level=level,
            field=_value(entry.get("major")),
            school=_value(entry.get("school")),
            evidence=evidence(ptext, span[0], span[1], "profile"),
            year=grad.year if grad else None,
        )
        if not any(e.level == item.level and (e.year == item.year or e.year is None) for e in education):
            education.append(item)
    highest = max((e.level for e in education), key=DEGREE_ORDER.index) if education else None

    certifications = [
        Certification(name=hit.name, evidence=evidence(text, hit.start, hit.end, "resume"))
        for hit in find_certifications(text)
    ]

    # Location and remote preference: iCIMS fields are authoritative, the resume header fills in.
    location = Location()
    city, state, country, place_span = facts.address
    if place_span is not None:
        location = Location(
            city=city,
            state=state,
            country=country,
            evidence=evidence(ptext, place_span[0], place_span[1], "profile"),
        )
    else:
        header_end = lines(text)[12].start if len(lines(text)) > 12 else len(text)
        for m in _CONTACT_PLACE.finditer(text, 0, header_end):
            if m.group("state") in US_STATES:
                location = Location(
                    city=m.group("city"),
                    state=m.group("state"),
                    country="US",
                    evidence=evidence(text, m.start(), m.end(), "resume"),
                )
                break
    if facts.remote is not None:
        mode = _remote_mode(facts.remote[0])
        if mode is not None:
            location.remote_preference = mode
            location.remote_evidence = evidence(ptext, facts.remote[1][0], facts.remote[1][1], "profile")
    if location.remote_preference is None:
        m = _REMOTE_TEXT.search(text)
        if m is not None:
            mode = _remote_mode(m.group("mode"))
            if mode is not None:
                location.remote_preference = mode
                location.remote_evidence = _ev(text, m, "resume")

    industries = _industries(text, "resume") if text else _industries(ptext, "profile")

    return CandidateProfile(
        person_id=str(person_id),
        headline=headline,
        occupation_code=occupation.code if occupation else None,
        occupation_title=occupation.title if occupation else None,
        skills=skills,
        roles=roles,
        years_experience=years,
        seniority=seniority,
        education=education,
        highest_degree=highest,
        certifications=certifications,
        location=location,
        industries=[m.industry for m in industries],
        text_hash=hashlib.sha256(text.encode("utf-8")).hexdigest() if resume_text is not None else None,
        extractor_version=EXTRACTOR_VERSION,
        headline_evidence=headline_ev,
        occupation_confidence=occupation.confidence if occupation else None,
        seniority_evidence=seniority_ev,
        years_evidence=years_evidence,
        industry_mentions=industries,
        profile_text=ptext or None,
    )


__all__ = ["EXTRACTOR_VERSION", "enrich", "profile_source_text"]
