"""`list_approvals` and `resolve_approval`: pending approvals the caller may see, and answering one.

Inside the service both go through its `ApprovalsPort` (role filters, validation, audit). Without it
(langgraph dev, tests, the command line) they read the rediscovery graph's pending interrupts from
the checkpointer and answer one with the kit's interrupt resume, with the same ownership checks.
Either way an approved write runs only in the rediscovery graph's own write step."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from langchain_core.tools import ToolException

from graphs.copilot.deps import ApprovalDecision, isolated
from graphs.copilot.records import jsonable
from graphs.kit import runs
from graphs.kit.inbox import PendingApproval, pending_for_thread
from graphs.rediscovery import THREAD, list_pending
from tools.mirror.store import link_id

if TYPE_CHECKING:
    from graphs.copilot.caller import Caller
    from graphs.copilot.deps import CopilotDeps


def list_approvals(d: CopilotDeps, principal: Any, caller: Caller, job_id: int | None) -> dict[str, Any]:
    if d.approvals is not None and principal is not None:
        kwargs: dict[str, Any] = {"job_id": job_id} if job_id is not None else {}
        try:
            items = isolated(d.approvals.list, principal, **kwargs)
        except Exception as exc:
            raise ToolException(error_text(exc)) from exc
        rows = [jsonable(item) for item in items]
        return {"approvals": [summary_row(r) for r in rows], "via": "approval service"}
    found = []
    for pending in _pending(d):
        args = pending.request["action_request"]["args"]
        if job_id is not None and link_id(args.get("job_id")) != job_id:
            continue
        if not caller.owns(_approval_job(d, args)):
            continue
        found.append(
            {
                "approval_id": pending.thread_id,
                "action": pending.request["action_request"]["action"],
                "job_id": args.get("job_id"),
                "job_title": args.get("job_title"),
                "candidates": len(args.get("candidates") or []),
                "created_at": pending.created_at,
            }
        )
    return {"approvals": found, "via": "checkpointer"}


def resolve_approval(
    d: CopilotDeps,
    principal: Any,
    caller: Caller,
    *,
    approval_id: str | None,
    job_id: int | None,
    decision: str,
    exclude_person_ids: list[int],
    note: str | None,
    lock: threading.Lock,
) -> dict[str, Any]:
    if not caller.can_resolve:
        raise ToolException(f"a {caller.role} cannot resolve approvals (read-only for this role)")
    if not approval_id:
        if job_id is None:
            raise ToolException("say which approval: approval_id or job_id")
        approval_id = THREAD(d.settings.icims_customer_id, job_id)
    pending = isolated(pending_for_thread, d.rediscovery, approval_id)
    response = _response(approval_id, pending, decision, exclude_person_ids, note)
    excluded = sorted(exclude_person_ids)
    if d.approvals is not None and principal is not None:
        answer: ApprovalDecision = {
            "type": response["type"],
            "args": response["args"] if isinstance(response["args"], dict) else None,
            "note": note,
        }
        try:
            outcome = isolated(d.approvals.resolve, approval_id, answer, principal)
        except Exception as exc:
            raise ToolException(error_text(exc)) from exc
        result = jsonable(outcome)
        if not isinstance(result, dict):
            result = {"result": result}
        return {
            "approval_id": approval_id,
            "decision": response["type"],
            "excluded": excluded,
            "status": result.get("status"),
            "writes": len(result.get("writes") or []),
            "error": result.get("detail") if result.get("status") not in (None, "resolved") else None,
            "audit_seq": result.get("audit_seq"),
            "via": "approval service",
        }
    if not pending:
        raise ToolException(f"no pending approval {approval_id}")
    if not caller.owns(_approval_job(d, pending[0].request["action_request"]["args"])):
        raise ToolException(f"approval {approval_id} is not for one of your requisitions")
    with lock:
        run = isolated(runs.resume, d.rediscovery, approval_id, [response], approver=caller.name)
    approval = run.values.get("approval") or {}
    return {
        "approval_id": approval_id,
        "decision": response["type"],
        "excluded": excluded,
        "writes": len(run.values.get("writes") or []),
        "approved": len(approval.get("approved") or []),
        "error": approval.get("error") or run.values.get("approval_error"),
        "via": "interrupt resume",
    }


def _response(
    approval_id: str,
    pending: list[PendingApproval],
    decision: str,
    exclude_person_ids: list[int],
    note: str | None,
) -> dict[str, Any]:
    """The Agent Inbox response: leaving shortlisted people out of an accept is an edit."""
    if not (exclude_person_ids and decision == "accept"):
        return {"type": decision, "args": (note or "") if decision == "respond" else None}
    if not pending:
        raise ToolException(f"no pending approval {approval_id}")
    candidates = pending[0].request["action_request"]["args"].get("candidates") or []
    unknown = set(exclude_person_ids) - {c.get("person_id") for c in candidates}
    if unknown:
        raise ToolException(f"not on the shortlist: {sorted(unknown)}")
    left_out = set(exclude_person_ids)
    return {
        "type": "edit",
        "args": {
            "candidates": [
                {"person_id": c["person_id"], "action": c["proposed_action"], "pool_id": c.get("pool_id")}
                for c in candidates
                if c["person_id"] not in left_out
            ]
        },
    }


def _pending(d: CopilotDeps) -> list[PendingApproval]:
    if d.checkpointer is None:
        return []
    return isolated(list_pending, d.rediscovery, d.checkpointer)


def _approval_job(d: CopilotDeps, args: Mapping[str, Any]) -> dict[str, Any] | None:
    job_id = link_id(args.get("job_id"))
    return d.mirror.get_data("jobs", job_id) if job_id is not None else None


def error_text(exc: BaseException) -> str:
    detail = getattr(exc, "detail", None)
    return str(detail) if detail else (str(exc) or type(exc).__name__)


def summary_row(row: Any) -> Any:
    """An approval service row as the copilot lists it (counts, not the items themselves)."""
    if not isinstance(row, dict):
        return row
    out: dict[str, Any] = {
        "approval_id": row.get("approval_id") or row.get("id") or row.get("thread_id"),
        "graph": row.get("graph"),
        "action": row.get("action"),
        "job_id": row.get("job_id"),
        "job_title": row.get("job_title"),
        "owner": row.get("owner_name") or row.get("owner_id"),
        "candidates": row.get("items", row.get("candidates")),
        "created_at": row.get("created_at"),
        "can_resolve": row.get("can_resolve"),
    }
    if isinstance(out.get("candidates"), list):
        out["candidates"] = len(out["candidates"])
    return {k: v for k, v in out.items() if v is not None}
