"""Domain types shared by enrichment, retrieval, scoring and the rediscovery graph.

Every extracted fact and every scoring reason carries `Evidence`: a quote and where it came from.
A quote that cannot be found verbatim in its source is kept but flagged, never presented as fact.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

EvidenceSource = Literal["resume", "profile", "workflow", "requisition"]
DegreeLevel = Literal["none", "high_school", "associate", "bachelor", "master", "doctorate"]
Seniority = Literal["entry", "mid", "senior", "lead", "executive"]
RemoteMode = Literal["Remote", "Hybrid", "On-site"]


class Evidence(BaseModel):
    quote: str
    source: EvidenceSource = "resume"
    start: int | None = Field(default=None, description="character offset of the quote in the source")
    end: int | None = None
    verified: bool = Field(default=False, description="the quote was found verbatim in the source text")


class SkillMention(BaseModel):
    skill: str = Field(description="canonical skill label from the taxonomy")
    matched: str = Field(description="the alias or phrase that matched")
    evidence: Evidence


class Role(BaseModel):
    title: str
    employer: str | None = None
    start: date | None = None
    end: date | None = None
    current: bool = False
    occupation_code: str | None = None
    occupation_title: str | None = None
    evidence: Evidence | None = None


class EducationItem(BaseModel):
    level: DegreeLevel
    field: str | None = None
    school: str | None = None
    evidence: Evidence | None = None
    year: int | None = Field(default=None, description="graduation (or end) year when stated")


class Certification(BaseModel):
    name: str
    evidence: Evidence


class Location(BaseModel):
    city: str | None = None
    state: str | None = None
    country: str | None = None
    remote_preference: RemoteMode | None = None
    evidence: Evidence | None = Field(default=None, description="where city/state came from")
    remote_evidence: Evidence | None = Field(
        default=None, description="where the remote preference came from"
    )


class IndustryMention(BaseModel):
    industry: str
    evidence: Evidence


class CandidateProfile(BaseModel):
    """What enrichment extracts about one person (resume text plus iCIMS fields)."""

    person_id: str
    headline: str | None = None
    occupation_code: str | None = None
    occupation_title: str | None = None
    skills: list[SkillMention] = Field(default_factory=list)
    roles: list[Role] = Field(default_factory=list)
    years_experience: float | None = None
    seniority: Seniority | None = None
    education: list[EducationItem] = Field(default_factory=list)
    highest_degree: DegreeLevel | None = None
    certifications: list[Certification] = Field(default_factory=list)
    location: Location = Field(default_factory=Location)
    industries: list[str] = Field(default_factory=list)
    text_hash: str | None = None
    extractor_version: str = "deterministic-1"
    # Evidence for the derived facts above (additive; the lists/fields above stay the primary API).
    headline_evidence: Evidence | None = None
    occupation_confidence: float | None = Field(default=None, description="title -> occupation match, 0..1")
    seniority_evidence: Evidence | None = None
    years_evidence: list[Evidence] = Field(
        default_factory=list, description="the dated spans (or 'N years' statement) behind years_experience"
    )
    industry_mentions: list[IndustryMention] = Field(default_factory=list)
    profile_text: str | None = Field(
        default=None,
        description="deterministic rendering of the iCIMS person fields, quoted by evidence with "
        "source='profile'",
    )

    def skill_set(self) -> set[str]:
        return {s.skill.lower() for s in self.skills}


class ScoringWeights(BaseModel):
    """Points available per criterion (sum 100). Recruiters calibrate these per requisition."""

    must_have: float = 40
    nice_to_have: float = 12
    occupation: float = 18
    seniority: float = 10
    location: float = 5
    education: float = 5
    rediscovery: float = 10
    starred_multiplier: float = Field(default=2.0, description="a starred skill weighs this many times more")


class Requisition(BaseModel):
    """A job as the ranker sees it: iCIMS job profile fields plus the recruiter's calibration."""

    job_id: str
    title: str
    description: str = ""
    occupation_code: str | None = None
    must_have: list[str] = Field(default_factory=list)
    nice_to_have: list[str] = Field(default_factory=list)
    starred: list[str] = Field(default_factory=list, description="criteria the recruiter starred")
    min_years: float | None = None
    seniority: Seniority | None = None
    education: DegreeLevel | None = None
    certifications: list[str] = Field(default_factory=list)
    location: Location = Field(default_factory=Location)
    remote: RemoteMode | None = None
    weights: ScoringWeights = Field(default_factory=ScoringWeights)
    occupation_title: str | None = None
    evidence: dict[str, Evidence] = Field(
        default_factory=dict,
        description="where each parsed criterion came from in `description`, keyed 'skill:<label>', "
        "'min_years', 'education', 'certification:<name>', 'remote'",
    )


class HistorySignal(BaseModel):
    """A past application of the candidate (from mirrored applicant workflows)."""

    job_id: str
    status: str
    stage_rank: int = Field(description="0 new ... 5 hired; higher = went further")
    disposition: Literal["open", "rejected", "withdrawn", "hired"] = "open"
    updated: date | None = None
    status_label: str | None = Field(default=None, description="e.g. 'Interview' (status is the list id)")


class Reason(BaseModel):
    criterion: str
    points: float
    text: str = Field(description="e.g. \"+12 must-have Python: 'built Python ETL pipelines'\"")
    evidence: Evidence | None = None
    flagged: bool = Field(default=False, description="its quote was not found verbatim in the source")


class Gap(BaseModel):
    criterion: str
    text: str


class ScoredCandidate(BaseModel):
    person_id: str
    score: int = Field(ge=0, le=100)
    reasons: list[Reason] = Field(default_factory=list)
    gaps: list[Gap] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list)
    summary: list[str] = Field(default_factory=list, description="three bullets for the recruiter")
    retrieval: dict[str, float] = Field(default_factory=dict, description="ranks/scores per retriever")
    rubric_version: str = "rubric-1"
