"""The worker process (`icims-agents worker`): open the same service runtime as the app, bind the
event queue to it, give it the periodic jobs, and run it (`tools.queue.worker.serve`: recovery of
what a killed worker left, then huey's consumer beside the sweeper, or one drain with `once`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from graphs.kit.kind import PeriodicJob
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
    try:
        return serve(queue, workers=workers, once=once, periodic=periodic_jobs(state))
    finally:
        queue.close()
