"""The copilot without an LLM: the deterministic intent parser drives the same typed tools over a small
sandbox tenant and its synced mirror. Each command runs through the graph (tool call, tool result,
streamed reply); writes reach iCIMS only after an approval, exactly as approved, and only by roles
that may resolve. `POST /copilot/chat` streams the same events as SSE, per principal."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from agents.copilot import parse_intent
from graphs.copilot import ChatEvent, CopilotDeps, build_graph, chat_events
from tools.embeddings import HashEmbeddings
from tools.icims.client import ICIMSClient
from tools.mirror import MirrorStore, MirrorSync

pytestmark = pytest.mark.integration

OPEN = "D31001"
ADMIN = {"key_id": "k-admin", "name": "ada", "role": "admin", "recruiter_id": None}
AUDITOR = {"key_id": "k-aud", "name": "otto", "role": "auditor", "recruiter_id": None}


def _sync(settings: Any, store: MirrorStore) -> None:
    async def run() -> None:
        async with ICIMSClient.from_settings(settings) as client:
            await MirrorSync(store, client, progress=False).run(full=True)

    asyncio.run(run())


@dataclass
class Env:
    box: Any
    settings: Any
    store: MirrorStore
    deps: CopilotDeps
    graph: Any

    def chat(self, message: str, principal: Any = ADMIN, thread: str = "t1") -> list[ChatEvent]:
        return list(chat_events(self.graph, message, thread_id=thread, principal=principal))

    def open_job(self) -> tuple[int, int]:
        """(job id, its recruiter's person id) of an open requisition."""
        for record in self.store.iter_records("jobs"):
            if (record.data.get("folder") or {}).get("id") == OPEN:
                return record.id, int(record.data["recruiter"]["id"])
        raise AssertionError("no open job in the sandbox")

    @property
    def writes(self) -> list[Any]:
        return list(self.box.state.writelog)


@pytest.fixture
def env(sandbox_factory, tmp_path) -> Iterator[Env]:
    box = sandbox_factory(people=40, seed=7)
    settings = box.settings(data_dir=str(tmp_path / "state"))
    assert settings.llm_base_url is None
    store = MirrorStore(settings.mirror_database_url)
    _sync(settings, store)
    deps = CopilotDeps.from_settings(settings, mirror=store, embeddings=HashEmbeddings())
    assert deps.chat_model is None
    yield Env(box, settings, store, deps, build_graph(InMemorySaver(), deps=deps))
    deps.close()
    store.close()


def only(events: list[ChatEvent], kind: str) -> list[dict[str, Any]]:
    return [e.data for e in events if e.type == kind]


def reply(events: list[ChatEvent]) -> str:
    messages = only(events, "message")
    assert len(messages) == 1, events
    assert events[-1].type == "message"
    tokens = "".join(t["text"] for t in only(events, "token"))
    assert tokens == messages[0]["content"]  # the reply streamed in full before the final message
    return messages[0]["content"]


def tool_result(events: list[ChatEvent], name: str) -> Any:
    results = [r for r in only(events, "tool_result") if r["name"] == name]
    assert len(results) == 1, events
    return results[0]["content"]


# --- the parser alone ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tool", "args"),
    [
        (
            "find python developers in Austin",
            "search_candidates",
            {"skills": ["Python"], "occupation": "developers", "location": "Austin"},
        ),
        (
            "Find registered nurses in Miami, FL with consent",
            "search_candidates",
            {"occupation": "registered nurses", "location": "Miami, FL", "consent": "granted"},
        ),
        (
            "search for people who know SQL and Excel",
            "search_candidates",
            {"skills": ["SQL", "Microsoft Excel"]},
        ),
        ("explain candidate 12 for job 1001", "explain_score", {"person_id": 12, "job_id": 1001}),
        ("why does 12 score low for job 1001?", "explain_score", {"person_id": 12, "job_id": 1001}),
        ("rediscover job 1001", "start_rediscovery", {"job_id": 1001}),
        ("run a rediscovery for job 1001, top 5", "start_rediscovery", {"job_id": 1001, "top_k": 5}),
        ("draft outreach to 12 for job 1001", "draft_outreach", {"person_id": 12, "job_id": 1001}),
        ("show pending approvals", "list_approvals", {}),
        ("any approvals for job 1001?", "list_approvals", {"job_id": 1001}),
        (
            "approve rediscovery:1000:1001",
            "resolve_approval",
            {"approval_id": "rediscovery:1000:1001", "decision": "accept"},
        ),
        (
            "approve job 1001 without 12, 14",
            "resolve_approval",
            {"job_id": 1001, "decision": "accept", "exclude_person_ids": [12, 14]},
        ),
        (
            "ignore rediscovery:1000:1001",
            "resolve_approval",
            {"approval_id": "rediscovery:1000:1001", "decision": "ignore"},
        ),
    ],
)
def test_intents(text: str, tool: str, args: dict[str, Any]) -> None:
    intent = parse_intent(text)
    assert (intent.tool, intent.args) == (tool, args)


