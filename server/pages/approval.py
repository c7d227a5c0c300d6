"""One approval: its detail page (the template for its graph: a shortlist, an offer, a triage
assessment, outreach drafts) and the form that resolves it through the same `ApprovalService` as the
JSON API."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from server.pages.approval_forms import FormRefused, form_decision
from server.pages.common import (
    SERVICE_ERRORS,
    approval_error,
    args_of,
    call,
    detail_text,
    page_router,
    request_of,
    service_of,
    sign_in_redirect,
    signed_in,
)
from server.pages.inbox import applying_text, resolved
from server.pages.render import can_resolve, error_page, field, render

router = page_router()

DECISION_LABELS = {
    "accept": "approved",
    "edit": "approved with edits",
    "respond": "sent back with feedback",
    "ignore": "ignored",
}
DETAIL_TEMPLATES = {
    "offer": "_offer_approval.html",
    "triage": "_triage_approval.html",
    "nurture": "_nurture_approval.html",
}
NOTICE_KINDS = {"offer": "Offer", "triage": "Triage", "nurture": "Outreach drafts"}


async def load_detail(request: Request, principal: Any, approval_id: str) -> Any:
    return await call(service_of(request).approvals.get, principal, approval_id)


def detail_context(detail: Any) -> dict[str, Any]:
    req = request_of(detail)
    args = args_of(detail)
    description = str(req.get("description") or "")
    return {
        "detail": detail,
        "req": req,
        "args": args,
        "candidates": args.get("candidates") or [],
        "config": req.get("config") or {},
        "approval_error": field(detail, "approval_error") or approval_error(description),
        "can_decide": bool(field(detail, "can_resolve", default=False)),
        "allowed": field(detail, "allowed", default=None) or {},
        "applying": field(detail, "applying", default=None),
    }


def template_of(detail: Any) -> str:
    """The graph's own template while a decision is asked for; the plain one shows an approved
    decision whose writes are still being applied."""
    if field(detail, "status", default="pending") == "applying":
        return "approval.html"
    return DETAIL_TEMPLATES.get(field(detail, "graph"), "approval.html")


@router.get("/approvals/{approval_id}", response_class=HTMLResponse)
async def approval_detail(request: Request, approval_id: str) -> Response:
    principal = await signed_in(request)
    if principal is None:
        return sign_in_redirect(request)
    try:
        detail = await load_detail(request, principal, approval_id)
    except SERVICE_ERRORS as exc:
        return error_page(request, principal, exc.status_code, detail_text(exc))
    context = detail_context(detail)
    return render(request, template_of(detail), principal, approval_id=approval_id, form=None, **context)


@router.post("/approvals/{approval_id}", response_class=HTMLResponse)
async def resolve_approval(request: Request, approval_id: str) -> Response:
    principal = await signed_in(request)
    if principal is None:
        return sign_in_redirect(request)
    if not can_resolve(principal):
        return error_page(request, principal, 403, "Your role can read approvals but not resolve them.")
    form = await request.form()
    try:
        detail = await load_detail(request, principal, approval_id)
    except SERVICE_ERRORS as exc:
        return error_page(request, principal, exc.status_code, detail_text(exc))
    context = detail_context(detail)

    def again(message: str, status: int = 422) -> HTMLResponse:
        return render(
            request,
            template_of(detail),
            principal,
            status_code=status,
            approval_id=approval_id,
            error=message,
            form=form,
            **context,
        )

    try:
        decision = form_decision(field(detail, "graph"), form, context["args"], context["candidates"])
    except FormRefused as exc:
        return again(exc.message, exc.status)
    try:
        result = await call(service_of(request).approvals.resolve, principal, approval_id, decision)
    except SERVICE_ERRORS as exc:
        if exc.status_code in (400, 409, 422):
            return again(detail_text(exc), exc.status_code)
        return error_page(request, principal, exc.status_code, detail_text(exc))
    except (ValidationError, ValueError) as exc:
        return again(str(exc))
    if not resolved(result):
        return again(str(field(result, "detail", default="") or field(result, "status")))
    job = context["args"].get("job_title") or context["args"].get("job_id") or approval_id
    writes = field(result, "writes", default=None)
    label = DECISION_LABELS.get(decision.type, decision.type)
    kind = NOTICE_KINDS.get(str(field(detail, "graph")), "Shortlist")
    notice = f"{kind} for {job} {label}."
    still = applying_text(result)
    if still:
        notice += f" The decision is recorded; {still}: the worker finishes the writes."
    elif isinstance(writes, list):
        notice += f" {len(writes)} write{'s' if len(writes) != 1 else ''} applied in iCIMS."
    return RedirectResponse("/ui/inbox?" + urlencode({"notice": notice}), status_code=303)
