"""What the approvals API reads and answers with: a reviewer's `Decision`, an approval's summary and
detail, and the result of resolving one (`server.approvals.ApprovalService` builds them)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

DecisionType = Literal["accept", "edit", "respond", "ignore"]
# Decision type -> the Agent Inbox request `config` flag that allows it.
ALLOW = {
    "accept": "allow_accept",
    "edit": "allow_edit",
    "respond": "allow_respond",
    "ignore": "allow_ignore",
}


class Decision(BaseModel):
    """A reviewer's answer. `args`: for edit, the edited action args (e.g. `{"candidates": [...]}`,
    or the Agent Inbox's whole `{action, args}`); `note`: free text (the message of a respond)."""

    type: DecisionType
    args: dict[str, Any] | None = None
    note: str | None = Field(default=None, max_length=4000)


ApprovalStatus = Literal["pending", "applying"]


class ApplyingInfo(BaseModel):
    """An approved decision whose writes have not all landed yet; the worker retries them."""

    decision: str | None
    approver: str | None
    decided_at: str | None
    attempts: int = Field(description="failed attempts to apply so far (the next one is retry N)")
    next_at: str | None = Field(description="when the worker tries again (UTC)")
    last_error: str | None
    text: str = Field(
        description='e.g. "approved, applying (retry 2, next at 10:04:05 UTC, last error: ...)"'
    )


class ApprovalSummary(BaseModel):
    id: str = Field(description="approval id = thread id")
    thread_id: str
    interrupt_id: str
    graph: str
    action: str
    job_id: int | None
    job_title: str | None
    owner_id: int | None = Field(description="the requisition's recruiter (iCIMS person id)")
    owner_name: str | None
    hiring_manager_id: int | None
    created_at: str | None
    age_minutes: float | None
    items: int = Field(description="entries in the request (e.g. shortlisted candidates)")
    title: str
    can_resolve: bool
    allowed: dict[str, bool] = Field(description="decision types the request accepts")
    status: ApprovalStatus = Field(
        default="pending", description="pending: waits for a decision; applying: approved, writes retried"
    )
    applying: ApplyingInfo | None = None


class ApprovalDetail(ApprovalSummary):
    request: dict[str, Any] = Field(
        description="the Agent Inbox request: action_request, config, description"
    )
    description: str
    args: dict[str, Any]
    approval_error: str | None = Field(description="why the last edit was refused, if it was")


class ResolveResult(BaseModel):
    approval_id: str
    # applying: the decision is recorded and approved, but its writes failed for now; the worker's
    # reconciler finishes them (no second approval) and the approvals list shows their progress.
    status: Literal["resolved", "applying", "invalid", "forbidden", "not_found", "conflict", "error"]
    decision: DecisionType | None = None
    approver: str | None = None
    decided_at: str | None = None
    changes: dict[str, Any] = Field(default_factory=dict)
    writes: list[dict[str, Any]] = Field(default_factory=list)
    audit_seq: int | None = None
    detail: str | None = None
    applying: ApplyingInfo | None = None
