"""The copilot with an LLM: the real langchain-openai `ChatOpenAI` (bind_tools, streaming) against the
scripted OpenAI-compatible stub (tests/llm_stub.py) on 127.0.0.1. A tool call the model makes runs
in the tools node over the synced mirror, its result goes back to the model, and the final answer
streams token by token. Role checks hold whatever the model asks for."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from pydantic import BaseModel
from support.llm_stub import StubLLM, llm_stub  # noqa: F401  (fixture)

from graphs.copilot import TOOL_NAMES, ChatEvent, CopilotDeps, build_graph, chat_events
from tools.embeddings import HashEmbeddings
from tools.icims.client import ICIMSClient
from tools.mirror import MirrorStore, MirrorSync

pytestmark = pytest.mark.integration

ADMIN = {"key_id": "k-admin", "name": "ada", "role": "admin", "recruiter_id": None}
AUDITOR = {"key_id": "k-aud", "name": "otto", "role": "auditor", "recruiter_id": None}
ANSWER = "Found Python developers in the mirror; the first is a strong match for your backend role."


@pytest.fixture
def env(sandbox_factory, tmp_path, llm_stub) -> Iterator[tuple[Any, StubLLM, Any, MirrorStore]]:  # noqa: F811
    stub, url = llm_stub
    box = sandbox_factory(people=30, seed=7)
    settings = box.settings(data_dir=str(tmp_path / "state"), llm_base_url=f"{url}/v1", llm_api_key="x")
    store = MirrorStore(settings.mirror_database_url)

    async def sync() -> None:
        async with ICIMSClient.from_settings(settings) as client:
            await MirrorSync(store, client, progress=False).run(full=True)

    asyncio.run(sync())
    deps = CopilotDeps.from_settings(
        settings, mirror=store, embeddings=HashEmbeddings(), chat_model=stub.chat_model(url)
    )
    yield build_graph(InMemorySaver(), deps=deps), stub, box, store
    deps.close()
    store.close()


def kinds(events: list[ChatEvent]) -> list[str]:
    return [e.type for e in events]


def test_tool_call_runs_and_the_answer_streams(env) -> None:
    graph, stub, _box, _store = env
    stub.on(
        when_last="python developers", tool_calls=[("search_candidates", {"skills": ["Python"], "limit": 3})]
    )
    stub.on(when_tool_result="search_candidates", text=ANSWER)

    events = list(chat_events(graph, "Which python developers do we have?", thread_id="c1", principal=ADMIN))
    assert kinds(events)[0] == "tool_call" and kinds(events)[-1] == "message", kinds(events)
    call = events[0].data
    assert call["name"] == "search_candidates" and call["args"] == {"skills": ["Python"], "limit": 3}
    result = next(e.data for e in events if e.type == "tool_result")
    assert result["status"] == "success" and result["content"]["results"]
    assert all(p["matched_skills"][0]["skill"] == "Python" for p in result["content"]["results"])

    tokens = [e.data["text"] for e in events if e.type == "token"]
    assert len(tokens) > 5  # streamed from the model, chunk by chunk
    assert "".join(tokens) == ANSWER == events[-1].data["content"]

    # What the real client sent: tools on every turn, streaming, the system prompt with the role,
    # then the tool's JSON result as a tool message.
    first, second = stub.requests
    assert first["stream"] is True and second["stream"] is True
    assert set(stub.tool_names_offered(0)) == set(TOOL_NAMES)
    assert first["messages"][0]["role"] == "system" and "role: admin" in first["messages"][0]["content"]
    tool_msg = second["messages"][-1]
    assert tool_msg["role"] == "tool"
    # The result as the model door let it out: the same rows, with each person's id and name as
    # placeholders.
    sent = json.loads(tool_msg["content"])["results"]
    shown = result["content"]["results"]
    identity = {"person_id", "name"}
    assert [{k: v for k, v in r.items() if k not in identity} for r in sent] == [
        {k: v for k, v in r.items() if k not in identity} for r in shown
    ]
    assert all(r["person_id"].startswith("[PERSON_") and r["name"].startswith("[NAME_") for r in sent)


def test_model_cannot_resolve_for_an_auditor(env) -> None:
    graph, stub, box, store = env
    job_id = next(
        r.id for r in store.iter_records("jobs") if (r.data.get("folder") or {}).get("id") == "D31001"
    )
    stub.on(when_last="approve", tool_calls=[("resolve_approval", {"job_id": job_id, "decision": "accept"})])
    stub.on(when_tool_result="resolve_approval", text="I could not approve that: your role is read-only.")

    events = list(chat_events(graph, f"approve job {job_id} now", thread_id="c2", principal=AUDITOR))
    result = next(e.data for e in events if e.type == "tool_result")
    assert result["status"] == "error" and "cannot resolve" in result["content"]
    assert "read-only" in events[-1].data["content"]
    # The model saw the refusal as the tool's answer; nothing reached iCIMS.
    assert "cannot resolve" in stub.requests[-1]["messages"][-1]["content"]
    assert box.state.writelog == []


def test_settings_select_the_llm(sandbox_factory, tmp_path, llm_stub) -> None:  # noqa: F811
    from langchain_openai import ChatOpenAI

    _stub, url = llm_stub
    box = sandbox_factory(people=3, seed=1)
    settings = box.settings(data_dir=str(tmp_path / "state"), llm_base_url=f"{url}/v1")
    deps = CopilotDeps.from_settings(settings, embeddings=HashEmbeddings())
    try:
        assert isinstance(deps.chat_model, ChatOpenAI)
        assert CopilotDeps.from_settings(settings, mirror=deps.mirror, rediscovery=deps.rediscovery,
                                         use_llm=False).chat_model is None  # fmt: skip
    finally:
        deps.close()


class Offer(BaseModel):
    title: str
    salary: int
    remote: bool | None = None


def test_stub_answers_structured_output_in_every_mode(llm_stub) -> None:  # noqa: F811
    stub, url = llm_stub
    llm = stub.chat_model(url)
    stub.on(when_schema="Offer", json={"title": "Nurse", "salary": 90000, "remote": False}, times=2)
    assert llm.with_structured_output(Offer).invoke("offer?") == Offer(
        title="Nurse", salary=90000, remote=False
    )
    forced = llm.with_structured_output(Offer, method="function_calling").invoke("offer?")
    assert forced.title == "Nurse"
    assert stub.requests[-1]["tool_choice"]["function"]["name"] == "Offer"
    # Unscripted: an example that validates against the schema, and {} for json_object.
    assert llm.with_structured_output(Offer).invoke("again") == Offer(title="", salary=0, remote=None)
    assert llm.with_structured_output(method="json_mode").invoke("json please") == {}
    assert stub.requests[-1]["response_format"] == {"type": "json_object"}
    assert "".join(c.content for c in llm.stream("hello world")) == "echo: hello world"
