"""The rediscovery graph with an LLM configured in the settings: `RediscoveryDeps.from_settings` builds
the LLM extractor (`make_extractor`) against a local OpenAI-compatible stub served on 127.0.0.1, the
shortlist's profiles come from it, and its fabricated quotes are flagged, never shown or written as fact."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from agents.enrichment import EXTRACTOR_VERSION, canonical_skill, requisition_from_job
from graphs.rediscovery import RediscoveryDeps, build_graph, reason_line, start_run
from sandbox.server import ServerThread
from tools.checkpoint import open_checkpointer
from tools.embeddings import HashEmbeddings
from tools.icims.client import ICIMSClient
from tools.mirror import MirrorStore, MirrorSync

pytestmark = pytest.mark.integration

OPEN = "D31001"


def fabricated(skill: str) -> str:
    return f"Certified {skill} architect for 20 years at Initech Global"


class StubLLM:
    """An OpenAI-compatible /v1/chat/completions answering the LLMProfile schema for any resume: it
    claims every skill in `claims`, each with a quote the resume does not contain."""

    def __init__(self) -> None:
        self.claims: list[str] = []
        self.requests: list[dict[str, Any]] = []

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def chat(request: Request) -> JSONResponse:
            body = await request.json()
            self.requests.append(body)
            answer = {
                "headline": None,
                "headline_quote": None,
                "skills": [{"skill": s, "quote": fabricated(s)} for s in self.claims],
                "roles": [],
                "education": [],
                "certifications": [],
                "city": None,
                "state": None,
                "location_quote": None,
                "remote_preference": None,
                "remote_quote": None,
                "industries": [],
            }
            message = {"role": "assistant", "content": json.dumps(answer)}
            return JSONResponse(
                {
                    "id": "chatcmpl-stub",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body.get("model", "stub"),
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
                }
            )

        return app


@pytest.fixture
def stub() -> Iterator[tuple[StubLLM, str]]:
    llm = StubLLM()
    with ServerThread(llm.app()) as server:
        yield llm, server.url


def _sync(settings: Any, store: MirrorStore) -> None:
    async def run() -> None:
        async with ICIMSClient.from_settings(settings) as client:
            await MirrorSync(store, client, progress=False).run(full=True)

    asyncio.run(run())


def test_no_llm_configured_means_the_deterministic_extractor(sandbox_factory, tmp_path):
    box = sandbox_factory(people=5, seed=3)
    settings = box.settings(data_dir=str(tmp_path / "state"))
    assert settings.llm_base_url is None
    store = MirrorStore(settings.mirror_database_url)
    deps = RediscoveryDeps.from_settings(settings, mirror=store, embeddings=HashEmbeddings())
    try:
        profile = deps.enrich("1", "Data Engineer\nPython and SQL pipelines", {})
        assert profile.extractor_version == EXTRACTOR_VERSION
    finally:
        deps.close()


def test_graph_profiles_come_from_the_llm_the_settings_select(sandbox_factory, tmp_path, stub):
    llm, url = stub
    box = sandbox_factory(people=40, seed=7)
    settings = box.settings(
        data_dir=str(tmp_path / "state"), llm_base_url=f"{url}/v1", llm_model="stub-model", llm_api_key="x"
    )
    store = MirrorStore(settings.mirror_database_url)
    _sync(settings, store)

    # A job with must-haves: the stub claims all of them for everyone, with made-up quotes.
    jobs = [r for r in store.iter_records("jobs") if (r.data.get("folder") or {}).get("id") == OPEN]
    job, requisition = next(
        (r.id, req)
        for r in jobs
        if (req := requisition_from_job(str(r.id), r.data, field_map=settings.field_map)).must_have
    )
    llm.claims = list(dict.fromkeys([*requisition.must_have, *requisition.nice_to_have]))
    fake_quotes = {fabricated(s) for s in llm.claims}

    # Nothing injected: the settings alone select the LLM extractor.
    deps = RediscoveryDeps.from_settings(settings, mirror=store, embeddings=HashEmbeddings())
    try:
        with open_checkpointer(settings) as saver:
            graph = build_graph(saver, deps=deps)
            run = start_run(graph, job_id=job, customer_id=settings.icims_customer_id, top_k=5)
    finally:
        deps.close()

    values = run.values
    assert values["versions"]["extractor"] == "llm-1:stub-model"
    # One structured-output request per candidate scored, each carrying that candidate's resume.
    assert len(llm.requests) == len(values["retrieved"]) > 0
    assert all(r["response_format"]["type"] == "json_schema" for r in llm.requests)
    assert all(r["model"] == "stub-model" for r in llm.requests)

    candidates = run.shortlist
    assert candidates
    flagged = []
    for c in candidates:
        resume = store.resume_text(c["person_id"]) or ""
        for reason in c["reasons"]:
            evidence = reason.get("evidence") or {}
            if evidence.get("quote") in fake_quotes:
                # The model's claim is kept, but flagged and unverified: it earns nothing.
                assert reason["flagged"] and not evidence["verified"]
                assert "[unverified" in reason_line(reason)
                flagged.append(reason)
            elif evidence.get("verified") and evidence.get("source") == "resume":
                assert evidence["quote"] in resume
        # Unverified claims are never written back as tags.
        tag_skills = c["enrichment_tags"].partition("skills=")[2].split(",")
        assert not {canonical_skill(s) or s for s in llm.claims} & set(tag_skills)
    assert flagged, "some candidate lacks a claimed must-have, so its fabricated quote is flagged"
    assert sum(1 for c in candidates for r in c["reasons"] if r["flagged"]) >= len(flagged)
