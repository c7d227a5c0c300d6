"""`icims-agents worker` and `icims-agents events ...`: run the queue, and look into it."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from server.cli_state import state

events_app = typer.Typer(help="The event backlog, dead letters and retries.", no_args_is_help=True)


def worker(
    workers: Annotated[
        int | None, typer.Option("--workers", help="Worker threads (default: queue_workers setting).")
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="Recover, drain what is queued, then exit.")] = False,
    nice: Annotated[
        int, typer.Option(help="Lower the worker's CPU priority by this much (keeps acks fast on one box).")
    ] = 0,
) -> None:
    """Run the event queue: recover what a stopped worker left, then process events until stopped."""
    from server.worker import run_worker

    settings = state.settings()
    recovered = run_worker(settings, workers=workers or settings.queue_workers, once=once, nice=nice)
    if once:
        typer.echo(json.dumps({"recovered": recovered, "backlog": _queue().backlog()}))


def _queue():
    from tools.queue import build_queue

    return build_queue(state.settings())


@events_app.command("backlog")
def backlog() -> None:
    """Counts per state (queued, running, waiting, dead, done, ignored) and the oldest age, as JSON."""
    typer.echo(json.dumps(_queue().backlog()))


@events_app.command("list")
def list_events(
    status: Annotated[str | None, typer.Option(help="queued|running|waiting|done|dead|ignored")] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows.")] = 50,
) -> None:
    """Events (oldest first) as JSON lines: id, type, status, attempts, reason, not_before."""
    for row in _queue().store.list(status, limit=limit):  # type: ignore[arg-type]
        typer.echo(json.dumps(row.to_json()))


@events_app.command("dead")
def dead(limit: Annotated[int, typer.Option(help="At most this many rows.")] = 50) -> None:
    """Dead letters with the reason each one failed, as JSON lines."""
    for row in _queue().dead_letters(limit):
        typer.echo(json.dumps(row.to_json()))


@events_app.command("retry")
def retry(event_id: Annotated[int, typer.Argument(help="The dead (or ignored) event's id.")]) -> None:
    """Queue a dead event again with its attempts reset (a running worker picks it up)."""
    if not _queue().retry(event_id):
        typer.echo(f"event {event_id} is not dead or ignored (see `events list`)", err=True)
        raise typer.Exit(1)
    typer.echo(f"event {event_id} queued again")
