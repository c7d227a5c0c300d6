"""The optional LLM-written welcome paragraph of an offer letter (issue 6: "optional LLM for the
narrative paragraph only").

Only the candidate's first name, the job title and the company are written for the model, and the
first name leaves the process as a placeholder (the model door, `tools.llm.guard`, restores it in the
reply): no name, surname, address, email or figure reaches it. What comes back is checked before it
can reach a letter: no digits or currency (the figures are the approved terms', stated once, by the
template), no legal or benefit terms, a length limit. A paragraph that fails is dropped (the letter
simply has none) and the reason recorded; drafting never fails because of the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from pydantic import BaseModel, Field

PROMPT_VERSION = "narrative.v1"
MAX_CHARS = 600
# Anything that reads as a figure or a term the letter states elsewhere.
_FORBIDDEN = re.compile(
    r"[0-9$€£%]|\b(?:salary|bonus|equity|stock|options?|benefits?|at[- ]will|non[- ]compete|contingent)\b",
    re.IGNORECASE,
)


class NarrativeFacts(BaseModel):
    first_name: str = Field(min_length=1, max_length=60)
    job_title: str = Field(min_length=1, max_length=120)
    company: str = Field(min_length=1, max_length=120)


@dataclass(frozen=True)
class Narrative:
    text: str  # "" when the model's paragraph was refused or the call failed
    source: str  # "llm" | "refused" | "error"
    reason: str | None = None


def _prompt() -> str:
    return resources.files("prompts").joinpath("offer", f"{PROMPT_VERSION}.txt").read_text()


def check_narrative(text: str) -> str | None:
    """Why this paragraph may not go into a letter, or None."""
    if not text:
        return "empty"
    if len(text) > MAX_CHARS:
        return f"longer than {MAX_CHARS} characters"
    found = _FORBIDDEN.search(text)
    if found:
        return f"mentions {found.group(0)!r}: figures and terms belong to the approved terms only"
    return None


def write_narrative(chat_model: Any, facts: NarrativeFacts) -> Narrative:
    from langchain_core.messages import HumanMessage, SystemMessage

    from tools.llm import guard, known_people

    try:
        with known_people(names=[facts.first_name]):
            reply = guard(chat_model).invoke(
                [
                    SystemMessage(_prompt()),
                    HumanMessage(facts.model_dump_json()),
                ]
            )
    except Exception as exc:  # an unreachable or failing endpoint: the letter goes without
        return Narrative("", "error", type(exc).__name__)
    text = " ".join(str(getattr(reply, "content", "") or "").split())
    reason = check_narrative(text)
    if reason is not None:
        return Narrative("", "refused", reason)
    return Narrative(text, "llm")
