"""Rediscovery's schemas: what a caller passes, what the state holds, what a run returns, and the
candidate as the reviewer sees it. State holds JSON-like values only (dicts, lists, str, numbers),
so a checkpoint written by one process resumes in another without pickled classes."""

from __future__ import annotations

from typing import Any, Literal, Required

from pydantic import BaseModel, ConfigDict, Field, field_validator
from typing_extensions import TypedDict

from graphs.kit.state import KitOutput, KitState
from graphs.kit.threads import ThreadKey

# rediscovery-2: the decision record under `approval` has the kit's key names (`request_hash`,
# `response_hash`; no raw reviewer text). Checkpoints of rediscovery-1 (`interrupt_args_hash`,
# `response`) are still audited correctly (`graphs.kit.review.decision_audit` reads both).
GRAPH_VERSION = "rediscovery-2"

# One thread per requisition: a second request for the same job finds the pending approval.
THREAD = ThreadKey("rediscovery")

Action = Literal["add_to_pool", "submit"]


def rediscovery_thread_id(customer_id: int | str, job_id: int | str) -> str:
    return THREAD(customer_id, job_id)


class RediscoveryInput(TypedDict, total=False):
    """What a caller passes (LangGraph Studio renders this as the input form)."""

    job_id: Required[int | str]
    pool_ids: list[int]  # only consider members of these talent pools (default: everyone mirrored)
    target_pool_id: int  # the pool "add_to_pool" puts people in (default: best-matching active pool)
    filters: dict[str, Any]  # RediscoveryFilters
    top_k: int


class RediscoveryFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_score: int | None = Field(default=None, ge=0, le=100, description="leave out lower scores")
    states: list[str] = Field(default_factory=list, description="person address state abbreviations")
    include_employees: bool = True
    exclude_do_not_contact: bool = False


class RediscoveryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    job_id: int
    pool_ids: list[int] = Field(default_factory=list)
    target_pool_id: int | None = None
    filters: RediscoveryFilters = Field(default_factory=RediscoveryFilters)
    top_k: int = Field(default=10, ge=1, le=100)

    @field_validator("job_id", mode="before")
    @classmethod
    def _job_id(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value


INPUT_KEYS = ("job_id", "pool_ids", "target_pool_id", "filters", "top_k")


class RediscoveryState(KitState, total=False):
    # input
    job_id: int | str
    pool_ids: list[int]
    target_pool_id: int
    filters: dict[str, Any]
    top_k: int
    # run
    requisition: dict[str, Any]
    job: dict[str, Any]
    target_pool: dict[str, Any] | None
    retrieved: list[dict[str, Any]]
    retrieval: dict[str, Any]
    scored: list[dict[str, Any]]
    shortlist: list[dict[str, Any]]
    versions: dict[str, Any]
    audit_record: dict[str, Any]
    purge_report: dict[str, Any]


class RediscoveryOutput(KitOutput, total=False):
    job: dict[str, Any]
    shortlist: list[dict[str, Any]]
    audit_record: dict[str, Any]
    purge_report: dict[str, Any]


OUTPUT_KEYS = tuple(RediscoveryOutput.__annotations__)


class EvidenceOut(BaseModel):
    quote: str
    source: str = "resume"
    verified: bool = False


class ReasonOut(BaseModel):
    criterion: str
    points: float
    text: str
    evidence: EvidenceOut | None = None
    flagged: bool = False


class GapOut(BaseModel):
    criterion: str
    text: str


class ShortlistCandidate(BaseModel):
    """One candidate as the reviewer sees it in the approval request."""

    model_config = ConfigDict(extra="ignore")

    rank: int
    person_id: int
    name: str
    title: str | None = None
    score: int = Field(ge=0, le=100)
    reasons: list[ReasonOut] = Field(default_factory=list)
    gaps: list[GapOut] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list)
    summary: list[str] = Field(default_factory=list)
    outreach_line: str = ""
    # Written to the person's `enrichment_tags` field when approved (verified facts only).
    enrichment_tags: str = ""
    proposed_action: Action
    pool_id: int | None = None
    retrieval: dict[str, float] = Field(default_factory=dict)
