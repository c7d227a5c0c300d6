"""The offer graph's schemas: run input (`OfferStart`, `CounterInput`, the graph's `OfferInput`),
the thread state, the output, what an approver's edit may change, and the thread key.

One thread per application, `offer:{customer}:{workflow_id}`. State holds JSON-like values only.
`decisions` is the offer's own per-step history (one entry per approval step and accepted counter);
`approval` holds the latest decision record in the kit's shape, which is what
`graphs.kit.runs.approved_unfinished` reads. Checkpoints written before `approval` existed
(GRAPH_VERSION "offer-1") kept only `decisions`: `latest_decision` reads both.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal, Required

from pydantic import BaseModel, ConfigDict, Field, field_validator
from typing_extensions import TypedDict

from agents.offer import OfferTerms, parse_counter
from agents.offer.models import CounterOffer
from graphs.kit.state import KitOutput, KitState
from graphs.kit.threads import ThreadKey
from tools.icims.models import RecordId

GRAPH_VERSION = "offer-2"
THREAD = ThreadKey("offer")
APPROVAL_ACTION = "offer_approval"
COUNTER_ACTION = "offer_counter_reply"
# Job fields the draft reads; the rest of the requisition (long texts) stays in the mirror.
JOB_KEYS = ("jobid", "jobtitle", "joblocation", "hiringmanager", "recruiter", "folder")

Status = Literal[
    "pending_approval", "negotiating", "approved", "attached", "changes_requested", "withdrawn", "failed"
]


def offer_thread_id(customer_id: int | str, workflow_id: int | str) -> str:
    return THREAD(customer_id, workflow_id)


class OfferError(ValueError):
    """The offer cannot be drafted or changed as asked (unknown workflow, no pay band, bad terms)."""


class OfferBusy(OfferError):
    """The offer thread is waiting for an approval (or still running): not the time for that call."""


class OfferStart(BaseModel):
    """Start an offer for an application: proposed terms (any omitted take the policy defaults)."""

    model_config = ConfigDict(extra="forbid")

    workflow_id: RecordId = Field(description="the applicant workflow (application) the offer is for")
    terms: dict[str, Any] = Field(
        default_factory=dict,
        description="OfferTerms fields, e.g. {base_salary, start_date, sign_on_bonus, equity_value, "
        "target_bonus_pct, pto_days, remote, non_compete, non_standard, expires_on}",
    )
    level: str | None = Field(default=None, description="L1..L5 (default: the policy's default level)")
    narrative: str = Field(default="", max_length=2000)

    @field_validator("terms")
    @classmethod
    def _terms(cls, value: dict[str, Any]) -> dict[str, Any]:
        # Field by field, so a bad figure fails here with its name, not later inside the graph.
        known = set(OfferTerms.model_fields)
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"unknown term(s): {', '.join(unknown)}")
        probe = {"base_salary": 1, "start_date": "2100-01-04", **value}
        OfferTerms.model_validate(probe)
        return value


class CounterInput(BaseModel):
    """A counter-offer: the candidate's words, or the terms they ask for (CounterOffer fields)."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, max_length=5000)
    terms: dict[str, Any] | None = None

    @field_validator("terms")
    @classmethod
    def _terms(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            unknown = sorted(set(value) - set(CounterOffer.model_fields) - {"evidence", "text"})
            if unknown:
                raise ValueError(f"unknown counter term(s): {', '.join(unknown)}")
            CounterOffer.model_validate(value)
        return value

    def parsed(self, today: date) -> CounterOffer:
        if self.terms:
            return CounterOffer.model_validate({**self.terms, "text": self.text or ""})
        if not (self.text or "").strip():
            raise OfferError("a counter-offer needs its text or its terms")
        return parse_counter(self.text or "", today=today)


class OfferInput(TypedDict, total=False):
    workflow_id: Required[int | str]
    terms: dict[str, Any]
    level: str
    narrative: str
    counter: dict[str, Any]  # CounterInput, on a thread that has an offer


class OfferState(KitState, total=False):
    # input
    workflow_id: int | str
    terms: dict[str, Any]
    level: str
    narrative: str
    counter: dict[str, Any] | None
    # run
    context: dict[str, Any]
    draft: dict[str, Any]
    issues: list[dict[str, Any]]
    chain: list[dict[str, Any]]
    version: int
    versions: list[dict[str, Any]]
    decisions: list[dict[str, Any]]  # every step's decision record, in order
    awaiting: Literal["approval", "counter"] | None
    negotiation: dict[str, Any] | None
    status: Status
    letter: dict[str, Any]
    audit_record: dict[str, Any]


class OfferOutput(KitOutput, total=False):
    status: Status
    version: int
    chain: list[dict[str, Any]]
    versions: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    negotiation: dict[str, Any] | None
    letter: dict[str, Any]
    audit_record: dict[str, Any]


class EditedOffer(BaseModel):
    """What an approver's edit may change: the terms (the rest of the request is for reading)."""

    model_config = ConfigDict(extra="ignore")

    terms: dict[str, Any]


class EditedCounter(BaseModel):
    model_config = ConfigDict(extra="ignore")

    suggested_reply: str | None = Field(default=None, max_length=5000)
    proposed_terms: dict[str, Any] | None = None


def latest_decision(values: dict[str, Any]) -> dict[str, Any] | None:
    """The latest decision on the thread: `approval`, else (offer-1 checkpoints) the last entry of
    `decisions`."""
    approval = values.get("approval")
    if approval:
        return dict(approval)
    decisions = values.get("decisions") or []
    return dict(decisions[-1]) if decisions else None
