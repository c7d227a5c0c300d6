"""Finding what identifies a person in text and records: the patterns, fixed-token redaction, and the
`Vault` that swaps personal data for numbered placeholders and back.

Two ways to hide personal data:

- `redact(text, names=...)` replaces each kind with a fixed token ("[EMAIL]", "[NAME]"). One way: what
  is redacted is gone, and the text keeps its shape, so quotes taken from it stay verbatim in it
  (triage stores and scores redacted resumes this way).
- `Vault` replaces each distinct value with a numbered placeholder ("[NAME_A]", "[EMAIL_B]",
  "[PERSON_A]" for a person id) and maps them back afterwards. The model door uses it: a model can
  still refer to "[NAME_A]" and "[PERSON_A]", and its answer is restored before the graph reads it.
  Placeholders carry letters, not digits, so no pattern here (phones, ids, figures) matches them again.

What counts as personal: names (known from the records involved, or from the name fields of
structured data), email addresses, phone numbers, web and profile links, street addresses, postal
codes, social-security-style ids and iCIMS person ids. Skills, titles, employers, dates, city and
state stay: they are what scoring and writing need, and do not identify anyone alone.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

REDACTOR_VERSION = "redact-1"

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
URL = re.compile(
    r"\b(?:https?://|www\.)\S+|\b(?:linkedin\.com|github\.com|twitter\.com|x\.com)/\S+", re.IGNORECASE
)
# 10+ digit numbers in the usual separators, with an optional country code ("+1 (555) 010-2030").
PHONE = re.compile(r"(?<![\w.])(?:\+?\d{1,3}[\s.-]?)?(?:\(\d{3}\)|\d{3})[\s.-]?\d{3}[\s.-]?\d{4}(?![\w])")
STREET = re.compile(
    r"\b\d{1,6}\s+(?:[A-Z][A-Za-z]+\.?\s+){1,4}"
    r"(?:St|Street|Ave|Avenue|Rd|Road|Blvd|Boulevard|Ln|Lane|Dr|Drive|Ct|Court|Way|Pl|Place|Ter|Terrace|"
    r"Pkwy|Parkway|Hwy|Highway|Cir|Circle)\b\.?(?:,?\s+(?:Apt|Suite|Unit|#)\s*\w+)?"
)
ZIP = re.compile(r"(?<=\b[A-Z]{2}\s)\d{5}(?:-\d{4})?\b|\b\d{5}-\d{4}\b")
SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")
# A number written as a person's id ("person 426", "candidate #426", "person_id: 426"), on one line
# (a "Profile" heading above "2019 - 2021" is not one).
PERSON_REF = re.compile(
    r"\b(?:person|people|candidate|applicant)s?(?:[ _-]?ids?)?[ \t]*(?:#|no\.?|number)?[ \t]*[:=]?[ \t]*"
    r"(\d{1,12})\b(?!\s*[-–]\s*\d)",
    re.IGNORECASE,
)

# Placeholder kinds, in the order free text is searched (emails and links before phones: digits
# inside them; ids before phones).
KINDS = ("EMAIL", "LINK", "ID", "PHONE", "ADDRESS", "ZIP", "NAME", "PERSON")
PLACEHOLDER = re.compile(r"\[(" + "|".join(KINDS) + r")_([A-Z]{1,3})\]")

# Keys of structured data (tool results, tool-call arguments, iCIMS-shaped records) whose values
# identify a person.
PERSON_ID_KEYS = frozenset(
    {
        "person_id",
        "personid",
        "person_ids",
        "exclude_person_ids",
        "excluded",
        "candidate_id",
        "associatedprofile",
    }
)
NAME_KEYS = frozenset(
    {
        "name", "firstname", "middlename", "lastname", "preferredname", "first_name", "last_name",
        "full_name", "display_name", "candidate_name", "owner", "owner_name",
    }
)  # fmt: skip
FIELD_KINDS: Mapping[str, str] = {
    "email": "EMAIL",
    "emailaddress": "EMAIL",
    "phone": "PHONE",
    "phonenumber": "PHONE",
    "address": "ADDRESS",
    "street": "ADDRESS",
    "addressstreet1": "ADDRESS",
    "addressstreet2": "ADDRESS",
    "zip": "ZIP",
    "addresszip": "ZIP",
    "postalcode": "ZIP",
}
# Words a name field may hold that are not a name ("Person 426" is the copilot's fallback).
_NOT_NAMES = frozenset({"person", "candidate", "unknown", "none", "null", "n/a", "mr", "mrs", "ms", "dr"})


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


def _name_pattern(names: Iterable[str], *, edge: str = r"\b") -> re.Pattern[str] | None:
    # Names as written in the record and in capitals ("Will" the person, not "will" the verb).
    wanted = sorted({v for n in names if n for v in (n, n.upper(), n.capitalize())}, key=len, reverse=True)
    if not wanted:
        return None
    before, after = (edge, edge) if edge == r"\b" else (r"(?<!\w)", r"(?!\w)")
    return re.compile(before + "(?:" + "|".join(re.escape(n) for n in wanted) + ")" + after)


def redact(text: str | None, *, names: Iterable[str] = ()) -> Redacted:
    """`text` with PII replaced by fixed tokens, and how many of each kind were replaced."""
    if not text:
        return Redacted("", {})
    counts: Counter[str] = Counter()

    def sub(pattern: re.Pattern[str], token: str, value: str) -> str:
        out, n = pattern.subn(token, value)
        if n:
            counts[token.strip("[]").lower()] += n
        return out

    out = sub(EMAIL, "[EMAIL]", text)
    out = sub(URL, "[LINK]", out)
    out = sub(SSN, "[ID]", out)
    out = sub(PHONE, "[PHONE]", out)
    out = sub(STREET, "[ADDRESS]", out)
    out = sub(ZIP, "[ZIP]", out)
    pattern = _name_pattern(names)
    if pattern is not None:
        out = sub(pattern, "[NAME]", out)
    return Redacted(out, dict(counts))


def _letters(n: int) -> str:
    """1 -> A, 26 -> Z, 27 -> AA: placeholder numbering without digits."""
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def _name_parts(name: str) -> list[str]:
    full = " ".join(name.split())
    parts = [p for p in re.split(r"[\s,]+", full) if len(p) >= 2]
    # A double-barrelled name is also written by halves ("Quagmire-Ostrowski", "Ostrowski").
    parts += [h for p in parts if "-" in p for h in p.split("-") if len(h) >= 2]
    keep = [p for p in parts if p.casefold().strip(".") not in _NOT_NAMES and not p.isdigit()]
    return list(dict.fromkeys([full, *keep] if " " in full and full.casefold() not in _NOT_NAMES else keep))


def _is_person_id(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, str) and value.isdigit()
    )


class Vault:
    """Placeholders for the personal data of one model call, and the way back.

    Learn what is known first (`learn_names`, `learn_record`, `learn_structure`), then `text` /
    `value` / `json_text` hide it (plus whatever the patterns find), and `restore*` put the originals
    back into the model's answer. The same value always gets the same placeholder within one vault."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str], str] = {}
        self._originals: dict[str, Any] = {}
        self._issued: Counter[str] = Counter()
        self.replaced: Counter[str] = Counter()  # kind -> occurrences hidden
        self.restored = 0
        self._names: set[str] = set()
        self._literals: dict[str, set[str]] = {}
        self._name_re: re.Pattern[str] | None = None
        self._literal_re: dict[str, re.Pattern[str]] = {}

    # -- what is known -------------------------------------------------------------------------------

    def learn_names(self, names: Iterable[str]) -> None:
        for name in names:
            if isinstance(name, str) and name.strip():
                self._names.update(_name_parts(name))
        self._name_re = None

    def learn(self, kind: str, value: Any) -> None:
        if kind == "NAME":
            self.learn_names([str(value)])
        elif isinstance(value, str) and len(value.strip()) >= 3:
            self._literals.setdefault(kind, set()).add(value.strip())
            self._literal_re.pop(kind, None)

    def learn_record(self, record: Mapping[str, Any] | None) -> None:
        """Names, email, phones and street address of an iCIMS person record."""
        if not record:
            return
        self.learn_names(person_names(record))
        full = " ".join(str(record.get(k) or "").strip() for k in ("firstname", "lastname")).strip()
        self.learn_names([full] if full else [])
        self.learn_structure(record)

    def learn_structure(self, data: Any, key: str | None = None) -> None:
        """Names and contact details found under the identifying keys of structured data."""
        if isinstance(data, Mapping):
            for k, v in data.items():
                self.learn_structure(v, str(k).lower())
        elif isinstance(data, list | tuple):
            for item in data:
                self.learn_structure(item, key)
        elif isinstance(data, str) and key is not None:
            if key in NAME_KEYS:
                self.learn_names([data])
            elif key in FIELD_KINDS:
                self.learn(FIELD_KINDS[key], data)

    def known(self) -> dict[str, list[str]]:
        """What this vault knows, to seed another (names and literal values by kind)."""
        return {"NAME": sorted(self._names), **{k: sorted(v) for k, v in self._literals.items()}}

    # -- hiding --------------------------------------------------------------------------------------

    def token(self, kind: str, original: Any) -> str:
        key = (kind, str(original))
        token = self._tokens.get(key)
        if token is None:
            self._issued[kind] += 1
            token = f"[{kind}_{_letters(self._issued[kind])}]"
            self._tokens[key] = token
            self._originals[token] = original
        self.replaced[kind] += 1
        return token

    def _sub(self, pattern: re.Pattern[str], kind: str, text: str) -> str:
        return pattern.sub(lambda m: self.token(kind, m.group(0)), text)

    def _literal(self, kind: str) -> re.Pattern[str] | None:
        values = self._literals.get(kind)
        if not values:
            return None
        if kind not in self._literal_re:
            alternatives = "|".join(re.escape(v) for v in sorted(values, key=len, reverse=True))
            self._literal_re[kind] = re.compile(r"(?<!\w)(?:" + alternatives + r")(?!\w)")
        return self._literal_re[kind]

    def text(self, text: str) -> str:
        """Free text with everything personal replaced by placeholders."""
        if not text:
            return text
        steps: list[tuple[str, re.Pattern[str] | None]] = [
            ("EMAIL", self._literal("EMAIL")),
            ("EMAIL", EMAIL),
            ("LINK", URL),
            ("ID", SSN),
            ("PHONE", self._literal("PHONE")),
            ("PHONE", PHONE),
            ("ADDRESS", self._literal("ADDRESS")),
            ("ADDRESS", STREET),
            ("ZIP", self._literal("ZIP")),
            ("ZIP", ZIP),
        ]
        out = text
        for kind, pattern in steps:
            if pattern is not None:
                out = self._sub(pattern, kind, out)
        if self._names and self._name_re is None:
            # Not `\b`: a name may start or end with a non-word character ("O'Neil Jr.").
            self._name_re = _name_pattern(self._names, edge="word")
        if self._name_re is not None:
            out = self._sub(self._name_re, "NAME", out)
        return PERSON_REF.sub(
            lambda m: m.group(0)[: m.start(1) - m.start(0)] + self.token("PERSON", int(m.group(1))), out
        )

    def value(self, data: Any, key: str | None = None) -> Any:
        """Structured data (a tool result, tool-call arguments) with identifying values replaced:
        person ids under id keys, whole values under name and contact keys, free text elsewhere."""
        if isinstance(data, Mapping):
            return {k: self.value(v, str(k).lower()) for k, v in data.items()}
        if isinstance(data, list | tuple):
            return [self.value(item, key) for item in data]
        if key in PERSON_ID_KEYS and _is_person_id(data):
            return self.token("PERSON", data)
        if isinstance(data, str):
            if key in FIELD_KINDS and data.strip():
                return self.token(FIELD_KINDS[key], data)
            return self.text(data)
        return data

    def json_text(self, text: str) -> str:
        """`text`, read as JSON when it is a JSON object or array (a tool result), else as free text."""
        parsed = _json_or_none(text)
        if parsed is None:
            return self.text(text)
        hidden = self.value(parsed)
        return text if hidden == parsed else json.dumps(hidden, ensure_ascii=False)

    # -- restoring -----------------------------------------------------------------------------------

    def _original(self, match: re.Match[str]) -> str:
        original = self._originals.get(match.group(0))
        if original is None:
            return match.group(0)
        self.restored += 1
        return str(original)

    def restore(self, text: str) -> str:
        if not text or "[" not in text:
            return text
        return PLACEHOLDER.sub(self._original, text)

    def restore_value(self, data: Any) -> Any:
        """Structured data with placeholders restored; a value that is one placeholder gets the
        original back with its type ("[PERSON_A]" -> 426)."""
        if isinstance(data, str):
            if data in self._originals:
                self.restored += 1
                return self._originals[data]
            return self.restore(data)
        if isinstance(data, Mapping):
            return {k: self.restore_value(v) for k, v in data.items()}
        if isinstance(data, list):
            return [self.restore_value(item) for item in data]
        if isinstance(data, tuple):
            return tuple(self.restore_value(item) for item in data)
        dump: Callable[..., Any] | None = getattr(data, "model_dump", None)
        if dump is not None and hasattr(type(data), "model_validate"):
            before = dump(mode="python")
            after = self.restore_value(before)
            return data if after == before else type(data).model_validate(after)
        return data

    def restore_json_text(self, text: str) -> str:
        """`text` restored; JSON keeps valid (typed originals, escaped strings)."""
        if not text or "[" not in text:
            return text
        parsed = _json_or_none(text)
        if parsed is None:
            return self.restore(text)
        restored = self.restore_value(parsed)
        return text if restored == parsed else json.dumps(restored, ensure_ascii=False)

    @property
    def issued(self) -> int:
        return len(self._originals)


def _json_or_none(text: str) -> Any:
    stripped = text.strip()
    if not stripped or stripped[0] not in "{[":
        return None
    try:
        return json.loads(stripped)
    except ValueError:
        return None
