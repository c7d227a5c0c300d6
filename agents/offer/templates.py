"""The offer templates on disk: `prompts/offer/` holds the letter (`letter.<version>.html.j2`), the
clause library (`clauses.<version>.yaml`) and the counter-offer replies (`replies.<version>.yaml`)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import jinja2

PROMPT_DIR = Path(__file__).resolve().parents[2] / "prompts" / "offer"
DEFAULT_VERSION = "v1"
_VERSION = re.compile(r"^v\d+$")


def check_version(version: str) -> None:
    """Refuse a template version that is not `v<n>` (it becomes part of a file name)."""
    if not _VERSION.match(version):
        raise ValueError(f"bad template version {version!r}")


@cache
def letter_env() -> jinja2.Environment:
    """The HTML letter templates, autoescaped; a missing variable is an error."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(PROMPT_DIR),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


@cache
def clause_env() -> jinja2.Environment:
    """Plain-text rendering of one clause's wording."""
    return jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined)
