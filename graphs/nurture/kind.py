"""The nurture workflow as the service, the worker and the inbox see it. Its approvals belong to no
requisition: a run's drafts are its campaign owner's to approve (the campaign's `owner_id`, else
its first pool's owner in the mirror; admins see them either way)."""

from __future__ import annotations

from typing import Any

from graphs.kit.kind import GraphKind, JobOwners, OpenGraph, PeriodicJob
from graphs.nurture.deps import NurtureDeps
from graphs.nurture.events import handle_event
from graphs.nurture.graph import build_graph
from graphs.nurture.review import validate_decision
from graphs.nurture.scheduler import tick
from graphs.nurture.state import THREAD, NurtureRequest
from tools.mirror.store import link_id


def owners_of(opened: OpenGraph, pending: Any) -> JobOwners | None:
    deps: NurtureDeps = opened.deps
    campaign_id = THREAD.parts(pending.thread_id)[0]  # nurture:{customer}:{campaign}:{run}
    try:
        campaign = deps.campaign(campaign_id)
    except Exception:  # a campaign deleted since the run: admins still see and resolve it
        return None
    owner = campaign.owner_id
    if owner is None:
        pool = deps.mirror.get_data("talentpools", campaign.target.pool_ids[0]) or {}
        owner = link_id(pool.get("owner"))
    return JobOwners(
        job_id=None, title=f"campaign {campaign.name}", recruiter_id=owner, hiring_manager_id=None
    )


KIND = GraphKind(
    name="nurture",
    thread_key=THREAD,
    input_model=NurtureRequest,
    open=NurtureDeps.open,
    build=build_graph,
    thread_of_input=lambda deps, req: THREAD(deps.settings.icims_customer_id, req.campaign_id, req.run_id),
    job_of_state=lambda values: None,
    owners_of=owners_of,
    validate_decision=validate_decision,
    events={"WorkFlowStatusChangeEvent": handle_event},
    periodic=(PeriodicJob("nurture_tick", tick, "*"),),
    requires=("rediscovery",),
)
