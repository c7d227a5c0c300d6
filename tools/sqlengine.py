"""SQLAlchemy engine setup shared by the local stores (mirror, audit log, idempotency ledger).

SQLite is the embedded default; any other SQLAlchemy URL (Postgres) is used as given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool


def make_engine(url: str, *, busy_timeout_ms: int, fast_sync: bool = False, echo: bool = False) -> Engine:
    """`fast_sync` trades the last transaction on power loss for write speed (fine for a mirror that
    can be re-synced, not for an audit log)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, echo=echo, pool_pre_ping=True)
    database = parsed.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    kwargs: dict[str, Any] = {"echo": echo, "connect_args": {"check_same_thread": False}}
    if in_memory:
        # Every new connection to ":memory:" is a new empty database: share one connection.
        kwargs["poolclass"] = StaticPool
    else:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if not in_memory:
            # WAL: readers (the API, agents, a resumed run in another process) never block the
            # writer, nor the reverse.
            cursor.execute("PRAGMA journal_mode=WAL")
            if fast_sync:
                cursor.execute("PRAGMA synchronous=NORMAL")
        # Writers from several processes queue on the write lock instead of failing at once.
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    return engine
