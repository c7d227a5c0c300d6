"""Requisition shortlists, read-only (hiring managers see them too): the requisitions with pending
approvals, and one requisition's shortlists in full."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from server.pages.approval import detail_context, load_detail
from server.pages.common import (
    SERVICE_ERRORS,
    approval_id,
    call,
    detail_text,
    page_router,
    service_of,
    sign_in_redirect,
    signed_in,
)
from server.pages.render import error_page, field, render

router = page_router()


@router.get("/requisitions", response_class=HTMLResponse)
async def requisitions(request: Request) -> Response:
    principal = await signed_in(request)
    if principal is None:
        return sign_in_redirect(request)
    try:
        items = await call(service_of(request).approvals.list, principal)
    except SERVICE_ERRORS as exc:
        return error_page(request, principal, exc.status_code, detail_text(exc))
    jobs: dict[str, dict[str, Any]] = {}
    for item in items or []:
        job_id = field(item, "job_id", default=None)
        # Approved runs still applying their writes wait on no one: not a shortlist to review.
        if job_id is None or field(item, "status", default="pending") != "pending":
            continue
        entry = jobs.setdefault(
            str(job_id), {"job_id": job_id, "job_title": field(item, "job_title", default=""), "count": 0}
        )
        entry["count"] += 1
    return render(request, "requisitions.html", principal, jobs=list(jobs.values()))


@router.get("/requisitions/{job_id}", response_class=HTMLResponse)
async def requisition(request: Request, job_id: int) -> Response:
    principal = await signed_in(request)
    if principal is None:
        return sign_in_redirect(request)
    service = service_of(request)
    try:
        items = await call(service.approvals.list, principal, job_id=job_id)
        details = [
            (approval_id(item), detail_context(await load_detail(request, principal, approval_id(item))))
            for item in items or []
            if field(item, "status", default="pending") == "pending"
        ]
    except SERVICE_ERRORS as exc:
        return error_page(request, principal, exc.status_code, detail_text(exc))
    title = next((ctx["args"].get("job_title") for _, ctx in details if ctx["args"].get("job_title")), None)
    return render(request, "requisition.html", principal, job_id=job_id, job_title=title, shortlists=details)
