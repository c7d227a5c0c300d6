"""Engine setup shared by the audit log and the idempotency ledger (SQLite by default, any SQLAlchemy URL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    database = parsed.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if in_memory:
        # Each new connection to ":memory:" would be a new, empty database.
        kwargs["poolclass"] = StaticPool
    else:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if not in_memory:
            # WAL: the CLI, the server and a resumed run in another process read while one appends.
            cursor.execute("PRAGMA journal_mode=WAL")
        # Appends from several processes queue on the write lock instead of failing at once.
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    return engine
