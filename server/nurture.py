"""Nurture HTTP API: campaigns (list, read, create or replace, delete), on-demand runs, the local
outbox index, recording a reply, and the candidates' unsubscribe link.

Runs, replies and campaign edits are scoped as approvals are (`server.nurture_scope`): a recruiter
acts on the campaigns and people of the pools and requisitions they own; the rest is an admin's.

`/nurture/unsubscribe` needs no API key (the signed token is the authority): GET shows a confirm
page (mail scanners follow links; they must not unsubscribe anyone), POST (the page's button, or a
mail client's RFC 8058 one-click) writes the opt-out to iCIMS and stops every campaign.
"""

from __future__ import annotations

import html
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from agents.nurture.campaigns import CAMPAIGN_DIR, CampaignError, all_campaigns, get_campaign, parse_campaign
from agents.nurture.models import Campaign
from agents.nurture.tokens import InvalidToken, verify
from graphs.kit.inbox import pending_for_thread
from graphs.nurture import start_run
from graphs.nurture.stops import record_reply, unsubscribe
from server.approvals import Decision
from server.auth import CurrentPrincipal, Principal, require_roles
from server.errors import Invalid, NotFound, Upstream
from server.nurture_scope import check_campaign, check_campaign_edit, check_person
from tools.icims.models import RecordId
from tools.nurture.secret import secret_for

router = APIRouter(prefix="/nurture", tags=["nurture"])

Writer = Annotated[Principal, Depends(require_roles("recruiter", "admin"))]
Reader = Annotated[Principal, Depends(require_roles("admin", "auditor"))]


def _deps(request: Request) -> Any:
    service = request.app.state.service
    if "nurture" not in service.deps:
        raise NotFound("the nurture graph is not registered in this service")
    return service.deps["nurture"]


Deps = Annotated[Any, Depends(_deps)]


class RunRequest(BaseModel):
    run_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,40}$")


class RunStarted(BaseModel):
    thread_id: str
    approval_id: str | None = Field(description="the pending approval (= thread id), if the run waits")
    selection: dict[str, Any]
    drafts: int
    held: int
    sends: list[dict[str, Any]]


class ReplyIn(BaseModel):
    person_id: RecordId
    campaign_id: str | None = None


def _existing(deps: Any, campaign_id: str) -> Campaign | None:
    try:
        return _campaign(deps, campaign_id)
    except NotFound:
        return None


def _campaign(deps: Any, campaign_id: str) -> Campaign:
    try:
        return get_campaign(deps.store, campaign_id, deps.settings.nurture_campaign_dir)
    except LookupError as exc:
        raise NotFound(str(exc)) from None
    except CampaignError as exc:  # a broken YAML file in the campaign folders
        raise Invalid(str(exc)) from None


@router.get("/campaigns", response_model=list[Campaign], summary="Campaigns (YAML files and API-defined)")
def list_campaigns(principal: CurrentPrincipal, deps: Deps) -> list[Campaign]:
    try:
        return list(all_campaigns(deps.store, deps.settings.nurture_campaign_dir).values())
    except CampaignError as exc:
        raise Invalid(str(exc)) from None


@router.get("/campaigns/{campaign_id}", response_model=Campaign, responses={404: {}})
def read_campaign(campaign_id: str, principal: CurrentPrincipal, deps: Deps) -> Campaign:
    return _campaign(deps, campaign_id)


@router.put(
    "/campaigns/{campaign_id}",
    response_model=Campaign,
    summary="Create or replace a campaign (admin, or the recruiter who owns it and its pools)",
    responses={403: {}, 422: {}},
)
def put_campaign(campaign_id: str, body: dict[str, Any], principal: Writer, deps: Deps) -> Campaign:
    try:
        campaign = parse_campaign({**body, "id": campaign_id})
    except CampaignError as exc:
        raise Invalid(str(exc)) from None
    check_campaign_edit(principal, deps.mirror, _existing(deps, campaign_id), campaign)
    deps.store.save_campaign(campaign)
    return campaign


@router.delete(
    "/campaigns/{campaign_id}",
    summary="Delete an API-defined campaign (admin, or the recruiter who owns it)",
    responses={403: {}, 404: {}},
)
def delete_campaign(campaign_id: str, principal: Writer, deps: Deps) -> dict[str, Any]:
    check_campaign_edit(principal, deps.mirror, _existing(deps, campaign_id), None)
    if not deps.store.delete_campaign(campaign_id):
        raise NotFound(
            f"no API-defined campaign {campaign_id!r} (YAML campaigns live in {CAMPAIGN_DIR.name}/)"
        )
    return {"deleted": campaign_id}


