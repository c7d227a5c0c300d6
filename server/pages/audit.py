"""The audit log page (auditors and admins): the newest records first, with the chain's verification."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from server.pages.common import call, page_router, service_of, sign_in_redirect, signed_in
from server.pages.render import can_audit, error_page, field, render

router = page_router()


def _audit_row(record: Any) -> dict[str, Any]:
    body = field(record, "body", default={}) or {}
    writes = body.get("writes")
    edits = body.get("edits") or body.get("changes") or {}
    approver = body.get("approver")
    if isinstance(approver, dict):  # approval_decision records: {key_id, name, role}
        approver = f"{approver.get('name')} ({approver.get('role')})"
    return {
        "seq": field(record, "seq"),
        "recorded_at": field(record, "recorded_at"),
        "kind": field(record, "kind"),
        "thread_id": field(record, "thread_id"),
        "trace_id": field(record, "trace_id"),
        "decision": body.get("decision"),
        "approver": approver,
        "writes": len(writes) if isinstance(writes, list) else None,
        "dropped": len(edits.get("dropped") or []) if isinstance(edits, dict) else 0,
        "hash": str(field(record, "hash", default=""))[:12],
    }


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(request: Request, thread_id: str | None = None) -> Response:
    principal = await signed_in(request)
    if principal is None:
        return sign_in_redirect(request)
    if not can_audit(principal):
        return error_page(request, principal, 403, "The audit log is for auditors and admins.")
    log = getattr(service_of(request), "audit", None)
    if log is None:
        return error_page(request, principal, 503, "The audit log is not configured on this server.")
    records = await call(log.records, thread_id=thread_id or None)
    chain = await call(log.verify) if hasattr(log, "verify") else None
    rows = [_audit_row(r) for r in reversed(records)][:500]
    return render(
        request,
        "audit.html",
        principal,
        rows=rows,
        total=len(records),
        chain=chain,
        thread_filter=thread_id or "",
    )
