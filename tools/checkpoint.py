"""Open the LangGraph checkpointer the settings ask for.

Pending approvals live in the checkpointer and must survive restarts (DESIGN.md), so the embedded
default is a SQLite file in `settings.data_dir` (`langgraph-checkpoint-sqlite`); a
`postgres://`/`postgresql://` `checkpointer_url` selects `langgraph-checkpoint-postgres`, imported only
then; `memory:` keeps checkpoints in the process (tests).

On Postgres the saver runs on a connection pool opened with `autocommit=True, row_factory=dict_row,
prepare_threshold=0` (STACK_NOTES 7: without autocommit the checkpoints stay in an open transaction,
invisible to other processes and lost on close). The pool checks a connection before lending it, so
a long-running service survives a dropped connection or a database restart. `setup()` (the
migrations) runs under a Postgres advisory lock, so two processes starting at once do not race.

    with open_checkpointer(settings) as saver:
        graph = build_graph(saver)
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from langgraph.checkpoint.base import BaseCheckpointSaver

if TYPE_CHECKING:
    from tools.settings import Settings

Backend = Literal["sqlite", "postgres", "memory"]
DEFAULT_FILE = "checkpoints.sqlite"
# Postgres: pool bounds (the saver serialises its calls with a lock, so few connections are needed),
# how long opening waits for the first connection, and the advisory-lock key guarding `setup()`.
PG_POOL_MIN, PG_POOL_MAX = 1, 4
PG_OPEN_TIMEOUT = 10.0
PG_SETUP_LOCK = 0x1C1E_C4B7  # any bigint shared by every process using the same database


def resolve(settings: Settings | None = None, url: str | None = None) -> tuple[Backend, str]:
    """(backend, location): a SQLite file path, a Postgres DSN, or "" for memory."""
    raw = url if url is not None else (settings.checkpointer_url if settings is not None else None)
    if not raw:
        data_dir = settings.data_dir if settings is not None else Path("var")
        return "sqlite", str(Path(data_dir) / DEFAULT_FILE)
    raw = raw.strip()
    scheme, sep, rest = raw.partition("://")
    scheme = scheme.lower()
    if raw.lower() in ("memory", "memory:", ":memory:") or scheme == "memory":
        return "memory", ""
    if sep and scheme.split("+", 1)[0] in ("postgres", "postgresql"):
        # psycopg wants a libpq URL: drop SQLAlchemy's "+driver" suffix if the mirror URL was reused.
        return "postgres", "postgresql://" + rest
    if sep and scheme.split("+", 1)[0] == "sqlite":
        # sqlite:///relative.db and sqlite:////absolute.db, as SQLAlchemy spells them.
        return "sqlite", rest[1:] if rest.startswith("/") else rest
    if sep:
        raise ValueError(f"unsupported checkpointer URL scheme {scheme!r}; use sqlite, postgres or memory")
    return "sqlite", raw


def _pg_connection_kwargs() -> dict[str, Any]:
    from psycopg.rows import dict_row

    # autocommit: every checkpoint write is committed at once (see the module docstring);
    # prepare_threshold=0: no server-side prepared statements (safe behind PgBouncer).
    return {"autocommit": True, "row_factory": dict_row, "prepare_threshold": 0}


def _postgres_missing() -> RuntimeError:
    return RuntimeError(
        "checkpointer_url points at Postgres but langgraph-checkpoint-postgres is not installed "
        "(pip install langgraph-checkpoint-postgres)"
    )


@contextmanager
def open_checkpointer(
    settings: Settings | None = None, *, url: str | None = None
) -> Iterator[BaseCheckpointSaver]:
    """A synchronous checkpointer (for `graph.invoke`), closed on exit."""
    backend, location = resolve(settings, url)
    if backend == "memory":
        from langgraph.checkpoint.memory import InMemorySaver

        yield InMemorySaver()
        return
    if backend == "postgres":
        try:
            import psycopg
            from langgraph.checkpoint.postgres import PostgresSaver
            from psycopg_pool import ConnectionPool
        except ImportError as exc:
            raise _postgres_missing() from exc
        with ConnectionPool(
            location,
            min_size=PG_POOL_MIN,
            max_size=PG_POOL_MAX,
            kwargs=_pg_connection_kwargs(),
            check=ConnectionPool.check_connection,
            open=False,
            name="checkpointer",
        ) as pool:
            pool.wait(timeout=PG_OPEN_TIMEOUT)  # a wrong URL fails here, not at the first run
            saver = PostgresSaver(pool)  # type: ignore[arg-type]
            with psycopg.connect(location, autocommit=True) as lock:
                lock.execute("SELECT pg_advisory_lock(%s)", (PG_SETUP_LOCK,))
                saver.setup()
            yield saver
        return
    from langgraph.checkpoint.sqlite import SqliteSaver

    Path(location).expanduser().parent.mkdir(parents=True, exist_ok=True)
    # check_same_thread=False: LangGraph runs sync nodes and checkpoint writes on worker threads;
    # SqliteSaver serialises access with its own lock.
    conn = sqlite3.connect(location, check_same_thread=False, timeout=30)
    try:
        saver = SqliteSaver(conn)
        saver.setup()
        yield saver
    finally:
        conn.close()


@asynccontextmanager
async def open_async_checkpointer(
    settings: Settings | None = None, *, url: str | None = None
) -> AsyncIterator[BaseCheckpointSaver]:
    """The async counterpart (for `graph.ainvoke` inside an event loop, e.g. the FastAPI server)."""
    backend, location = resolve(settings, url)
    if backend == "memory":
        from langgraph.checkpoint.memory import InMemorySaver

        yield InMemorySaver()
        return
    if backend == "postgres":
        try:
            import psycopg
            from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
            from psycopg_pool import AsyncConnectionPool
        except ImportError as exc:
            raise _postgres_missing() from exc
        async with AsyncConnectionPool(
            location,
            min_size=PG_POOL_MIN,
            max_size=PG_POOL_MAX,
            kwargs=_pg_connection_kwargs(),
            check=AsyncConnectionPool.check_connection,
            open=False,
            name="checkpointer-async",
        ) as pool:
            await pool.wait(timeout=PG_OPEN_TIMEOUT)
            saver = AsyncPostgresSaver(pool)  # type: ignore[arg-type]
            async with await psycopg.AsyncConnection.connect(location, autocommit=True) as lock:
                await lock.execute("SELECT pg_advisory_lock(%s)", (PG_SETUP_LOCK,))
                await saver.setup()
            yield saver
        return
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    Path(location).expanduser().parent.mkdir(parents=True, exist_ok=True)
    async with AsyncSqliteSaver.from_conn_string(location) as saver:
        await saver.setup()
        yield saver
