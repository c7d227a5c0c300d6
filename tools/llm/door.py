"""The model door: every chat-model call leaves the process through it, with personal data swapped for
placeholders, and every answer comes back with the originals restored.

`guard(model)` turns a langchain chat model into its guarded twin: a subclass of the model's own class
(so `ChatOpenAI` stays a `ChatOpenAI`: `with_structured_output`, `bind_tools`, streaming and retries
work as before) whose `_generate` / `_stream` (and async twins), the only places a request is made,
pass the messages through a fresh `pii.Vault` per call:

    out:  system / human / AI / tool messages (content, tool-call arguments, tool results as JSON)
          -> names, emails, phones, links, street addresses, postal codes and person ids become
             "[NAME_A]", "[EMAIL_A]", "[PERSON_A]", ...
    back: the reply's text, tool-call arguments ("[PERSON_A]" -> 426, typed) and structured output
          ("parsed") get the originals back, streamed text too (a placeholder split across chunks
          is held until it is whole).

Names no pattern can find come from what the graph knows: `with known_people(records=[person]):`
around a call (a context variable, so it reaches models bound or wrapped before the call), and from
the name fields of the structured data in the messages themselves (a tool result's `"name"`).
Each call logs counts only. Objects that are not langchain chat models (test doubles) are used as given.
"""

from __future__ import annotations

import contextvars
import copy
import logging
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, SystemMessage, ToolMessage
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from tools.llm.pii import PERSON_ID_KEYS, Vault, _json_or_none

logger = logging.getLogger(__name__)

NOTE = (
    "Personal data in this conversation has been replaced by placeholders in square brackets, such "
    "as [NAME_A], [EMAIL_A] or [PERSON_A] (a person id). Use them exactly as written, also as tool "
    "arguments; never guess what they stand for."
)
# The longest placeholder ("[ADDRESS_AAA]"): a streamed "[" further back than this is plain text.
_MAX_PLACEHOLDER = 14

_KNOWN: contextvars.ContextVar[Mapping[str, Sequence[str]] | None] = contextvars.ContextVar(
    "model_door_known", default=None
)


class ModelDoor:
    """Marks a guarded chat model (the subclasses `guard` makes)."""

    __slots__ = ()


@contextmanager
def known_people(
    *,
    names: Iterable[str | None] = (),
    records: Iterable[Mapping[str, Any] | None] = (),
    messages: Iterable[BaseMessage] = (),
) -> Iterator[None]:
    """Within the block, every guarded call also hides these people: `names`, the names and contact
    details of iCIMS person `records`, and those named in the structured data of `messages` (a chat
    history longer than what is sent)."""
    vault = _seeded_vault()
    vault.learn_names(n for n in names if n)
    for record in records:
        vault.learn_record(record)
    for message in messages:
        _learn_message(vault, message)
    token = _KNOWN.set(vault.known())
    try:
        yield
    finally:
        _KNOWN.reset(token)


def guard(model: Any) -> Any:
    """The guarded twin of a chat model (itself when already guarded; None stays None)."""
    if model is None or isinstance(model, ModelDoor) or not isinstance(model, BaseChatModel):
        return model
    twin = model.model_copy()
    twin.__class__ = _door_class(type(model))
    return twin


def is_guarded(model: Any) -> bool:
    return isinstance(model, ModelDoor)


_CLASSES: dict[type, type] = {}


