"""The service on the Postgres checkpointer: with `checkpointer_url` pointing at a throwaway PostgreSQL
cluster (tests/pg_support.py), a rediscovery run paused for approval survives a restart of the
service (app #1 stopped, app #2 started with the same settings); the pending approval is listed by
app #2, resolves there (also after the server dropped the service's connections), and the approved
writes reach the sandbox exactly once. Also: the sync and
async checkpointers `tools.checkpoint` opens on a Postgres URL share what they write.

Skipped like test_mirror_postgres.py when no cluster can be run (no initdb, or neither root nor
`postgres`)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from support.pg import libpq_url, scratch_database
from support.service import JOB_A, JOB_B, ServiceEnv, service_env

from graphs.rediscovery import rediscovery_thread_id
from tools.checkpoint import open_async_checkpointer, open_checkpointer, resolve

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.fixture
def checkpoint_db(postgres_url: str) -> Iterator[str]:
    """A database of its own for this test's checkpoints (the cluster is shared by the session)."""
    with scratch_database(postgres_url, prefix="checkpoints") as url:
        yield url


@pytest.fixture
def env(sandbox_factory, tmp_path, checkpoint_db: str, monkeypatch) -> Iterator[ServiceEnv]:
    # service_env builds its Settings from the sandbox's env; the ICIMS_AGENTS_ variable adds the URL.
    monkeypatch.setenv("ICIMS_AGENTS_CHECKPOINTER_URL", checkpoint_db)
    with service_env(sandbox_factory, tmp_path) as e:
        assert e.settings.checkpointer_url == checkpoint_db
        yield e


def checkpoint_rows(url: str) -> dict[str, int]:
    """Rows per thread in the Postgres `checkpoints` table, read over a connection of its own."""
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute("SELECT thread_id, count(*) FROM checkpoints GROUP BY thread_id").fetchall()
    return {str(thread): int(n) for thread, n in rows}


def drop_connections(url: str) -> int:
    """Terminate every other session on the checkpoint database; how many there were."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    return len(rows)


def write_keys(env: ServiceEnv) -> list[tuple[str, str, Any]]:
    """One key per sandbox write: method, path and (for creations) the profile it links."""
    out = []
    for entry in env.writelog:
        body = entry.body if isinstance(entry.body, dict) else {}
        out.append((entry.method, entry.path, body.get("associatedprofile")))
    return out


def test_pending_approval_survives_a_service_restart_on_postgres(env: ServiceEnv, checkpoint_db: str):
    assert resolve(env.settings)[0] == "postgres"
    thread_a = rediscovery_thread_id(env.settings.icims_customer_id, JOB_A)
    thread_b = rediscovery_thread_id(env.settings.icims_customer_id, JOB_B)

    started = env.run("rec_a", JOB_A, top_k=3)
    assert started["status"] == "interrupted" and started["approval_id"] == thread_a
    assert env.run("rec_b", JOB_B, top_k=3)["status"] == "interrupted"
    assert not env.writelog  # nothing before approval
    before = {a["id"]: a for a in env.client("admin").get("/approvals").json()}
    assert set(before) == {thread_a, thread_b}
    # The checkpoints are in Postgres (visible to another connection), not in a SQLite file.
    rows = checkpoint_rows(checkpoint_db)
    assert rows.get(thread_a, 0) > 0 and rows.get(thread_b, 0) > 0
    assert not (env.settings.data_dir / "checkpoints.sqlite").exists()

    env.stop()  # app #1 gone: its pool closed, nothing of it in this process serves requests
    assert checkpoint_rows(checkpoint_db) == rows
    env.start()  # app #2, same settings

    assert env.client(None).get("/ready").json()["status"] == "ready"
    after = {a["id"]: a for a in env.client("admin").get("/approvals").json()}
    assert set(after) == set(before)
    assert {k: v["interrupt_id"] for k, v in after.items()} == {
        k: v["interrupt_id"] for k, v in before.items()
    }
    assert env.client("rec_a").get(f"/runs/{thread_a}").json()["status"] == "interrupted"

    # The server drops app #2's connections (a failover, an idle timeout): the pool reconnects.
    assert drop_connections(checkpoint_db) > 0
    r = env.client("rec_a").post(f"/approvals/{thread_a}/resolve", json={"type": "accept"})
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["status"] == "resolved" and result["decision"] == "accept"
    writes = result["writes"]
    assert writes and all(w["status"] == "done" for w in writes)
    assert {w["person_id"] for w in writes} <= {c["person_id"] for c in started["result"]["shortlist"]}

    # Exactly the approved writes, each once.
    keys = write_keys(env)
    assert keys and max(Counter(keys).values()) == 1, keys
    touched = {k[2] for k in keys if k[0] == "POST"} | {
        int(k[1].rsplit("/", 1)[1]) for k in keys if k[0] != "POST" and "/people/" in k[1]
    }
    assert touched <= {w["person_id"] for w in writes}

    finished = env.client("rec_a").get(f"/runs/{thread_a}").json()
    assert finished["status"] == "done" and finished["approval_id"] is None
    assert [a["id"] for a in env.client("admin").get("/approvals").json()] == [thread_b]
    # Resolving again is a conflict, not a second write; another restart changes nothing.
    n = len(env.writelog)
    again = env.client("rec_a").post(f"/approvals/{thread_a}/resolve", json={"type": "accept"})
    assert again.status_code == 409
    env.restart()
    assert [a["id"] for a in env.client("admin").get("/approvals").json()] == [thread_b]
    assert env.client("rec_a").get(f"/runs/{thread_a}").json()["status"] == "done"
    assert len(env.writelog) == n


def test_sync_and_async_postgres_checkpointers_share_checkpoints(checkpoint_db: str):
    """What the sync saver writes, the async one reads (and the other way round), on a Postgres URL."""
    from langgraph.graph import END, START, StateGraph
    from typing_extensions import TypedDict

    class S(TypedDict):
        n: int

    builder = StateGraph(S)
    builder.add_node("inc", lambda s: {"n": s["n"] + 1})
    builder.add_edge(START, "inc")
    builder.add_edge("inc", END)
    sync_cfg = {"configurable": {"thread_id": "sync"}}
    async_cfg = {"configurable": {"thread_id": "async"}}

    with open_checkpointer(url=checkpoint_db) as saver:
        assert builder.compile(checkpointer=saver).invoke({"n": 1}, sync_cfg) == {"n": 2}

    async def run() -> tuple[Any, Any]:
        async with open_async_checkpointer(url=checkpoint_db) as saver:
            graph = builder.compile(checkpointer=saver)
            seen = (await graph.aget_state(sync_cfg)).values
            await graph.ainvoke({"n": 10}, async_cfg)
            return seen, (await graph.aget_state(async_cfg)).values

    seen, own = asyncio.run(run())
    assert seen == {"n": 2} and own == {"n": 11}
    with open_checkpointer(url=checkpoint_db) as saver:
        graph = builder.compile(checkpointer=saver)
        assert graph.get_state(async_cfg).values == {"n": 11}
    assert set(checkpoint_rows(checkpoint_db)) == {"sync", "async"}
