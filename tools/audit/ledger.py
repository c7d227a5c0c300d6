"""Idempotency ledger: how far each approved write got, keyed by (thread, run, candidate, action).

iCIMS has no idempotency keys (API_NOTES 6.3), and a LangGraph node that fails half-way is re-run from
its top on resume. The writer records each step here as soon as iCIMS confirms it, so a re-run skips
what is done and only repeats the one step whose outcome is unknown (and that one is read-compared
first). The run (trace id) is part of the key because a thread lives as long as its requisition: a
later run on it must write its own, newer scores rather than find the old run's writes "done".

States, in order: `workflow` (the workflow exists; id known), `patching` (field PATCH sent, outcome not
yet confirmed), `done`; or `failed` (a permanent refusal, e.g. the person no longer exists).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, Text, select, update
from sqlalchemy.exc import IntegrityError

from tools.sqlengine import make_engine

if TYPE_CHECKING:
    from tools.settings import Settings

LedgerState = Literal["workflow", "patching", "done", "failed"]

_metadata = MetaData()
ledger_table = Table(
    "idempotency_ledger",
    _metadata,
    Column("thread_id", String(200), primary_key=True),
    Column("run_id", String(64), primary_key=True),
    Column("candidate_id", String(64), primary_key=True),
    Column("action", String(64), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("workflow_kind", String(32)),
    Column("workflow_id", Integer),
    Column("created", Boolean, nullable=False, default=False),
    Column("detail", Text),
    Column("updated_at", String(40), nullable=False),
)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    thread_id: str
    run_id: str
    candidate_id: str
    action: str
    state: LedgerState
    workflow_kind: str | None
    workflow_id: int | None
    created: bool
    detail: dict[str, Any]
    updated_at: str


def _entry(row: Any) -> LedgerEntry:
    return LedgerEntry(
        thread_id=row.thread_id,
        run_id=row.run_id,
        candidate_id=row.candidate_id,
        action=row.action,
        state=row.state,
        workflow_kind=row.workflow_kind,
        workflow_id=row.workflow_id,
        created=bool(row.created),
        detail=json.loads(row.detail) if row.detail else {},
        updated_at=row.updated_at,
    )


class IdempotencyLedger:
    def __init__(self, url: str, *, clock: Callable[[], datetime] | None = None) -> None:
        self.url = url
        self.engine = make_engine(url, busy_timeout_ms=10_000)
        self._clock = clock or (lambda: datetime.now(UTC))
        _metadata.create_all(self.engine)

    @classmethod
    def from_settings(cls, settings: Settings) -> IdempotencyLedger:
        from tools.audit.log import audit_database_url

        return cls(audit_database_url(settings))

    def close(self) -> None:
        self.engine.dispose()

    def _key(self, thread_id: str, run_id: str, candidate_id: str, action: str) -> Any:
        c = ledger_table.c
        return (
            (c.thread_id == thread_id)
            & (c.run_id == run_id)
            & (c.candidate_id == str(candidate_id))
            & (c.action == action)
        )

    def get(self, thread_id: str, run_id: str, candidate_id: str, action: str) -> LedgerEntry | None:
        key = self._key(thread_id, run_id, candidate_id, action)
        with self.engine.connect() as conn:
            row = conn.execute(select(ledger_table).where(key)).first()
        return _entry(row) if row is not None else None

    def entries(self, thread_id: str, run_id: str | None = None) -> list[LedgerEntry]:
        query = select(ledger_table).where(ledger_table.c.thread_id == thread_id)
        if run_id is not None:
            query = query.where(ledger_table.c.run_id == run_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(ledger_table.c.candidate_id, ledger_table.c.action))
            return [_entry(row) for row in rows]

    def record(
        self,
        thread_id: str,
        run_id: str,
        candidate_id: str,
        action: str,
        *,
        state: LedgerState,
        workflow_kind: str | None = None,
        workflow_id: int | None = None,
        created: bool | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> LedgerEntry:
        """Insert or advance an entry; fields passed as None keep their stored value."""
        values: dict[str, Any] = {"state": state, "updated_at": self._clock().astimezone(UTC).isoformat()}
        if workflow_kind is not None:
            values["workflow_kind"] = workflow_kind
        if workflow_id is not None:
            values["workflow_id"] = int(workflow_id)
        if created is not None:
            values["created"] = created
        if detail is not None:
            values["detail"] = json.dumps(dict(detail), sort_keys=True, default=str)
        key = self._key(thread_id, run_id, candidate_id, action)
        with self.engine.begin() as conn:
            changed = conn.execute(update(ledger_table).where(key).values(**values)).rowcount
            if not changed:
                try:
                    with conn.begin_nested():
                        conn.execute(
                            ledger_table.insert().values(
                                thread_id=thread_id,
                                run_id=run_id,
                                candidate_id=str(candidate_id),
                                action=action,
                                **{"created": False, **values},
                            )
                        )
                except IntegrityError:
                    # Inserted by another process between our UPDATE and INSERT: update it instead.
                    conn.execute(update(ledger_table).where(key).values(**values))
        entry = self.get(thread_id, run_id, candidate_id, action)
        assert entry is not None
        return entry
