"""What the approvals service shows and records, apart from how it decides: a summary row for a
pending approval and for an approved one still applying, the write rows of a result, and the audit
records of a decision (`approval_decision`) and of its writes landing later (`approval_applied`)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from graphs.kit.kind import JobOwners
from graphs.kit.threads import trace_id_for
from server.approval_models import ALLOW

if TYPE_CHECKING:
    from graphs.kit.inbox import PendingApproval
    from server.service_types import ServiceView, SpecView
    from tools.applying import Applying


def now() -> datetime:
    return datetime.now(UTC)


def age_minutes(created_at: str | None, moment: datetime) -> float | None:
    if not created_at:
        return None
    try:
        created = datetime.fromisoformat(created_at)
    except ValueError:
        return None
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return round((moment - created).total_seconds() / 60, 2)


def owners_for(service: ServiceView, spec: SpecView, pending: PendingApproval) -> JobOwners | None:
    if spec.owners_of is not None:
        return spec.owners_of(pending)
    args = pending.request["action_request"].get("args") or {}
    job_id = args.get("job_id")
    if job_id is None:
        job_id = spec.job_id_of_thread(pending.thread_id)
    return service.job_owners(int(job_id) if job_id is not None else None)


def item_count(args: dict[str, Any]) -> int:
    """What a reviewer counts: shortlisted candidates, outreach drafts, proposed actions; else one
    thing to decide (an offer: not its clause list)."""
    return next(
        (len(args[k]) for k in ("candidates", "drafts", "actions") if isinstance(args.get(k), list)), 1
    )


def _title(action: str | None, job_title: str | None, job_id: int | None) -> str:
    title = (action or "approved writes").replace("_", " ") + (f" for {job_title}" if job_title else "")
    return title + (f" (job {job_id})" if job_id is not None else "")


def summary(
    service: ServiceView,
    spec: SpecView,
    pending: PendingApproval,
    owners: JobOwners | None,
    *,
    can_resolve: bool,
    moment: datetime,
) -> dict[str, Any]:
    request = pending.request
    args = request["action_request"].get("args") or {}
    job_title = (owners.title if owners else None) or args.get("job_title")
    action = request["action_request"]["action"]
    owner_id = owners.recruiter_id if owners else None
    return {
        "id": pending.thread_id,
        "thread_id": pending.thread_id,
        "interrupt_id": pending.interrupt_id,
        "graph": spec.name,
        "action": action,
        "job_id": owners.job_id if owners else None,
        "job_title": job_title,
        "owner_id": owner_id,
        "owner_name": service.person_name(owner_id),
        "hiring_manager_id": owners.hiring_manager_id if owners else None,
        "created_at": pending.created_at,
        "age_minutes": age_minutes(pending.created_at, moment),
        "items": item_count(args),
        "title": _title(action, job_title, owners.job_id if owners is not None else None),
        "can_resolve": can_resolve,
        "allowed": {k: bool(request.get("config", {}).get(v, True)) for k, v in ALLOW.items()},
        "status": "pending",
    }


def applying_fields(
    spec: SpecView, pending: PendingApproval | None, owners: JobOwners | None, approval: dict[str, Any]
) -> dict[str, Any]:
    """The row `tools.applying` keeps for an approved decision: ids, titles and counts only."""
    args = (pending.request["action_request"].get("args") or {}) if pending is not None else {}
    return {
        "graph": spec.name,
        "interrupt_id": pending.interrupt_id if pending is not None else None,
        "action": pending.request["action_request"]["action"] if pending is not None else None,
        "job_id": owners.job_id if owners else None,
        "job_title": (owners.title if owners else None) or args.get("job_title"),
        "owner_id": owners.recruiter_id if owners else None,
        "hiring_manager_id": owners.hiring_manager_id if owners else None,
        "items": item_count(args) if pending is not None else 1,
        "requested_at": pending.created_at if pending is not None else None,
        "decision": approval.get("decision"),
        "approver": approval.get("approver"),
        "decided_at": approval.get("decided_at"),
    }


def row_owners(service: ServiceView, spec: SpecView, row: Applying) -> JobOwners | None:
    """Who an applying row belongs to: the requisition's current owners, else what was recorded
    (an approval that belongs to no requisition, e.g. a nurture run)."""
    if spec.owners_of is None and row.job_id is not None:
        return service.job_owners(row.job_id)
    if row.owner_id is None and row.job_id is None:
        return None
    return JobOwners(row.job_id, row.job_title, row.owner_id, row.hiring_manager_id)


def applying_info(row: Applying) -> dict[str, Any]:
    next_at = datetime.fromtimestamp(row.next_at, UTC)
    error = f", last error: {row.last_error}" if row.last_error else ""
    attempt = f"retry {row.attempts}" if row.attempts else "first attempt"
    return {
        "decision": row.decision,
        "approver": row.approver,
        "decided_at": row.decided_at,
        "attempts": row.attempts,
        "next_at": next_at.isoformat(),
        "last_error": row.last_error,
        "text": f"approved, applying ({attempt}, next at {next_at:%H:%M:%S} UTC{error})",
    }


def applying_summary(
    service: ServiceView, spec: SpecView, row: Applying, owners: JobOwners | None, *, moment: datetime
) -> dict[str, Any]:
    job_id = owners.job_id if owners else row.job_id
    job_title = (owners.title if owners else None) or row.job_title
    owner_id = owners.recruiter_id if owners else row.owner_id
    return {
        "id": row.thread_id,
        "thread_id": row.thread_id,
        "interrupt_id": row.interrupt_id or "",
        "graph": spec.name,
        "action": row.action or "approved_writes",
        "job_id": job_id,
        "job_title": job_title,
        "owner_id": owner_id,
        "owner_name": service.person_name(owner_id),
        "hiring_manager_id": owners.hiring_manager_id if owners else row.hiring_manager_id,
        "created_at": row.requested_at or row.decided_at,
        "age_minutes": age_minutes(row.requested_at or row.decided_at, moment),
        "items": row.items,
        "title": _title(row.action, job_title, job_id),
        # Nothing is left to decide: the worker applies what was approved.
        "can_resolve": False,
        "allowed": dict.fromkeys(ALLOW, False),
        "status": "applying",
        "applying": applying_info(row),
    }


def write_rows(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {k: w.get(k) for k in ("person_id", "action", "base_id", "workflow_kind", "workflow_id", "status")}
        # Triage writes name their action `id` (ai_fields, status, talent_pool).
        | ({"action": w["id"]} if w.get("action") is None and w.get("id") else {})
        for w in values.get("writes") or []
    ]


def _trace(values: dict[str, Any], thread_id: str) -> str:
    return (values.get("run") or {}).get("trace_id") or trace_id_for(thread_id)


def append_decision(
    audit: Any,  # tools.audit.AuditLog
    *,
    graph: str,
    approval_id: str,
    interrupt_id: str,
    job_id: int | None,
    approver: dict[str, Any],
    decision: str,
    note: str | None,
    decided_at: str,
    changes: dict[str, Any],
    writes: list[dict[str, Any]],
    outcome: str,
    values: dict[str, Any],
) -> Any:
    """Who decided what, when, and what it changed (`approver`: key id, name and role, never the
    key); `outcome` is resolved, applying (approved; the worker finishes the writes) or error."""
    body = {
        "graph": graph,
        "approval_id": approval_id,
        "interrupt_id": interrupt_id,
        "job_id": job_id,
        "decision": decision,
        "approver": approver,
        "decided_at": decided_at,
        "changes": changes,
        # Free text may name people: keep its hash only.
        "note_hash": hashlib.sha256(note.encode("utf-8")).hexdigest() if note else None,
        "writes": [
            {"person_id": w["person_id"], "action": w["action"], "status": w["status"]} for w in writes
        ],
        "outcome": outcome,
    }
    return audit.append(
        kind="approval_decision",
        key=f"decision:{approval_id}:{interrupt_id}",
        trace_id=_trace(values, approval_id),
        thread_id=approval_id,
        body=body,
    )


def append_applied(audit: Any, row: Applying, values: dict[str, Any]) -> Any:
    """The writes of a decision recorded earlier landed, after `attempts` failed attempts."""
    writes = write_rows(values)
    body = {
        "graph": row.graph,
        "approval_id": row.thread_id,
        "interrupt_id": row.interrupt_id,
        "job_id": row.job_id,
        "decision": row.decision,
        "decided_at": row.decided_at,
        "attempts": row.attempts + 1,
        "writes": [
            {"person_id": w["person_id"], "action": w["action"], "status": w["status"]} for w in writes
        ],
        "outcome": "applied",
    }
    return audit.append(
        kind="approval_applied",
        key=f"applied:{row.thread_id}:{row.interrupt_id or row.decided_at}",
        trace_id=_trace(values, row.thread_id),
        thread_id=row.thread_id,
        body=body,
    )
