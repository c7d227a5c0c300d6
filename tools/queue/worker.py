"""The queue's half of a worker process: recover what a killed worker left behind, schedule the
periodic jobs it is given, then run huey's consumer (threads plus its scheduler) beside the sweeper,
or, with `once`, drain the queue in this thread and return.

What the events run against and which periodic jobs exist come from the caller: the service's
worker (`server.worker`) binds the queue to its runtime and passes its jobs in.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from tools.logs import get_logger
from tools.queue.queue import Queue

log = get_logger("tools.queue.worker")


@dataclass(frozen=True)
class Periodic:
    """`run()` every minute matching `minute` (a huey crontab minute spec), under huey's scheduler."""

    name: str
    run: Callable[[], Any]
    minute: str = "*"


def schedule(queue: Queue, jobs: Iterable[Periodic]) -> list[str]:
    """Register each job as a huey periodic task; returns their names."""
    from huey import crontab

    registered = []
    for periodic in jobs:

        def job(periodic: Periodic = periodic) -> None:
            result = periodic.run()
            log.info(
                "worker.periodic_done", job=periodic.name, result=result if isinstance(result, dict) else None
            )

        queue.huey.periodic_task(crontab(minute=periodic.minute), name=f"icims_agents.{periodic.name}")(job)
        registered.append(periodic.name)
    return registered


def sweep_until(queue: Queue, stop: threading.Event) -> None:
    while not stop.wait(queue.settings.queue_sweep_seconds):
        try:
            queue.sweep()
        except Exception as exc:  # a locked database must not end the sweeper; try next round
            log.warning("worker.sweep_failed", error=type(exc).__name__)


def serve(queue: Queue, *, workers: int, once: bool, periodic: Iterable[Periodic] = ()) -> int:
    """Run a bound queue until stopped (or, with `once`, until it is idle). Returns the number of
    events recovered at start."""
    recovered = queue.recover()
    log.info(
        "worker.start", workers=workers, once=once, recovered=recovered, backend=queue.settings.queue_backend
    )
    # Scheduled in both modes: a consumer may have queued a periodic run that `once` then meets.
    schedule(queue, periodic)
    if once:
        queue.work(until_idle=True)
        return recovered
    stop = threading.Event()
    sweeper = threading.Thread(target=sweep_until, args=(queue, stop), name="sweeper", daemon=True)
    sweeper.start()
    # A short max_delay: an idle consumer looks for new events at least twice a second.
    consumer = queue.huey.create_consumer(
        workers=workers, worker_type="thread", periodic=True, max_delay=0.5, check_worker_health=True
    )
    try:
        consumer.run()  # returns on SIGINT/SIGTERM after finishing the tasks in hand
    finally:
        stop.set()
    return recovered
