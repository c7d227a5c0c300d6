"""Triage's declaration for the service, the worker and the inbox."""

from __future__ import annotations

from graphs.kit.kind import GraphKind
from graphs.triage import deps
from graphs.triage.events import handle_event
from graphs.triage.graph import build_graph
from graphs.triage.review import validate_decision
from graphs.triage.state import THREAD, TriageRequest

KIND = GraphKind(
    name="triage",
    thread_key=THREAD,
    input_model=TriageRequest,
    open=deps.open,
    build=build_graph,
    thread_of_input=lambda d, req: THREAD(d.settings.icims_customer_id, req.workflow_id),
    job_of_input=lambda _d, req: req.job_id,
    # Thread ids end with the application (workflow), not the job: the job is read from the state.
    thread_ends_with_job=False,
    validate_decision=validate_decision,
    events={"AssessmentEvent": handle_event},
)
