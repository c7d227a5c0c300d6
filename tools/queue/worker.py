"""The worker process (`icims-agents worker`): open the same service runtime as the app, recover
what a killed worker left behind, register the periodic jobs, then run huey's consumer (threads plus
its scheduler) beside the sweeper, or, with `once`, drain the queue in this thread and return."""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tools.logs import get_logger
from tools.queue import PERIODIC, Queue, build_queue

if TYPE_CHECKING:
    from tools.settings import Settings

log = get_logger("tools.queue.worker")


def register_periodic(queue: Queue, state: Any) -> list[str]:
    """Every PERIODIC job whose module is installed; a missing one is skipped with a log line."""
    from huey import crontab

    registered = []
    for name, (target, minute) in PERIODIC.items():
        module_name, _, attr = target.partition(":")
        try:
            fn = getattr(importlib.import_module(module_name), attr)
        except (ModuleNotFoundError, AttributeError) as exc:
            log.info("worker.periodic_skipped", job=name, target=target, reason=type(exc).__name__)
            continue

        def job(fn: Callable[..., Any] = fn, name: str = name) -> None:
            result = fn(state, datetime.now(UTC))
            log.info("worker.periodic_done", job=name, result=result if isinstance(result, dict) else None)

        queue.huey.periodic_task(crontab(minute=minute), name=f"icims_agents.{name}")(job)
        registered.append(name)
    return registered


def _sweeper(queue: Queue, stop: threading.Event) -> None:
    while not stop.wait(queue.settings.queue_sweep_seconds):
        try:
            queue.sweep()
        except Exception as exc:  # a locked database must not end the sweeper; try next round
            log.warning("worker.sweep_failed", error=type(exc).__name__)


def run_worker(settings: Settings, *, workers: int, once: bool, state: Any = None, nice: int = 0) -> int:
    """Returns the number of events recovered at start. `state` skips opening the service (tests).
    `nice` lowers this process's CPU priority, so on a shared machine the intake's acknowledgements
    stay fast while the worker uses what is left."""
    if nice:
        os.nice(nice)
        nice = 0
    if state is None:
        from server.state import open_service

        with open_service(settings) as opened:
            return run_worker(settings, workers=workers, once=once, state=opened)
    queue = build_queue(settings, worker=True).bind(state)
    try:
        recovered = queue.recover()
        log.info(
            "worker.start", workers=workers, once=once, recovered=recovered, backend=settings.queue_backend
        )
        # Registered in both modes: a consumer may have queued a periodic run that `once` then meets.
        register_periodic(queue, state)
        if once:
            queue.work(until_idle=True)
            return recovered
        stop = threading.Event()
        sweeper = threading.Thread(target=_sweeper, args=(queue, stop), name="sweeper", daemon=True)
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
    finally:
        queue.close()
