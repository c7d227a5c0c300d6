"""The nurture event handler: a `WorkFlowStatusChangeEvent` for a person in a nurture sequence
stops their sequences when the workflow is now an open application (applied) or a hire.

Event status codes are node ids, so the workflow's real status is read from iCIMS (one REALTIME
request), falling back to the mirror when the API cannot answer. Idempotent per event: a stop is
stored once, a replay finds it and reports `already_stopped`.
"""

from __future__ import annotations

from typing import Any

from agents.nurture.stops import application_stop
from graphs.kit.events import accept, none, workflow_status
from graphs.nurture.deps import graph_and_deps
from tools.nurture.store import ALL_CAMPAIGNS


def handle_event(event: Any, state: Any) -> dict[str, Any]:
    """`event`: a `tools.events.store.StoredEvent`; `state`: the service's state with nurture
    registered, or the nurture kind opened alone."""
    _, deps = graph_and_deps(state)
    parsed = accept(event, deps.settings, graph="nurture", types={"WorkFlowStatusChangeEvent"})
    if isinstance(parsed, dict):
        return parsed
    workflow_id = parsed.workflow_id
    assert workflow_id is not None  # accept() answered for an event without one
    person_id = parsed.person_id
    if person_id is not None and not deps.store.in_sequence(person_id):
        return none("person is not in a nurture sequence", person_id=person_id)
    current = workflow_status(deps.client_factory, deps.mirror, workflow_id)
    if not current.found:
        return none(f"workflow {workflow_id} not found")
    status, source = current.status, current.source
    person_id = person_id or current.person_id
    if person_id is None or not deps.store.in_sequence(person_id):
        return none("person is not in a nurture sequence")
    reason = application_stop(status)
    if reason is None:
        return none(f"status {status} does not stop nurture", person_id=person_id)
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
