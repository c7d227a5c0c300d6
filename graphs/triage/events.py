"""The queue's entry point for triage: one stored iCIMS event in, one JSON outcome out. Application
events (`AssessmentEvent`) run the triage graph on the application's thread; anything else is
answered `{"action": "none"}`. Idempotent per event (`graphs.triage.run.run_event`); quota
exhaustion (`BudgetExhausted`, a 429) propagates so the queue parks the event until the quota resets.
"""

from __future__ import annotations

from typing import Any

from graphs.triage.run import run_event

TRIAGE_EVENTS = frozenset({"AssessmentEvent"})


def _int(value: Any) -> int | None:
    text = str(value).strip() if value is not None else ""
    return int(text) if text.isdigit() and int(text) > 0 else None


def handle_event(event: Any, state: Any) -> dict[str, Any]:
    """`event`: a `tools.events.store.StoredEvent` (or anything with `.id`, `.payload`,
    `.customer_id`); `state`: the service's state (duck-typed: `.settings`, `.graphs["triage"]`)."""
    payload = event.payload or {}
    event_type = payload.get("eventType")
    if event_type not in TRIAGE_EVENTS:
        return {"action": "none", "reason": f"triage handles {', '.join(sorted(TRIAGE_EVENTS))}"}
    workflow_id = _int(payload.get("systemId"))
    if workflow_id is None:
        return {"action": "none", "reason": "the event names no applicant workflow (systemId)"}
    customer = str(getattr(event, "customer_id", None) or payload.get("customerId") or "")
    if customer != str(state.settings.icims_customer_id):
        return {"action": "none", "reason": f"customer {customer} is not this tenant"}
    return run_event(
        state.graphs["triage"],
        customer_id=customer,
        event_id=str(event.id),
        workflow_id=workflow_id,
        person_id=_int(payload.get("personId")),
        job_id=_int(payload.get("jobId")),
    )
