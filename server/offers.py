"""Offers API; the graph's registration is `graphs.offer.kind:KIND`.

    POST /offers                          start an offer (proposed terms) -> its first approval step
    GET  /offers/{workflow_id}            status, every version and decision, the negotiation
    POST /offers/{workflow_id}/counter    a counter-offer (text or terms) -> analysis + reply approval
    GET  /offers/{workflow_id}/letter.pdf the letter of the latest approved version

Approval steps are resolved like every other approval (`/approvals`, the web inbox, Agent Inbox).
Recruiters act on the requisitions they own, admins on all; auditors and hiring managers read.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from graphs.kit.inbox import pending_for_thread
from graphs.offer import (
    CounterInput,
    OfferBusy,
    OfferError,
    OfferStart,
    counter_offer,
    offer_thread_id,
    offer_view,
    start_offer,
)
from graphs.offer.kind import workflow_job
from server.auth import CurrentPrincipal, Principal, require_roles
from server.errors import Conflict, Forbidden, Invalid, NotFound, Upstream
from server.state import ServiceState
from tools.icims.errors import ICIMSError

router = APIRouter(prefix="/offers", tags=["offers"])


# --- HTTP -----------------------------------------------------------------------------------------


def _service(request: Request) -> ServiceState:
    return request.app.state.service


Service = Annotated[ServiceState, Depends(_service)]
Writer = Annotated[Principal, Depends(require_roles("recruiter", "admin"))]


class StartOffer(OfferStart):
    restart: bool = Field(default=False, description="draft again even if the application has an offer")


class OfferInfo(BaseModel):
    thread_id: str
    workflow_id: int | None
    job_id: int | None
    person_id: int | None
    status: str | None
    version: int | None
    awaiting: str | None
    approval_id: str | None = Field(description="the pending approval (resolve via /approvals)")
    pending_action: str | None
    pending_step: str | None
    existing: bool = False
    chain: list[dict[str, Any]]
    versions: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    negotiation: dict[str, Any] | None
    letter: dict[str, Any] | None
    writes: list[dict[str, Any]]


def _info(service: ServiceState, thread_id: str, *, existing: bool = False) -> OfferInfo:
    graph = service.graphs["offer"]
    values = dict(graph.get_state({"configurable": {"thread_id": thread_id}}).values or {})
    pending = pending_for_thread(graph, thread_id)
    args = pending[0].request["action_request"]["args"] if pending else {}
    return OfferInfo.model_validate(
        {
            **offer_view(values),
            "thread_id": thread_id,
            "approval_id": thread_id if pending else None,
            "pending_action": pending[0].request["action_request"]["action"] if pending else None,
            "pending_step": (args.get("step") or {}).get("role") if pending else None,
            "existing": existing,
        }
    )


def _check(
    service: ServiceState, principal: Principal, job_id: int | None, workflow_id: int, *, write: bool
) -> None:
    owners = service.job_owners(job_id)
    allowed = service.approvals.can_resolve if write else service.approvals.can_see
    if not allowed(principal, owners):
        if write and service.approvals.can_see(principal, owners):
            raise Forbidden("only the requisition's recruiter or an admin can do this")
        # The same answer as for a workflow without an offer: another recruiter's offers stay unseen.
        raise NotFound(f"no offer for workflow {workflow_id}")


def _thread(service: ServiceState, principal: Principal, workflow_id: int, *, write: bool = False) -> str:
    thread_id = offer_thread_id(service.settings.icims_customer_id, workflow_id)
    values = service.graphs["offer"].get_state({"configurable": {"thread_id": thread_id}}).values or {}
    if not values.get("draft"):
        raise NotFound(f"no offer for workflow {workflow_id}")
    _check(service, principal, (values.get("context") or {}).get("job_id"), workflow_id, write=write)
    return thread_id


@router.post("", response_model=OfferInfo, summary="Draft an offer and route it for approval")
def create_offer(body: StartOffer, principal: Writer, service: Service) -> OfferInfo:
    job_id = workflow_job(service.mirror, body.workflow_id)
    if job_id is not None or not principal.is_admin:
        _check(service, principal, job_id, body.workflow_id, write=True)
    try:
        run = start_offer(
            service.graphs["offer"],
            workflow_id=body.workflow_id,
            customer_id=service.settings.icims_customer_id,
            terms=body.terms,
            level=body.level,
            narrative=body.narrative,
            started_by=principal.label,
            restart=body.restart,
        )
    except OfferError as exc:
        raise Invalid(str(exc)) from None
    except ICIMSError as exc:
        raise Upstream(f"iCIMS: {exc}") from None
    return _info(service, run.thread_id, existing=run.existing)


@router.get("/{workflow_id}", response_model=OfferInfo, summary="An offer's status, versions and decisions")
def read_offer(workflow_id: int, principal: CurrentPrincipal, service: Service) -> OfferInfo:
    return _info(service, _thread(service, principal, workflow_id))


@router.post(
    "/{workflow_id}/counter",
    response_model=OfferInfo,
    summary="Analyse a counter-offer and ask for approval of the reply",
    responses={404: {}, 409: {}, 422: {}},
)
def counter(workflow_id: int, body: CounterInput, principal: Writer, service: Service) -> OfferInfo:
    thread_id = _thread(service, principal, workflow_id, write=True)
    try:
        counter_offer(service.graphs["offer"], thread_id, body)
    except OfferBusy as exc:
        raise Conflict(str(exc)) from None
    except OfferError as exc:
        raise Invalid(str(exc)) from None
    return _info(service, thread_id)


@router.get(
    "/{workflow_id}/letter.pdf",
    response_class=FileResponse,
    summary="The letter of the latest approved version (PDF)",
    responses={404: {}},
)
def letter_pdf(workflow_id: int, principal: CurrentPrincipal, service: Service) -> FileResponse:
    thread_id = _thread(service, principal, workflow_id)
    values = service.graphs["offer"].get_state({"configurable": {"thread_id": thread_id}}).values
    letter = values.get("letter") or {}
    path = Path(letter.get("pdf_path") or "")
    if not letter or not path.is_file():
        raise NotFound("no approved letter yet for this offer")
    return FileResponse(
        path,
        media_type="application/pdf",
        filename=f"offer-letter-{workflow_id}-v{letter['version']}.pdf",
    )


# --- web inbox ------------------------------------------------------------------------------------


def _amount(text: Any) -> Decimal | None:
    raw = str(text or "").strip().replace(",", "").replace("$", "")
    if not raw:
        return None
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"base salary {raw!r} is not a number") from None


def page_decision(form: Any, args: dict[str, Any]) -> Any:
    """The inbox form of `_offer_approval.html` -> a `Decision`; ValueError says what to fix.
    A changed base salary (or reply) makes it an edit, which the graph re-validates and re-routes."""
    from server.approvals import Decision

    choice = str(form.get("decision") or "")
    note = str(form.get("note") or "").strip() or None
    if choice == "respond":
        if not note:
            raise ValueError("Write the feedback to send back before choosing Send feedback.")
        return Decision(type="respond", note=note)
    if choice == "ignore":
        return Decision(type="ignore", note=note)
    if choice != "approve":
        raise ValueError("Choose Approve, Send feedback or Ignore.")
    base = _amount(form.get("base_salary"))
    edits: dict[str, Any] = {}
    if "suggested_reply" in args:  # a counter-offer reply
        reply = str(form.get("suggested_reply") or "").strip()
        if reply and reply != args.get("suggested_reply"):
            edits["suggested_reply"] = reply
        proposed = _amount((args.get("proposed_terms") or {}).get("base_salary"))
        if base is not None and base != proposed:
            edits["proposed_terms"] = {"base_salary": str(base)}
    elif base is not None and base != _amount((args.get("terms") or {}).get("base_salary")):
        edits["terms"] = {"base_salary": str(base)}
    return Decision(type="edit", args=edits, note=note) if edits else Decision(type="accept", note=note)
