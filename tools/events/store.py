"""The durable event store: every accepted notification is a row before iCIMS gets its answer.

The row, not the queue, is the truth: huey only carries event ids, and a worker claims a row with a
compare-and-set (`queued`/`waiting` -> `running`), so an id delivered twice (a re-enqueue after a
crash, a probe) still runs once at a time. `dedupe_key` is unique: of concurrent identical posts
exactly one insert wins. A duplicate arriving after `dedupe_window` is a new event (the old row's key
is retired to `key@id`), since iCIMS payloads carry no event id or timestamp to tell a re-send from a
later, identical action.

Statuses: `queued` (due at `not_before`, or now), `running` (claimed by `claimed_by`), `waiting`
(the iCIMS quota is spent: `reason`, `not_before`), `done`, `dead` (failed `attempts` times or cannot
be handled: `reason`), `ignored` (no handler for the event type).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from tools.events.models import ICIMSEvent
from tools.sqlengine import make_engine

if TYPE_CHECKING:
    from tools.settings import Settings

Status = Literal["queued", "running", "waiting", "done", "dead", "ignored"]
ACTIVE: tuple[Status, ...] = ("queued", "running", "waiting")

_metadata = MetaData()
events_table = Table(
    "events",
    _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dedupe_key", String(80), nullable=False, unique=True),
    Column("customer_id", String(32), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("received_at", Float, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("reason", Text),
    Column("wait_kind", String(16)),  # "quota" while waiting for the iCIMS quota, "retry" in backoff
    Column("not_before", Float),
    Column("updated_at", Float, nullable=False),
    Column("outcome", Text),
    Column("claimed_by", String(128)),
    Index("ix_events_status_due", "status", "not_before"),
)


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat() if ts is not None else None


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: int
    dedupe_key: str
    customer_id: str
    event_type: str
    payload: dict[str, Any]
    received_at: float
    status: Status
    attempts: int
    reason: str | None
    wait_kind: str | None
    not_before: float | None
    updated_at: float
    outcome: dict[str, Any]
    claimed_by: str | None

    @property
    def event(self) -> ICIMSEvent:
        return ICIMSEvent.model_validate(self.payload)

    def to_json(self) -> dict[str, Any]:
        """For the CLI and logs: ids, types, states and reasons; the payload holds no PII but ids."""
        return {
            "id": self.id,
            "customer_id": self.customer_id,
            "event_type": self.event_type,
            "system_id": self.payload.get("systemId"),
            "status": self.status,
            "attempts": self.attempts,
            "reason": self.reason,
            "not_before": _iso(self.not_before),
            "received_at": _iso(self.received_at),
            "updated_at": _iso(self.updated_at),
            "outcome": self.outcome,
        }


def _row(row: Any) -> StoredEvent:
    return StoredEvent(
        id=row.id,
        dedupe_key=row.dedupe_key,
        customer_id=row.customer_id,
        event_type=row.event_type,
        payload=json.loads(row.payload),
        received_at=row.received_at,
        status=row.status,
        attempts=row.attempts,
        reason=row.reason,
        wait_kind=row.wait_kind,
        not_before=row.not_before,
        updated_at=row.updated_at,
        outcome=json.loads(row.outcome) if row.outcome else {},
        claimed_by=row.claimed_by,
    )


@dataclass(frozen=True, slots=True)
class Added:
    event: StoredEvent
    duplicate: bool  # True: `event` is the row stored earlier; nothing new was stored


class EventStore:
    def __init__(self, url: str, *, dedupe_window: float = 7 * 86_400, durable: bool = True) -> None:
        """`durable=False` (workers): commits skip the fsync. A state change lost with the OS only
        means an event runs again (handlers are idempotent), and the shorter write lock keeps the
        intake's durable commits fast."""
        self.url = url
        self.dedupe_window = dedupe_window
        self.engine = make_engine(url, busy_timeout_ms=15_000, fast_sync=not durable)
        _metadata.create_all(self.engine)

    @classmethod
    def from_settings(cls, settings: Settings, *, durable: bool = True) -> EventStore:
        url = settings.events_url or f"sqlite:///{settings.data_dir / 'events.sqlite'}"
        return cls(url, dedupe_window=settings.events_dedupe_window_seconds, durable=durable)

    def close(self) -> None:
        self.engine.dispose()

    # -- intake ---------------------------------------------------------------------------------------

    def add(self, event: ICIMSEvent, payload: dict[str, Any], *, now: float | None = None) -> Added:
        """Store a new event as `queued`, or return the row it duplicates."""
        now = time.time() if now is None else now
        key = event.dedupe_key()
        values = self._values(event, payload, key, now)
        for _ in range(3):
            try:
                with self.engine.begin() as conn:
                    new_id = conn.execute(insert(events_table).values(**values)).inserted_primary_key[0]
                return Added(self._get_required(new_id), duplicate=False)
            except IntegrityError:
                pass
            existing = self.by_key(key)
            if existing is None:
                continue  # retired between our insert and read: try again
            if now - existing.received_at < self.dedupe_window:
                return Added(existing, duplicate=True)
            with self.engine.begin() as conn:
                conn.execute(
                    update(events_table)
                    .where(events_table.c.id == existing.id, events_table.c.dedupe_key == key)
                    .values(dedupe_key=f"{key}@{existing.id}")
                )
        raise RuntimeError(f"could not store event with dedupe key {key}")

    def add_many(
        self, items: list[tuple[ICIMSEvent, dict[str, Any]]], *, now: float | None = None
    ) -> list[Added]:
        """`add` for a batch in one transaction (one fsync): the intake's group commit. Identical
        events inside the batch are duplicates of the first. If another process inserts one of the
        keys meanwhile, the batch is rolled back and stored one event at a time."""
        now = time.time() if now is None else now
        keys = [event.dedupe_key() for event, _ in items]
        try:
            with self.engine.begin() as conn:
                found = conn.execute(select(events_table).where(events_table.c.dedupe_key.in_(set(keys))))
                existing = {row.dedupe_key: _row(row) for row in found}
                results: list[Added] = []
                fresh: dict[str, StoredEvent] = {}
                for (event, payload), key in zip(items, keys, strict=True):
                    if key in fresh:
                        results.append(Added(fresh[key], duplicate=True))
                        continue
                    old = existing.get(key)
                    if old is not None and now - old.received_at < self.dedupe_window:
                        results.append(Added(old, duplicate=True))
                        continue
                    if old is not None:
                        conn.execute(
                            update(events_table)
                            .where(events_table.c.id == old.id)
                            .values(dedupe_key=f"{key}@{old.id}")
                        )
                    values = self._values(event, payload, key, now)
                    new_id = conn.execute(insert(events_table).values(**values)).inserted_primary_key[0]
                    stored = _row(
                        SimpleNamespace(
                            id=new_id,
                            reason=None,
                            wait_kind=None,
                            not_before=None,
                            outcome=None,
                            claimed_by=None,
                            **values,
                        )
                    )
                    fresh[key] = stored
                    results.append(Added(stored, duplicate=False))
            return results
        except IntegrityError:
            return [self.add(event, payload, now=now) for event, payload in items]

    @staticmethod
    def _values(event: ICIMSEvent, payload: dict[str, Any], key: str, now: float) -> dict[str, Any]:
        return {
            "dedupe_key": key,
            "customer_id": event.customerId,
            "event_type": event.eventType,
            "payload": json.dumps(payload, separators=(",", ":"), sort_keys=True),
            "received_at": now,
            "status": "queued",
            "attempts": 0,
            "updated_at": now,
        }

    # -- reads ----------------------------------------------------------------------------------------

    def get(self, event_id: int) -> StoredEvent | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(events_table).where(events_table.c.id == event_id)).first()
        return _row(row) if row else None

    def _get_required(self, event_id: int) -> StoredEvent:
        found = self.get(event_id)
        if found is None:
            raise KeyError(event_id)
        return found

    def by_key(self, key: str) -> StoredEvent | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(events_table).where(events_table.c.dedupe_key == key)).first()
        return _row(row) if row else None

    def list(self, status: Status | Iterable[Status] | None = None, *, limit: int = 100) -> list[StoredEvent]:
        query = select(events_table).order_by(events_table.c.id).limit(limit)
        if status is not None:
            statuses = [status] if isinstance(status, str) else list(status)
            query = query.where(events_table.c.status.in_(statuses))
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(events_table.c.status, func.count()).group_by(events_table.c.status)
            ).all()
        return {status: int(n) for status, n in rows}

    def backlog(self, *, now: float | None = None) -> dict[str, Any]:
        """Counts per state and the age of the oldest event not yet finished."""
        now = time.time() if now is None else now
        counts = self.counts()
        with self.engine.connect() as conn:
            oldest = conn.execute(
                select(func.min(events_table.c.received_at)).where(events_table.c.status.in_(ACTIVE))
            ).scalar()
        return {
            "queued": counts.get("queued", 0),
            "running": counts.get("running", 0),
            "waiting": counts.get("waiting", 0),
            "dead": counts.get("dead", 0),
            "done": counts.get("done", 0),
            "ignored": counts.get("ignored", 0),
            "oldest_age_seconds": round(now - oldest, 3) if oldest is not None else 0.0,
        }

    # -- state changes --------------------------------------------------------------------------------

    def _set(self, event_id: int, where: Any, **values: Any) -> bool:
        values.setdefault("updated_at", time.time())
        with self.engine.begin() as conn:
            result = conn.execute(
                update(events_table).where(events_table.c.id == event_id, where).values(**values)
            )
        return result.rowcount == 1

    def claim(self, event_id: int, worker: str, *, now: float | None = None) -> StoredEvent | None:
        """Take a due `queued`/`waiting` row for running; None when it is not due or not claimable
        (done, dead, or running elsewhere)."""
        now = time.time() if now is None else now
        due = and_(
            events_table.c.status.in_(("queued", "waiting")),
            or_(events_table.c.not_before.is_(None), events_table.c.not_before <= now),
        )
        if not self._set(event_id, due, status="running", claimed_by=worker, updated_at=now):
            return None
        return self.get(event_id)

    def save_outcome(self, event_id: int, outcome: dict[str, Any]) -> None:
        """Progress inside a run (which handlers finished), kept across retries and crashes."""
        self._set(event_id, events_table.c.status == "running", outcome=json.dumps(outcome))

    def finish(self, event_id: int, outcome: dict[str, Any]) -> bool:
        return self._set(
            event_id,
            events_table.c.status == "running",
            status="done",
            outcome=json.dumps(outcome),
            reason=None,
            wait_kind=None,
            not_before=None,
        )

    def ignore(self, event_id: int, reason: str) -> bool:
        return self._set(event_id, events_table.c.status == "running", status="ignored", reason=reason)

    def retry_later(self, event_id: int, reason: str, not_before: float) -> bool:
        """A failed attempt with attempts left: counted, queued again at `not_before`."""
        return self._set(
            event_id,
            events_table.c.status == "running",
            status="queued",
            attempts=events_table.c.attempts + 1,
            reason=reason,
            wait_kind="retry",
            not_before=not_before,
        )

    def dead(self, event_id: int, reason: str, *, count_attempt: bool = True) -> bool:
        attempts = events_table.c.attempts + (1 if count_attempt else 0)
        return self._set(
            event_id, events_table.c.status == "running", status="dead", attempts=attempts, reason=reason
        )

    def wait(self, event_id: int, reason: str, not_before: float, *, kind: str = "quota") -> bool:
        """Not a failure: the event waits (for the quota to reset) and is not counted as an attempt."""
        return self._set(
            event_id,
            events_table.c.status == "running",
            status="waiting",
            reason=reason,
            wait_kind=kind,
            not_before=not_before,
        )

    def requeue(self, event_id: int, *, reason: str | None = None) -> bool:
        """An operator's retry of a dead (or ignored) event: attempts start again."""
        return self._set(
            event_id,
            events_table.c.status.in_(("dead", "ignored")),
            status="queued",
            attempts=0,
            reason=reason,
            wait_kind=None,
            not_before=None,
        )

    # -- recovery and sweeping ------------------------------------------------------------------------

    def recoverable(self, *, now: float, abandoned: Any) -> list[StoredEvent]:
        """Rows a starting worker must (re-)enqueue: queued, due waiting, and running rows whose
        worker is gone (`abandoned(row) -> bool`)."""
        rows = self.list(("queued", "running", "waiting"), limit=1_000_000)
        out = []
        for row in rows:
            if row.status == "running" and not abandoned(row):
                continue
            if row.status == "waiting" and row.not_before is not None and row.not_before > now:
                continue
            out.append(row)
        return out

    def release_running(self, event_id: int, claimed_by: str | None) -> bool:
        """A running row whose worker died goes back to `queued` (its attempt is not counted)."""
        where = and_(events_table.c.status == "running", events_table.c.claimed_by == claimed_by)
        return self._set(event_id, where, status="queued", claimed_by=None)

    def due(self, *, now: float, status: Status, limit: int = 1000) -> list[StoredEvent]:
        query = (
            select(events_table)
            .where(events_table.c.status == status, events_table.c.not_before <= now)
            .order_by(events_table.c.not_before)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    def oldest_quota_waiter(self) -> StoredEvent | None:
        query = (
            select(events_table)
            .where(events_table.c.status == "waiting", events_table.c.wait_kind == "quota")
            .order_by(events_table.c.id)
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _row(row) if row else None

    def promote(self, event_ids: Iterable[int], *, now: float) -> list[int]:
        """Waiting rows become queued and due now (their wait is over, or one probes the quota);
        returns the ids this call moved, so each is enqueued once however many sweepers run."""
        moved = []
        with self.engine.begin() as conn:
            for event_id in event_ids:
                result = conn.execute(
                    update(events_table)
                    .where(events_table.c.id == event_id, events_table.c.status == "waiting")
                    .values(status="queued", not_before=now, updated_at=now)
                )
                if result.rowcount == 1:
                    moved.append(event_id)
        return moved

    def quota_waiters(self, limit: int = 100_000) -> list[int]:
        query = (
            select(events_table.c.id)
            .where(events_table.c.status == "waiting", events_table.c.wait_kind == "quota")
            .order_by(events_table.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [int(r[0]) for r in conn.execute(query)]
