"""Drafts from the versioned Jinja2 templates in `prompts/nurture/` (`<name>.<version>.j2`: a
`Subject:` line, a blank line, the body), and the optional LLM rewrite.

Templates are never edited once used: new wording is a new version, and every draft records the
template id that produced it. The LLM (when a campaign asks for it and the settings configure one)
sees the draft with the first name and unsubscribe link replaced by placeholders, through the model
door (`tools.llm.guard`), which hides any other personal detail: nothing else about the person (no
email, no resume) leaves the process, and the result is moderated like any draft.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from pydantic import BaseModel, Field

from agents.nurture.models import Signature

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "prompts" / "nurture"
NAME_SLOT = "[FIRST_NAME]"
LINK_SLOT = "[UNSUBSCRIBE_LINK]"
EVIDENCE_CHARS = 90


class SkillSlot(BaseModel):
    name: str
    evidence: str | None = Field(default=None, description="a verbatim resume quote")


class RoleSlot(BaseModel):
    job_id: int
    title: str
    score: int | None = None


class Draft(BaseModel):
    """One message for one person and step, as the reviewer sees and may edit it."""

    person_id: int
    name: str
    step: int
    template: str
    subject: str
    body: str
    role: RoleSlot | None = None
    skills: list[SkillSlot] = Field(default_factory=list)
    rewritten: bool = False
    moderation: dict[str, Any] = Field(default_factory=dict)


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    # Plain-text email: no HTML escaping; a missing slot is an error, never an empty gap.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
    )


def template_file(template_id: str) -> str:
    return f"{template_id}.j2"


def render(
    template_id: str,
    *,
    first_name: str,
    role: RoleSlot | None,
    skills: list[SkillSlot],
    signature: Signature,
    unsubscribe_url: str,
) -> tuple[str, str]:
    """(subject, body). Raises `jinja2.TemplateNotFound` for an unknown template id."""
    text = (
        _environment()
        .get_template(template_file(template_id))
        .render(
            first_name=first_name,
            role=role.model_dump() if role else None,
            skills=[s.model_dump() for s in skills[:2]],
            signature=signature.model_dump(),
            unsubscribe_url=unsubscribe_url,
        )
    )
    return split_message(text)


def split_message(text: str) -> tuple[str, str]:
    lines = text.strip("\n").splitlines()
    if not lines or not lines[0].startswith("Subject:"):
        raise ValueError("a nurture template starts with a 'Subject:' line")
    subject = lines[0].removeprefix("Subject:").strip()
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(lines[1:]).strip("\n")) + "\n"
    return subject, body


def template_exists(template_id: str) -> bool:
    return (TEMPLATE_DIR / template_file(template_id)).is_file()


def short_quote(text: str | None) -> str | None:
    if not text:
        return None
    quote = " ".join(text.split())
    return quote if len(quote) <= EVIDENCE_CHARS else quote[: EVIDENCE_CHARS - 1].rstrip() + "…"


REWRITE_PROMPT = (
    "You edit recruiting emails. Rewrite the email below to read warmer and more natural, in at most "
    "180 words. Keep the placeholders {name} and {link} exactly as written, keep the signature and "
    "the unsubscribe line, and do not add facts, promises, salaries, or anything about the reader's "
    "age, gender, ethnicity, religion, health, family or nationality. Answer with the email body only."
)


def rewrite(chat_model: Any, draft: Draft, *, first_name: str, unsubscribe_url: str) -> str:
    """The LLM's version of the body (placeholders restored). Raises ValueError when the answer
    dropped a placeholder: the template draft is then kept."""
    from tools.llm import guard, known_people

    masked = draft.body.replace(unsubscribe_url, LINK_SLOT)
    if first_name:
        masked = re.sub(rf"\b{re.escape(first_name)}\b", NAME_SLOT, masked)
    prompt = REWRITE_PROMPT.format(name=NAME_SLOT, link=LINK_SLOT)
    # The model door hides whatever else of the person the draft carries (surname, contact details
    # in a quoted resume line).
    with known_people(names=[first_name, draft.name]):
        answer = guard(chat_model).invoke([("system", prompt), ("user", masked)])
    text = str(getattr(answer, "content", answer)).strip()
    if LINK_SLOT not in text:
        raise ValueError("the rewrite dropped the unsubscribe link")
    return text.replace(NAME_SLOT, first_name).replace(LINK_SLOT, unsubscribe_url) + "\n"
