"""PII redaction of resume text before it can leave the process (an LLM call) or reach a record.

Removes what identifies or contacts a person: their names (from the iCIMS person record), email
addresses, phone numbers, web and profile links, street addresses and postal codes. Skills, titles,
employers, dates, city and state stay: scoring needs them and they do not identify anyone alone.
Each kind is replaced by a fixed token ("[EMAIL]"), so the text keeps its shape and quotes taken
from the redacted text stay verbatim in it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

REDACTOR_VERSION = "redact-1"

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_URL = re.compile(
    r"\b(?:https?://|www\.)\S+|\b(?:linkedin\.com|github\.com|twitter\.com|x\.com)/\S+", re.IGNORECASE
)
# 10+ digit numbers in the usual separators, with an optional country code ("+1 (555) 010-2030").
_PHONE = re.compile(r"(?<![\w.])(?:\+?\d{1,3}[\s.-]?)?(?:\(\d{3}\)|\d{3})[\s.-]?\d{3}[\s.-]?\d{4}(?![\w])")
_STREET = re.compile(
    r"\b\d{1,6}\s+(?:[A-Z][A-Za-z]+\.?\s+){1,4}"
    r"(?:St|Street|Ave|Avenue|Rd|Road|Blvd|Boulevard|Ln|Lane|Dr|Drive|Ct|Court|Way|Pl|Place|Ter|Terrace|"
    r"Pkwy|Parkway|Hwy|Highway|Cir|Circle)\b\.?(?:,?\s+(?:Apt|Suite|Unit|#)\s*\w+)?"
)
_ZIP = re.compile(r"(?<=\b[A-Z]{2}\s)\d{5}(?:-\d{4})?\b|\b\d{5}-\d{4}\b")
_SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")


@dataclass(frozen=True)
class Redacted:
    text: str
    counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def person_names(person: Mapping[str, Any] | None) -> list[str]:
    """The name parts of an iCIMS person record worth redacting (two letters or more)."""
    if not person:
        return []
    names: list[str] = []
    for key in ("firstname", "middlename", "lastname", "preferredname"):
        value = person.get(key)
        if isinstance(value, str):
            names.extend(part for part in re.split(r"[\s,]+", value.strip()) if len(part) >= 2)
    return list(dict.fromkeys(names))


def redact(text: str | None, *, names: Iterable[str] = ()) -> Redacted:
    """`text` with PII replaced by tokens, and how many of each kind were replaced."""
    if not text:
        return Redacted("", {})
    counts: Counter[str] = Counter()

    def sub(pattern: re.Pattern[str], token: str, value: str) -> str:
        out, n = pattern.subn(token, value)
        if n:
            counts[token.strip("[]").lower()] += n
        return out

    # Order matters: emails and links before phones (digits inside them), SSNs before phones.
    out = sub(_EMAIL, "[EMAIL]", text)
    out = sub(_URL, "[LINK]", out)
    out = sub(_SSN, "[ID]", out)
    out = sub(_PHONE, "[PHONE]", out)
    out = sub(_STREET, "[ADDRESS]", out)
    out = sub(_ZIP, "[ZIP]", out)
    # Names as written in the record and in capitals ("Will" the person, not "will" the verb).
    wanted = sorted({v for n in names if n for v in (n, n.upper(), n.capitalize())}, key=len, reverse=True)
    if wanted:
        pattern = re.compile(r"\b(?:" + "|".join(re.escape(n) for n in wanted) + r")\b")
        out = sub(pattern, "[NAME]", out)
    return Redacted(out, dict(counts))