@pytest.mark.parametrize(
    "text", ["", "hello there", "reject rediscovery:1000:1001", "explain something", "help"]
)
def test_not_understood_has_no_tool(text: str) -> None:
    assert parse_intent(text).tool is None


# --- through the graph -------------------------------------------------------------------------------


def test_search_with_filters(env: Env) -> None:
    events = env.chat("find python developers")
    assert only(events, "tool_call")[0]["name"] == "search_candidates"
    result = tool_result(events, "search_candidates")
    assert result["total"] >= 1 and result["results"]
    for person in result["results"]:
        assert [m["skill"] for m in person["matched_skills"]] == ["Python"]
        assert "python" in person["matched_skills"][0]["quote"].lower()  # evidence quoted from the resume
    text = reply(events)
    assert result["results"][0]["name"] in text

    events = env.chat("find people in FL with consent")
    result = tool_result(events, "search_candidates")
    assert result["results"]
    assert all(p["location"].endswith("FL") and p["consent"] == "Granted" for p in result["results"])
    # The same filters over the raw mirror give the same count.
    fm = env.settings.field_map
    expected = sum(
        1
        for r in env.store.iter_records("people")
        if r.data.get(fm["consent_status"]) == "Granted"
        and any((a.get("addressstate") or {}).get("abbrev") == "FL" for a in r.data.get("addresses") or [])
    )
    assert result["total"] == expected


def test_explain_and_outreach_write_nothing(env: Env) -> None:
    job_id, _ = env.open_job()
    person = next(env.store.people_with_resumes())
    events = env.chat(f"explain candidate {person.id} for job {job_id}")
    result = tool_result(events, "explain_score")
    assert 0 <= result["score"] <= 100 and result["reasons"]
    text = reply(events)
    assert f"{result['score']}/100" in text and "Reasons:" in text

    events = env.chat(f"draft outreach to {person.id} for job {job_id}")
    draft = tool_result(events, "draft_outreach")
    assert draft["template"] == "outreach_line.v1"
    assert str(person.data["firstname"]) in draft["draft"] and draft["job_title"] in draft["draft"]
    assert draft["draft"] in reply(events)
    assert env.writes == []


def test_rediscover_list_and_approve_with_an_exclusion(env: Env) -> None:
    job_id, recruiter_id = env.open_job()
    recruiter = {"key_id": "k-rec", "name": "rita", "role": "recruiter", "recruiter_id": recruiter_id}
    events = env.chat(f"rediscover job {job_id} top 4", principal=recruiter)
    run = tool_result(events, "start_rediscovery")
    assert run["pending_approval"] and run["approval_id"] == run["thread_id"]
    shortlist = run["shortlist"]
    assert 1 < len(shortlist) <= 4
    assert run["approval_id"] in reply(events)
    assert env.writes == []  # paused at the approval interrupt

    # Another recruiter sees nothing and cannot approve; an auditor cannot approve either.
    other = {"key_id": "k-other", "name": "olaf", "role": "recruiter", "recruiter_id": recruiter_id + 999}
    assert (
        tool_result(env.chat("show pending approvals", principal=other), "list_approvals")["approvals"] == []
    )
    denied = env.chat(f"approve job {job_id}", principal=other)
    assert "not for one of your requisitions" in reply(denied)
    denied = env.chat(f"approve {run['approval_id']}", principal=AUDITOR)
    assert only(denied, "tool_result")[0]["status"] == "error"
    assert "cannot resolve" in reply(denied)
    assert "cannot start" in reply(env.chat(f"rediscover job {job_id}", principal=AUDITOR))
    assert env.writes == []

    listed = tool_result(env.chat("show pending approvals", principal=recruiter), "list_approvals")
    assert [a["approval_id"] for a in listed["approvals"]] == [run["approval_id"]]

    dropped = shortlist[0]["person_id"]
    events = env.chat(f"approve {run['approval_id']} without {dropped}", principal=recruiter)
    done = tool_result(events, "resolve_approval")
    assert done["decision"] == "edit" and done["excluded"] == [dropped] and not done["error"]
    assert done["writes"] == len(shortlist) - 1
    assert "approved with changes" in reply(events)
    touched = {e.body.get("associatedprofile") for e in env.writes if e.method == "POST"}
    touched |= {e.body.get("associatedprofile") for e in env.writes if e.method == "PATCH"}
    assert dropped not in touched
    assert env.writes  # the approved writes ran, through the graph's write node

    # Nothing pending any more.
    assert (
        tool_result(env.chat("show pending approvals", principal=recruiter), "list_approvals")["approvals"]
        == []
    )


