"""Resuming a graph thread from the command line as the service does: under the thread's lease
(`server.applying`: one resume per interrupt across processes, so a CLI approval racing the HTTP
API or the worker is refused, not applied twice), with the same `approval_decision` audit record,
and, when the writes fail after the decision was recorded, an applying row the worker's reconciler
finishes (no second approval)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import typer

from graphs.kit.inbox import PendingApproval, cli_approver, pending_for_thread
from graphs.kit.runs import approved_unfinished, run_config
from server.applying import Backoff, error_text, lease_key
from server.approval_records import append_decision, applying_info, item_count, now, write_rows
from tools.applying import ApplyingStore
from tools.leases import LeaseHeld, Leases
from tools.settings import Settings

HELD_EXIT = 3  # another process is resolving this thread
APPLYING_EXIT = 4  # approved and recorded; the worker finishes the writes


@contextlib.contextmanager
def thread_lease(settings: Settings, thread_id: str) -> Iterator[None]:
    """Hold the thread's lease for the block; exit 3 with a message when another process holds it."""
    leases = Leases.from_settings(settings)
    try:
        with leases.hold(lease_key(thread_id)):
            yield
    except LeaseHeld:
        typer.echo(
            f"error: {thread_id} is being resolved elsewhere (the API, the worker or another "
            "command holds it); nothing was done, try again in a moment",
            err=True,
        )
        raise typer.Exit(HELD_EXIT) from None
    finally:
        leases.close()


def resolve_pending(
    settings: Settings,
    audit: Any,  # tools.audit.AuditLog
    graph: Any,
    graph_name: str,
    thread_id: str,
    response: dict[str, Any],
    resume: Callable[..., dict[str, Any]],
    *,
    job_id: int | None = None,
    approver: str | None = None,
) -> dict[str, Any] | None:
    """Answer the thread's pending approval with `response` through `resume(graph, thread_id,
    [response], approver=...)` (call it holding `thread_lease`); returns the run's values, or None
    when nothing was pending. When the writes fail after the decision was recorded: an applying
    row, a message, and exit 4."""
    pending = pending_for_thread(graph, thread_id)
    if not pending:
        return None
    who = approver or cli_approver()
    decided_at = now().isoformat()
    before = dict(graph.get_state(run_config(thread_id)).values or {})
    try:
        values = resume(graph, thread_id, [response], approver=who)
        error = None
    except Exception as exc:
        if not approved_unfinished(graph, thread_id):
            raise
        values = dict(graph.get_state(run_config(thread_id)).values or {})
        error = error_text(exc)
    append_decision(
        audit,
        graph=graph_name,
        approval_id=thread_id,
        interrupt_id=pending[0].interrupt_id,
        job_id=job_id,
        approver={"key_id": None, "name": who, "role": "cli"},
        decision=str(response.get("type")),
        note=None,
        decided_at=decided_at,
        changes=(values.get("approval") or {}).get("edits") or {},
        writes=write_rows(values),
        outcome="applying" if error else "resolved",
        values=before,
    )
    if error is not None:
        row = _record_applying(settings, graph_name, pending[0], values, job_id, error)
        typer.echo(
            f"the decision is recorded but its writes failed ({error}); {row}: "
            "the worker finishes them, nobody needs to approve again",
            err=True,
        )
        raise typer.Exit(APPLYING_EXIT)
    return values


def _record_applying(
    settings: Settings,
    graph_name: str,
    pending: PendingApproval,
    values: dict[str, Any],
    job_id: int | None,
    error: str,
) -> str:
    approval = values.get("approval") or {}
    args = pending.request["action_request"].get("args") or {}
    store = ApplyingStore.from_settings(settings)
    try:
        row = store.failed(
            pending.thread_id,
            error,
            backoff=Backoff(),
            graph=graph_name,
            interrupt_id=pending.interrupt_id,
            action=pending.request["action_request"]["action"],
            job_id=job_id,
            job_title=args.get("job_title"),
            items=item_count(args),
            requested_at=pending.created_at,
            decision=approval.get("decision"),
            approver=approval.get("approver"),
            decided_at=approval.get("decided_at"),
        )
    finally:
        store.close()
    return str(applying_info(row)["text"])
