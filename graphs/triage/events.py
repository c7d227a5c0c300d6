"""The queue's entry point for triage: one stored iCIMS event in, one JSON outcome out. Application
events (`AssessmentEvent`) run the triage graph on the application's thread; anything else is
answered `{"action": "none"}`. Idempotent per event (`graphs.triage.run.run_event`); quota
exhaustion (`BudgetExhausted`, a 429) propagates so the queue parks the event until the quota resets.
"""

from __future__ import annotations

from typing import Any

from graphs.kit.events import accept
from graphs.triage.run import run_event

TRIAGE_EVENTS = frozenset({"AssessmentEvent"})


def handle_event(event: Any, state: Any) -> dict[str, Any]:
    """`event`: a `tools.events.store.StoredEvent`; `state`: the service's state (duck-typed:
    `.settings`, `.graphs["triage"]`)."""
    parsed = accept(event, state.settings, graph="triage", types=TRIAGE_EVENTS)
    if isinstance(parsed, dict):
        return parsed
    assert parsed.workflow_id is not None  # accept() answered for an event without one
    return run_event(
        state.graphs["triage"],
        customer_id=parsed.customerId,
        event_id=str(event.id),
        workflow_id=parsed.workflow_id,
        person_id=parsed.person_id,
        job_id=parsed.job_id,
    )
