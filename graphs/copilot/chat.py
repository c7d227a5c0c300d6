"""One chat turn as a stream of `ChatEvent`s (what `POST /copilot/chat` sends as Server-Sent Events).

    for event in chat_events(graph, "find python developers in Austin", thread_id="t1", principal=p):
        ...  # ChatEvent("token" | "tool_call" | "tool_result" | "message" | "error", data)

The caller comes from `principal` (in `config["configurable"]["principal"]`); without one the
copilot is read-only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.errors import GraphRecursionError

from graphs.copilot.format import tool_payload
from graphs.copilot.state import ChatEvent

RECURSION_LIMIT = 16


def chat_events(
    graph: Any,
    message: str,
    *,
    thread_id: str,
    principal: Any = None,
    recursion_limit: int = RECURSION_LIMIT,
) -> Iterator[ChatEvent]:
    """Run one chat turn and yield what happens: `token` (reply text as it is produced),
    `tool_call`, `tool_result`, then one `message` with the whole reply (or an `error`)."""
    config: RunnableConfig = {
        "configurable": {"thread_id": thread_id, "principal": principal},
        "recursion_limit": recursion_limit,
    }
    final: AIMessage | None = None
    streamed: list[str] = []  # tokens of the agent's current answer
    try:
        for mode, chunk in graph.stream(
            {"messages": [HumanMessage(message)]}, config, stream_mode=["messages", "updates"]
        ):
            if mode == "messages":
                msg, meta = chunk
                if (
                    isinstance(msg, AIMessageChunk)
                    and (meta or {}).get("langgraph_node") == "agent"
                    and isinstance(msg.content, str)
                    and msg.content
                ):
                    streamed.append(msg.content)
                    yield ChatEvent("token", {"text": msg.content})
                continue
            for node, update in (chunk or {}).items():
                for msg in (update or {}).get("messages", []) if isinstance(update, dict) else []:
                    if isinstance(msg, AIMessage) and msg.tool_calls:
                        streamed.clear()
                        for call in msg.tool_calls:
                            yield ChatEvent(
                                "tool_call",
                                {"id": call.get("id"), "name": call["name"], "args": call["args"]},
                            )
                    elif isinstance(msg, ToolMessage):
                        yield ChatEvent(
                            "tool_result",
                            {
                                "id": msg.tool_call_id,
                                "name": msg.name,
                                "status": getattr(msg, "status", "success"),
                                "content": tool_payload(msg.content),
                            },
                        )
                    elif isinstance(msg, AIMessage) and node == "agent":
                        final = msg
    except GraphRecursionError:
        yield ChatEvent("error", {"message": "Too many tool steps for one message; try a narrower request."})
        return
    except Exception as exc:
        yield ChatEvent("error", {"message": f"{type(exc).__name__}: {exc}"})
        return
    text = final.text if final is not None else ""
    if final is not None and not streamed and text:
        # The deterministic agent answers in one piece: stream it line by line all the same.
        for line in text.splitlines(keepends=True):
            yield ChatEvent("token", {"text": line})
    yield ChatEvent("message", {"thread_id": thread_id, "role": "assistant", "content": text})