def test_ignore_closes_without_writing(env: Env) -> None:
    job_id, _ = env.open_job()
    run = tool_result(env.chat(f"rediscover job {job_id}"), "start_rediscovery")
    # Asking again finds the pending approval rather than starting a second run.
    again = tool_result(env.chat(f"rediscover job {job_id}"), "start_rediscovery")
    assert again["resumed_existing"] and again["approval_id"] == run["approval_id"]
    events = env.chat(f"ignore job {job_id}")
    assert "closed without writing" in reply(events)
    assert env.writes == []


def test_unknown_messages_get_the_help(env: Env) -> None:
    text = reply(env.chat("what's the weather like?"))
    for example in (
        "find python developers in Austin",
        "explain candidate",
        "rediscover job",
        "draft outreach",
    ):
        assert example in text
    text = reply(env.chat("reject job 1001"))
    assert "Nobody is rejected" in text
    text = reply(env.chat("explain candidate 99999 for job 424242"))
    assert "could not" in text and "not in the mirror" in text


def test_conversation_is_kept_per_thread(env: Env) -> None:
    env.chat("find python developers", thread="a")
    env.chat("show pending approvals", thread="a")
    env.chat("help", thread="b")
    state_a = env.graph.get_state({"configurable": {"thread_id": "a"}})
    state_b = env.graph.get_state({"configurable": {"thread_id": "b"}})
    assert len(state_a.values["messages"]) == 8  # human, tool call, tool result, reply; twice
    assert len(state_b.values["messages"]) == 2


def test_module_graph_compiles_without_settings() -> None:
    from graphs import copilot

    assert set(copilot.graph.get_graph().nodes) >= {"agent", "tools"}
    assert ChatEvent("token", {"text": "hi"}).sse() == 'event: token\ndata: {"text": "hi"}\n\n'


# --- the endpoint ---------------------------------------------------------------------------------


def parse_sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for frame in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in frame.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_chat_endpoint_streams_sse_per_principal(sandbox_factory, tmp_path) -> None:
    from fastapi.testclient import TestClient

    from server.app import create_app

    box = sandbox_factory(people=30, seed=7)
    settings = box.settings(data_dir=str(tmp_path / "state"))
    store = MirrorStore(settings.mirror_database_url)
    _sync(settings, store)
    job_id = next(r.id for r in store.iter_records("jobs") if (r.data.get("folder") or {}).get("id") == OPEN)
    recruiter_id = int(store.get_data("jobs", job_id)["recruiter"]["id"])  # type: ignore[index]
    store.close()
    app = create_app(settings, embeddings=HashEmbeddings())
    with TestClient(app) as client:
        keys = app.state.service.keys
        _, rec_key = keys.create("recruiter", name="rita", recruiter_id=recruiter_id)
        _, aud_key = keys.create("auditor", name="otto")

        assert client.post("/copilot/chat", json={"message": "hi"}).status_code == 401

        with client.stream(
            "POST",
            "/copilot/chat",
            json={"message": f"rediscover job {job_id} top 3"},
            headers={"X-API-Key": rec_key},
        ) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            events = parse_sse(response.read().decode())
        kinds = [k for k, _ in events]
        assert (
            kinds[0] == "tool_call" and "tool_result" in kinds and "token" in kinds and kinds[-1] == "message"
        )
        result = next(d for k, d in events if k == "tool_result")["content"]
        approval_id = result["approval_id"]
        thread = events[-1][1]["thread_id"]

        # Listed through the approval service (its role filters), in the same conversation.
        body = client.post(
            "/copilot/chat",
            json={"message": "show pending approvals", "thread_id": thread},
            headers={"X-API-Key": rec_key, "Accept": "application/json"},
        ).json()
        assert body["thread_id"] == thread and approval_id in body["reply"]
        listed = next(e for e in body["events"] if e["type"] == "tool_result")["data"]["content"]
        assert listed["via"] == "approval service"

        # The auditor may read but not resolve, and cannot read the recruiter's conversation.
        body = client.post(
            "/copilot/chat",
            json={"message": f"approve {approval_id}", "thread_id": thread},
            headers={"X-API-Key": aud_key, "Accept": "application/json"},
        ).json()
        assert "read-only" in body["reply"] or "cannot resolve" in body["reply"]
        assert box.state.writelog == []
        assert (
            len(
                app.state.copilot_graph.get_state(
                    {"configurable": {"thread_id": f"copilot:{keys.authenticate(aud_key).key_id}:{thread}"}}
                ).values["messages"]
            )
            == 4
        )

        # The recruiter approves through the approval service: audited, written once.
        body = client.post(
            "/copilot/chat",
            json={"message": f"approve {approval_id}", "thread_id": thread},
            headers={"X-API-Key": rec_key, "Accept": "application/json"},
        ).json()
        done = next(e for e in body["events"] if e["type"] == "tool_result")["data"]["content"]
        assert done["via"] == "approval service" and done["status"] == "resolved"
        assert done["writes"] == len(result["shortlist"]) and done["audit_seq"] is not None
        assert box.state.writelog
        assert client.get(f"/approvals/{approval_id}", headers={"X-API-Key": rec_key}).status_code in (
            404,
            409,
        )
