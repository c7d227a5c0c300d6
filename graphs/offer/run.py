"""Starting, countering and resuming an offer, on the kit's runs (`graphs.kit.runs`).

An application has one offer thread: a second start returns it (`existing`) instead of drafting a
second offer, and when its approvals were all given but the run stopped while writing (a crash after
the letter upload), that start finishes the approved writes first, never asking again. `restart`
drafts anew on the same thread.
"""

from __future__ import annotations

import threading
from typing import Any

from graphs.kit import runs
from graphs.kit.inbox import pending_for_thread, unfinished
from graphs.kit.runs import RunResult, run_config
from graphs.offer.state import (
    CounterInput,
    OfferBusy,
    OfferError,
    OfferStart,
    latest_decision,
    offer_thread_id,
)


class OfferRun(RunResult):
    """The kit's run result; `existing`: the application already had this offer."""

    @property
    def existing(self) -> bool:
        return self.resumed_existing


def _run(graph: Any, thread_id: str, **flags: bool) -> OfferRun:
    found = runs.result(graph, thread_id, **flags)
    return OfferRun(found.thread_id, found.values, found.pending, **flags)


_start_locks: dict[str, threading.Lock] = {}
_start_locks_guard = threading.Lock()


def _start_lock(thread_id: str) -> threading.Lock:
    with _start_locks_guard:
        return _start_locks.setdefault(thread_id, threading.Lock())


def approved_unfinished(graph: Any, thread_id: str) -> bool:
    """`graphs.kit.runs.approved_unfinished`, also for offer-1 checkpoints (no `approval` key)."""
    snapshot = graph.get_state(run_config(thread_id))
    values = dict(snapshot.values or {})
    return not snapshot.interrupts and unfinished(snapshot) and bool(latest_decision(values))


def start_offer(
    graph: Any,
    *,
    workflow_id: int,
    customer_id: int | str,
    terms: dict[str, Any] | None = None,
    level: str | None = None,
    narrative: str = "",
    started_by: str | None = None,
    restart: bool = False,
) -> OfferRun:
    """Draft and route an offer, up to its first approval. Unless `restart`, an application that
    already has an offer thread gets that one back: a second start never makes a second offer."""
    request = OfferStart.model_validate(
        {"workflow_id": workflow_id, "terms": terms or {}, "level": level, "narrative": narrative}
    )
    thread_id = offer_thread_id(customer_id, request.workflow_id)
    # Two deliveries of the same event handled at once must not both see "no offer yet".
    with _start_lock(thread_id):
        if not restart and graph.get_state(run_config(thread_id)).values.get("draft"):
            if approved_unfinished(graph, thread_id):
                runs.proceed(graph, thread_id)
                return _run(graph, thread_id, resumed_existing=True, continued=True)
            return _run(graph, thread_id, resumed_existing=True)
        # Every input key is sent, so nothing from an earlier start on this thread leaks into this one.
        payload = {**request.model_dump(mode="json"), "counter": None}
        graph.invoke(payload, run_config(thread_id, started_by), version="v2")
    return _run(graph, thread_id)


def counter_offer(graph: Any, thread_id: str, counter: dict[str, Any] | CounterInput) -> OfferRun:
    """Analyse a counter-offer on an offer thread, up to its approval interrupt."""
    body = counter if isinstance(counter, CounterInput) else CounterInput.model_validate(counter)
    state = graph.get_state(run_config(thread_id))
    if not state.values.get("draft"):
        raise OfferError(f"no offer on {thread_id}")
    if pending_for_thread(graph, thread_id):
        raise OfferBusy("the offer waits for an approval: resolve it before taking a counter-offer")
    if unfinished(state):
        raise OfferBusy("the offer is still being processed")
    workflow_id = state.values["context"]["workflow"]["id"]
    graph.invoke(
        {"workflow_id": workflow_id, "counter": body.model_dump(mode="json", exclude_none=True)},
        run_config(thread_id),
        version="v2",
    )
    return _run(graph, thread_id)


def resume_offer(graph: Any, thread_id: str, response: Any, *, approver: str | None = None) -> dict[str, Any]:
    """Answer the pending step (the command line's OS user when no approver is given)."""
    return runs.resume(graph, thread_id, response, approver=approver).values


_VERSION_KEYS = (
    "version",
    "created_at",
    "reason",
    "author",
    "changes",
    "terms",
    "figures",
    "band_position",
    "compa_ratio",
    "added_steps",
    "issues",
)
_NEGOTIATION_KEYS = ("n", "decision", "outcome", "reply", "reply_template", "received_at", "decided_by")


def offer_view(values: dict[str, Any]) -> dict[str, Any]:
    """What `GET /offers/{id}` and `icims-agents offer show` report: versions, decisions, status."""
    ctx = values.get("context") or {}
    negotiation = values.get("negotiation") or {}
    letter = values.get("letter") or {}
    return {
        "thread_id": (values.get("run") or {}).get("thread_id"),
        "workflow_id": (ctx.get("workflow") or {}).get("id"),
        "job_id": ctx.get("job_id"),
        "person_id": ctx.get("person_id"),
        "status": values.get("status"),
        "version": values.get("version"),
        "awaiting": values.get("awaiting"),
        "chain": [
            {"role": s["role"], "required": s["required"], "reasons": s["reasons"]}
            for s in values.get("chain") or []
        ],
        "versions": [{k: v.get(k) for k in _VERSION_KEYS} for v in values.get("versions") or []],
        "decisions": [
            {k: d.get(k) for k in ("role", "approver", "decision", "version", "decided_at")}
            for d in values.get("decisions") or []
        ],
        "negotiation": {k: negotiation.get(k) for k in _NEGOTIATION_KEYS}
        | {
            "analysis": {
                k: (negotiation.get("analysis") or {}).get(k)
                for k in ("reasons", "changes", "suggested_reply", "band_position")
            }
        }
        if negotiation
        else None,
        "letter": {k: letter.get(k) for k in ("version", "pdf_sha256", "pdf_bytes", "figures")}
        if letter
        else None,
        "writes": values.get("writes") or [],
    }
