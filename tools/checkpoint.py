"""Open the LangGraph checkpointer the settings ask for.

Pending approvals live in the checkpointer and must survive restarts (DESIGN.md), so the embedded
default is a SQLite file in `settings.data_dir` (`langgraph-checkpoint-sqlite`); a
`postgres://`/`postgresql://` `checkpointer_url` selects `langgraph-checkpoint-postgres`, imported only
then so the embedded install does not need it; `memory:` keeps checkpoints in the process (tests).

    with open_checkpointer(settings) as saver:
        graph = build_graph(saver)
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from langgraph.checkpoint.base import BaseCheckpointSaver

if TYPE_CHECKING:
    from tools.settings import Settings

Backend = Literal["sqlite", "postgres", "memory"]
DEFAULT_FILE = "checkpoints.sqlite"


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
            from langgraph.checkpoint.postgres import PostgresSaver
        except ImportError as exc:
            raise _postgres_missing() from exc
        with PostgresSaver.from_conn_string(location) as saver:
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
            from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        except ImportError as exc:
            raise _postgres_missing() from exc
        async with AsyncPostgresSaver.from_conn_string(location) as saver:
            await saver.setup()
            yield saver
        return
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    Path(location).expanduser().parent.mkdir(parents=True, exist_ok=True)
    async with AsyncSqliteSaver.from_conn_string(location) as saver:
        await saver.setup()
        yield saver
