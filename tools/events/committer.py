"""Group commit for the intake: requests hand their event to one writer thread, which stores every
event waiting at that moment in one transaction (one fsync), enqueues the new ones, and then
answers all of their requests. Under load the fsync cost is shared by the batch instead of queueing
requests behind one fsync each; alone, a request waits for just its own commit."""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Any

from tools.events.models import ICIMSEvent
from tools.events.store import Added, EventStore
from tools.logs import get_logger

log = get_logger("tools.events")
MAX_BATCH = 256


class GroupCommitter:
    def __init__(self, store: EventStore, enqueue: Any) -> None:
        self.store = store
        self.enqueue = enqueue  # (event_id) -> None
        self._inbox: queue.SimpleQueue[tuple[ICIMSEvent, dict[str, Any], Future[Added]] | None] = (
            queue.SimpleQueue()
        )
        self._thread = threading.Thread(target=self._run, name="event-intake", daemon=True)
        self._thread.start()

    def submit(self, event: ICIMSEvent, payload: dict[str, Any]) -> Future[Added]:
        future: Future[Added] = Future()
        self._inbox.put((event, payload, future))
        return future

    def close(self) -> None:
        self._inbox.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            first = self._inbox.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    item = self._inbox.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._inbox.put(None)  # finish this batch, then stop
                    break
                batch.append(item)
            self._commit(batch)

    def _commit(self, batch: list[tuple[ICIMSEvent, dict[str, Any], Future[Added]]]) -> None:
        try:
            results = self.store.add_many([(event, payload) for event, payload, _ in batch])
        except Exception as exc:  # the requests answer 503; iCIMS may send them again
            for _, _, future in batch:
                future.set_exception(exc)
            return
        for added in results:
            if added.duplicate:
                continue
            try:
                self.enqueue(added.event.id)
            except Exception as exc:
                # The row is stored (and answered as accepted): the worker's recovery enqueues it.
                log.error("events.enqueue_failed", event_id=added.event.id, error=type(exc).__name__)
        for (_, _, future), added in zip(batch, results, strict=True):
            future.set_result(added)
