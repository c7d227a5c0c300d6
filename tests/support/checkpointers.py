"""The `checkpointer` fixture: every checkpointer the project ships (memory, SQLite, Postgres where
`initdb` exists), so crash/resume and restart tests run where the savers differ.

A test gets a `Checkpointers` for one backend: `open()` opens a saver on it (SQLite and Postgres:
a new connection to the same store each time, as a restarted process would; memory: the same
in-process saver, which is what a restart within one process keeps), `settings_url` the value for
`ICIMS_AGENTS_CHECKPOINTER_URL` when a test opens a whole service on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

BACKENDS = ("memory", "sqlite", "postgres")


@dataclass
class Checkpointers:
    backend: str
    settings_url: str
    _memory: Any = field(default=None, repr=False)

    @contextmanager
    def open(self) -> Iterator[Any]:
        if self.backend == "memory":
            yield self._memory
            return
        from tools.checkpoint import open_checkpointer

        with open_checkpointer(url=self.settings_url) as saver:
            yield saver


@pytest.fixture(params=BACKENDS)
def checkpointer(request: pytest.FixtureRequest, tmp_path) -> Iterator[Checkpointers]:
    backend = request.param
    if backend == "memory":
        from langgraph.checkpoint.memory import InMemorySaver

        yield Checkpointers("memory", "memory:", InMemorySaver())
    elif backend == "sqlite":
        yield Checkpointers("sqlite", str(tmp_path / "checkpoints.sqlite"))
    else:
        from support.pg import libpq_url, scratch_database

        server = request.getfixturevalue("postgres_url")
        with scratch_database(server, prefix="ckpt") as url:
            yield Checkpointers("postgres", libpq_url(url))
