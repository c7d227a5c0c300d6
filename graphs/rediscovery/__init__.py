"""Rediscovery: rank past applicants and talent-pool members from the mirror against a requisition,
explain every score, and after a recruiter approves, write the result back to iCIMS.

    load -> retrieve -> score -> summarise -> approve (Agent Inbox interrupt) -> write -> audit -> purge

Rooms: `state` (schemas, GRAPH_VERSION, THREAD), `deps` (RediscoveryDeps from the shared resources),
`pool` (the process's candidate index), `vectors` (a run's vectors and their purge), `text` (how a
candidate reads), `nodes` (load / retrieve / score / summarise), `review` (the approval request and
its edit check), `writes` (write / audit / purge), `graph` (wiring), `kind` (the service's
declaration), `run` (start / resume / continue on `graphs.kit.runs`).

Side effects happen only after the interrupt returns: the iCIMS writes are in `write`, under the
idempotency ledger, and the audit record is keyed by the run's trace id. Nobody is ever rejected.
"""

from graphs.rediscovery.deps import RediscoveryDeps
from graphs.rediscovery.graph import build_graph
from graphs.rediscovery.nodes import OUTREACH_TEMPLATE, SUBMIT_THRESHOLD
from graphs.rediscovery.review import (
    REQUEST_ACTION,
    ApprovalError,
    EditedCandidate,
    EditedShortlist,
    _decide,
    build_approval_request,
    decide,
)
from graphs.rediscovery.run import RunResult, continue_run, list_pending, resume_run, start_run
from graphs.rediscovery.state import (
    GRAPH_VERSION,
    THREAD,
    RediscoveryFilters,
    RediscoveryInput,
    RediscoveryOutput,
    RediscoveryRequest,
    RediscoveryState,
    ShortlistCandidate,
    rediscovery_thread_id,
)
from graphs.rediscovery.text import _connection, connection, enrichment_tags, reason_line, reasons_text
from graphs.rediscovery.vectors import run_namespace

__all__ = [
    "GRAPH_VERSION",
    "OUTREACH_TEMPLATE",
    "REQUEST_ACTION",
    "SUBMIT_THRESHOLD",
    "THREAD",
    "ApprovalError",
    "EditedCandidate",
    "EditedShortlist",
    "RediscoveryDeps",
    "RediscoveryFilters",
    "RediscoveryInput",
    "RediscoveryOutput",
    "RediscoveryRequest",
    "RediscoveryState",
    "RunResult",
    "ShortlistCandidate",
    "_connection",
    "_decide",
    "build_approval_request",
    "build_graph",
    "connection",
    "continue_run",
    "decide",
    "enrichment_tags",
    "list_pending",
    "reason_line",
    "reasons_text",
    "rediscovery_thread_id",
    "resume_run",
    "run_namespace",
    "start_run",
]
