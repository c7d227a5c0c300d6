"""The event trigger: an application moved to the Offer status starts its offer.

`WorkFlowStatusChangeEvent` carries numeric node ids, not status codes, so the workflow's real status
is read from iCIMS (one GET; the mirror when no client is configured). Only status Offer starts the
offer graph, on the thread `offer:{customer}:{workflow}`; a duplicate or replayed event finds that
thread and starts nothing (`start_offer` never makes a second offer for an application). Quota
errors propagate, so the intake parks the event as waiting.

`state` is duck-typed: whatever holds `.settings`, `.deps["offer"]` and `.graphs["offer"]` (the
service's state in the worker).
"""

from __future__ import annotations

from typing import Any

from graphs.kit.events import accept, none, workflow_status
from graphs.offer.run import start_offer
from graphs.offer.state import OfferError, offer_thread_id
from tools.icims.codes import APPLICANT_OFFER

EVENT_TYPE = "WorkFlowStatusChangeEvent"


def handle_event(event: Any, state: Any) -> dict[str, Any]:
    """`event`: a `tools.events.store.StoredEvent`. Returns the JSON outcome kept on the event row."""
    parsed = accept(event, state.settings, graph="offer", types={EVENT_TYPE})
    if isinstance(parsed, dict):
        return parsed
    workflow_id = parsed.workflow_id
    assert workflow_id is not None  # accept() answered for an event without one
    deps = state.deps["offer"]
    current = workflow_status(deps.client_factory, deps.mirror, workflow_id)
    if current.status != APPLICANT_OFFER:
        return none(
            f"workflow {workflow_id} status is {current.status or 'unknown'} ({current.source}), not Offer"
        )
    thread_id = offer_thread_id(state.settings.icims_customer_id, workflow_id)
    try:
        run = start_offer(
            state.graphs["offer"],
            workflow_id=workflow_id,
            customer_id=state.settings.icims_customer_id,
            started_by=f"event:{getattr(event, 'id', '?')}",
        )
    except OfferError as exc:
        # Permanent (no such workflow, no pay band for the job): retrying cannot help.
        return {"action": "none", "reason": f"offer not drafted: {exc}", "thread_id": thread_id}
    if run.existing:
        return {
            "action": "none",
            "reason": "an offer already exists for this workflow",
            "thread_id": thread_id,
        }
    step = run.pending[0].request["action_request"]["args"]["step"]["role"] if run.pending else None
    return {
        "action": "offer_started",
        "thread_id": thread_id,
        "workflow_id": workflow_id,
        "status": run.values.get("status"),
        "version": run.values.get("version"),
        "awaiting_step": step,
    }
