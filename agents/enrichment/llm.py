"""Extractor selection and the optional LLM extractor.

`LLMExtractor` asks a chat model (langchain-openai `ChatOpenAI` or anything with `with_structured_output`)
for the facts and a verbatim quote for each; the quotes are then searched in the resume text and every
one not found is kept with `verified=False`, so scoring flags it instead of presenting it as fact.
Derived numbers (years, seniority, occupation codes) are computed here, not taken from the model.

The model is reached through the model door (`tools.llm.guard`): the resume goes out with the
person's names (from their iCIMS record), contact details and address replaced by placeholders, and
the answer's quotes come back with the originals, so they are still verified against the real text.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import date
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from agents.enrichment.credentials import DEGREE_ORDER, canonical_certification
from agents.enrichment.dates import parse_date, total_years
from agents.enrichment.profile import enrich
from agents.enrichment.seniority import tier_from_title, tier_from_years
from agents.enrichment.skills import canonical_skill
from agents.enrichment.text import locate
from agents.enrichment.titles import map_title
from agents.models import (
    CandidateProfile,
    Certification,
    DegreeLevel,
    EducationItem,
    Evidence,
    IndustryMention,
    RemoteMode,
    Role,
    Seniority,
    SkillMention,
)
from tools.llm import guard, make_chat_model

logger = logging.getLogger(__name__)

PROMPT_ID = "resume_extract.v1"
SYSTEM_PROMPT = """You extract facts from one resume for a recruiting system.
Rules:
- Only state what the resume itself says. Do not guess or add anything.
- For every item give `quote`: an exact, contiguous copy of the resume text (same spelling, case and
  punctuation, at most about 120 characters) that shows the item. If you cannot quote it, leave it out.
- Dates as YYYY-MM (or YYYY). Use null for an end date when the role is current.
- Education level is one of: high_school, associate, bachelor, master, doctorate.
- remote_preference only when the resume states one: Remote, Hybrid or On-site."""
MAX_RESUME_CHARS = 24_000  # keeps one request well inside small-context models


class LLMSkill(BaseModel):
    skill: str = Field(description="the skill, tool or technology as named in the resume")
    quote: str = Field(description="exact resume text showing it")


class LLMRole(BaseModel):
    title: str
    employer: str | None
    start: str | None = Field(description="YYYY-MM or YYYY")
    end: str | None = Field(description="YYYY-MM or YYYY; null when current")
    current: bool
    quote: str = Field(description="exact resume text with the title and dates")


class LLMEducation(BaseModel):
    level: DegreeLevel
    field: str | None
    school: str | None
    year: int | None
    quote: str


class LLMCertification(BaseModel):
    name: str
    quote: str


class LLMIndustry(BaseModel):
    industry: str
    quote: str


class LLMProfile(BaseModel):
    """What the model returns. Every field is required (nullable where optional) so the schema also
    works with OpenAI's strict structured outputs."""

    headline: str | None = Field(description="the candidate's current or target job title")
    headline_quote: str | None
    skills: list[LLMSkill]
    roles: list[LLMRole]
    education: list[LLMEducation]
    certifications: list[LLMCertification]
    city: str | None
    state: str | None
    location_quote: str | None
    remote_preference: RemoteMode | None
    remote_quote: str | None
    industries: list[LLMIndustry]


@runtime_checkable
class Extractor(Protocol):
    version: str

    def extract(
        self,
        person_id: str,
        resume_text: str | None,
        fields: dict | None = None,
        *,
        as_of: date | None = None,
    ) -> CandidateProfile: ...


class DeterministicExtractor:
    """The default: `enrich` (rules over the taxonomy; no model, no network)."""

    version = "deterministic-1"

    def extract(
        self,
        person_id: str,
        resume_text: str | None,
        fields: dict | None = None,
        *,
        as_of: date | None = None,
    ) -> CandidateProfile:
        return enrich(person_id, resume_text, fields, as_of=as_of)


