"""`enrich`: a CandidateProfile from resume text plus iCIMS person fields, every item with its evidence.

Two sources, two kinds of evidence: spans of the resume text (`source="resume"`) and spans of
`profile_source_text(fields)`, a fixed rendering of the structured iCIMS fields (`source="profile"`),
kept on the profile as `profile_text` so that scoring can verify those quotes the same way.

Each fact has its own module: `fields` (the rendering), `roles` (dated roles), `location`,
`industries`, `skills`, `titles` and `seniority`, `credentials`; this one combines them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import date

from agents.enrichment.credentials import DEGREE_ORDER, degree_level, find_certifications, find_degrees
from agents.enrichment.dates import total_years
from agents.enrichment.fields import FieldFacts, field_value, profile_source_text, render_fields
from agents.enrichment.industries import find_industries
from agents.enrichment.location import US_STATES, candidate_location, remote_mode
from agents.enrichment.roles import cached_title, iso_date, roles_from_fields, roles_from_text, same_role
from agents.enrichment.seniority import tier_from_title, tier_from_years
from agents.enrichment.skills import find_skills
from agents.enrichment.text import evidence, heading_kind, lines, sections, trim_span
from agents.enrichment.titles import TitleMatch
from agents.models import CandidateProfile, Certification, EducationItem, Evidence, Seniority
from tools.settings import DEFAULT_FIELD_MAP

EXTRACTOR_VERSION = "deterministic-1"

_YEARS_STATED = re.compile(
    r"\b(?P<n>\d{1,2})\+?\s*(?:\+\s*)?(?:years?|yrs?)(?:'|’)?\s+(?:of\s+)?(?:[a-z-]+\s+){0,3}?experience\b",
    re.IGNORECASE,
)


def _headline(text: str) -> tuple[int, int] | None:
    """The first line when it reads as a job title (LiveCareer-style resumes open with the headline)."""
    for line in lines(text)[:3]:
        lo, hi = trim_span(text, line.start, line.end)
        if lo >= hi:
            continue
        first = text[lo:hi]
        if len(first) > 80 or re.search(r"[@\d|]", first) or heading_kind(first) is not None:
            return None
        match = cached_title(first)
        if match is None:
            return None
        # A person's name can end in an occupational noun ("John Baker"); accept the weaker head-noun
        # matches only for the upper-case headline style.
        if match.confidence >= 0.8 or first.isupper():
            return lo, hi
        return None
    return None


def _education(text: str, facts: FieldFacts) -> list[EducationItem]:
    """Degree mentions in the resume (section-aware), then the iCIMS education entries not already
    found there."""
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
        level = degree_level(field_value(entry.get("degree")))
        if level is None:
            continue
        grad = iso_date(field_value(entry.get("graduationdate")))
        item = EducationItem(
            level=level,
            field=field_value(entry.get("major")),
            school=field_value(entry.get("school")),
            evidence=evidence(facts.text, span[0], span[1], "profile"),
            year=grad.year if grad else None,
        )
        if not any(e.level == item.level and (e.year == item.year or e.year is None) for e in education):
            education.append(item)
    return education


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
    facts = render_fields(fields, fmap)
    ptext = facts.text

    # Skills: the resume first, then anything only the structured work descriptions mention.
    skills = find_skills(text, "resume")
    seen = {s.skill for s in skills}
    for mention in find_skills(ptext, "profile"):
        if mention.skill not in seen:
            seen.add(mention.skill)
            skills.append(mention)

    # Roles: resume text and iCIMS work history, the same job counted once.
    parsed = roles_from_text(text, today)
    for field_role in roles_from_fields(facts, today):
        if not any(same_role(field_role.role, p.role) for p in parsed):
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
            years_evidence = [evidence(text, stated.start(), stated.end(), "resume")]

    # Headline and occupation: the resume's own headline, else the most recent titled role.
    headline: str | None = None
    headline_ev: Evidence | None = None
    occupation: TitleMatch | None = None
    first = _headline(text)
    if first is not None:
        headline = text[first[0] : first[1]]
        headline_ev = evidence(text, first[0], first[1], "resume")
        occupation = cached_title(headline)
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
        occupation = cached_title(headline)
    if occupation is None:
        for p in parsed:
            if p.role.occupation_code:
                occupation = cached_title(p.role.title)
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

    education = _education(text, facts)
    highest = max((e.level for e in education), key=DEGREE_ORDER.index) if education else None

    certifications = [
        Certification(name=hit.name, evidence=evidence(text, hit.start, hit.end, "resume"))
        for hit in find_certifications(text)
    ]

    # Location and remote preference: iCIMS fields are authoritative, the resume header fills in.
    location = candidate_location(text, facts)

    industries = find_industries(text, "resume") if text else find_industries(ptext, "profile")

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


__all__ = [
    "EXTRACTOR_VERSION",
    "US_STATES",
    "enrich",
    "profile_source_text",
    "remote_mode",
]
