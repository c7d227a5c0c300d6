"""Running rediscovery: start a run for a requisition, answer its approval, finish a stopped run,
list what waits. On `graphs.kit.runs` (one rule for an existing run: a pending one is returned as
is, an approved-but-stopped one is finished, never asked again).

    with open_checkpointer(settings) as saver:
        graph = build_graph(saver, deps=RediscoveryDeps.from_settings(settings))
        run = start_run(graph, job_id=1005, customer_id=settings.icims_customer_id)
        ... later, any process ...
        resume_run(graph, run.thread_id, {"type": "accept"}, approver="alice")
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphs.kit import runs
from graphs.kit.inbox import PendingApproval, pending_approvals
from graphs.rediscovery.state import OUTPUT_KEYS, THREAD

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver


@dataclass(frozen=True)
class RunResult(runs.RunResult):
    """The kit's result (the full state in `values`: callers show retrieval stats and the job)."""

    @property
    def shortlist(self) -> list[dict[str, Any]]:
        if self.pending:
            return self.pending[0].request["action_request"]["args"]["candidates"]
        return self.values.get("shortlist") or []

    @classmethod
    def of(cls, result: runs.RunResult) -> RunResult:
        return cls(result.thread_id, result.values, result.pending, result.resumed_existing, result.continued)


def start_run(
    graph: Any,
    *,
    job_id: int,
    customer_id: int | str,
    top_k: int = 10,
    pool_ids: Iterable[int] = (),
    target_pool_id: int | None = None,
    filters: dict[str, Any] | None = None,
    restart: bool = False,
) -> RunResult:
    """Run to the approval interrupt. Unless `restart`, a run already on this requisition's thread
    is not started again: one waiting for approval is returned as is, and one that stopped after its
    approval (a crash while writing) is finished first, since those writes were approved and are
    idempotent."""
    payload: dict[str, Any] = {"job_id": job_id, "top_k": top_k, "pool_ids": list(pool_ids)}
    if target_pool_id is not None:
        payload["target_pool_id"] = target_pool_id
    if filters:
        payload["filters"] = filters
    return RunResult.of(runs.start(graph, THREAD(customer_id, job_id), payload, restart=restart))


def _output(result: runs.RunResult) -> dict[str, Any]:
    """The graph's output schema's part of the state (what `invoke` returns)."""
    return {key: result.values[key] for key in OUTPUT_KEYS if key in result.values}


def resume_run(graph: Any, thread_id: str, response: Any, *, approver: str | None = None) -> dict[str, Any]:
    """Answer the pending approval (an Agent Inbox response or a list of one) as `approver` (the OS
    user when not given); returns the run's output. Resuming a finished thread does nothing."""
    return _output(runs.resume(graph, thread_id, response, approver=approver))


def continue_run(graph: Any, thread_id: str) -> dict[str, Any]:
    """Re-run from the last checkpoint after a crash (e.g. the write node failed mid-way)."""
    return _output(runs.proceed(graph, thread_id))


def list_pending(graph: Any, checkpointer: BaseCheckpointSaver) -> list[PendingApproval]:
    return pending_approvals(graph, checkpointer, prefix=THREAD.thread_prefix)
