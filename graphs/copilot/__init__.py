"""Copilot: a recruiter's chat agent over the same typed tools as the rest of the system.

Rooms: `state` (chat state, `ChatEvent`, version), `deps` (`CopilotDeps`, the `ApprovalsPort` the
service injects), `caller` (who asks, from the run config), the tools (`search`, `explain`,
`outreach`, `rediscover`, `approvals`, bound in `toolset`), `format` (replies without an LLM),
`nodes` (the agent step), `graph` (wiring, `build_graph`, the module-level `graph`) and `chat` (one
turn as a stream of events). `server/copilot.py` serves it as `POST /copilot/chat`.

Writes always go through approval interrupts: the tools read the mirror, start a rediscovery (which
pauses at its approval) or resolve an approval through the approval service / the rediscovery
graph's interrupt resume.
"""

from graphs.copilot.caller import Caller, caller_from
from graphs.copilot.chat import chat_events
from graphs.copilot.deps import ApprovalDecision, ApprovalsPort, CopilotDeps
from graphs.copilot.format import format_result, help_text, tool_payload
from graphs.copilot.graph import build_graph, graph
from graphs.copilot.state import GRAPH_VERSION, ChatEvent, CopilotState
from graphs.copilot.toolset import TOOL_NAMES, make_copilot_tools

__all__ = [
    "GRAPH_VERSION",
    "TOOL_NAMES",
    "ApprovalDecision",
    "ApprovalsPort",
    "Caller",
    "ChatEvent",
    "CopilotDeps",
    "CopilotState",
    "build_graph",
    "caller_from",
    "chat_events",
    "format_result",
    "graph",
    "help_text",
    "make_copilot_tools",
    "tool_payload",
]
