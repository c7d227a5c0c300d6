"""No personal data on the wire: every LLM path of every graph (rediscovery's extractor, triage, the
copilot's prompt and tool results, nurture rewrites, the offer narrative) runs through the real
langchain-openai client against the capturing stub on 127.0.0.1, over a tenant whose people carry
seeded, distinctive names, emails, phones, street addresses and profile links, and not one of those
strings appears in any request body the stub received. Placeholders the model quotes back come home
as the originals: the copilot's reply names the person, its tool calls reach the tools with real
person ids, the nurture draft and the offer letter greet the candidate by name."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from support.llm_stub import StubLLM, llm_stub  # noqa: F401 - fixture
from support.nurture import AS_OF, CAMPAIGN_ID, ELIGIBLE, campaign, contacted_by_other_campaign, scenario
from support.snapshot import sync_mirror as sync_nurture_mirror
from test_offer_graph import env as offer_env  # noqa: F401 - fixture

from agents.enrichment import requisition_from_job
from graphs.copilot import CopilotDeps, chat_events
from graphs.copilot import build_graph as build_copilot
from graphs.kit.inbox import pending_for_thread
from graphs.nurture import NurtureDeps
from graphs.nurture import build_graph as build_nurture
from graphs.nurture import start_run as start_nurture
from graphs.rediscovery import RediscoveryDeps
from graphs.rediscovery import build_graph as build_rediscovery
from graphs.rediscovery import start_run as start_rediscovery
from graphs.triage import TriageDeps, run_event
from graphs.triage import build_graph as build_triage
from sandbox.resumes import TXT_TYPE, render_txt
from sandbox.store import Binary
from tools.checkpoint import open_checkpointer
from tools.embeddings import HashEmbeddings
from tools.icims.client import ICIMSClient
from tools.mirror import MirrorStore, MirrorSync

pytestmark = pytest.mark.integration

FIRST = ("Zebulon", "Ottoline", "Thaddeus", "Perpetua", "Barnabus", "Clementina", "Ignatius", "Wilhelmina")
LAST = ("Quagmire-Ostrowski", "Vanderpump-Zielinski", "Fitzwilliam-Okonkwo", "Throckmorton-Nakamura")
OPEN = "D31001"
NEW = "D10100"
ADMIN = {"key_id": "k-admin", "name": "ada", "role": "admin", "recruiter_id": None}
PLACEHOLDER = re.compile(r"\[(?:NAME|EMAIL|PHONE|ADDRESS|ZIP|LINK|ID|PERSON)_[A-Z]+\]")


@dataclass(frozen=True)
class Seeded:
    strings: list[str]  # every distinctive personal string put into the tenant
    names: dict[int, str]  # person id -> seeded full name


def seed_people(tenant: Any, person_ids: list[int] | None = None) -> Seeded:
    """Give people distinctive names, contacts and addresses, in their record and in a resume that
    states them (header, contact line, a profile link, and once more in an experience line)."""
    strings: set[str] = set()
    names: dict[int, str] = {}
    ids = sorted(tenant.records["people"]) if person_ids is None else person_ids
    for i, pid in enumerate(ids):
        first, last = FIRST[i % len(FIRST)], LAST[i // len(FIRST) % len(LAST)]
        email = f"{first}.{last}.{i}@quagmire-mail.test".lower()
        phone = f"(555) 867-{5300 + i}"
        street = f"{7700 + i} Wisteria Vortex Lane"
        link = f"linkedin.com/in/{first}-{last}-{i}".lower()
        data = tenant.records["people"][pid].data
        address = dict((data.get("addresses") or [{}])[0], addressstreet1=street)
        phones = [dict((data.get("phones") or [{}])[0], phonenumber=phone)]
        tenant.patch(
            "people",
            pid,
            {"firstname": first, "lastname": last, "email": email, "phones": phones, "addresses": [address]},
        )
        names[pid] = f"{first} {last}"
        strings |= {first, last, f"{first} {last}", email, phone, street, link}
        key = ("people", pid, "resume")
        text = tenant.get_text(*key)
        if text is None:
            continue
        lines = text.split("\n")
        state = (address.get("addressstate") or {}).get("abbrev", "")
        contact = f"{street}, {address.get('addresscity', '')}, {state} | {email} | {phone}"
        reference = (
            f"- {first} {last} led Python and SQL data pipelines; reach {first} at {email} or {phone}."
        )
        body = lines[2:]
        at = body.index("EXPERIENCE") + 1 if "EXPERIENCE" in body else len(body)
        body = [*body[:at], reference, *body[at:]]
        resume = "\n".join([f"{first} {last}", contact, link, *body])
        tenant.texts[key] = resume
        tenant.binaries[key] = Binary(render_txt(resume), TXT_TYPE, f"{first}_{last}_Resume.txt")
    return Seeded(sorted(strings), names)


def sync(settings: Any, store: MirrorStore) -> None:
    async def run() -> None:
        async with ICIMSClient.from_settings(settings) as client:
            await MirrorSync(store, client, progress=False).run(full=True)

    asyncio.run(run())


def assert_nothing_personal(stub: StubLLM, seeded: Seeded, path: str) -> None:
    assert stub.requests, f"{path}: no request reached the model"
    leaks = stub.found(seeded.strings)
    # The measured figures, shown with `pytest -s`.
    seeded_count, sent = len(seeded.strings), len(stub.requests)
    print(f"\n{path}: {seeded_count} PII strings seeded, {sent} requests, {len(leaks)} found")
    assert leaks == {}, f"{path}: personal data on the wire: {sorted(leaks)[:10]}"


@dataclass
class Box:
    box: Any
    settings: Any
    store: MirrorStore
    seeded: Seeded


@pytest.fixture
def seeded_box(sandbox_factory, tmp_path, llm_stub) -> Iterator[tuple[Box, StubLLM, str]]:  # noqa: F811
    stub, url = llm_stub
    box = sandbox_factory(people=40, seed=7, faults={"retry_after_seconds": 0})
    seeded = seed_people(box.state.tenant)
    settings = box.settings(
        data_dir=str(tmp_path / "state"), llm_base_url=f"{url}/v1", llm_model="stub-model", llm_api_key="x"
    )
    store = MirrorStore(settings.mirror_database_url)
    sync(settings, store)
    yield Box(box, settings, store, seeded), stub, url
    store.close()


def open_job(store: MirrorStore, settings: Any) -> int:
    jobs = [r for r in store.iter_records("jobs") if (r.data.get("folder") or {}).get("id") == OPEN]
    return next(
        r.id for r in jobs if requisition_from_job(str(r.id), r.data, field_map=settings.field_map).must_have
    )


def test_rediscovery_extractor_sends_no_personal_data(seeded_box) -> None:
    env, stub, _url = seeded_box
    deps = RediscoveryDeps.from_settings(env.settings, mirror=env.store, embeddings=HashEmbeddings())
    try:
        with open_checkpointer(env.settings) as saver:
            graph = build_rediscovery(saver, deps=deps)
            run = start_rediscovery(
                graph, job_id=open_job(env.store, env.settings), customer_id=1000, top_k=5
            )
    finally:
        deps.close()
    assert run.values["versions"]["extractor"] == "llm-1:stub-model"
    assert len(stub.requests) == len(run.values["retrieved"]) > 0  # one extraction per candidate
    # What went out is the resume, its skills and dates intact.
    assert all("Python and SQL data pipelines" in r["messages"][-1]["content"] for r in stub.requests)
    assert {c["name"] for c in run.shortlist} <= set(env.seeded.names.values())  # the graph's own view
    assert_nothing_personal(stub, env.seeded, "rediscovery")


def test_triage_sends_no_personal_data(seeded_box, tmp_path) -> None:
    env, stub, url = seeded_box
    settings = env.settings.model_copy(update={"triage_mode": "shadow"})
    deps = TriageDeps.from_settings(settings, mirror=env.store, chat_model=stub.chat_model(url))
    workflows = [r.id for r in env.store.iter_records("applicantworkflows") if r.data["status"]["id"] == NEW][
        :4
    ]
    try:
        with open_checkpointer(settings) as saver:
            graph = build_triage(saver, deps=deps)
            outcomes = [
                run_event(graph, customer_id=1000, event_id=f"e{w}", workflow_id=w) for w in workflows
            ]
    finally:
        deps.close()
    assert all(o["action"] == "triaged" for o in outcomes)
    assert len(stub.requests) == len(workflows)
    assert_nothing_personal(stub, env.seeded, "triage")


def _last_tool_result(body: dict[str, Any]) -> Any:
    return json.loads(body["messages"][-1]["content"])


def _is_chat(body: dict[str, Any]) -> bool:
    return bool(body.get("tools")) and body["messages"][-1]["role"] == "user"


def _placeholders_only(data: Any, key: str | None = None) -> list[Any]:
    """Person ids that went out as themselves (under an id key, not as a placeholder)."""
    if isinstance(data, dict):
        return [x for k, v in data.items() for x in _placeholders_only(v, k)]
    if isinstance(data, list):
        return [x for item in data for x in _placeholders_only(item, key)]
    if key in {"person_id", "exclude_person_ids", "excluded"} and not (
        isinstance(data, str) and PLACEHOLDER.fullmatch(data)
    ):
        return [data]
    return []


def test_copilot_prompt_and_tool_results_send_no_personal_data(seeded_box) -> None:
    env, stub, url = seeded_box
    job = open_job(env.store, env.settings)

    def explain(body: dict[str, Any]) -> tuple[str | None, list[tuple[str, dict[str, Any]]]]:
        first = _last_tool_result(body)["results"][0]
        return None, [("explain_score", {"person_id": first["person_id"], "job_id": job})]

    def outreach(body: dict[str, Any]) -> tuple[str | None, list[tuple[str, dict[str, Any]]]]:
        return None, [("draft_outreach", {"person_id": _last_tool_result(body)["person_id"], "job_id": job})]

    def answer(body: dict[str, Any]) -> tuple[str | None, list[tuple[str, dict[str, Any]]]]:
        result = _last_tool_result(body)
        return f"{result['name']} (person {result['person_id']}) is the best match; draft ready.", []

    def exclude_first(body: dict[str, Any]) -> tuple[str | None, list[tuple[str, dict[str, Any]]]]:
        first = _last_tool_result(body)["shortlist"][0]["person_id"]
        args = {"job_id": job, "decision": "accept", "exclude_person_ids": [first]}
        return None, [("resolve_approval", args)]

    def approved(body: dict[str, Any]) -> tuple[str | None, list[tuple[str, dict[str, Any]]]]:
        excluded = _last_tool_result(body)["excluded"]
        return f"Approved, leaving out person {excluded[0]}.", []

    stub.on(when_last=lambda b: _is_chat(b) and "python" in b["messages"][-1]["content"].lower(),
            tool_calls=[("search_candidates", {"skills": ["Python"], "limit": 3})])  # fmt: skip
    stub.on(when_last=lambda b: _is_chat(b) and "rediscovery" in b["messages"][-1]["content"],
            tool_calls=[("start_rediscovery", {"job_id": job, "top_k": 3})])  # fmt: skip
    stub.on(when_tool_result="search_candidates", reply=explain)
    stub.on(when_tool_result="explain_score", reply=outreach)
    stub.on(when_tool_result="draft_outreach", reply=answer)
    stub.on(when_tool_result="start_rediscovery", reply=exclude_first)
    stub.on(when_tool_result="resolve_approval", reply=approved)

    deps = CopilotDeps.from_settings(
        env.settings, mirror=env.store, embeddings=HashEmbeddings(), chat_model=stub.chat_model(url)
    )
    try:
        graph = build_copilot(InMemorySaver(), deps=deps)
        first = list(chat_events(graph, "Which python developers fit? Draft to the best.", thread_id="t",
                                 principal=ADMIN))  # fmt: skip
        second = list(chat_events(graph, f"Start rediscovery for job {job}, approve without the top one.",
                                  thread_id="t", principal=ADMIN))  # fmt: skip
    finally:
        deps.close()

    # The tools ran with real person ids the model only ever saw as placeholders.
    calls = {e.data["name"]: e.data["args"] for e in [*first, *second] if e.type == "tool_call"}
    results = {e.data["name"]: e.data["content"] for e in [*first, *second] if e.type == "tool_result"}
    assert set(calls) == {"search_candidates", "explain_score", "draft_outreach", "start_rediscovery",
                          "resolve_approval"}, calls  # fmt: skip
    best = results["search_candidates"]["results"][0]["person_id"]
    assert isinstance(best, int) and calls["explain_score"]["person_id"] == best
    assert calls["draft_outreach"]["person_id"] == best
    left_out = results["start_rediscovery"]["shortlist"][0]["person_id"]
    assert (
        calls["resolve_approval"]["exclude_person_ids"]
        == [left_out]
        == results["resolve_approval"]["excluded"]
    )
    # The recruiter reads the real name and id in the reply.
    reply = first[-1].data["content"]
    assert reply.startswith(env.seeded.names[best]) and f"person {best}" in reply
    assert second[-1].data["content"] == f"Approved, leaving out person {left_out}."
    assert not PLACEHOLDER.search(reply + second[-1].data["content"])

    chat = [r for r in stub.requests if r.get("tools")]
    extraction = [r for r in stub.requests if r.get("response_format")]
    assert len(chat) == 7 and extraction  # 5 tool calls + 2 answers; explain_score and the run enrich
    for body in chat:
        for message in body["messages"]:
            if message["role"] == "tool" and message["content"].startswith("{"):
                assert _placeholders_only(json.loads(message["content"])) == []
            for call in message.get("tool_calls") or []:
                assert _placeholders_only(json.loads(call["function"]["arguments"])) == []
    assert_nothing_personal(stub, env.seeded, "copilot")


def test_nurture_rewrite_sends_no_personal_data(sandbox_factory, tmp_path, llm_stub) -> None:  # noqa: F811
    stub, url = llm_stub
    # The model hands back the draft it was sent, placeholders and all.
    stub.on(reply=lambda body: (body["messages"][-1]["content"], []))
    with scenario(sandbox_factory, tmp_path) as sc:
        seeded = seed_people(sc.box.state.tenant, [sc.people[role] for role in ELIGIBLE])
        sync_nurture_mirror(sc.settings)
        deps = NurtureDeps.from_settings(sc.settings, embeddings=HashEmbeddings(), clock=lambda: AS_OF)
        deps.chat_model = stub.chat_model(url)
        deps.store.save_campaign(campaign(sc.pools, llm_rewrite=True))
        contacted_by_other_campaign(deps.store, sc.people)
        try:
            with open_checkpointer(sc.settings) as saver:
                graph = build_nurture(saver, deps=deps)
                thread, _values = start_nurture(
                    graph, customer_id=sc.settings.icims_customer_id, campaign_id=CAMPAIGN_ID, run_id="d1",
                    as_of=AS_OF,
                )  # fmt: skip
                pending = pending_for_thread(graph, thread)
        finally:
            deps.close()
    drafts = pending[0].request["action_request"]["args"]["drafts"]
    assert len(drafts) == len(ELIGIBLE) == len(stub.requests) and all(d["rewritten"] for d in drafts)
    for d in drafts:
        first = seeded.names[d["person_id"]].split()[0]
        assert first in d["body"]
        assert not PLACEHOLDER.search(d["body"])
    assert_nothing_personal(stub, seeded, "nurture")


def test_offer_narrative_sends_no_personal_data(offer_env, llm_stub) -> None:  # noqa: F811
    stub, url = llm_stub
    seeded = seed_people(offer_env.box.state.tenant, [offer_env.person_id])

    def welcome(body: dict[str, Any]) -> tuple[str, list[Any]]:
        first = json.loads(body["messages"][-1]["content"])["first_name"]
        return f"{first}, we are delighted to invite you to join the team.", []

    stub.on(when_last="job_title", reply=welcome)
    offer_env.deps.chat_model = stub.chat_model(url)
    run = offer_env.start()
    first = seeded.names[offer_env.person_id].split()[0]
    assert run.values["draft"]["narrative"] == f"{first}, we are delighted to invite you to join the team."
    assert len(stub.requests) == 1
    assert_nothing_personal(stub, seeded, "offer narrative")
