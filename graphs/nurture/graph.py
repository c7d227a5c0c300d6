"""The nurture graph: a campaign run drafts personal, consent-checked messages for the talent-pool
members due for their next step, waits for approval, sends, and records the contact in iCIMS.

    load -> select -> draft -> approve (Agent Inbox interrupt, or an admin's recorded policy)
                                   -> send (email transport + iCIMS write-back) -> audit
                                   |  respond / ignore / nothing to send -> audit
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langgraph.graph import END, START, StateGraph

from graphs.kit.nodes import LazyDeps
from graphs.nurture import nodes
from graphs.nurture.deps import NurtureDeps
from graphs.nurture.send import send
from graphs.nurture.state import NurtureInput, NurtureOutput, NurtureState

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver


def _anything_to_send(state: NurtureState) -> str:
    # Only held drafts (or none): nothing could be sent, so no inbox item; the audit lists them.
    return "approve" if any(not dr["moderation"]["held"] for dr in state.get("drafts") or []) else "audit"


def build_graph(checkpointer: BaseCheckpointSaver | None = None, *, deps: NurtureDeps | None = None) -> Any:
    """Compile the nurture graph; `deps=None` builds them from settings at the first node run."""
    node = LazyDeps(NurtureDeps.from_settings, deps).node

    builder = StateGraph(NurtureState, input_schema=NurtureInput, output_schema=NurtureOutput)
    builder.add_node("load", node(nodes.load))
    builder.add_node("select", node(nodes.select))
    builder.add_node("draft", node(nodes.draft))
    builder.add_node("approve", node(nodes.approve), destinations=("send", "audit", "approve"))
    builder.add_node("send", node(send))
    builder.add_node("audit", node(nodes.record))
    builder.add_edge(START, "load")
    builder.add_edge("load", "select")
    builder.add_edge("select", "draft")
    builder.add_conditional_edges("draft", _anything_to_send, ["approve", "audit"])
    builder.add_edge("send", "audit")
    builder.add_edge("audit", END)
    return builder.compile(checkpointer=checkpointer, name="nurture")


# The graph for `langgraph.json` / LangGraph Server (which supplies its own checkpointer).
graph = build_graph()
