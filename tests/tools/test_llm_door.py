"""The model door (`tools.llm`): placeholders out, originals back, through the real langchain-openai
client against the capturing stub (no socket: an in-process transport) and through a scripted chat
model that streams a placeholder in pieces. Plain invoke, structured output in both modes, tool
binding and tool calls (a person id placeholder comes back as the int), streaming, the copilot's
history shape, the LLM extractor's quotes, and a log line with counts only."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.tools import StructuredTool
from langchain_openai import ChatOpenAI
from pydantic import BaseModel
from support.llm_stub import StubLLM, llm_stub  # noqa: F401 - fixture

from agents.enrichment import LLMExtractor
from agents.triage.redact import REDACTOR_VERSION, person_names, redact
from tools.llm import guard, is_guarded, known_people, make_chat_model
from tools.llm.pii import PLACEHOLDER, Vault
from tools.settings import Settings

NAME = "Zebulon Quagmire-Ostrowski"
EMAIL = "zebulon.q@quagmire-mail.test"
PHONE = "(555) 867-5309"
STREET = "7742 Wisteria Vortex Lane"
LINK = "linkedin.com/in/zebulon-quagmire"
PERSONAL = (NAME, "Zebulon", "Quagmire", "Ostrowski", EMAIL, PHONE, STREET, LINK)
RECORD = {"firstname": "Zebulon", "lastname": "Quagmire-Ostrowski", "email": EMAIL}
TEXT = f"{NAME}\n{STREET}, Austin, TX 78701 | {EMAIL} | {PHONE}\n{LINK}\nSenior Go developer since 2019."


def model(stub: StubLLM) -> ChatOpenAI:
    return stub.chat_model("http://stub", http_client=TestClient(stub.app(), base_url="http://stub"))


def leaks(stub: StubLLM) -> dict[str, list[int]]:
    return stub.found(PERSONAL)


def test_vault_round_trip_hides_every_kind_and_restores_exactly() -> None:
    vault = Vault()
    vault.learn_record(RECORD)
    hidden = vault.text(TEXT + " SSN 123-45-6789. Ask about person 4261.")
    assert not [s for s in (*PERSONAL, "123-45-6789", "4261", "78701") if s in hidden]
    assert hidden.startswith("[NAME_A]\n[ADDRESS_A], Austin, TX [ZIP_A] | [EMAIL_A] | [PHONE_A]\n[LINK_A]")
    assert "Senior Go developer since 2019." in hidden and "person [PERSON_A]" in hidden
    assert not any(c.isdigit() for p in PLACEHOLDER.findall(hidden) for c in p)  # letters only
    assert vault.restore(hidden) == TEXT + " SSN 123-45-6789. Ask about person 4261."
    # The same value, the same placeholder; a first name alone is hidden too.
    assert vault.text(f"Dear Zebulon, {EMAIL}") == "Dear [NAME_B], [EMAIL_A]"


def test_vault_hides_structured_data_by_key_and_restores_typed_values() -> None:
    vault = Vault()
    result = {
        "results": [{"person_id": 426, "name": NAME, "email": EMAIL, "title": "Go developer"}],
        "excluded": [426, 427],
        "job_id": 12,
        "draft": "Hi Zebulon, about the Go role",
    }
    vault.learn_structure(result)
    hidden = json.loads(vault.json_text(json.dumps(result)))
    assert hidden["results"][0] == {
        "person_id": "[PERSON_A]",
        "name": "[NAME_A]",
        "email": "[EMAIL_A]",
        "title": "Go developer",
    }
    assert hidden["excluded"] == ["[PERSON_A]", "[PERSON_B]"] and hidden["job_id"] == 12
    assert hidden["draft"] == "Hi [NAME_B], about the Go role"
    assert vault.restore_value(hidden) == result
    assert vault.restore_json_text('{"person_id": "[PERSON_B]", "note": "[NAME_A] left"}') == json.dumps(
        {"person_id": 427, "note": f"{NAME} left"}
    )


def test_triage_redactor_keeps_its_names_and_fixed_tokens() -> None:
    assert REDACTOR_VERSION == "redact-1" and person_names(RECORD) == ["Zebulon", "Quagmire-Ostrowski"]
    out = redact(TEXT, names=person_names(RECORD))
    assert out.text.startswith("[NAME] [NAME]\n[ADDRESS], Austin, TX [ZIP] | [EMAIL] | [PHONE]\n[LINK]")
    assert out.counts == {"email": 1, "link": 1, "phone": 1, "address": 1, "zip": 1, "name": 2}


def test_guard_keeps_the_model_class_and_is_idempotent() -> None:
    raw = ChatOpenAI(model="m", base_url="http://stub/v1", api_key="x")
    guarded = guard(raw)
    assert isinstance(guarded, ChatOpenAI) and is_guarded(guarded) and not is_guarded(raw)
    assert guard(guarded) is guarded and type(guard(raw)) is type(guarded)
    assert guarded.model_name == "m" and guard(None) is None
    double = object()
    assert guard(double) is double  # not a langchain chat model: used as given
    assert make_chat_model(Settings(_env_file=None)) is None
    built = make_chat_model(Settings(_env_file=None, llm_base_url="http://stub/v1"))
    assert is_guarded(built) and isinstance(built, ChatOpenAI)


def test_invoke_sends_placeholders_and_restores_the_reply(caplog) -> None:
    stub = StubLLM()
    stub.on(reply=lambda body: ("Dear [NAME_A], we will write to [EMAIL_A].", []))
    caplog.set_level(logging.INFO, logger="tools.llm.door")
    with known_people(records=[RECORD]):
        reply = guard(model(stub)).invoke([SystemMessage("You write emails."), HumanMessage(TEXT)])
    assert reply.content == f"Dear {NAME}, we will write to {EMAIL}."
    assert leaks(stub) == {}
    sent = stub.requests[0]["messages"]
    assert "placeholders" in sent[0]["content"] and sent[1]["content"].startswith("[NAME_A]\n[ADDRESS_A]")
    (line,) = [r.getMessage() for r in caplog.records if r.name == "tools.llm.door"]
    assert "placeholders sent" in line and "email=1" in line and "2 restored" in line
    assert not [s for s in PERSONAL if s in line]
    # Outside the block the record is not known any more: the name goes out as written (no pattern
    # finds a bare name), the email does not.
    guard(model(stub)).invoke(TEXT)
    assert NAME in stub.found([NAME]) and EMAIL not in stub.found([EMAIL])


class Profile(BaseModel):
    name: str
    quote: str
    person_id: int | None = None


@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
def test_structured_output_comes_back_restored(method: str) -> None:
    stub = StubLLM()
    stub.on(
        when_schema="Profile", json={"name": "[NAME_A]", "quote": "[EMAIL_A] wrote it", "person_id": None}
    )
    with known_people(names=[NAME]):
        parsed = guard(model(stub)).with_structured_output(Profile, method=method).invoke(TEXT)
    assert parsed == Profile(name=NAME, quote=f"{EMAIL} wrote it")
    assert leaks(stub) == {}


def explain_score(person_id: int, job_id: int) -> dict[str, Any]:
    """Explain one candidate's score."""
    return {}


