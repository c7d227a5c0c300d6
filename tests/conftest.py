"""Shared fixtures: a real sandbox served over HTTP on 127.0.0.1 and settings that reach it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from support.checkpointers import checkpointer  # noqa: F401 - every shipped checkpointer
from support.pg import postgres_url  # noqa: F401 - the session's throwaway PostgreSQL cluster

# Offline by default: LangSmith's pytest plugin must not try to reach its API (STACK_NOTES 6).
os.environ.setdefault("LANGSMITH_TEST_TRACKING", "false")
os.environ.pop("LANGSMITH_TRACING", None)


@dataclass
class RunningSandbox:
    url: str
    state: Any  # sandbox.app.SandboxState
    env: dict[str, str]

    def settings(self, **overrides: Any):
        from tools.settings import Settings

        values = {k.removeprefix("ICIMS_AGENTS_").lower(): v for k, v in self.env.items()}
        values.update(overrides)
        return Settings(_env_file=None, **values)


@pytest.fixture
def sandbox_factory(tmp_path) -> Iterator[Callable[..., RunningSandbox]]:
    """Start sandboxes with a given config; each is stopped at the end of the test."""
    from sandbox.app import create_app
    from sandbox.config import SandboxConfig, client_env
    from sandbox.server import ServerThread

    started: list[ServerThread] = []

    def start(*, tenant: Any = None, **config: Any) -> RunningSandbox:
        # `tenant=` serves a hand-built `sandbox.store.Tenant` instead of seeding one.
        cfg = SandboxConfig(**config)
        app = create_app(cfg, tenant=tenant)
        server = ServerThread(app, date_header=False).start()
        started.append(server)
        return RunningSandbox(url=server.url, state=app.state.sandbox, env=client_env(cfg, server.url))

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def sandbox(sandbox_factory) -> RunningSandbox:
    """A small seeded tenant (50 people) with default auth and no faults."""
    return sandbox_factory(people=50, seed=7)
