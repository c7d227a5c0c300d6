"""Triage: score each new application against its requisition within seconds of the iCIMS event,
explain it, route it, and write the result back exactly once, with an audit record per decision.

`assess` reads the application, person and job mirror-first (`read`), redacts PII, scores and
proposes writes (`agents.triage`); `gate` applies the requisition's policy: in `auto` mode the admin
policy approves the AI field write and nothing else; a suggested status change or talent-pool
addition always waits at `review`. Nobody is ever rejected. `write` applies approved actions once
(`write`, on the kit's `WriteBack`); `audit` records each stage.

Rooms: `state` (schemas, version, thread key), `deps`, `read`, `assess`, `nodes`, `review`, `write`,
`audit`, `graph` (wiring), `run` (events in, outcomes out), `events` (the queue's handler), `kind`.
"""

from graphs.triage.deps import ClientLoop, TriageDeps, load_policy
from graphs.triage.graph import build_graph
from graphs.triage.read import ApplicationRead, SkipApplication, read_application
from graphs.triage.review import build_approval_request, human_actions, validate_decision
from graphs.triage.run import describe_outcome, outcome_of, resume, run_event
from graphs.triage.state import (
    GRAPH_VERSION,
    THREAD,
    TriageInput,
    TriageOutput,
    TriageRequest,
    TriageState,
    trace_id_for,
    triage_thread_id,
)
from graphs.triage.write import apply_action

__all__ = [
    "GRAPH_VERSION",
    "THREAD",
    "ApplicationRead",
    "ClientLoop",
    "SkipApplication",
    "TriageDeps",
    "TriageInput",
    "TriageOutput",
    "TriageRequest",
    "TriageState",
    "apply_action",
    "build_approval_request",
    "build_graph",
    "describe_outcome",
    "human_actions",
    "load_policy",
    "outcome_of",
    "read_application",
    "resume",
    "run_event",
    "trace_id_for",
    "triage_thread_id",
    "validate_decision",
]
