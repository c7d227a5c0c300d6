"""Agent Inbox contract helpers, the module-level graph registered in langgraph.json, and the
checkpointer factory."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from langgraph.types import Command

from graphs.kit.inbox import make_request, parse_response, pending_approvals
from tools.checkpoint import open_checkpointer, resolve

ROOT = Path(__file__).resolve().parents[2]


def test_make_request_has_exactly_the_agent_inbox_fields():
    request = make_request("act", {"a": 1}, "**md**", allow_ignore=False)
    assert request == {
        "action_request": {"action": "act", "args": {"a": 1}},
        "config": {"allow_ignore": False, "allow_respond": True, "allow_edit": True, "allow_accept": True},
        "description": "**md**",
    }


@pytest.mark.parametrize(
    ("raw", "kind", "args"),
    [
        ([{"type": "accept", "args": None}], "accept", None),
        ({"type": "ignore"}, "ignore", None),
        ([{"type": "response", "args": "too junior"}], "respond", "too junior"),
        ({"type": "respond", "args": "ok"}, "respond", "ok"),
        # Agent Inbox: the whole ActionRequest, arg values as strings.
        (
            [
                {
                    "type": "edit",
                    "args": {"action": "x", "args": {"candidates": '[{"person_id": 1}]', "n": "3"}},
                }
            ],
            "edit",
            {"candidates": [{"person_id": 1}], "n": "3"},
        ),
        ({"type": "edit", "args": {"candidates": []}}, "edit", {"candidates": []}),
        ('{"type": "edit", "args": "{\\"candidates\\": []}"}', "edit", {"candidates": []}),
    ],
)
def test_parse_response_accepts_inbox_and_api_shapes(raw, kind, args):
    response = parse_response(raw)
    assert response.type == kind
    assert response.args == args


@pytest.mark.parametrize(
    "raw", [[], [{"type": "accept"}, {"type": "accept"}], {"type": "approve"}, 3, {"type": "edit"}]
)
def test_parse_response_rejects_other_shapes(raw):
    with pytest.raises(ValueError):
        parse_response(raw)


def test_pending_approvals_are_listed_across_threads_and_disappear_when_answered(tmp_path):
    from langgraph.graph import END, START, StateGraph
    from langgraph.types import interrupt
    from typing_extensions import TypedDict

    class S(TypedDict, total=False):
        n: int
        answer: str

    def ask(state: S) -> dict:
        response = parse_response(interrupt([make_request("check", {"n": state["n"]}, "check it")]))
        return {"answer": response.type}

    builder = StateGraph(S)
    builder.add_node("ask", ask)
    builder.add_edge(START, "ask")
    builder.add_edge("ask", END)
    with open_checkpointer(url=f"sqlite:///{tmp_path / 'cp.sqlite'}") as saver:
        graph = builder.compile(checkpointer=saver)
        for n in (1, 2):
            graph.invoke({"n": n}, {"configurable": {"thread_id": f"t{n}"}})
        graph.invoke({"n": 3}, {"configurable": {"thread_id": "other:3"}})
        pending = pending_approvals(graph, saver, prefix="t")
        assert sorted((p.thread_id, p.request["action_request"]["args"]["n"]) for p in pending) == [
            ("t1", 1),
            ("t2", 2),
        ]
        graph.invoke(Command(resume=[{"type": "accept"}]), {"configurable": {"thread_id": "t1"}})
        assert sorted(p.thread_id for p in pending_approvals(graph, saver)) == ["other:3", "t2"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (None, ("sqlite", "DATA/checkpoints.sqlite")),
        ("sqlite:///var/cp.db", ("sqlite", "var/cp.db")),
        ("sqlite:////abs/cp.db", ("sqlite", "/abs/cp.db")),
        ("/tmp/cp.db", ("sqlite", "/tmp/cp.db")),
        ("memory:", ("memory", "")),
        ("postgresql+psycopg://u:p@h:5432/db", ("postgres", "postgresql://u:p@h:5432/db")),
        ("postgres://h/db", ("postgres", "postgresql://h/db")),
    ],
)
def test_checkpointer_url_resolution(url, expected):
    from tools.settings import Settings

    settings = Settings(_env_file=None, data_dir=Path("DATA"), checkpointer_url=url)
    assert resolve(settings) == expected


def test_checkpointer_rejects_unknown_schemes_and_explains_missing_postgres():
    with pytest.raises(ValueError, match="unsupported"):
        resolve(url="redis://localhost")
    if importlib.util.find_spec("langgraph.checkpoint.postgres") is None:
        with (
            pytest.raises(RuntimeError, match="langgraph-checkpoint-postgres"),
            open_checkpointer(url="postgresql://h/db"),
        ):
            pass


def test_langgraph_json_graph_imports_and_compiles_without_the_server():
    config = json.loads((ROOT / "langgraph.json").read_text())
    path, _, attr = config["graphs"]["rediscovery"].partition(":")
    # A fresh interpreter, loading the file by path as `langgraph dev` does, with nothing configured.
    code = (
        "import importlib.util, sys, json\n"
        f"spec = importlib.util.spec_from_file_location('rediscovery_graph', {str(ROOT / path)!r})\n"
        "module = importlib.util.module_from_spec(spec); sys.modules[spec.name] = module\n"
        "spec.loader.exec_module(module)\n"
        f"graph = getattr(module, {attr!r})\n"
        "print(json.dumps({'nodes': list(graph.get_graph().nodes), 'server': 'server.app' in sys.modules,\n"
        "  'input': graph.get_input_jsonschema()['required']}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
    info = json.loads(result.stdout.strip().splitlines()[-1])
    assert info["nodes"][1:-1] == [
        "load",
        "retrieve",
        "score",
        "summarise",
        "approve",
        "write",
        "audit",
        "purge",
    ]
    assert info["server"] is False
    assert info["input"] == ["job_id"]
