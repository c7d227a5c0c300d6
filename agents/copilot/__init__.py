"""The recruiter copilot: a deterministic intent parser and the typed tools the chat graph calls.

`graphs/copilot.py` wires them into a LangGraph chat agent; `server/copilot.py` serves it as
`POST /copilot/chat`. Tools only read, or start a rediscovery that pauses at its approval interrupt,
or resolve a pending approval through the approval service (or the graph's interrupt resume): none
writes to iCIMS directly.
"""

from agents.copilot.intents import Intent, parse_intent
from agents.copilot.tools import Caller, CopilotDeps, caller_from, make_copilot_tools

__all__ = ["Caller", "CopilotDeps", "Intent", "caller_from", "make_copilot_tools", "parse_intent"]
