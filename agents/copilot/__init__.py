"""The recruiter copilot's domain logic: the deterministic intent parser that turns a message into
one of the copilot's tool calls (`graphs/copilot/` holds the tools and the chat graph)."""

from agents.copilot.intents import Intent, parse_intent

__all__ = ["Intent", "parse_intent"]
