"""Approved decisions whose writes have not landed yet: one row per graph thread, with its retries.

The decision itself is durable in the thread's checkpoint (the `approval` record) before anything
is written; this table holds what a person and the retrying worker need meanwhile: what was
approved (action, requisition, owners, counts: ids and titles, never candidate data), who decided
and when, how many attempts failed, when the next one is due and the last error. A row is removed
once the run is finished. It lives in the audit/ledger database (SQLite or Postgres via
SQLAlchemy), so the service, the command line and the worker share it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from tools.sqlengine import make_engine

if TYPE_CHECKING:
    from tools.settings import Settings

_metadata = MetaData()
applying_table = Table(
    "approvals_applying",
    _metadata,
    Column("thread_id", String(200), primary_key=True),
    Column("graph", String(64), nullable=False),
    Column("interrupt_id", String(64)),
    Column("action", String(100)),
    Column("job_id", Integer),
    Column("job_title", String(300)),
    Column("owner_id", Integer),
    Column("hiring_manager_id", Integer),
    Column("items", Integer, nullable=False, default=1),
    Column("requested_at", String(40)),
    Column("decision", String(16)),
    Column("approver", String(200)),
    Column("decided_at", String(40)),
    Column("attempts", Integer, nullable=False, default=0),  # failed attempts to apply so far
    Column("next_at", Float, nullable=False),  # epoch seconds
    Column("last_error", Text),
    Column("updated_at", Float, nullable=False),
)

# What describes an approval (set once, when the row is made).
SUMMARY_FIELDS = (
    "graph",
    "interrupt_id",
    "action",
    "job_id",
    "job_title",
    "owner_id",
    "hiring_manager_id",
    "items",
    "requested_at",
    "decision",
    "approver",
    "decided_at",
)
ERROR_CHARS = 500


@dataclass(frozen=True)
class Applying:
    thread_id: str
    graph: str
    interrupt_id: str | None
    action: str | None
    job_id: int | None
    job_title: str | None
    owner_id: int | None
    hiring_manager_id: int | None
    items: int
    requested_at: str | None
    decision: str | None
    approver: str | None
    decided_at: str | None
    attempts: int
    next_at: float
    last_error: str | None
    updated_at: float


def _row(row: Any) -> Applying:
    return Applying(**{name: getattr(row, name) for name in Applying.__dataclass_fields__})


class ApplyingStore:
    def __init__(self, database: Engine | str, *, clock: Callable[[], float] = time.time) -> None:
        self._owns_engine = isinstance(database, str)
        self.engine = make_engine(database, busy_timeout_ms=10_000) if isinstance(database, str) else database
        self.clock = clock
        _metadata.create_all(self.engine)

    @classmethod
    def from_settings(cls, settings: Settings) -> ApplyingStore:
        from tools.audit import audit_database_url

        return cls(audit_database_url(settings))

    def close(self) -> None:
        if self._owns_engine:
            self.engine.dispose()

    def get(self, thread_id: str) -> Applying | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(applying_table).where(applying_table.c.thread_id == thread_id)).first()
        return _row(row) if row is not None else None

    def all(self, graph: str | None = None) -> list[Applying]:
        query = select(applying_table)
        if graph is not None:
            query = query.where(applying_table.c.graph == graph)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query.order_by(applying_table.c.thread_id))]

    def due(self, now: float | None = None) -> list[Applying]:
        moment = self.clock() if now is None else now
        query = select(applying_table).where(applying_table.c.next_at <= moment)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query.order_by(applying_table.c.next_at))]

    def track(self, thread_id: str, **summary: Any) -> Applying:
        """The thread's row, made (due at once, no attempt yet) when it has none."""
        now = self.clock()
        values = {k: summary.get(k) for k in SUMMARY_FIELDS}
        values["items"] = int(values["items"] or 1)
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(applying_table).values(
                        thread_id=thread_id,
                        attempts=0,
                        next_at=now,
                        last_error=None,
                        updated_at=now,
                        **values,
                    )
                )
        except IntegrityError:
            pass  # already tracked (by another process, perhaps): keep its summary and attempts
        found = self.get(thread_id)
        assert found is not None
        return found

    def failed(
        self, thread_id: str, error: str, *, backoff: Callable[[int], float], **summary: Any
    ) -> Applying:
        """Count one failed attempt: the next is due `backoff(attempts)` seconds from now."""
        current = self.get(thread_id) or self.track(thread_id, **summary)
        attempts = current.attempts + 1
        now = self.clock()
        with self.engine.begin() as conn:
            conn.execute(
                update(applying_table)
                .where(applying_table.c.thread_id == thread_id)
                .values(
                    attempts=applying_table.c.attempts + 1,
                    next_at=now + backoff(attempts),
                    last_error=error[:ERROR_CHARS],
                    updated_at=now,
                )
            )
        found = self.get(thread_id)
        assert found is not None
        return found

    def clear(self, thread_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(applying_table).where(applying_table.c.thread_id == thread_id))
