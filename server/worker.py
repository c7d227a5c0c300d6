"""The worker process (`icims-agents worker`): open the same service runtime as the app, bind the
event queue to it, give it the periodic jobs, and run it (`tools.queue.worker.serve`: recovery of
what a killed worker left, then huey's consumer beside the sweeper, or one drain with `once`).

Beside them runs the approvals reconciler (`server.applying`): every few seconds it finishes the
approved runs whose writes failed or were interrupted (due retries with backoff, and any it finds
stopped), so an approved decision lands without a second approval or anyone starting it again.
With `once` it makes one pass before and one after the drain, trying every approved run whatever
its backoff."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from graphs.kit.kind import PeriodicJob
from server.applying import RECONCILE_SECONDS
from server.state import ServiceState, open_service
from tools.logs import get_logger
from tools.queue import build_queue
from tools.queue.worker import Periodic, serve

if TYPE_CHECKING:
    from tools.settings import Settings

log = get_logger("server.worker")


def periodic_jobs(state: ServiceState) -> Iterator[Periodic]:
    """The periodic jobs the registered graph kinds declare, bound to `state`."""
    for opened in state.opened.values():
        for job in opened.kind.periodic:

            def run(job: PeriodicJob = job) -> Any:
                return job.run(state, datetime.now(UTC))

            yield Periodic(name=job.name, run=run, minute=job.minute)


def reconcile_once(state: ServiceState, now: float | None = None) -> dict[str, int]:
    """One reconciler pass over every kind: finish the approved-but-unfinished runs that are due
    (`now`: epoch seconds, default the clock). Returns its counts (finished, failed, busy, ...)."""
    return state.approvals.applying.reconcile(now)


def reconcile_until(
    state: ServiceState,
    stop: threading.Event,
    interval: float = RECONCILE_SECONDS,
    *,
    now: float | None = None,
) -> None:
    """Reconcile every `interval` seconds until `stop` is set (one pass when it already is)."""
    while True:
        try:
            reconcile_once(state, now)
        except Exception as exc:  # a locked database must not end the reconciler; try next round
            log.warning("worker.reconcile_failed", error=type(exc).__name__)
        if stop.wait(interval):
            return


def run_worker(settings: Settings, *, workers: int, once: bool, state: Any = None, nice: int = 0) -> int:
    """Returns the number of events recovered at start. `state` skips opening the service (tests).
    `nice` lowers this process's CPU priority, so on a shared machine the intake's acknowledgements
    stay fast while the worker uses what is left."""
    if nice:
        os.nice(nice)
    if state is None:
        with open_service(settings) as opened:
            return run_worker(settings, workers=workers, once=once, state=opened)
    queue = build_queue(settings, worker=True).bind(state, state.event_routes())
    stop = threading.Event()
    # `once` (an operator's one-off run) tries every approved run now, whatever its backoff says.
    due = {"now": float("inf")} if once else {}
    if once:
        stop.set()  # one pass now, one after the drain
    reconciler = threading.Thread(
        target=reconcile_until, args=(state, stop), kwargs=due, name="reconciler", daemon=True
    )
    reconciler.start()
    try:
        recovered = serve(queue, workers=workers, once=once, periodic=periodic_jobs(state))
        if once:
            reconciler.join()
            reconcile_until(state, stop, **due)
        return recovered
    finally:
        stop.set()
        reconciler.join(timeout=30)
        queue.close()