def copilot_history() -> list[Any]:
    call = {"name": "search_candidates", "args": {"skills": ["Go"]}, "id": "c1", "type": "tool_call"}
    result = {"results": [{"person_id": 426, "name": NAME, "matched_skills": [{"quote": TEXT}]}]}
    return [
        HumanMessage("Who knows Go?"),
        AIMessage("", tool_calls=[call]),
        ToolMessage(json.dumps(result), tool_call_id="c1", name="search_candidates"),
    ]


@pytest.mark.parametrize("streaming", [False, True])
def test_tool_calls_get_real_ids_and_the_history_goes_out_hidden(streaming: bool) -> None:
    stub = StubLLM()
    earlier = {
        "name": "explain_score",
        "args": {"person_id": 426, "job_id": 12},
        "id": "c0",
        "type": "tool_call",
    }
    history = [*copilot_history(), AIMessage(f"{NAME} (person 426) fits.", tool_calls=[earlier])]
    history.append(ToolMessage('{"person_id": 426, "score": 80}', tool_call_id="c0", name="explain_score"))
    stub.on(tool_calls=[("explain_score", {"person_id": "[PERSON_A]", "job_id": 12})])
    bound = guard(model(stub)).bind_tools([StructuredTool.from_function(explain_score)])
    if streaming:
        chunks = list(bound.stream(history))
        reply = chunks[0]
        for chunk in chunks[1:]:
            reply += chunk
    else:
        reply = bound.invoke(history)
    assert reply.tool_calls[0]["args"] == {"person_id": 426, "job_id": 12}
    body = stub.requests[0]
    assert leaks(stub) == {} and "426" not in json.dumps(body["messages"])
    # The tool's id parameter takes the placeholder; tool names and other ids go out as they are.
    schema = body["tools"][0]["function"]["parameters"]["properties"]
    assert {"type": "string"} in schema["person_id"]["anyOf"] and schema["job_id"] == {"type": "integer"}
    sent_calls = [c for m in body["messages"] for c in m.get("tool_calls") or []]
    assert [c["function"]["name"] for c in sent_calls] == ["search_candidates", "explain_score"]
    assert json.loads(sent_calls[1]["function"]["arguments"]) == {"person_id": "[PERSON_A]", "job_id": 12}
    said = [m["content"] for m in body["messages"] if m["role"] == "assistant"]
    assert said[-1] == "[NAME_A] (person [PERSON_A]) fits."
    assert body["messages"][0]["role"] == "system"  # the note on placeholders, as there was no system prompt


