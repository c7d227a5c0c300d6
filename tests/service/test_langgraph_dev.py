"""Smoke test: `langgraph dev` serves every graph listed in langgraph.json (issue 4, item 6).

Runs the real CLI (`langgraph-cli[inmem]`, the `dev` extra) from the repo root on a free loopback port
(2024 is taken on these machines, STACK_NOTES 3), offline: no browser, no reload, no tunnel, no CLI
analytics, no version check, no LangSmith tracing. Then asks its HTTP API for an assistant per graph id
and for each graph's drawing and schemas, which the server can only produce from a compiled graph.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

pytest.importorskip("langgraph_cli", reason="langgraph CLI not installed: pip install -e '.[dev]'")

pytestmark = pytest.mark.timeout(90)

REPO = Path(__file__).resolve().parents[2]
CONFIG_PATH = REPO / "langgraph.json"
GRAPHS: dict[str, str] = json.loads(CONFIG_PATH.read_text())["graphs"]
STARTUP_SECONDS = 25.0
# The banner line, e.g. "- 🚀 API: http://127.0.0.1:51234" (the CLI moves to another port if ours got taken).
ANSI = re.compile(r"\x1b\[[0-9;]*m")
API_LINE = re.compile(r"API: (?:\x1b\[[0-9;]*m)*(http://127\.0\.0\.1:\d+)")
OFFLINE_ENV = {
    "LANGGRAPH_CLI_NO_ANALYTICS": "1",  # the CLI's analytics thread posts to supabase otherwise
    "LANGGRAPH_NO_VERSION_CHECK": "true",  # langgraph-api asks PyPI for a newer version otherwise
    "PYTHONUNBUFFERED": "1",
}
TRACING_VARS = ("LANGSMITH_TRACING", "LANGSMITH_TRACING_V2", "LANGCHAIN_TRACING", "LANGCHAIN_TRACING_V2")


@dataclass
class DevServer:
    url: str
    log: Path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(log: Path, lines: int = 30) -> str:
    """The log's error lines (a graph that fails to import is reported there), then its last lines."""
    text = ANSI.sub("", log.read_text(errors="replace")) if log.exists() else ""
    errors = [line[:2000] for line in text.splitlines() if "[error" in line]
    return "\n".join([*errors[:5], "--- last lines ---", *text.splitlines()[-lines:]])


def _wait_ready(proc: subprocess.Popen[bytes], log: Path, fallback_url: str) -> str:
    """Poll `GET /ok` (short timeouts, bounded by STARTUP_SECONDS) at the URL the banner announces."""
    deadline = time.monotonic() + STARTUP_SECONDS
    with httpx.Client(timeout=0.5) as client:
        while time.monotonic() < deadline:
            match = API_LINE.search(log.read_text(errors="replace"))
            url = match.group(1) if match else fallback_url
            with contextlib.suppress(httpx.HTTPError):
                if client.get(f"{url}/ok").status_code == 200:
                    return url
            # Doubles as the poll interval and as the check that the server has not died.
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = proc.wait(timeout=0.25)
                pytest.fail(f"`langgraph dev` exited with {code} before it was ready:\n{_tail(log)}")
    pytest.fail(f"`langgraph dev` not ready within {STARTUP_SECONDS:.0f} s:\n{_tail(log)}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server's whole process group (it was started in its own session): SIGINT, then SIGKILL."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # stragglers in the group, if any
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory) -> Iterator[DevServer]:
    bin_dir = Path(sys.executable).parent
    exe = shutil.which("langgraph", path=str(bin_dir)) or shutil.which("langgraph")
    assert exe, f"langgraph_cli is importable but no `langgraph` script in {bin_dir} or on PATH"
    env = {k: v for k, v in os.environ.items() if k not in TRACING_VARS}
    env.update(OFFLINE_ENV, PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}")
    port = _free_port()
    log = tmp_path_factory.mktemp("langgraph_dev") / "server.log"
    # The in-memory runtime persists to ./.langgraph_api in its working directory: remove it afterwards
    # unless it was there before.
    state_dir = REPO / ".langgraph_api"
    state_dir_existed = state_dir.exists()
    cmd = [exe, "dev", "--config", str(CONFIG_PATH), "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--no-browser", "--no-reload"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = _wait_ready(proc, log, f"http://127.0.0.1:{port}")
        yield DevServer(url=url, log=log)
    finally:
        _stop(proc)
        if not state_dir_existed:
            shutil.rmtree(state_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def assistants(dev_server: DevServer) -> dict[str, dict]:
    """The server's system-created assistants (one per graph in langgraph.json), by graph id."""
    resp = httpx.post(f"{dev_server.url}/assistants/search", json={"limit": 100}, timeout=5)
    assert resp.status_code == 200, resp.text
    return {a["graph_id"]: a for a in resp.json() if a.get("metadata", {}).get("created_by") == "system"}


def test_every_graph_in_langgraph_json_has_an_assistant(assistants: dict[str, dict]) -> None:
    assert GRAPHS, "langgraph.json lists no graphs"
    assert sorted(assistants) == sorted(GRAPHS)


@pytest.mark.parametrize("graph_id", sorted(GRAPHS))
def test_graph_is_served_compiled(dev_server: DevServer, assistants: dict[str, dict], graph_id: str) -> None:
    assistant_id = assistants[graph_id]["assistant_id"]
    with httpx.Client(base_url=dev_server.url, timeout=5) as client:
        drawing = client.get(f"/assistants/{assistant_id}/graph")
        assert drawing.status_code == 200, drawing.text
        schemas = client.get(f"/assistants/{assistant_id}/schemas")
        assert schemas.status_code == 200, schemas.text
    served_nodes = {node["id"] for node in drawing.json()["nodes"]}
    assert {"__start__", "__end__"} < served_nodes
    assert drawing.json()["edges"]
    body = schemas.json()
    assert body["graph_id"] == graph_id
    assert body["input_schema"] and body["output_schema"] and body["state_schema"]

    # The same graph as importing the module here: "./graphs/copilot.py:graph" -> graphs.copilot.graph.
    path, _, attr = GRAPHS[graph_id].partition(":")
    module = importlib.import_module(path.removeprefix("./").removesuffix(".py").replace("/", "."))
    assert served_nodes == set(getattr(module, attr).get_graph().nodes)
