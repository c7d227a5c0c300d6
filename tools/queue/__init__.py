"""The durable job queue: huey carries event ids (SqliteHuey under data_dir by default, RedisHuey
with `queue_backend=redis`), the event store keeps each event's state, attempts, reasons and outcome.
What an event runs and which periodic jobs exist are given by the worker (`server.worker`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tools.queue.queue import Queue

if TYPE_CHECKING:
    from tools.settings import Settings

__all__ = ["Queue", "build_queue"]


def build_queue(settings: Settings, *, worker: bool = False) -> Queue:
    """`worker=True`: the worker's side, whose event-state writes skip the fsync (see EventStore)."""
    from huey import RedisHuey, SqliteHuey

    from tools.events.store import EventStore

    store = EventStore.from_settings(settings, durable=not worker)
    if settings.queue_backend == "redis":
        huey = RedisHuey(settings.queue_name, url=settings.redis_url, results=False)
    else:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        # No fsync per message: huey's file is not the record (the event store is, with fsync), and
        # a message lost with the OS is re-enqueued by the worker's start-up recovery.
        huey = SqliteHuey(
            settings.queue_name, filename=str(settings.data_dir / "queue.sqlite"), results=False, fsync=False
        )
    return Queue(settings, store, huey)
