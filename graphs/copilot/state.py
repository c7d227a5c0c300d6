"""The copilot's schemas: the chat state (messages only) and the events one chat turn yields."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from langgraph.graph import MessagesState

GRAPH_VERSION = "copilot-1"

EventType = Literal["token", "tool_call", "tool_result", "message", "error"]


class CopilotState(MessagesState):
    """The chat: `messages` (add_messages reducer)."""


@dataclass(frozen=True)
class ChatEvent:
    type: EventType
    data: dict[str, Any]

    def sse(self) -> str:
        """One Server-Sent Events frame."""
        return f"event: {self.type}\ndata: {json.dumps(self.data, ensure_ascii=False, default=str)}\n\n"
