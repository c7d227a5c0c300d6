"""The rediscovery graph's wiring:

    load -> retrieve -> score -> summarise -> approve (Agent Inbox interrupt) -> write -> audit -> purge
                                                 |  respond / ignore / nothing approved  -> audit

`graph` is the module-level graph for langgraph.json / LangGraph Server (which supplies its own
checkpointer); its deps are built from the environment's settings at the first node run, so this
module imports and compiles with nothing configured (it is also loaded by file path, hence the
absolute imports).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from graphs.kit.nodes import LazyDeps
from graphs.rediscovery import nodes, writes
from graphs.rediscovery.deps import RediscoveryDeps
from graphs.rediscovery.review import approve
from graphs.rediscovery.state import RediscoveryInput, RediscoveryOutput, RediscoveryState

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver


def _state_only(
    fn: Callable[[RediscoveryDeps, Any], Any],
) -> Callable[[RediscoveryDeps, Any, RunnableConfig], Any]:
    return lambda d, state, _config: fn(d, state)


def build_graph(
    checkpointer: BaseCheckpointSaver | None = None, *, deps: RediscoveryDeps | None = None
) -> Any:
    """Compile the rediscovery graph. `deps=None` builds them from the environment's settings on
    first use, so the module-level `graph` imports and compiles with nothing configured."""
    lazy = LazyDeps(RediscoveryDeps.from_settings, deps)
    builder = StateGraph(RediscoveryState, input_schema=RediscoveryInput, output_schema=RediscoveryOutput)
    builder.add_node("load", lazy.node(nodes.load))
    builder.add_node("retrieve", lazy.node(_state_only(nodes.retrieve)))
    builder.add_node("score", lazy.node(_state_only(nodes.score)))
    builder.add_node("summarise", lazy.node(_state_only(nodes.summarise)))
    builder.add_node("approve", lazy.node(approve), destinations=("write", "audit", "approve"))
    builder.add_node("write", lazy.node(_state_only(writes.write)))
    builder.add_node("audit", lazy.node(_state_only(writes.audit)))
    builder.add_node("purge", lazy.node(_state_only(writes.purge)))
    builder.add_edge(START, "load")
    builder.add_edge("load", "retrieve")
    builder.add_edge("retrieve", "score")
    builder.add_edge("score", "summarise")
    # Nothing to approve (no candidates) goes straight to the audit record: no empty inbox items.
    builder.add_conditional_edges(
        "summarise", lambda state: "approve" if state.get("shortlist") else "audit", ["approve", "audit"]
    )
    builder.add_edge("write", "audit")
    builder.add_edge("audit", "purge")
    builder.add_edge("purge", END)
    return builder.compile(checkpointer=checkpointer, name="rediscovery")


graph = build_graph()
