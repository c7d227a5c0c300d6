"""The pending-approval query behind the inbox at triage volume: on SQLite and Postgres it finds
exactly the threads `get_state` reports as interrupted (pending, re-asked), and none that were
answered or never asked, without deserialising every checkpoint."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt
from typing_extensions import TypedDict

from graphs.kit.inbox import candidate_thread_ids, interrupted_thread_ids, pending_approvals, thread_ids
from tools.checkpoint import open_checkpointer


class S(TypedDict, total=False):
    ask: bool
    answer: Any


def _build(saver: Any) -> Any:
    def ask(state: S) -> Any:
        if not state.get("ask"):
            return {"answer": None}
        value = interrupt([{"action_request": {"action": "t", "args": {}}, "config": {}, "description": ""}])
        return Command(goto="ask", update={"answer": "again"}) if value == "again" else {"answer": value}

    builder = StateGraph(S)
    builder.add_node("ask", ask, destinations=("ask", END))
    builder.add_edge(START, "ask")
    return builder.compile(checkpointer=saver)


def _exercise(saver: Any) -> None:
    graph = _build(saver)

    def cfg(t: str) -> dict:
        return {"configurable": {"thread_id": t}}

    for t in ("triage:1:1", "triage:1:2", "triage:1:3", "rediscovery:1:9"):
        graph.invoke({"ask": True}, cfg(t))
    graph.invoke({"ask": False}, cfg("triage:1:4"))  # never asked
    graph.invoke(Command(resume="ok"), cfg("triage:1:1"))  # answered
    graph.invoke(Command(resume="again"), cfg("triage:1:2"))  # answered, then asked again
    truth = sorted(t for t in thread_ids(saver) if graph.get_state(cfg(t)).interrupts)
    assert truth == ["rediscovery:1:9", "triage:1:2", "triage:1:3"]
    assert interrupted_thread_ids(saver) == truth
    assert interrupted_thread_ids(saver, prefix="triage:") == ["triage:1:2", "triage:1:3"]
    assert sorted(p.thread_id for p in pending_approvals(graph, saver, prefix="triage:")) == [
        "triage:1:2",
        "triage:1:3",
    ]


def test_pending_query_on_sqlite(tmp_path) -> None:
    with open_checkpointer(url=f"sqlite:///{tmp_path / 'c.sqlite'}") as saver:
        _exercise(saver)


@pytest.fixture
def checkpoint_db(postgres_url: str) -> Iterator[str]:
    from support.pg import scratch_database

    with scratch_database(postgres_url, prefix="inbox") as url:
        yield url


@pytest.mark.integration
def test_pending_query_on_postgres(checkpoint_db: str) -> None:
    with open_checkpointer(url=checkpoint_db) as saver:
        _exercise(saver)


def test_other_savers_fall_back_to_a_scan() -> None:
    from langgraph.checkpoint.memory import InMemorySaver

    saver = InMemorySaver()
    graph = _build(saver)
    graph.invoke({"ask": True}, {"configurable": {"thread_id": "triage:1:5"}})
    assert interrupted_thread_ids(saver) is None
    assert candidate_thread_ids(saver) == ["triage:1:5"]
