"""The triage graph's wiring.

assess -> gate -+-> write -> audit -+-> review (Agent Inbox interrupt) -> write -> audit -> END
                |                   +-> END
                +-> review ...      (assist: everything waits for a recruiter)
                +-> audit -> END    (shadow: score and audit only)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langgraph.graph import END, START, StateGraph

from graphs.kit.nodes import LazyDeps
from graphs.triage import nodes
from graphs.triage.deps import TriageDeps
from graphs.triage.state import TriageInput, TriageOutput, TriageState

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver


def build_graph(checkpointer: BaseCheckpointSaver | None = None, *, deps: TriageDeps | None = None) -> Any:
    """Compile the triage graph. `deps=None` builds them from the environment's settings on first use
    (so the module-level `graph` for langgraph.json compiles with nothing configured)."""
    node = LazyDeps(TriageDeps.from_settings, deps).node

    builder = StateGraph(TriageState, input_schema=TriageInput, output_schema=TriageOutput)
    builder.add_node("assess", node(nodes.assess))
    builder.add_node("gate", node(nodes.gate), destinations=("write", "review", "audit"))
    builder.add_node("review", node(nodes.review), destinations=("write", "audit", "review"))
    builder.add_node("write", node(nodes.write))
    builder.add_node("audit", node(nodes.audit))
    builder.add_edge(START, "assess")
    builder.add_edge("assess", "gate")
    builder.add_edge("write", "audit")
    builder.add_conditional_edges("audit", nodes.after_audit, ["review", END])
    return builder.compile(checkpointer=checkpointer, name="triage")


# The graph for `langgraph.json` / LangGraph Server: dependencies come from settings at first use.
graph = build_graph()
