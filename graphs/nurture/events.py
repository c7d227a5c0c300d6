"""The nurture event handler: a `WorkFlowStatusChangeEvent` for a person in a nurture sequence
stops their sequences when the workflow is now an open application (applied) or a hire.

Event status codes are node ids, so the workflow's real status is read from iCIMS (one REALTIME
request), falling back to the mirror when the API cannot answer. Idempotent per event: a stop is
stored once, a replay finds it and reports `already_stopped`.
"""

from __future__ import annotations

from typing import Any

from agents.nurture.stops import application_stop
from graphs.kit.nodes import run_async
from graphs.nurture.deps import NurtureDeps, graph_and_deps
from tools.events.models import ICIMSEvent
from tools.icims.budget import Priority
from tools.icims.errors import ICIMSNotFound
from tools.mirror.store import link_id
from tools.nurture.store import ALL_CAMPAIGNS


async def _status(deps: NurtureDeps, workflow_id: int) -> tuple[str | None, int | None]:
    assert deps.client_factory is not None
    async with deps.client_factory() as client:
        data = await client.get_workflow("applicantworkflows", workflow_id, priority=Priority.REALTIME)
    return (data.get("status") or {}).get("id"), link_id(data.get("associatedprofile"))


def handle_event(event: Any, state: Any) -> dict[str, Any]:
    """`event`: a `tools.events.store.StoredEvent` (or anything with its `payload`); `state`: the
    service's state with nurture registered, or the nurture kind opened alone."""
    payload = event.payload if hasattr(event, "payload") else event
    parsed = ICIMSEvent.model_validate(payload)
    if parsed.eventType != "WorkFlowStatusChangeEvent" or parsed.workflow_id is None:
        return {"action": "none", "reason": f"{parsed.eventType} does not concern nurture"}
    _, deps = graph_and_deps(state)
    workflow_id = parsed.workflow_id
    person_id = parsed.person_id
    if person_id is not None and not deps.store.in_sequence(person_id):
        return {"action": "none", "reason": "person is not in a nurture sequence", "person_id": person_id}
    try:
        status, served_person = run_async(lambda: _status(deps, workflow_id))
        source = "icims"
    except ICIMSNotFound:
        return {"action": "none", "reason": f"workflow {workflow_id} not found"}
    person_id = person_id or served_person
    if status is None:
        mirrored = deps.mirror.get_data("applicantworkflows", workflow_id) or {}
        status, source = (mirrored.get("status") or {}).get("id"), "mirror"
        person_id = person_id or link_id(mirrored.get("associatedprofile"))
    if person_id is None or not deps.store.in_sequence(person_id):
        return {"action": "none", "reason": "person is not in a nurture sequence"}
    reason = application_stop(status)
    if reason is None:
        return {"action": "none", "reason": f"status {status} does not stop nurture", "person_id": person_id}
    newly = deps.store.stop(
        person_id, reason, campaign_id=ALL_CAMPAIGNS, source=f"event:{workflow_id}:{status}"
    )
    return {
        "action": "stopped" if newly else "already_stopped",
        "reason": reason,
        "person_id": person_id,
        "workflow_id": workflow_id,
        "status": status,
        "status_source": source,
    }
