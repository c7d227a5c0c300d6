"""The offer graph's declaration for the service, the worker and the inbox.

Offer threads end with the workflow (application) id, not a requisition id: a thread's job comes
from its state (`context.job_id`), else from the mirrored workflow. Each approval step is signed by
whom policy names (`authorize_step`).
"""

from __future__ import annotations

from typing import Any

from graphs.kit.kind import GraphKind, NotAllowed, OpenGraph
from graphs.kit.runs import run_config
from graphs.offer.deps import OfferDeps
from graphs.offer.events import handle_event
from graphs.offer.graph import build_graph
from graphs.offer.review import validate_decision
from graphs.offer.state import THREAD, OfferStart
from tools.mirror.store import link_id


def workflow_job(mirror: Any, workflow_id: int) -> int | None:
    """The requisition of a mirrored application (None when the mirror does not have it)."""
    data = mirror.get_data("applicantworkflows", workflow_id) if mirror is not None else None
    return link_id((data or {}).get("baseprofile"))


def job_of_state(values: dict[str, Any]) -> int | None:
    job_id = (values.get("context") or {}).get("job_id")
    return int(job_id) if job_id is not None else None


def job_of_thread(opened: OpenGraph, thread_id: str) -> int | None:
    values = opened.graph.get_state(run_config(thread_id)).values or {}
    found = job_of_state(dict(values))
    if found is not None:
        return found
    workflow_id = THREAD.last_int(thread_id)
    return workflow_job(opened.deps.mirror, workflow_id) if workflow_id is not None else None


def authorize_step(principal: Any, pending: Any, *, approvers: dict[str, list[str]]) -> None:
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
            raise NotAllowed(f"the {role} step of this offer is signed by {', '.join(named)}")
    elif not principal.is_admin:
        raise NotAllowed(f"the {role} step of this offer needs an admin or a configured {role} approver")


KIND = GraphKind(
    name="offer",
    thread_key=THREAD,
    input_model=OfferStart,
    open=OfferDeps.open,
    build=build_graph,
    thread_of_input=lambda deps, req: THREAD(deps.settings.icims_customer_id, req.workflow_id),
    job_of_input=lambda deps, req: workflow_job(deps.mirror, req.workflow_id),
    thread_ends_with_job=False,
    job_of_state=job_of_state,
    job_of_thread=job_of_thread,
    validate_decision=lambda deps, values, response: validate_decision(
        values, response, policy=deps.policy, today=deps.today()
    ),
    authorize=lambda deps, principal, pending: authorize_step(
        principal, pending, approvers=deps.settings.offer_approvers
    ),
    events={"WorkFlowStatusChangeEvent": handle_event},
)
