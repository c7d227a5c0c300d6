"""Offers API and the offer graph's registration in the service (docs/AGENTS_CONTRACT.md).

    POST /offers                          start an offer (proposed terms) -> its first approval step
    GET  /offers/{workflow_id}            status, every version and decision, the negotiation
    POST /offers/{workflow_id}/counter    a counter-offer (text or terms) -> analysis + reply approval
    GET  /offers/{workflow_id}/letter.pdf the letter of the latest approved version

Approval steps are resolved like every other approval (`/approvals`, the web inbox, Agent Inbox).
Recruiters act on the requisitions they own, admins on all; auditors and hiring managers read.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import partial
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from graphs.kit.inbox import pending_for_thread
from graphs.offer import (
    CounterInput,
    OfferBusy,
    OfferDeps,
    OfferError,
    OfferStart,
    build_graph,
    counter_offer,
    offer_thread_id,
    offer_view,
    start_offer,
    validate_decision,
)
from server.auth import CurrentPrincipal, Principal, require_roles
from server.errors import Conflict, Forbidden, Invalid, NotFound, Upstream
from server.state import GraphSpec, ServiceState
from tools.icims.errors import ICIMSError
from tools.mirror.store import link_id

router = APIRouter(prefix="/offers", tags=["offers"])


@dataclass
class OfferGraphSpec(GraphSpec):
    """Offer threads end with the workflow id, not a job id: the job comes from the thread's state,
    else from the mirrored workflow."""

    mirror: Any = None

    def job_id_of_state(self, values: dict[str, Any]) -> int | None:
        job_id = (values.get("context") or {}).get("job_id")
        return int(job_id) if job_id is not None else None

    def job_id_of_thread(self, thread_id: str) -> int | None:
        state = self.graph.get_state({"configurable": {"thread_id": thread_id}})
        found = self.job_id_of_state(dict(state.values or {}))
        if found is not None:
            return found
        tail = thread_id.rsplit(":", 1)[-1]
        return _workflow_job(self.mirror, int(tail)) if tail.isdigit() else None


def _workflow_job(mirror: Any, workflow_id: int) -> int | None:
    data = mirror.get_data("applicantworkflows", workflow_id) if mirror is not None else None
    return link_id((data or {}).get("baseprofile"))


def service_spec(state: ServiceState) -> GraphSpec:
    """SERVICE_GRAPHS entry: the offer graph on the service's checkpointer, mirror and audit log."""
    deps = OfferDeps.from_settings(state.settings, mirror=state.mirror, audit=state.audit)
    state.deps["offer"] = deps
    graph = build_graph(state.checkpointer, deps=deps)
    customer = state.settings.icims_customer_id

    def validate(values: dict[str, Any], response: Any) -> dict[str, Any]:
        return validate_decision(values, response, policy=deps.policy, today=deps.today())

    return OfferGraphSpec(
        name="offer",
        graph=graph,
        thread_prefix="offer:",
        input_model=OfferStart,
        thread_id=lambda req: offer_thread_id(customer, req.workflow_id),  # type: ignore[attr-defined]
        job_id_of_input=lambda req: _workflow_job(state.mirror, req.workflow_id),  # type: ignore[attr-defined]
        validate_decision=validate,
        authorize=partial(authorize_step, approvers=state.settings.offer_approvers),
        mirror=state.mirror,
    )


def authorize_step(principal: Principal, pending: Any, *, approvers: dict[str, list[str]]) -> None:
    """Only the approvers policy names sign a step: the recruiter step is the requisition's recruiter
    (or an admin; the owner check ran before this), any other step a key named in `offer_approvers`
    for its role, or an admin when that role lists nobody. Counter-offer replies are the recruiter's."""
    args = (pending.request.get("action_request") or {}).get("args") or {}
    role = (args.get("step") or {}).get("role") if isinstance(args.get("step"), dict) else None
    if role in (None, "recruiter"):
        return
    named = approvers.get(role) or []
    if named:
        if principal.name not in named:
            raise Forbidden(f"the {role} step of this offer is signed by {', '.join(named)}")
    elif not principal.is_admin:
        raise Forbidden(f"the {role} step of this offer needs an admin or a configured {role} approver")


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
    job_id = _workflow_job(service.mirror, body.workflow_id)
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
