"""Copilot: a recruiter's chat agent over the same typed tools as the rest of the system.

    START -> agent --(tool calls)--> tools -> agent -> ... -> END

With an LLM configured (`settings.llm_base_url`, or `CopilotDeps.chat_model`), `agent` is a
tool-calling chat model (langchain-openai `ChatOpenAI.bind_tools`). Without one, `agent` is the
deterministic intent parser (`agents/copilot/intents.py`): it turns the user's message into the same
tool call, and after the tool ran, formats its result as the reply; a message it does not understand
gets the list of what it can do. Either way the tools run in the same `tools` node.

Writes always go through approval interrupts: the tools read the mirror, start a rediscovery (which
pauses at its approval) or resolve an approval through the approval service / the rediscovery
graph's interrupt resume. The caller comes from `config["configurable"]["principal"]`; without one,
the copilot is read-only.

    graph = build_graph(InMemorySaver(), deps=CopilotDeps.from_settings(settings))
    for event in chat_events(graph, "find python developers in Austin", thread_id="t1", principal=p):
        ...  # ChatEvent("token" | "tool_call" | "tool_result" | "message" | "error", data)
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    AnyMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.utils import count_tokens_approximately, trim_messages
from langchain_core.runnables import RunnableConfig
from langgraph.errors import GraphRecursionError
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode

from agents.copilot.intents import parse_intent
from agents.copilot.tools import CopilotDeps, caller_from, make_copilot_tools, tool_payload
from prompts.templates import load_template

__all__ = ["ChatEvent", "CopilotState", "build_graph", "chat_events", "format_result", "graph", "help_text"]

GRAPH_VERSION = "copilot-1"
SYSTEM_TEMPLATE = ("copilot_system", "v1")
HELP_TEMPLATE = ("copilot_help", "v1")
# Conversation kept in the prompt (approximate tokens; no tiktoken, which downloads its encodings).
MAX_PROMPT_TOKENS = 12_000
RECURSION_LIMIT = 16


class CopilotState(MessagesState):
    """The chat: `messages` (add_messages reducer)."""


EventType = Literal["token", "tool_call", "tool_result", "message", "error"]


@dataclass(frozen=True)
class ChatEvent:
    type: EventType
    data: dict[str, Any]

    def sse(self) -> str:
        """One Server-Sent Events frame."""
        return f"event: {self.type}\ndata: {json.dumps(self.data, ensure_ascii=False, default=str)}\n\n"


# --- replies without an LLM ---------------------------------------------------------------------------


def help_text(note: str | None = None) -> str:
    return load_template(*HELP_TEMPLATE).render(note=f"{note}\n\n" if note else "")


def _fmt_search(p: dict[str, Any]) -> str:
    f = p.get("filters") or {}
    parts = []
    if f.get("skills"):
        parts.append("skills " + ", ".join(f["skills"]))
    if f.get("occupation"):
        parts.append(f"occupation '{f['occupation']}'")
    if f.get("location"):
        parts.append(f"in {f['location']}")
    if f.get("consent"):
        parts.append(f"consent {f['consent']}")
    total = p.get("total", 0)
    head = (
        f"{total} {'person' if total == 1 else 'people'} in the mirror match{'es' if total == 1 else ''} "
        + ("; ".join(parts) or "everything")
    )
    results = p.get("results") or []
    if not results:
        return head + ". Try fewer filters."
    lines = [head + (f" (showing {len(results)})" if len(results) < p.get("total", 0) else "") + ":"]
    for r in results:
        extra = []
        if r.get("title"):
            extra.append(str(r["title"]))
        if r.get("location"):
            extra.append(str(r["location"]))
        if r.get("consent"):
            extra.append(f"consent {r['consent']}")
        if r.get("do_not_contact"):
            extra.append("do not contact")
        line = f"- {r['name']} (person {r['person_id']})" + (": " + ", ".join(extra) if extra else "")
        for m in r.get("matched_skills") or []:
            line += f"\n  - {m['skill']}: '{m['quote']}'"
        lines.append(line)
    return "\n".join(lines)


def _fmt_explain(p: dict[str, Any]) -> str:
    who = f"{p['name']} (person {p['person_id']})"
    lines = [f"{who} scores {p['score']}/100 for {p['job_title']} (job {p['job_id']})."]
    if p.get("reasons"):
        lines.append("Reasons:")
        lines += [f"- {r['text']}" for r in p["reasons"]]
    if p.get("gaps"):
        lines.append("Gaps:")
        lines += [f"- {g}" for g in p["gaps"]]
    if p.get("flags"):
        lines.append("Flags: " + ", ".join(p["flags"]))
    lines.append(f"Rubric {p.get('rubric_version')}. {p.get('note', '')}".strip())
    return "\n".join(lines)


def _fmt_rediscovery(p: dict[str, Any]) -> str:
    title = p.get("job_title") or f"job {p['job_id']}"
    if not p.get("pending_approval"):
        return (
            f"Rediscovery for {title} (job {p['job_id']}) found nobody to propose; nothing awaits approval."
        )
    again = " (already waiting; not started again)" if p.get("resumed_existing") else ""
    lines = [
        f"Rediscovery for {title} (job {p['job_id']}) is waiting for approval{again}: "
        f"approval id `{p['approval_id']}`. Shortlist:"
    ]
    for c in p.get("shortlist") or []:
        action = "submit" if c.get("proposed_action") == "submit" else "add to talent pool"
        flags = f" [{', '.join(c['flags'])}]" if c.get("flags") else ""
        lines.append(f"{c['rank']}. {c['name']} (person {c['person_id']}): {c['score']}/100, {action}{flags}")
    lines.append(
        f"{p.get('note', '')} Say 'approve {p['approval_id']}', 'approve {p['approval_id']} without <ids>' "
        f"or 'ignore {p['approval_id']}'."
    )
    return "\n".join(lines)


def _fmt_outreach(p: dict[str, Any]) -> str:
    lines = [
        f"Draft for {p['name']} (person {p['person_id']}), {p['job_title']} (job {p['job_id']}):",
        "",
        p["draft"],
        "",
    ]
    lines += [f"Warning: {w}" for w in p.get("warnings") or []]
    lines.append(f"Template {p['template']}. {p.get('note', '')}".strip())
    return "\n".join(lines)


def _fmt_approvals(p: dict[str, Any]) -> str:
    rows = p.get("approvals") or []
    if not rows:
        return "No pending approvals you can see."
    lines = [f"{len(rows)} pending approval{'s' if len(rows) != 1 else ''}:"]
    for r in rows:
        if not isinstance(r, dict):
            lines.append(f"- {r}")
            continue
        ident = r.get("approval_id") or r.get("thread_id")
        what = r.get("job_title") or r.get("action") or ""
        job = f" (job {r['job_id']})" if r.get("job_id") is not None else ""
        count = f", {r['candidates']} candidates" if r.get("candidates") is not None else ""
        lines.append(f"- `{ident}`: {what}{job}{count}")
    return "\n".join(lines)


def _fmt_resolve(p: dict[str, Any]) -> str:
    words = {
        "accept": "approved",
        "edit": "approved with changes",
        "ignore": "closed without writing",
        "respond": "answered with feedback (nothing written)",
    }
    decision = words.get(p.get("decision", ""), p.get("decision"))
    text = f"Approval `{p['approval_id']}` {decision}"
    if p.get("excluded"):
        text += f", leaving out {', '.join(str(i) for i in p['excluded'])}"
    if p.get("error"):
        return text + f", but the graph asked again: {p['error']}"
    if "writes" in p:
        text += f"; {p['writes']} write step{'s' if p['writes'] != 1 else ''} done through the approved run"
    return text + "."


_FORMATTERS = {
    "search_candidates": _fmt_search,
    "explain_score": _fmt_explain,
    "start_rediscovery": _fmt_rediscovery,
    "draft_outreach": _fmt_outreach,
    "list_approvals": _fmt_approvals,
    "resolve_approval": _fmt_resolve,
}


def format_result(tool: str, content: Any) -> str:
    """A tool's result as the copilot's reply (no-LLM mode)."""
    payload = tool_payload(content)
    if not isinstance(payload, dict):
        text = str(payload)
        return f"I could not do that: {text.removeprefix('Error: ')}"
    formatter = _FORMATTERS.get(tool)
    try:
        return formatter(payload) if formatter else json.dumps(payload, indent=1)
    except (KeyError, TypeError):
        return json.dumps(payload, indent=1, default=str)


# --- graph ----------------------------------------------------------------------------------------


def _deterministic(state: CopilotState) -> dict[str, Any]:
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


def build_graph(checkpointer: Any = None, *, deps: CopilotDeps | None = None) -> Any:
    """Compile the copilot. `deps=None` builds them from the environment's settings on first use,
    so the module-level `graph` imports and compiles with nothing configured."""
    holder: dict[str, CopilotDeps] = {}
    if deps is not None:
        holder["deps"] = deps
    lock = threading.Lock()

    def get_deps() -> CopilotDeps:
        with lock:
            if "deps" not in holder:
                from tools.settings import get_settings

                holder["deps"] = CopilotDeps.from_settings(get_settings())
            return holder["deps"]

    tools = make_copilot_tools(get_deps)

    def agent(state: CopilotState, config: RunnableConfig) -> dict[str, Any]:
        d = get_deps()
        if d.chat_model is None:
            return _deterministic(state)
        caller = caller_from(((config or {}).get("configurable") or {}).get("principal"))
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
        reply = d.chat_model.bind_tools(tools).invoke([SystemMessage(system), *history], config)
        return {"messages": [reply]}

    def route(state: CopilotState) -> str:
        last = state["messages"][-1]
        return "tools" if isinstance(last, AIMessage) and last.tool_calls else END

    builder = StateGraph(CopilotState)
    builder.add_node("agent", agent)
    builder.add_node("tools", ToolNode(tools))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", route, ["tools", END])
    builder.add_edge("tools", "agent")
    return builder.compile(checkpointer=checkpointer, name="copilot")


# --- streaming ------------------------------------------------------------------------------------


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


# The graph for `langgraph.json` / LangGraph Server (which supplies its own checkpointer). Dependencies
# are built from settings at the first node run, so importing this module needs nothing configured.
graph = build_graph()