def _evidence(text: str, quote: str | None) -> Evidence | None:
    if not quote or not quote.strip():
        return None
    span = locate(text, quote)
    if span is None:
        # Models sometimes trim or re-space a quote; the stripped form still has to be verbatim.
        stripped = quote.strip()
        span = locate(text, stripped)
        if span is not None:
            quote = stripped
    if span is None:
        return Evidence(quote=quote, source="resume", verified=False)
    return Evidence(quote=quote, source="resume", start=span[0], end=span[1], verified=True)


def _month(text: str | None, *, is_end: bool = False) -> date | None:
    if not text:
        return None
    text = text.strip()
    try:
        if len(text) == 7:
            return date(int(text[:4]), int(text[5:7]), 1)
    except ValueError:
        return None
    return parse_date(text, is_end=is_end)


def _year_only(text: str | None) -> bool:
    return bool(text) and len(text.strip()) == 4 and text.strip().isdigit()  # type: ignore[union-attr]


class LLMExtractor:
    """Structured-output extraction with a chat model; quotes verified verbatim against the resume.

    `fallback=True` (default) returns the deterministic profile when the model call fails, so one bad
    response never stops a batch; the profile's `extractor_version` says which path produced it."""

    def __init__(self, chat_model: Any, *, fallback: bool = True, model_name: str | None = None) -> None:
        self._chat = guard(chat_model)
        self._structured = self._chat.with_structured_output(LLMProfile)
        self._fallback = fallback
        name = model_name or getattr(chat_model, "model_name", None) or getattr(chat_model, "model", None)
        self.version = f"llm-1:{name or 'model'}"

    def extract(
        self,
        person_id: str,
        resume_text: str | None,
        fields: dict | None = None,
        *,
        as_of: date | None = None,
    ) -> CandidateProfile:
        today = as_of or date.today()
        base = enrich(person_id, None, fields, as_of=today)
        text = resume_text or ""
        if not text.strip():
            return base.model_copy(update={"extractor_version": self.version})
        from tools.llm import known_people

        try:
            with known_people(records=[fields]):
                raw = self._structured.invoke(
                    [
                        ("system", SYSTEM_PROMPT),
                        ("human", "Resume:\n<<<\n" + text[:MAX_RESUME_CHARS] + "\n>>>"),
                    ]
                )
            answer = raw if isinstance(raw, LLMProfile) else LLMProfile.model_validate(raw)
        except Exception:
            if not self._fallback:
                raise
            logger.warning(
                "LLM extraction failed for person %s; using the deterministic extractor", person_id
            )
            profile = enrich(person_id, resume_text, fields, as_of=today)
            return profile.model_copy(
                update={"extractor_version": f"{profile.extractor_version}+llm-fallback"}
            )
        return self._profile(person_id, text, answer, base, today)

    def _profile(
        self, person_id: str, text: str, answer: LLMProfile, base: CandidateProfile, today: date
    ) -> CandidateProfile:
        skills: list[SkillMention] = []
        seen: set[str] = set()
        for item in answer.skills:
            label = canonical_skill(item.skill) or item.skill.strip()
            ev = _evidence(text, item.quote)
            if not label or ev is None or label.casefold() in seen:
                continue
            seen.add(label.casefold())
            skills.append(SkillMention(skill=label, matched=item.skill, evidence=ev))
        for mention in base.skills:  # skills only the iCIMS work descriptions name
            if mention.skill.casefold() not in seen:
                seen.add(mention.skill.casefold())
                skills.append(mention)

        roles: list[Role] = []
        intervals: list[tuple[date, date]] = []
        years_evidence: list[Evidence] = []
        for item in answer.roles:
            start = _month(item.start)
            end = None if item.current else _month(item.end, is_end=True)
            if end is not None and start is not None and _year_only(item.start) and _year_only(item.end):
                # "2016 - 2019" reads as three years, as in the deterministic parser.
                end = date(end.year, 12 if end.year == start.year else 1, 1)
            match = map_title(item.title)
            ev = _evidence(text, item.quote)
            roles.append(
                Role(
                    title=item.title,
                    employer=item.employer,
                    start=start,
                    end=end,
                    current=item.current,
                    occupation_code=match.code if match else None,
                    occupation_title=match.title if match else None,
                    evidence=ev,
                )
            )
            stop = date(today.year, today.month, 1) if item.current else end
            if start is not None and stop is not None and stop >= start and ev is not None and ev.verified:
                # Only roles the resume verifiably states count towards years of experience.
                intervals.append((start, stop))
                years_evidence.append(ev)
        for role in base.roles:
            if not any(r.start == role.start and r.title.casefold() == role.title.casefold() for r in roles):
                roles.append(role)
                if role.start is not None and role.evidence is not None:
                    stop = role.end or date(today.year, today.month, 1)
                    intervals.append((role.start, stop))
                    years_evidence.append(role.evidence)
        roles.sort(key=lambda r: (r.current, r.end or r.start or date.min), reverse=True)
        years = total_years(intervals) if intervals else None

        headline = answer.headline or (roles[0].title if roles else None)
        headline_ev = _evidence(text, answer.headline_quote) if answer.headline else None
        if headline_ev is None and roles and roles[0].title == headline:
            headline_ev = roles[0].evidence
        match = map_title(headline) if headline else None
        if match is None:
            match = next((map_title(r.title) for r in roles if r.occupation_code), None)
        seniority: Seniority | None = None
        seniority_ev: Evidence | None = None
        tier = tier_from_title(headline) if headline else None
        if tier is not None and headline_ev is not None:
            seniority, seniority_ev = tier[0], headline_ev
        elif years is not None and years_evidence:
            seniority, seniority_ev = tier_from_years(years), years_evidence[0]

        education = [
            EducationItem(
                level=e.level, field=e.field, school=e.school, year=e.year, evidence=_evidence(text, e.quote)
            )
            for e in answer.education
        ]
        for item in base.education:
            if not any(e.level == item.level for e in education):
                education.append(item)
        highest: DegreeLevel | None = (
            max((e.level for e in education), key=DEGREE_ORDER.index) if education else None
        )
        certifications = [
            Certification(
                name=canonical_certification(c.name) or c.name,
                evidence=_evidence(text, c.quote) or Evidence(quote=c.name, verified=False),
            )
            for c in answer.certifications
        ]

        location = base.location.model_copy()
        if location.city is None and (answer.city or answer.state):
            location.city, location.state = answer.city, answer.state
            location.evidence = _evidence(text, answer.location_quote)
        if location.remote_preference is None and answer.remote_preference is not None:
            location.remote_preference = answer.remote_preference
            location.remote_evidence = _evidence(text, answer.remote_quote)

        industries = [
            IndustryMention(industry=i.industry, evidence=ev)
            for i in answer.industries
            if (ev := _evidence(text, i.quote)) is not None
        ]
        return CandidateProfile(
            person_id=str(person_id),
            headline=headline,
            occupation_code=match.code if match else None,
            occupation_title=match.title if match else None,
            skills=skills,
            roles=roles,
            years_experience=years,
            seniority=seniority,
            education=education,
            highest_degree=highest,
            certifications=certifications,
            location=location,
            industries=[i.industry for i in industries],
            text_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            extractor_version=self.version,
            headline_evidence=headline_ev,
            occupation_confidence=match.confidence if match else None,
            seniority_evidence=seniority_ev,
            years_evidence=years_evidence,
            industry_mentions=industries,
            profile_text=base.profile_text,
        )


def make_extractor(settings: Any, *, chat_model: Any | None = None) -> Extractor:
    """The extractor the settings ask for: deterministic when `settings.llm_base_url` is None, otherwise
    an `LLMExtractor` over the guarded `ChatOpenAI` (model `settings.llm_model`; `chat_model` overrides
    it, as in tests, and is guarded all the same)."""
    base_url = getattr(settings, "llm_base_url", None)
    if chat_model is None and not base_url:
        return DeterministicExtractor()
    if chat_model is None:
        chat_model = make_chat_model(settings)
    return LLMExtractor(chat_model, model_name=getattr(settings, "llm_model", None))
