"""Rediscovery's declaration for the service: one thread per requisition, the request model, deps
from the shared resources, and the graph's own edit check run before any approval is resumed."""

from __future__ import annotations

from graphs.kit.kind import GraphKind
from graphs.rediscovery.deps import NAME, RediscoveryDeps
from graphs.rediscovery.graph import build_graph
from graphs.rediscovery.review import validate_decision
from graphs.rediscovery.state import THREAD, RediscoveryRequest

KIND = GraphKind(
    name=NAME,
    thread_key=THREAD,
    input_model=RediscoveryRequest,
    open=RediscoveryDeps.open,
    build=build_graph,
    thread_of_input=lambda deps, req: THREAD(deps.settings.icims_customer_id, req.job_id),
    job_of_input=lambda deps, req: int(req.job_id),
    validate_decision=validate_decision,
)
