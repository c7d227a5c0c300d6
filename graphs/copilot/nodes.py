"""The copilot's agent step: a tool-calling chat model when one is configured, else the
deterministic intent parser (`agents/copilot/intents.py`), which turns the message into the same
tool call and, once the tool ran, formats its result as the reply.

The chat model is called through the model door (`tools.llm`): the prompt and every tool result go
out with people's names, contact details and ids as placeholders, and the reply and its tool calls
come back with the originals (a "[PERSON_A]" argument reaches the tool as the real person id)."""

from __future__ import annotations

import uuid
from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.messages.utils import count_tokens_approximately, trim_messages
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.graph import END

from agents.copilot.intents import parse_intent
from graphs.copilot.caller import caller_from, principal_of
from graphs.copilot.deps import CopilotDeps
from graphs.copilot.format import format_result, help_text
from graphs.copilot.state import CopilotState
from prompts.templates import load_template
from tools.llm import guard, known_people

SYSTEM_TEMPLATE = ("copilot_system", "v1")
# Conversation kept in the prompt (approximate tokens; no tiktoken, which downloads its encodings).
MAX_PROMPT_TOKENS = 12_000


def deterministic(state: CopilotState) -> dict[str, Any]:
    messages = state["messages"]
    last = messages[-1] if messages else None
    if isinstance(last, ToolMessage):
        # The tool call this turn made: reply with its formatted result(s).
        replies = []
        for msg in reversed(messages):
            if not isinstance(msg, ToolMessage):
                break
            replies.append(format_result(msg.name or "", msg.content))
        return {"messages": [AIMessage(content="\n\n".join(reversed(replies)))]}
    text = last.content if isinstance(last, HumanMessage) and isinstance(last.content, str) else ""
    intent = parse_intent(text)
    if intent.tool is None:
        return {"messages": [AIMessage(content=help_text(intent.note))]}
    call = {
        "name": intent.tool,
        "args": intent.args,
        "id": f"call_{uuid.uuid4().hex[:12]}",
        "type": "tool_call",
    }
    return {"messages": [AIMessage(content="", tool_calls=[call])]}


def agent(
    d: CopilotDeps, tools: list[BaseTool], state: CopilotState, config: RunnableConfig
) -> dict[str, Any]:
    if d.chat_model is None:
        return deterministic(state)
    caller = caller_from(principal_of(config))
    system = load_template(*SYSTEM_TEMPLATE).render(
        name=caller.name, role=caller.role, customer_id=d.settings.icims_customer_id
    )
    history: list[AnyMessage] = trim_messages(
        state["messages"],
        max_tokens=MAX_PROMPT_TOKENS,
        token_counter=count_tokens_approximately,
        strategy="last",
        start_on="human",
        include_system=False,
    )
    # Through the model door: the people named anywhere in the thread (tool results trimmed from the
    # prompt included) and the caller leave as placeholders, and come back in the reply.
    with known_people(names=[caller.name], messages=state["messages"]):
        reply = guard(d.chat_model).bind_tools(tools).invoke([SystemMessage(system), *history], config)
    return {"messages": [reply]}


def route(state: CopilotState) -> str:
    last = state["messages"][-1]
    return "tools" if isinstance(last, AIMessage) and last.tool_calls else END
