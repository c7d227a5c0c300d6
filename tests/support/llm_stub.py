"""A scripted OpenAI-compatible chat endpoint for tests of the real langchain-openai client path
(STACK_NOTES section 5).

`StubLLM` serves `POST /v1/chat/completions` (plain and `stream=true` SSE) and `POST /v1/embeddings`.
Answers come from `Rule`s, first match wins, keyed on the last message's text (`when_last`, a
substring or compiled regex), the tool whose result is the last message (`when_tool_result`), a
forced tool (`tool_choice`) or a `response_format` schema name (`when_schema`). A rule replies with
text, tool calls, a JSON object, or whatever its `reply(body)` builds from the request (content and
tool calls, e.g. arguments that quote a placeholder the request carried); unmatched requests get a
JSON object built from the requested schema (json_schema / forced tool), `{}` (json_object) or an
echo of the last message. Every request body is kept in `requests` (parsed) and `wire` (the bytes as
received, for assertions on what left the process: `found(strings)`).

    stub = StubLLM()
    stub.on(when_last="python developers", tool_calls=[("search_candidates", {"skills": ["Python"]})])
    stub.on(when_tool_result="search_candidates", text="Found 3 Python developers.")
    with ServerThread(stub.app()) as server:
        llm = stub.chat_model(server.url)            # ChatOpenAI(base_url=.../v1, api_key="x", max_retries=0)

Or with no socket at all: `ChatOpenAI(..., http_client=TestClient(stub.app(), base_url="http://stub"))`.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

__all__ = ["Rule", "StubLLM", "llm_stub", "schema_example"]

Matcher = str | re.Pattern[str] | Callable[[dict[str, Any]], bool] | None
Reply = Callable[[dict[str, Any]], tuple[str | None, list[tuple[str, dict[str, Any]]]]]


@dataclass
class Rule:
    when_last: Matcher = None
    when_tool_result: str | None = None
    when_schema: str | None = None
    text: str | None = None
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    json: dict[str, Any] | None = None
    times: int | None = None  # None = any number of times
    used: int = 0
    reply: Reply | None = None  # (content, tool calls) computed from the request body

    def matches(self, body: dict[str, Any]) -> bool:
        if self.times is not None and self.used >= self.times:
            return False
        messages = body.get("messages") or []
        last = messages[-1] if messages else {}
        if self.when_tool_result is not None and (
            last.get("role") != "tool" or _tool_name_of(messages, last) != self.when_tool_result
        ):
            return False
        if self.when_schema is not None and self.when_schema not in (_schema_name(body), _forced_tool(body)):
            return False
        if self.when_last is not None:
            if callable(self.when_last) and not isinstance(self.when_last, re.Pattern):
                return bool(self.when_last(body))
            text = _text(last.get("content"))
            if isinstance(self.when_last, re.Pattern):
                return self.when_last.search(text) is not None
            return self.when_last.lower() in text.lower()
        return True


def _text(content: Any) -> str:
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content or "")


def _tool_name_of(messages: list[dict[str, Any]], tool_msg: dict[str, Any]) -> str | None:
    call_id = tool_msg.get("tool_call_id")
    for msg in reversed(messages):
        for call in msg.get("tool_calls") or []:
            if call.get("id") == call_id:
                return (call.get("function") or {}).get("name")
    return None


def _schema_name(body: dict[str, Any]) -> str | None:
    fmt = body.get("response_format") or {}
    return (fmt.get("json_schema") or {}).get("name") if fmt.get("type") == "json_schema" else None


def _forced_tool(body: dict[str, Any]) -> str | None:
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        return (choice.get("function") or {}).get("name")
    return None


def schema_example(schema: dict[str, Any], defs: dict[str, Any] | None = None) -> Any:
    """A minimal value that validates against a (pydantic-generated) JSON schema."""
    defs = defs if defs is not None else schema.get("$defs") or schema.get("definitions") or {}
    if "$ref" in schema:
        return schema_example(defs.get(schema["$ref"].split("/")[-1], {}), defs)
    if "default" in schema:
        return schema["default"]
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = schema[key]
            nullable = any(o.get("type") == "null" for o in options)
            return None if nullable else schema_example(options[0], defs)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = "null" if "null" in kind else kind[0]
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        return {name: schema_example(sub, defs) for name, sub in props.items()}
    empty: dict[str, Any] = {"array": [], "string": "", "integer": 0, "number": 0, "boolean": False}
    return empty.get(str(kind))


class StubLLM:
    def __init__(self, *, model: str = "stub-model") -> None:
        self.model = model
        self.rules: list[Rule] = []
        self.requests: list[dict[str, Any]] = []
        self.wire: list[bytes] = []
        self._lock = threading.Lock()

    # -- scripting -----------------------------------------------------------------------------------

    def on(
        self,
        *,
        when_last: Matcher = None,
        when_tool_result: str | None = None,
        when_schema: str | None = None,
        text: str | None = None,
        tool_calls: list[tuple[str, dict[str, Any]]] | None = None,
        json: dict[str, Any] | None = None,
        times: int | None = None,
        reply: Reply | None = None,
    ) -> StubLLM:
        self.rules.append(
            Rule(
                when_last,
                when_tool_result,
                when_schema,
                text,
                list(tool_calls or []),
                json,
                times,
                reply=reply,
            )
        )
        return self

    def found(self, strings: Any) -> dict[str, list[int]]:
        """Each of `strings` that some captured request carried -> the indexes of those requests (the
        raw bytes as received, and the parsed body, so no JSON escape hides one)."""
        with self._lock:
            texts = [
                raw.decode("utf-8", "replace") + "\n" + json.dumps(body, ensure_ascii=False)
                for raw, body in zip(self.wire, self.requests, strict=True)
            ]
        hits: dict[str, list[int]] = {}
        for needle in strings:
            where = [i for i, text in enumerate(texts) if needle.lower() in text.lower()]
            if where:
                hits[needle] = where
        return hits

    def chat_model(self, base_url: str, **kwargs: Any) -> Any:
        from langchain_openai import ChatOpenAI

        values: dict[str, Any] = {
            "model": self.model,
            "base_url": f"{base_url.rstrip('/')}/v1",
            "api_key": "x",
            "max_retries": 0,
            "timeout": 10,
        }
        values.update(kwargs)
        return ChatOpenAI(**values)

    def tool_names_offered(self, index: int = -1) -> list[str]:
        return [t["function"]["name"] for t in self.requests[index].get("tools") or []]

    # -- answering -----------------------------------------------------------------------------------

    def answer(
        self, body: dict[str, Any], raw: bytes | None = None
    ) -> tuple[str | None, list[dict[str, Any]]]:
        """(content, tool calls in OpenAI shape) for one request."""
        with self._lock:
            self.wire.append(raw if raw is not None else json.dumps(body).encode())
            self.requests.append(body)
            rule = next((r for r in self.rules if r.matches(body)), None)
            if rule is not None:
                rule.used += 1
        forced = _forced_tool(body)
        fmt = (body.get("response_format") or {}).get("type")
        calls: list[tuple[str, dict[str, Any]]] = []
        content: str | None = None
        if rule is not None and rule.reply is not None:
            content, calls = rule.reply(body)
        elif rule is not None and rule.tool_calls:
            calls = rule.tool_calls
        elif forced:
            tool = next((t for t in body.get("tools") or [] if t["function"]["name"] == forced), None)
            args = rule.json if rule is not None and rule.json is not None else None
            if args is None and tool is not None:
                args = schema_example(tool["function"].get("parameters") or {})
            calls = [(forced, args or {})]
        elif rule is not None and rule.json is not None:
            content = json.dumps(rule.json)
        elif rule is not None and rule.text is not None:
            content = rule.text
        elif fmt == "json_schema":
            schema = (body["response_format"].get("json_schema") or {}).get("schema") or {}
            content = json.dumps(schema_example(schema))
        elif fmt == "json_object":
            content = "{}"
        else:
            messages = body.get("messages") or []
            content = "echo: " + _text(messages[-1].get("content") if messages else "")
        tool_calls = [
            {
                "id": f"call_{uuid.uuid4().hex[:16]}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(args)},
            }
            for name, args in calls
        ]
        return content, tool_calls

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/chat/completions", response_model=None)
        async def chat(request: Request) -> JSONResponse | StreamingResponse:
            raw = await request.body()
            body = json.loads(raw)
            content, tool_calls = self.answer(body, raw)
            finish = "tool_calls" if tool_calls else "stop"
            if body.get("stream"):
                usage = bool((body.get("stream_options") or {}).get("include_usage"))
                return StreamingResponse(
                    self._sse(body, content, tool_calls, finish, usage), media_type="text/event-stream"
                )
            message: dict[str, Any] = {"role": "assistant", "content": content}
            if tool_calls:
                message["tool_calls"] = tool_calls
            return JSONResponse(
                {
                    "id": "chatcmpl-stub",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body.get("model", self.model),
                    "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
                }
            )

        @app.post("/v1/embeddings")
        async def embeddings(request: Request) -> JSONResponse:
            raw = await request.body()
            body = json.loads(raw)
            with self._lock:
                self.wire.append(raw)
                self.requests.append(body)
            inputs = body.get("input")
            items = inputs if isinstance(inputs, list) else [inputs]
            data = []
            for i, text in enumerate(items):
                seed = sum(ord(c) for c in str(text)) or 1
                data.append(
                    {
                        "object": "embedding",
                        "index": i,
                        "embedding": [((seed * (k + 1)) % 97) / 97 for k in range(8)],
                    }
                )
            return JSONResponse(
                {
                    "object": "list",
                    "data": data,
                    "model": body.get("model", "stub"),
                    "usage": {"prompt_tokens": 1, "total_tokens": 1},
                }
            )

        return app

    def _sse(
        self,
        body: dict[str, Any],
        content: str | None,
        tool_calls: list[dict[str, Any]],
        finish: str,
        usage: bool,
    ) -> Iterator[str]:
        model = body.get("model", self.model)

        def frame(delta: dict[str, Any], finish_reason: str | None = None) -> str:
            chunk = {
                "id": "chatcmpl-stub",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
            }
            return f"data: {json.dumps(chunk)}\n\n"

        yield frame({"role": "assistant", "content": ""})
        if content:
            for token in re.findall(r"\S+\s*|\s+", content):
                yield frame({"content": token})
        for index, call in enumerate(tool_calls):
            arguments = call["function"]["arguments"]
            yield frame(
                {
                    "tool_calls": [
                        {
                            "index": index,
                            "id": call["id"],
                            "type": "function",
                            "function": {"name": call["function"]["name"], "arguments": ""},
                        }
                    ]
                }
            )
            half = len(arguments) // 2
            for part in (arguments[:half], arguments[half:]):
                yield frame({"tool_calls": [{"index": index, "function": {"arguments": part}}]})
        yield frame({}, finish)
        if usage:
            tail = {
                "id": "chatcmpl-stub",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": model,
                "choices": [],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
            }
            yield f"data: {json.dumps(tail)}\n\n"
        yield "data: [DONE]\n\n"


@pytest.fixture
def llm_stub() -> Iterator[tuple[StubLLM, str]]:
    """A `StubLLM` served on 127.0.0.1: (stub, base URL without /v1). Import it into a test module
    (`from support.llm_stub import llm_stub`) to use it as a fixture."""
    from sandbox.server import ServerThread

    stub = StubLLM()
    with ServerThread(stub.app()) as server:
        yield stub, server.url