@router.post(
    "/campaigns/{campaign_id}/runs",
    response_model=RunStarted,
    summary="Run a campaign now: select, draft, and wait for approval",
    responses={403: {}, 404: {}},
)
def run_campaign(
    campaign_id: str, body: RunRequest, principal: Writer, request: Request, deps: Deps
) -> RunStarted:
    check_campaign(principal, deps.mirror, _campaign(deps, campaign_id))
    graph = request.app.state.service.graphs["nurture"]
    try:
        thread_id, values = start_run(
            graph, customer_id=deps.settings.icims_customer_id, campaign_id=campaign_id, run_id=body.run_id
        )
    except Exception as exc:  # iCIMS down while sending under a policy, etc.
        raise Upstream(f"the run failed: {type(exc).__name__}: {exc}") from None
    drafts = values.get("drafts") or []
    return RunStarted(
        thread_id=thread_id,
        approval_id=thread_id if pending_for_thread(graph, thread_id) else None,
        selection=values.get("selection") or {},
        drafts=len(drafts),
        held=sum(1 for d in drafts if d["moderation"]["held"]),
        sends=values.get("sends") or [],
    )


@router.get("/outbox", summary="The local outbox index (ids only; admin, auditor)")
def outbox(principal: Reader, deps: Deps, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict]:
    index = getattr(deps.transport, "index", None)
    return list(reversed(index()))[:limit] if callable(index) else []


@router.post(
    "/replies", summary="Record a candidate's reply: stops their sequences", responses={403: {}, 404: {}}
)
def reply(body: ReplyIn, principal: Writer, deps: Deps) -> dict[str, Any]:
    if not principal.is_admin:
        campaign = _campaign(deps, body.campaign_id) if body.campaign_id else None
        try:
            campaigns = all_campaigns(deps.store, deps.settings.nurture_campaign_dir).values()
        except CampaignError as exc:
            raise Invalid(str(exc)) from None
        check_person(principal, deps.mirror, body.person_id, campaigns, campaign)
    return record_reply(deps, body.person_id, campaign_id=body.campaign_id, source=f"api:{principal.key_id}")


def _page(title: str, text: str, *, form_token: str | None = None, status_code: int = 200) -> HTMLResponse:
    button = (
        '<form method="post" action="/nurture/unsubscribe">'
        f'<input type="hidden" name="token" value="{html.escape(form_token)}">'
        '<button type="submit">Unsubscribe me</button></form>'
        if form_token
        else ""
    )
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body><main><h1>{html.escape(title)}</h1>"
        f"<p>{html.escape(text)}</p>{button}</main></body></html>"
    )
    return HTMLResponse(body, status_code=status_code)


@router.get("/unsubscribe", response_class=HTMLResponse, summary="Unsubscribe confirm page (no API key)")
def unsubscribe_page(token: str, deps: Deps) -> HTMLResponse:
    try:
        verify(token, secret_for(deps.settings))
    except InvalidToken:
        return _page("Link not valid", "This unsubscribe link is not valid.", status_code=400)
    return _page(
        "Unsubscribe",
        "Stop all recruiting emails from us? You can reply any time to reach us.",
        form_token=token,
    )


@router.post("/unsubscribe", summary="Unsubscribe (no API key): opt-out to iCIMS, every campaign stopped")
def unsubscribe_now(
    request: Request,
    deps: Deps,
    token: Annotated[str | None, Query()] = None,
    form_token: Annotated[str | None, Form(alias="token")] = None,
) -> HTMLResponse:
    value = token or form_token
    if not value:
        return _page("Link not valid", "This unsubscribe link is not valid.", status_code=400)
    try:
        unsubscribe(deps, value)
    except InvalidToken:
        return _page("Link not valid", "This unsubscribe link is not valid.", status_code=400)
    except Exception:
        # The stop is stored before the iCIMS write; a retry of the link finishes the write.
        return _page(
            "Please try again", "We could not finish your request. Please try again later.", status_code=503
        )
    return _page("You are unsubscribed", "You will not receive further recruiting emails from us.")


def page_decision(form: Any, args: dict[str, Any]) -> Decision:
    """The inbox form of `_nurture_approval.html` -> a `Decision`; ValueError says what to fix.
    Every ticked, unchanged, non-held draft and nothing else -> accept; anything else -> an edit
    listing the kept drafts (changed text is moderated again by the graph)."""
    choice = str(form.get("decision") or "")
    note = str(form.get("note") or "").strip() or None
    if choice == "respond":
        if not note:
            raise ValueError("Write the feedback to send back before choosing Send feedback.")
        return Decision(type="respond", note=note)
    if choice == "ignore":
        return Decision(type="ignore", note=note)
    if choice != "approve":
        raise ValueError("Choose Send, Send feedback or Ignore.")
    kept = {str(v) for v in form.getlist("keep")}
    drafts = args.get("drafts") or []
    edits: list[dict[str, Any]] = []
    changed = False
    for d in drafts:
        pid = str(d["person_id"])
        if pid not in kept:
            changed = changed or not d["moderation"]["held"]
            continue
        entry: dict[str, Any] = {"person_id": d["person_id"]}
        for name in ("subject", "body"):
            value = str(form.get(f"{name}_{pid}") or d[name]).replace("\r\n", "\n")
            if value.strip() != str(d[name]).strip():
                entry[name] = value
        changed = changed or len(entry) > 1 or d["moderation"]["held"]
        edits.append(entry)
    if not edits:
        raise ValueError("No message is ticked. Tick at least one, or choose Ignore to send nothing.")
    return (
        Decision(type="edit", args={"drafts": edits}, note=note)
        if changed
        else Decision(type="accept", note=note)
    )
