"""`Queue`: huey carrying event ids, over the event store that holds each event's state.

The app only enqueues. A worker process binds the queue to its `ServiceState` and runs tasks, either
under huey's consumer (`icims-agents worker`) or in this process with `work()` (the demo, the bench
and `worker --once`). `sweep()` runs beside both: it re-enqueues events whose wait is over, lets one
quota-waiting event probe iCIMS every `queue_quota_probe_seconds`, and releases all of them as soon
as any event succeeds again (the quota is back).
"""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING, Any

from huey.exceptions import HueyException

from tools.events.routing import EventRoutes
from tools.logs import get_logger
from tools.queue.runner import WORKER_ID, RunResult, run_event

if TYPE_CHECKING:
    from huey import Huey

    from tools.events.store import EventStore, StoredEvent
    from tools.settings import Settings

log = get_logger("tools.queue")
TASK_NAME = "icims_agents.process_event"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Queue:
    def __init__(self, settings: Settings, store: EventStore, huey: Huey) -> None:
        self.settings = settings
        self.store = store
        self.huey = huey
        self.state: Any = None
        self.routes = EventRoutes()
        self._task = huey.task(name=TASK_NAME)(self._process)
        self._last_probe = time.time()
        self._lock = threading.Lock()

    def bind(self, state: Any, routes: EventRoutes | None = None) -> Queue:
        """Give the tasks their runtime (the service's state) and which handlers each event type goes
        to (built by the server from its graph kinds); only workers need this."""
        self.state = state
        self.routes = routes if routes is not None else EventRoutes()
        return self

    def close(self) -> None:
        self.store.close()
        storage = getattr(self.huey, "storage", None)
        close = getattr(storage, "close", None)
        if callable(close):
            close()

    # -- enqueueing -----------------------------------------------------------------------------------

    def enqueue_event(self, event_id: int, *, delay: float | None = None) -> None:
        if delay is not None and delay > 0:
            self._task.schedule(args=(event_id,), delay=delay)
        else:
            self._task(event_id)

    def _process(self, event_id: int) -> str:
        if self.state is None:
            raise RuntimeError("the queue is not bound to a service runtime (Queue.bind)")
        result = run_event(self.store, self.settings, self.state, event_id, self.routes)
        self._after(result, event_id)
        return result.status

    def _after(self, result: RunResult, event_id: int) -> None:
        if result.status == "queued" and result.retry_in is not None:
            self.enqueue_event(event_id, delay=result.retry_in)
        elif result.status == "waiting":
            with self._lock:
                self._last_probe = time.time()
        elif result.status == "done":
            # Something just succeeded: if events wait for the quota, it is back.
            waiting = self.store.quota_waiters()
            if waiting:
                self._enqueue_all(self.store.promote(waiting, now=time.time()))

    def _enqueue_all(self, ids: list[int]) -> None:
        for event_id in ids:
            self.enqueue_event(event_id)

    # -- visibility -----------------------------------------------------------------------------------

    def backlog(self) -> dict[str, Any]:
        backlog = self.store.backlog()
        backlog["in_queue"] = self.huey.pending_count()
        backlog["scheduled"] = self.huey.scheduled_count()
        return backlog

    def dead_letters(self, limit: int = 100) -> list[StoredEvent]:
        return self.store.list("dead", limit=limit)

    def retry(self, event_id: int) -> bool:
        """An operator sends a dead (or ignored) event round again."""
        if not self.store.requeue(event_id, reason="retried by an operator"):
            return False
        self.enqueue_event(event_id)
        return True

    # -- recovery and sweeping ------------------------------------------------------------------------

    def _abandoned(self, row: StoredEvent, now: float) -> bool:
        host, _, pid = (row.claimed_by or "").rpartition(":")
        if row.claimed_by == WORKER_ID:
            return True  # claimed by this process before it (re)started work: nobody runs it
        if host == WORKER_ID.rpartition(":")[0] and pid.isdigit() and not _pid_alive(int(pid)):
            return True
        return now - row.updated_at > self.settings.queue_lease_seconds

    def recover(self) -> int:
        """At worker start: re-enqueue every event a killed worker left behind (queued, running with a
        dead claimant, due waiting). The claim's compare-and-set makes a second copy harmless."""
        now = time.time()
        rows = self.store.recoverable(now=now, abandoned=lambda row: self._abandoned(row, now))
        count = 0
        for row in rows:
            if row.status == "running" and not self.store.release_running(row.id, row.claimed_by):
                continue
            delay = (row.not_before - now) if row.status == "queued" and row.not_before else None
            if row.status == "waiting":
                self.store.promote([row.id], now=now)
            self.enqueue_event(row.id, delay=delay)
            count += 1
        if count:
            log.info("queue.recovered", events=count)
        return count

    def sweep(self, now: float | None = None) -> int:
        now = time.time() if now is None else now
        due = [row.id for row in self.store.due(now=now, status="waiting")]
        moved = self.store.promote(due, now=now)
        with self._lock:
            probe_due = now - self._last_probe >= self.settings.queue_quota_probe_seconds
            if probe_due:
                self._last_probe = now
        if probe_due:
            oldest = self.store.oldest_quota_waiter()
            if oldest is not None:
                moved += self.store.promote([oldest.id], now=now)
        self._enqueue_all(moved)
        return len(moved)

    # -- running in this process ----------------------------------------------------------------------

    def work(
        self,
        stop: threading.Event | None = None,
        *,
        until_idle: bool = False,
        timeout: float | None = None,
        poll_seconds: float = 0.05,
    ) -> int:
        """Run tasks here until `stop` is set (or, with `until_idle`, until nothing is queued,
        running or scheduled; events waiting for the quota do not count). Returns event runs."""
        stop = stop or threading.Event()
        deadline = time.monotonic() + timeout if timeout is not None else None
        next_sweep = 0.0
        processed = 0
        while not stop.is_set():
            if time.monotonic() >= next_sweep:
                self.sweep()
                next_sweep = time.monotonic() + self.settings.queue_sweep_seconds
            for task in self.huey.read_schedule():
                self.huey.enqueue(task)
            try:
                task = self.huey.dequeue()
            except HueyException as exc:  # a task this process does not know: drop it, keep working
                log.warning("queue.unknown_task", error=str(exc)[:200])
                continue
            if task is not None:
                # None: the task was not due yet and went to the schedule.
                if self.huey.execute(task) is not None:
                    processed += 1
                continue
            if until_idle and self.idle():
                break
            if deadline is not None and time.monotonic() >= deadline:
                break
            stop.wait(poll_seconds)
        return processed

    def idle(self) -> bool:
        counts = self.store.counts()
        return (
            not counts.get("queued")
            and not counts.get("running")
            and self.huey.pending_count() == 0
            and self.huey.scheduled_count() == 0
        )
