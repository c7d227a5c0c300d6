"""Versioned text templates in this folder: `<name>.<version>.txt`, filled with `str.format`.

Every output that uses a template records `template.id` (e.g. "outreach_line.v1"), so a line a recruiter
sent can always be traced to the exact wording that produced it. Changing wording means adding a new
version file, never editing an old one.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

TEMPLATE_DIR = Path(__file__).resolve().parent
_VERSION = re.compile(r"^v\d+$")


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    version: str
    text: str

    @property
    def id(self) -> str:
        return f"{self.name}.{self.version}"

    @property
    def fields(self) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(self.text) if name}

    def render(self, **values: Any) -> str:
        """Fill every placeholder; a missing value raises KeyError rather than leaving "{x}" in a message."""
        missing = self.fields - values.keys()
        if missing:
            raise KeyError(f"{self.id} needs {', '.join(sorted(missing))}")
        return self.text.format(**values)


@lru_cache(maxsize=32)
def load_template(name: str, version: str = "v1") -> PromptTemplate:
    if not _VERSION.match(version) or not re.match(r"^[a-z0-9_]+$", name):
        raise ValueError(f"bad template name or version: {name!r} {version!r}")
    path = TEMPLATE_DIR / f"{name}.{version}.txt"
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return PromptTemplate(name=name, version=version, text="\n".join(lines).strip())