class EchoModel(BaseChatModel):
    """Answers with the text of the last message it was sent, streamed three characters at a time."""

    seen: list[str] = []

    @property
    def _llm_type(self) -> str:
        return "echo"

    def _generate(
        self, messages: list[Any], stop: Any = None, run_manager: Any = None, **_: Any
    ) -> ChatResult:
        self.seen.append(str(messages[-1].content))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(str(messages[-1].content)))])

    def _stream(
        self, messages: list[Any], stop: Any = None, run_manager: Any = None, **_: Any
    ) -> Iterator[ChatGenerationChunk]:
        text = str(messages[-1].content)
        self.seen.append(text)
        for i in range(0, len(text), 3):
            yield ChatGenerationChunk(message=AIMessageChunk(content=text[i : i + 3]))


def test_a_placeholder_split_across_streamed_chunks_comes_back_whole() -> None:
    echo = guard(EchoModel(seen=[]))
    message = f"Write to {NAME} at {EMAIL}, then call [NOT_A_PLACEHOLDER] {PHONE}."
    with known_people(names=[NAME]):
        pieces = [c.content for c in echo.stream(message)]
        whole = echo.invoke(message).content
    assert "".join(pieces) == message == whole
    assert not [p for p in pieces if "[NAME_" in p or "[EMAIL_" in p]  # never half a placeholder shown
    assert all(not [s for s in PERSONAL if s in seen] for seen in echo.seen)
    assert echo.seen[0] == "Write to [NAME_A] at [EMAIL_A], then call [NOT_A_PLACEHOLDER] [PHONE_A]."


def test_the_extractor_hides_the_record_and_verifies_restored_quotes() -> None:
    stub = StubLLM()

    def profile(body: dict[str, Any]) -> tuple[str, list[Any]]:
        resume = body["messages"][-1]["content"].split("<<<\n", 1)[1]
        header, contact = resume.split("\n")[:2]
        answer = {
            "headline": "Senior Go developer",
            "headline_quote": "Senior Go developer since 2019.",
            "skills": [{"skill": "Go", "quote": "Senior Go developer"}],
            "roles": [],
            "education": [],
            "certifications": [],
            "city": "Austin",
            "state": "TX",
            "location_quote": contact,  # quotes the placeholders it was shown
            "remote_preference": None,
            "remote_quote": None,
            "industries": [],
        }
        assert header == "[NAME_A]"
        return json.dumps(answer), []

    stub.on(when_schema="LLMProfile", reply=profile)
    extracted = LLMExtractor(model(stub)).extract("7", TEXT, RECORD)
    assert leaks(stub) == {}
    evidence = extracted.location.evidence
    assert evidence is not None and evidence.verified and evidence.quote == TEXT.split("\n")[1]


def test_async_invoke_and_stream_go_through_the_door_too(llm_stub) -> None:  # noqa: F811
    import asyncio

    stub, url = llm_stub
    stub.on(reply=lambda body: ("Hello [NAME_A] at [EMAIL_A]", []))
    guarded = guard(stub.chat_model(url))

    async def both() -> tuple[str, str]:
        with known_people(names=[NAME]):
            reply = await guarded.ainvoke(f"{NAME} {EMAIL}")
            parts = [c.content async for c in guarded.astream(f"{NAME} {EMAIL}")]
        return str(reply.content), "".join(str(p) for p in parts)

    assert asyncio.run(both()) == (f"Hello {NAME} at {EMAIL}",) * 2
    assert len(stub.requests) == 2 and leaks(stub) == {}
