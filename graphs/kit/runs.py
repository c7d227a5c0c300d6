"""Starting, resuming and finishing a graph's run: one return shape and one approver rule for all.

- `start`: run from the input to the first approval (or the end). Unless `restart`, a thread that
  already waits for approval is returned as is, and one whose approval was given but whose run
  stopped before the end (a crash while writing) is finished first: those writes were approved and
  the write step is idempotent, so no second approval is ever asked for them.
- `resume`: answer the pending approval as `approver` (the command line's OS user when not given).
- `proceed`: re-run from the last checkpoint (a node that failed mid-way re-runs from its top).
- `finish`: `proceed` only when the run is approved-but-unfinished (`approved_unfinished`).

Every graph records its decision under the state key `approval` (`graphs.kit.review`), so "was this
run approved?" is one rule here, not one per graph.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.types import Command

from graphs.kit.inbox import PendingApproval, cli_approver, pending_for_thread, unfinished

APPROVAL_KEY = "approval"


def run_config(thread_id: str, approver: str | None = None) -> RunnableConfig:
    configurable: dict[str, Any] = {"thread_id": thread_id}
    if approver:
        configurable["approver"] = approver
    return {"configurable": configurable}


def input_hash(payload: Any) -> str:
    """SHA-256 of a run's input, canonical JSON (recorded in the run-start record and the audit)."""
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(blob).hexdigest()


def run_record(
    config: RunnableConfig,
    request: Any,
    *,
    graph_version: str,
    trace_id: str | None = None,
    started_at: datetime | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The `run` state key every graph writes in its first node: thread, trace, version, input hash,
    start time. A graph adds its own fields through `extra`; it does not rename these."""
    payload = request.model_dump(mode="json") if hasattr(request, "model_dump") else request
    thread_id = str((config.get("configurable") or {}).get("thread_id") or "")
    return {
        "thread_id": thread_id,
        "trace_id": trace_id or uuid.uuid4().hex,
        "graph_version": graph_version,
        "input_hash": input_hash(payload),
        "started_at": (started_at or datetime.now(UTC)).astimezone(UTC).isoformat(),
        "request": payload,
        **extra,
    }


def decided(values: dict[str, Any]) -> bool:
    """Whether the state holds a decision (a reviewer's or a policy's)."""
    return bool((values.get(APPROVAL_KEY) or {}).get("decision"))


def approved_unfinished(graph: Any, thread_id: str) -> bool:
    snapshot = graph.get_state(run_config(thread_id))
    return not snapshot.interrupts and unfinished(snapshot) and decided(dict(snapshot.values or {}))


@dataclass(frozen=True)
class RunResult:
    thread_id: str
    values: dict[str, Any]
    pending: list[PendingApproval]
    resumed_existing: bool = False  # the thread already had a run: it was returned or finished
    continued: bool = False  # an approved run that had stopped mid-way was finished

    @property
    def waiting(self) -> bool:
        return bool(self.pending)


def result(graph: Any, thread_id: str, **flags: bool) -> RunResult:
    values = dict(graph.get_state(run_config(thread_id)).values or {})
    return RunResult(thread_id, values, pending_for_thread(graph, thread_id), **flags)


def start(graph: Any, thread_id: str, payload: Any, *, restart: bool = False) -> RunResult:
    if not restart:
        existing = existing_run(graph, thread_id)
        if existing is not None:
            return existing
    graph.invoke(payload, run_config(thread_id), version="v2")
    return result(graph, thread_id)


def existing_run(graph: Any, thread_id: str) -> RunResult | None:
    """The thread's run when it waits for approval (as is) or was approved but stopped (finished
    now); None when a new run may start."""
    if pending_for_thread(graph, thread_id):
        return result(graph, thread_id, resumed_existing=True)
    if approved_unfinished(graph, thread_id):
        proceed(graph, thread_id)
        return result(graph, thread_id, resumed_existing=True, continued=True)
    return None


def resume(graph: Any, thread_id: str, response: Any, *, approver: str | None = None) -> RunResult:
    """Answer the pending approval (an Agent Inbox response or a list of one). Resuming a finished
    thread does nothing (LangGraph has no pending interrupt to deliver it to)."""
    config = run_config(thread_id, approver or cli_approver())
    graph.invoke(Command(resume=response), config, version="v2")
    return result(graph, thread_id)


def proceed(graph: Any, thread_id: str, *, approver: str | None = None) -> RunResult:
    graph.invoke(None, run_config(thread_id, approver), version="v2")
    return result(graph, thread_id)


def finish(graph: Any, thread_id: str) -> RunResult | None:
    """Finish an approved run a crash left part-way; None when there is nothing to finish."""
    if not approved_unfinished(graph, thread_id):
        return None
    proceed(graph, thread_id)
    return result(graph, thread_id, resumed_existing=True, continued=True)
