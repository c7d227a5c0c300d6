"""The LLM extractor through the real langchain-openai client against a local OpenAI-compatible stub
(STACK_NOTES section 5): structured output via json_schema and via a tool call, quotes verified
verbatim (a fabricated one comes back unverified and earns nothing in scoring), fallback on errors,
and selection by settings."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from langchain_openai import ChatOpenAI

from agents.enrichment import DeterministicExtractor, LLMExtractor, make_extractor
from agents.enrichment.llm import LLMProfile
from agents.models import Requisition
from agents.scoring import score_candidate
from tools.settings import Settings

AS_OF = date(2024, 6, 1)
RESUME = """Priya Natarajan
Columbus, OH | priya.n@example.com
Backend Developer | Buckeye Logistics | 03/2019 to Present
- Wrote Go services and Postgres migrations for route planning.
Junior Developer | Scioto Software | 2016 - 2019
- Maintained Java batch jobs.
B.S. in Computer Engineering, Olentangy University, 2016
"""

ANSWER: dict[str, Any] = {
    "headline": "Backend Developer",
    "headline_quote": "Backend Developer",
    "skills": [
        {"skill": "Go", "quote": "Wrote Go services"},
        {"skill": "Postgres", "quote": "Postgres migrations for route planning"},
        {"skill": "Java", "quote": "Maintained Java batch jobs."},
        # Not in the resume: the model made it up.
        {"skill": "Kubernetes", "quote": "Operated a 200-node Kubernetes fleet"},
    ],
    "roles": [
        {
            "title": "Backend Developer",
            "employer": "Buckeye Logistics",
            "start": "2019-03",
            "end": None,
            "current": True,
            "quote": "Backend Developer | Buckeye Logistics | 03/2019 to Present",
        },
        {
            "title": "Junior Developer",
            "employer": "Scioto Software",
            "start": "2016",
            "end": "2019",
            "current": False,
            "quote": "Junior Developer | Scioto Software | 2016 - 2019",
        },
    ],
    "education": [
        {
            "level": "bachelor",
            "field": "Computer Engineering",
            "school": "Olentangy University",
            "year": 2016,
            "quote": "B.S. in Computer Engineering, Olentangy University, 2016",
        }
    ],
    "certifications": [{"name": "AWS Certified Developer", "quote": "AWS Certified Developer - Associate"}],
    "city": "Columbus",
    "state": "OH",
    "location_quote": "Columbus, OH",
    "remote_preference": None,
    "remote_quote": None,
    "industries": [{"industry": "logistics", "quote": "route planning"}],
}


def make_stub(answer: dict[str, Any] | None = None, *, fail: bool = False) -> tuple[FastAPI, list[dict]]:
    """An OpenAI-compatible /v1/chat/completions that answers every structured-output style."""
    app = FastAPI()
    requests: list[dict] = []

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> JSONResponse:
        body = await request.json()
        requests.append(body)
        if fail:
            return JSONResponse({"error": {"message": "overloaded", "type": "server_error"}}, status_code=503)
        content = json.dumps(answer if answer is not None else ANSWER)
        message: dict[str, Any] = {"role": "assistant", "content": content}
        if body.get("tools"):  # method="function_calling"
            name = body["tools"][0]["function"]["name"]
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": name, "arguments": content}}
                ],
            }
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

    return app, requests


def chat_model(app: FastAPI) -> ChatOpenAI:
    return ChatOpenAI(
        model="stub-model",
        base_url="http://stub/v1",
        api_key="x",
        max_retries=0,
        timeout=5,
        http_client=TestClient(app, base_url="http://stub"),
    )


def test_llm_extractor_returns_a_verified_profile() -> None:
    app, requests = make_stub()
    extractor = LLMExtractor(chat_model(app))
    profile = extractor.extract("p7", RESUME, {"field51238": "Remote"}, as_of=AS_OF)

    body = requests[-1]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["name"] == "LLMProfile"
    # The resume goes out through the model door: its email as a placeholder, the rest verbatim.
    assert RESUME.replace("priya.n@example.com", "[EMAIL_A]") in body["messages"][-1]["content"]

    assert profile.extractor_version == "llm-1:stub-model"
    skills = {s.skill: s for s in profile.skills}
    assert {"Go", "PostgreSQL", "Java", "Kubernetes"} <= set(skills)  # canonical labels
    for name in ("Go", "PostgreSQL", "Java"):
        ev = skills[name].evidence
        assert ev.verified and ev.start is not None and RESUME[ev.start : ev.end] == ev.quote
    fabricated = skills["Kubernetes"].evidence
    assert not fabricated.verified and fabricated.start is None

    assert [r.title for r in profile.roles] == ["Backend Developer", "Junior Developer"]
    assert profile.roles[0].current and profile.roles[0].occupation_code == "15-1252.00"
    # 2016-01..2019-01 and 2019-03..2024-06 (derived here, not by the model)
    assert profile.years_experience == pytest.approx((36 + 63) / 12, abs=0.06)  # rounded to 0.1
    assert profile.highest_degree == "bachelor"
    assert profile.occupation_code == "15-1252.00"
    assert profile.location.city == "Columbus" and profile.location.evidence is not None
    assert profile.location.remote_preference == "Remote"  # from the iCIMS field
    (cert,) = profile.certifications
    assert not cert.evidence.verified  # the resume does not say it
    assert profile.industries == ["logistics"]


def test_fabricated_llm_quotes_earn_nothing_in_scoring() -> None:
    app, _requests = make_stub()
    profile = LLMExtractor(chat_model(app)).extract("p7", RESUME, as_of=AS_OF)
    req = Requisition(job_id="9", title="Backend Developer", must_have=["Go", "Kubernetes"])
    scored = score_candidate(req, profile, RESUME, as_of=AS_OF)
    (k8s,) = [r for r in scored.reasons if "Kubernetes" in r.text]
    assert k8s.flagged
    (go,) = [r for r in scored.reasons if "must-have Go" in r.text]
    assert not go.flagged
    assert scored.score == round(sum(r.points for r in scored.reasons if not r.flagged))
    assert "certification claimed without evidence: AWS Certified" in scored.flags


def test_function_calling_style_answers_parse_too() -> None:
    app, requests = make_stub()
    model = chat_model(app)
    structured = model.with_structured_output(LLMProfile, method="function_calling")
    result = structured.invoke("resume text")
    assert result.headline == "Backend Developer"
    assert requests[-1]["tool_choice"]["function"]["name"] == "LLMProfile"


def test_failed_llm_call_falls_back_to_rules() -> None:
    app, _requests = make_stub(fail=True)
    profile = LLMExtractor(chat_model(app)).extract("p7", RESUME, as_of=AS_OF)
    assert profile.extractor_version == "deterministic-1+llm-fallback"
    # The rules read "Java" but not a bare "Go" in prose (it needs a list or a cue such as "programming").
    assert {"Java", "PostgreSQL"} <= {s.skill for s in profile.skills}
    with pytest.raises(Exception):  # noqa: B017 - whatever the client raises, it propagates
        LLMExtractor(chat_model(app), fallback=False).extract("p7", RESUME, as_of=AS_OF)


def test_make_extractor_follows_settings() -> None:
    assert isinstance(make_extractor(Settings(_env_file=None)), DeterministicExtractor)
    app, _requests = make_stub()
    settings = Settings(_env_file=None, llm_base_url="http://stub/v1", llm_model="stub-model")
    extractor = make_extractor(settings, chat_model=chat_model(app))
    assert isinstance(extractor, LLMExtractor)
    assert extractor.extract("p7", RESUME, as_of=AS_OF).extractor_version == "llm-1:stub-model"
    # Without an injected model it builds ChatOpenAI from the settings (no request is made here).
    built = make_extractor(settings)
    assert isinstance(built, LLMExtractor) and built.version == "llm-1:stub-model"
