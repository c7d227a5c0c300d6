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

from graphs.kit.nodes import run_async
from graphs.offer.run import start_offer
from graphs.offer.state import OfferError, offer_thread_id
from tools.icims.budget import Priority
from tools.icims.codes import APPLICANT_OFFER
from tools.icims.errors import ICIMSNotFound

EVENT_TYPE = "WorkFlowStatusChangeEvent"


def _status_id(workflow: dict[str, Any] | None) -> str | None:
    status = (workflow or {}).get("status")
    return status.get("id") if isinstance(status, dict) else None


def current_status(deps: Any, workflow_id: int) -> tuple[str | None, str]:
    """(status id, where it was read): iCIMS first (the event is newer than the mirror)."""
    if deps.client_factory is not None:

        async def fetch() -> dict[str, Any]:
            async with deps.client_factory() as client:
                return await client.get_profile(
                    "applicantworkflows", workflow_id, fields=["status"], priority=Priority.REALTIME
                )

        try:
            return _status_id(run_async(fetch)), "api"
        except ICIMSNotFound:
            return None, "api"
    return _status_id(deps.mirror.get_data("applicantworkflows", workflow_id)), "mirror"


def handle_event(event: Any, state: Any) -> dict[str, Any]:
    """`event`: a `tools.events.store.StoredEvent`. Returns the JSON outcome kept on the event row."""
    payload = dict(getattr(event, "payload", None) or {})
    event_type = payload.get("eventType") or getattr(event, "event_type", None)
    if event_type != EVENT_TYPE:
        return {"action": "none", "reason": f"offer ignores {event_type}"}
    customer = str(payload.get("customerId") or getattr(event, "customer_id", "") or "")
    if customer and customer != str(state.settings.icims_customer_id):
        return {"action": "none", "reason": f"customer {customer} is not this tenant"}
    raw = str(payload.get("systemId") or "").strip()
    if not raw.isdigit():
        return {"action": "none", "reason": "event names no workflow"}
    workflow_id = int(raw)
    status, source = current_status(state.deps["offer"], workflow_id)
    if status != APPLICANT_OFFER:
        return {
            "action": "none",
            "reason": f"workflow {workflow_id} status is {status or 'unknown'} ({source}), not Offer",
        }
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
