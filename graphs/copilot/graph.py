"""The copilot's wiring: a recruiter's chat agent over the same typed tools as the rest of the system.

    START -> agent --(tool calls)--> tools -> agent -> ... -> END

With an LLM configured (`settings.llm_base_url`, or `CopilotDeps.chat_model`), `agent` is a
tool-calling chat model (`bind_tools`); without one it is the deterministic intent parser. Either
way the tools run in the same `tools` node, and writes only ever happen behind an approval.

    graph = build_graph(InMemorySaver(), deps=CopilotDeps.from_settings(settings))
"""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.prebuilt import ToolNode

from graphs.copilot.deps import CopilotDeps
from graphs.copilot.nodes import agent, route
from graphs.copilot.state import CopilotState
from graphs.copilot.toolset import make_copilot_tools
from graphs.kit.nodes import LazyDeps


def build_graph(checkpointer: Any = None, *, deps: CopilotDeps | None = None) -> Any:
    """Compile the copilot. `deps=None` builds them from the environment's settings on first use,
    so the module-level `graph` imports and compiles with nothing configured."""
    lazy = LazyDeps(CopilotDeps.from_settings, deps)
    tools = make_copilot_tools(lazy.get)

    def agent_node(state: CopilotState, config: RunnableConfig) -> dict[str, Any]:
        return agent(lazy.get(), tools, state, config)

    builder = StateGraph(CopilotState)
    builder.add_node("agent", agent_node)
    builder.add_node("tools", ToolNode(tools))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", route, ["tools", END])
    builder.add_edge("tools", "agent")
    return builder.compile(checkpointer=checkpointer, name="copilot")


# The graph for `langgraph.json` / LangGraph Server (which supplies its own checkpointer). Dependencies
# are built from settings at the first node run, so importing this module needs nothing configured.
graph = build_graph()
