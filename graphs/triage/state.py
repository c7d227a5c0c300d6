"""Triage's schemas: the run input, the state a thread keeps, the output, and the thread key.

One thread per application: `triage:{customer}:{workflow_id}`; the trace id derives from the event
id, so a re-run of the same event finds the same ledger entries and audit keys.

The decision that authorised the writes lives under `approval` (the kit's record,
`graphs.kit.review`): the admin policy's automatic approval of the AI fields (auto mode), replaced by
the recruiter's decision when one is asked for, which keeps the policy's part under `auto`.
Checkpoints of `triage-1` kept them apart, under `auto` and `review`; both are still read.
"""

from __future__ import annotations

from typing import Any, Required

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

from graphs.kit import threads
from graphs.kit.state import KitOutput, KitState
from graphs.kit.threads import ThreadKey

GRAPH_VERSION = "triage-2"
THREAD = ThreadKey("triage")
REQUEST_ACTION = "triage_application"
WORKFLOW_KIND = "applicantworkflows"


def triage_thread_id(customer_id: int | str, workflow_id: int | str) -> str:
    return THREAD(customer_id, workflow_id)


def trace_id_for(customer_id: int | str, event_id: int | str) -> str:
    """Deterministic per event: a re-run of the same event reuses its ledger entries and audit keys."""
    return threads.trace_id_for(THREAD.prefix, customer_id, event_id)


class TriageInput(TypedDict, total=False):
    workflow_id: Required[int]
    event_id: str
    person_id: int
    job_id: int


class TriageRequest(BaseModel):
    """`POST /runs/triage` and the event handler's input."""

    model_config = ConfigDict(extra="forbid")

    workflow_id: int = Field(gt=0)
    event_id: str | None = Field(default=None, max_length=100)
    person_id: int | None = Field(default=None, gt=0)
    job_id: int | None = Field(default=None, gt=0)


class TriageState(KitState, total=False):
    workflow_id: int
    event_id: str
    person_id: int
    job_id: int
    job: dict[str, Any]
    application: dict[str, Any]
    assessment: dict[str, Any]
    versions: dict[str, Any]
    policy: dict[str, Any]
    actions: list[dict[str, Any]]
    audit_records: list[dict[str, Any]]
    # triage-1 checkpoints: the policy's approval and the recruiter's decision (now `approval`).
    auto: dict[str, Any]
    review: dict[str, Any]


class TriageOutput(KitOutput, total=False):
    application: dict[str, Any]
    assessment: dict[str, Any]
    policy: dict[str, Any]
    actions: list[dict[str, Any]]
    audit_records: list[dict[str, Any]]