def _door_class(base: type[BaseChatModel]) -> type:
    """`base` with its request methods wrapped; only those `base` really has (a model without its
    own `_stream` must keep looking like one, or langchain would stream through a stub)."""
    found = _CLASSES.get(base)
    if found is not None:
        return found

    def _generate(
        self: Any, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        vault, safe = _outgoing(messages)
        result = base._generate(self, safe, stop=stop, run_manager=run_manager, **kw)
        return _logged(vault, _restore_result(vault, result))

    async def _agenerate(
        self: Any, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        vault, safe = _outgoing(messages)
        result = await base._agenerate(self, safe, stop=stop, run_manager=run_manager, **kw)
        return _logged(vault, _restore_result(vault, result))

    def _stream(
        self: Any, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> Iterator[ChatGenerationChunk]:
        vault, safe = _outgoing(messages)
        restorer = _StreamRestorer(vault)
        # The base reports tokens itself when handed a run manager: it only ever gets restored ones.
        for chunk in base._stream(self, safe, stop=stop, run_manager=None, **kw):
            for out in restorer.feed(chunk):
                if run_manager is not None:
                    run_manager.on_llm_new_token(out.text, chunk=out)
                yield out
        for out in restorer.flush():
            if run_manager is not None:
                run_manager.on_llm_new_token(out.text, chunk=out)
            yield out
        _logged(vault, None)

    async def _astream(
        self: Any, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> AsyncIterator[ChatGenerationChunk]:
        vault, safe = _outgoing(messages)
        restorer = _StreamRestorer(vault)
        async for chunk in base._astream(self, safe, stop=stop, run_manager=None, **kw):
            for out in restorer.feed(chunk):
                if run_manager is not None:
                    await run_manager.on_llm_new_token(out.text, chunk=out)
                yield out
        for out in restorer.flush():
            if run_manager is not None:
                await run_manager.on_llm_new_token(out.text, chunk=out)
            yield out
        _logged(vault, None)

    def bind_tools(self: Any, tools: Sequence[Any], **kw: Any) -> Any:
        return base.bind_tools(self, [_accept_placeholders(t, kw.get("strict")) for t in tools], **kw)

    methods: dict[str, Any] = {"__module__": __name__, "_generate": _generate, "bind_tools": bind_tools}
    if base._stream is not BaseChatModel._stream:
        methods["_stream"] = _stream
    if base._agenerate is not BaseChatModel._agenerate:
        methods["_agenerate"] = _agenerate
    if base._astream is not BaseChatModel._astream:
        methods["_astream"] = _astream
    cls = type(f"Guarded{base.__name__}", (ModelDoor, base), methods)
    _CLASSES[base] = cls
    return cls


# -- out ---------------------------------------------------------------------------------------------


def _seeded_vault() -> Vault:
    vault = Vault()
    for kind, values in (_KNOWN.get() or {}).items():
        for value in values:
            vault.learn(kind, value)
    return vault


def _learn_message(vault: Vault, message: BaseMessage) -> None:
    content = message.content
    texts = [content] if isinstance(content, str) else [b.get("text") for b in content if isinstance(b, dict)]
    texts += [b for b in content if isinstance(b, str)] if isinstance(content, list) else []
    for text in texts:
        if isinstance(text, str) and (parsed := _json_or_none(text)) is not None:
            vault.learn_structure(parsed)
    if isinstance(message, AIMessage):
        for call in message.tool_calls:
            vault.learn_structure(call.get("args"))


def _outgoing(messages: Sequence[BaseMessage]) -> tuple[Vault, list[BaseMessage]]:
    """(the call's vault, the messages as they may leave the process)."""
    vault = _seeded_vault()
    for message in messages:
        _learn_message(vault, message)
    safe = [_hide_message(vault, m) for m in messages]
    if vault.issued:
        safe = _with_note(safe)
    return vault, safe


def _hide_content(vault: Vault, content: Any) -> Any:
    if isinstance(content, str):
        return vault.json_text(content)
    if isinstance(content, list):
        return [
            vault.json_text(b)
            if isinstance(b, str)
            else {**b, "text": vault.json_text(b["text"])}
            if isinstance(b, dict) and isinstance(b.get("text"), str)
            else b
            for b in content
        ]
    return content


def _hide_arguments(vault: Vault, raw: Any) -> Any:
    """An OpenAI-shaped tool call (or function call) with its JSON arguments hidden."""
    if not isinstance(raw, dict):
        return raw
    function = raw.get("function")
    if isinstance(function, dict) and isinstance(function.get("arguments"), str):
        return {**raw, "function": {**function, "arguments": vault.json_text(function["arguments"])}}
    if isinstance(raw.get("arguments"), str):
        return {**raw, "arguments": vault.json_text(raw["arguments"])}
    return raw


def _hide_message(vault: Vault, message: BaseMessage) -> BaseMessage:
    update: dict[str, Any] = {"content": _hide_content(vault, message.content)}
    kwargs = dict(message.additional_kwargs)
    kwargs.pop("parsed", None)  # a structured answer of an earlier call: never resent
    if not isinstance(message, ToolMessage) and message.name and vault.text(message.name) != message.name:
        update["name"] = None  # a speaker's name; placeholders are not valid OpenAI names
    if not isinstance(message, ToolMessage) and isinstance(kwargs.get("name"), str):
        kwargs.pop("name")
    if isinstance(message, AIMessage):
        update["tool_calls"] = [{**c, "args": vault.value(c.get("args") or {})} for c in message.tool_calls]
        update["invalid_tool_calls"] = [_with_args(c, vault.json_text) for c in message.invalid_tool_calls]
        if isinstance(kwargs.get("tool_calls"), list):
            kwargs["tool_calls"] = [_hide_arguments(vault, c) for c in kwargs["tool_calls"]]
        if "function_call" in kwargs:
            kwargs["function_call"] = _hide_arguments(vault, kwargs["function_call"])
        for key, value in list(kwargs.items()):
            if isinstance(value, str):
                kwargs[key] = vault.text(value)
    update["additional_kwargs"] = kwargs
    return message.model_copy(update=update)


def _with_args(call: Any, change: Any) -> Any:
    """An invalid tool call (its arguments a string that did not parse) with the arguments changed."""
    args = call.get("args")
    return {**call, "args": change(args)} if isinstance(args, str) else call


def _with_note(messages: list[BaseMessage]) -> list[BaseMessage]:
    """Tell the model what the placeholders are, in the first system message (or a new one)."""
    for i, message in enumerate(messages):
        if isinstance(message, SystemMessage) and isinstance(message.content, str):
            noted = message.model_copy(update={"content": f"{message.content}\n\n{NOTE}"})
            return [*messages[:i], noted, *messages[i + 1 :]]
    return [SystemMessage(NOTE), *messages]


def _accept_placeholders(tool: Any, strict: bool | None) -> Any:
    """A tool whose person-id parameters also accept a placeholder string ("[PERSON_A]"), so the model
    can pass back the ids it was shown; the door restores the real id before the tool runs."""
    from langchain_core.utils.function_calling import convert_to_openai_tool

    try:
        spec = copy.deepcopy(convert_to_openai_tool(tool, strict=strict))
    except Exception:  # not a tool this conversion knows: the model gets it as it was
        return tool
    properties = ((spec.get("function") or {}).get("parameters") or {}).get("properties") or {}
    changed = False
    for name, schema in list(properties.items()):
        if name.lower() in PERSON_ID_KEYS and isinstance(schema, dict):
            widened = _also_string(schema)
            if widened != schema:
                properties[name] = {**widened, "description": _described(widened.get("description"))}
                changed = True
    return spec if changed else tool


def _also_string(schema: dict[str, Any]) -> dict[str, Any]:
    if schema.get("type") == "integer":
        rest = {k: v for k, v in schema.items() if k != "type"}
        return {**rest, "anyOf": [{"type": "integer"}, {"type": "string"}]}
    options = schema.get("anyOf")
    if isinstance(options, list):
        types = {o.get("type") for o in options if isinstance(o, dict)}
        if "integer" in types and "string" not in types:
            return {**schema, "anyOf": [*options, {"type": "string"}]}
        return {**schema, "anyOf": [_also_string(o) if isinstance(o, dict) else o for o in options]}
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        return {**schema, "items": _also_string(schema["items"])}
    return schema


def _described(description: Any) -> str:
    base = str(description or "").rstrip(". ")
    return (base + ". " if base else "") + "A person id, or its placeholder such as [PERSON_A]."


# -- back --------------------------------------------------------------------------------------------


def _restore_arguments(vault: Vault, raw: Any) -> Any:
    if not isinstance(raw, dict):
        return raw
    function = raw.get("function")
    if isinstance(function, dict) and isinstance(function.get("arguments"), str):
        return {**raw, "function": {**function, "arguments": vault.restore_json_text(function["arguments"])}}
    if isinstance(raw.get("arguments"), str):
        return {**raw, "arguments": vault.restore_json_text(raw["arguments"])}
    return raw


def _restore_kwargs(vault: Vault, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in kwargs.items():
        if key == "tool_calls" and isinstance(value, list):
            out[key] = [_restore_arguments(vault, c) for c in value]
        elif key == "function_call":
            out[key] = _restore_arguments(vault, value)
        else:
            out[key] = vault.restore_value(value)
    return out


def _restore_content(vault: Vault, content: Any) -> Any:
    if isinstance(content, str):
        return vault.restore_json_text(content)
    if isinstance(content, list):
        return [
            vault.restore_json_text(b)
            if isinstance(b, str)
            else {**b, "text": vault.restore_json_text(b["text"])}
            if isinstance(b, dict) and isinstance(b.get("text"), str)
            else b
            for b in content
        ]
    return content


def _restore_message(vault: Vault, message: BaseMessage) -> BaseMessage:
    update: dict[str, Any] = {
        "content": _restore_content(vault, message.content),
        "additional_kwargs": _restore_kwargs(vault, message.additional_kwargs),
    }
    if isinstance(message, AIMessage):
        update["tool_calls"] = [
            {**c, "args": vault.restore_value(c.get("args") or {})} for c in message.tool_calls
        ]
        update["invalid_tool_calls"] = [
            _with_args(c, vault.restore_json_text) for c in message.invalid_tool_calls
        ]
    return message.model_copy(update=update)


def _restore_result(vault: Vault, result: ChatResult) -> ChatResult:
    generations = [
        ChatGeneration(message=_restore_message(vault, g.message), generation_info=g.generation_info)
        for g in result.generations
    ]
    return ChatResult(generations=generations, llm_output=result.llm_output)


class _StreamRestorer:
    """Restores a streamed answer: text as it comes (holding back a "[" that may open a placeholder
    until it closes), tool-call arguments once whole (they are only parsed at the end anyway)."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self.pending = ""
        self.calls: dict[int, dict[str, Any]] = {}

    def _cut(self, text: str) -> int:
        start = text.rfind("[")
        if start < 0 or "]" in text[start:] or len(text) - start > _MAX_PLACEHOLDER:
            return len(text)
        tail = text[start + 1 :]
        return start if all(c.isupper() or c == "_" for c in tail) else len(text)

    def feed(self, chunk: ChatGenerationChunk) -> list[ChatGenerationChunk]:
        message = chunk.message
        if not isinstance(message, AIMessageChunk):
            return [chunk]
        content: Any = message.content
        if isinstance(content, str):
            text = self.pending + content
            cut = self._cut(text)
            self.pending, content = text[cut:], self.vault.restore(text[:cut])
        else:
            content = _restore_content(self.vault, content)
        for position, part in enumerate(message.tool_call_chunks):
            index = part.get("index")
            call = self.calls.setdefault(position if index is None else index, {"args": ""})
            for key in ("id", "name"):
                if part.get(key) and not call.get(key):
                    call[key] = part[key]
            call["args"] += part.get("args") or ""
        kwargs = {k: v for k, v in message.additional_kwargs.items() if k != "tool_calls"}
        # Whatever is held goes out before the chunk that closes the stream.
        held = self.flush(message.id) if message.chunk_position == "last" else []
        restored = AIMessageChunk(
            content=content,
            additional_kwargs=_restore_kwargs(self.vault, kwargs),
            response_metadata=message.response_metadata,
            usage_metadata=message.usage_metadata,
            id=message.id,
            chunk_position=message.chunk_position,
        )
        return [*held, ChatGenerationChunk(message=restored, generation_info=chunk.generation_info)]

    def flush(self, message_id: str | None = None) -> list[ChatGenerationChunk]:
        if not self.pending and not self.calls:
            return []
        parts = [
            tool_call_chunk(
                name=call.get("name"),
                args=self.vault.restore_json_text(call["args"]),
                id=call.get("id"),
                index=index,
            )
            for index, call in sorted(self.calls.items())
        ]
        text, self.pending, self.calls = self.vault.restore(self.pending), "", {}
        return [
            ChatGenerationChunk(message=AIMessageChunk(content=text, tool_call_chunks=parts, id=message_id))
        ]


def _logged(vault: Vault, result: Any) -> Any:
    if vault.replaced or vault.restored:
        kinds = ", ".join(f"{k.lower()}={n}" for k, n in sorted(vault.replaced.items()))
        logger.info(
            "model door: %d placeholders sent (%s), %d restored in the answer",
            vault.issued,
            kinds or "none",
            vault.restored,
        )
    return result
