"""The offer graph's wiring.

    START -> load -> draft -> route -> approve (one Agent Inbox interrupt per approval step) ---+
                                ^          | edit: new version, re-validated                     |
                                +----------+ (re-routed; approvals of old terms stop counting)    |
                                                        all steps signed off -> render -> write -> audit
    START -> counter -> counter_approve (interrupt: suggested reply or escalation) -> route ... (new version)

Nothing is written to iCIMS before every step the policy requires for the FINAL terms is signed
off (`agents.offer.signoff`), and `write` checks that again before it sends anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langgraph.graph import END, START, StateGraph

from graphs.kit.nodes import LazyDeps
from graphs.offer import counter, letters, nodes
from graphs.offer.deps import OfferDeps
from graphs.offer.state import OfferInput, OfferOutput, OfferState

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver


def build_graph(checkpointer: BaseCheckpointSaver | None = None, *, deps: OfferDeps | None = None) -> Any:
    """Compile the offer graph. `deps=None` builds them from the environment's settings on first
    use, so the module-level `graph` imports and compiles with nothing configured."""
    node = LazyDeps(OfferDeps.from_settings, deps).node

    builder = StateGraph(OfferState, input_schema=OfferInput, output_schema=OfferOutput)
    builder.add_node("load", node(nodes.load))
    builder.add_node("draft", node(nodes.draft))
    builder.add_node("route", node(nodes.route))
    builder.add_node("approve", node(nodes.approve), destinations=("approve", "route", "render", "audit"))
    builder.add_node("render", node(letters.render))
    builder.add_node("write", node(letters.write))
    builder.add_node("audit", node(nodes.final_audit))
    builder.add_node("counter", node(counter.counter))
    builder.add_node(
        "counter_approve",
        node(counter.counter_approve),
        destinations=("counter_approve", "route", "audit"),
    )
    # A counter-offer arrives on a thread that already holds the offer; anything else starts one.
    builder.add_conditional_edges(
        START, lambda state: "counter" if state.get("counter") else "load", ["counter", "load"]
    )
    builder.add_edge("load", "draft")
    builder.add_edge("draft", "route")
    builder.add_edge("route", "approve")
    builder.add_edge("render", "write")
    builder.add_edge("write", "audit")
    builder.add_edge("counter", "counter_approve")
    builder.add_edge("audit", END)
    return builder.compile(checkpointer=checkpointer, name="offer")


# The graph for `langgraph.json` / LangGraph Server (which supplies its own checkpointer).
graph = build_graph()
