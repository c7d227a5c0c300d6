"""The approvals inbox: what waits for the signed-in principal, filtered by graph, requisition and
age, and the bulk approval of the ticked rows."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from server.approvals import Decision
from server.pages.common import (
    SERVICE_ERRORS,
    approval_id,
    call,
    detail_text,
    int_or_none,
    page_router,
    service_of,
    sign_in_redirect,
    signed_in,
)
from server.pages.render import can_resolve, error_page, field, render

router = page_router()


@router.get("/inbox", response_class=HTMLResponse)
async def inbox(request: Request) -> Response:
    principal = await signed_in(request)
    if principal is None:
        return sign_in_redirect(request)
    params = request.query_params
    filters = {
        "graph": params.get("graph") or None,
        "job_id": int_or_none(params.get("job_id")),
        "older_than_minutes": int_or_none(params.get("older_than_minutes")),
    }
    bad = [
        label
        for label, name in (("Requisition", "job_id"), ("Older than", "older_than_minutes"))
        if params.get(name) and filters[name] is None
    ]
    service = service_of(request)
    try:
        items = await call(service.approvals.list, principal, **filters)
    except SERVICE_ERRORS as exc:
        return error_page(request, principal, exc.status_code, detail_text(exc))
    graphs = sorted(getattr(service, "graphs", {}) or {})
    return render(
        request,
        "inbox.html",
        principal,
        items=items,
        approval_id=approval_id,
        filters={k: params.get(k) or "" for k in filters},
        filtered=any(v is not None for v in filters.values()),
        graphs=graphs,
        error=("Whole numbers only: " + ", ".join(bad)) if bad else None,
    )


def resolved(result: Any) -> bool:
    """Decided: resolved, or approved with writes the worker is still applying."""
    return str(field(result, "status", default="resolved")) in ("resolved", "applying")


def applying_text(result: Any) -> str | None:
    """The "approved, applying (retry N, next at T, last error)" line while the writes have not all
    landed; None otherwise."""
    info = field(result, "applying", default=None)
    if info is None:
        return None
    return str(field(info, "text", default="")) or None


def _result_summary(result: Any) -> str:
    """One line per bulk result: what was written, or why it was not resolved."""
    name = approval_id(result)
    still = applying_text(result)
    if still:
        return f"{name}: {still}; the worker finishes it"
    if not resolved(result):
        detail = field(result, "detail", "error", default="")
        return f"{name} not approved ({field(result, 'status')}{': ' + str(detail) if detail else ''})"
    writes = field(result, "writes", default=None)
    count = len(writes) if isinstance(writes, list) else 0
    return f"{name}: {count} write{'s' if count != 1 else ''}"


@router.post("/inbox/bulk", response_class=HTMLResponse)
async def bulk_approve(request: Request) -> Response:
    principal = await signed_in(request)
    if principal is None:
        return sign_in_redirect(request)
    form = await request.form()
    ids = [str(v) for v in form.getlist("approval_id") if str(v)]
    if not ids:
        return RedirectResponse(
            "/ui/inbox?" + urlencode({"notice": "Nothing selected: tick the approvals to approve first."}),
            status_code=303,
        )
    if not can_resolve(principal):
        return error_page(request, principal, 403, "Your role can read approvals but not resolve them.")
    try:
        approvals = service_of(request).approvals
        results = await call(approvals.bulk_resolve, principal, ids, Decision(type="accept"))
    except SERVICE_ERRORS as exc:
        return error_page(request, principal, exc.status_code, detail_text(exc))
    results = list(results or [])
    ok = sum(1 for r in results if resolved(r))
    notice = f"Approved {ok} of {len(ids)} selected. " + "; ".join(_result_summary(r) for r in results)
    return RedirectResponse("/ui/inbox?" + urlencode({"notice": notice.strip()}), status_code=303)
