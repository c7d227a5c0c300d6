"""`profile_source_text`: the fixed rendering of iCIMS person fields that `source="profile"` evidence quotes.

`render_fields` lays the structured fields (address, remote preference, work history, education) out as
labelled lines and remembers where each value landed, so the facts read from the fields can quote
their own rendering the way facts read from a resume quote the resume.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tools.settings import DEFAULT_FIELD_MAP


def field_value(node: Any) -> str | None:
    """Text of an iCIMS field value: plain strings, list nodes {id, value} or {abbrev, value}."""
    if node is None:
        return None
    if isinstance(node, Mapping):
        for key in ("value", "formattedvalue", "abbrev"):
            v = node.get(key)
            if isinstance(v, str) and v.strip():
                return v.strip()
        return None
    text = str(node).strip()
    return text or None


class _Builder:
    """Appends labelled lines and remembers where each value landed."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0

    def add(self, *pieces: str | None) -> list[tuple[int, int] | None]:
        """One line from alternating label/value pieces; returns the span of each piece."""
        spans: list[tuple[int, int] | None] = []
        for piece in pieces:
            if piece is None:
                spans.append(None)
                continue
            spans.append((self.pos, self.pos + len(piece)))
            self.parts.append(piece)
            self.pos += len(piece)
        self.parts.append("\n")
        self.pos += 1
        return spans

    def text(self) -> str:
        return "".join(self.parts)


@dataclass
class FieldFacts:
    """The rendering and, per fact, the span of `text` that shows it."""

    text: str
    work: list[tuple[dict[str, Any], tuple[int, int], tuple[int, int] | None]]  # entry, title span, line span
    education: list[tuple[dict[str, Any], tuple[int, int]]]
    address: tuple[str | None, str | None, str | None, tuple[int, int] | None]  # city, state, country, span
    remote: tuple[str, tuple[int, int]] | None


def render_fields(fields: Mapping[str, Any] | None, field_map: Mapping[str, str]) -> FieldFacts:
    """The fields' rendering; `field_map` is the complete tenant field map (defaults merged in)."""
    b = _Builder()
    work: list[tuple[dict[str, Any], tuple[int, int], tuple[int, int] | None]] = []
    education: list[tuple[dict[str, Any], tuple[int, int]]] = []
    address: tuple[str | None, str | None, str | None, tuple[int, int] | None] = (None, None, None, None)
    remote: tuple[str, tuple[int, int]] | None = None
    fields = fields or {}
    for entry in fields.get("addresses") or []:
        if not isinstance(entry, Mapping):
            continue
        city = field_value(entry.get("addresscity"))
        state_node = entry.get("addressstate")
        state = (
            field_value({"abbrev": state_node.get("abbrev")}) if isinstance(state_node, Mapping) else None
        ) or field_value(state_node)
        country_node = entry.get("addresscountry")
        country = (
            field_value({"abbrev": country_node.get("abbrev")}) if isinstance(country_node, Mapping) else None
        ) or field_value(country_node)
        if not (city or state):
            continue
        place = ", ".join(p for p in (city, state) if p)
        spans = b.add("Address: ", place, " " + country if country else None)
        address = (city, state, country, spans[1])
        break
    remote_field = field_map.get("remote_preference", DEFAULT_FIELD_MAP["remote_preference"])
    pref = field_value(fields.get(remote_field))
    if pref:
        spans = b.add("Remote preference: ", pref)
        assert spans[1] is not None
        remote = (pref, spans[1])
    for entry in fields.get("workexperience") or []:
        if not isinstance(entry, Mapping):
            continue
        title = field_value(entry.get("worktitle"))
        if not title:
            continue
        employer = field_value(entry.get("workemployer"))
        start = field_value(entry.get("workstartdate")) or "?"
        end = field_value(entry.get("workenddate")) or "present"
        spans = b.add("Work: ", title, " | " + employer if employer else None, f" | {start} - {end}")
        assert spans[1] is not None
        line_start = spans[0][0] if spans[0] else spans[1][0]
        line_end = spans[3][1] if spans[3] else spans[1][1]
        work.append((dict(entry), spans[1], (line_start, line_end)))
        description = field_value(entry.get("workdescription"))
        if description:
            b.add("  ", description.replace("\n", " "))
    for entry in fields.get("education") or []:
        if not isinstance(entry, Mapping):
            continue
        degree = field_value(entry.get("degree"))
        if not degree:
            continue
        major = field_value(entry.get("major"))
        school = field_value(entry.get("school"))
        grad = field_value(entry.get("graduationdate"))
        spans = b.add(
            "Education: ",
            degree,
            ", " + major if major else None,
            " | " + school if school else None,
            " | " + grad if grad else None,
        )
        assert spans[1] is not None
        end = next(s for s in reversed(spans) if s is not None)[1]
        education.append((dict(entry), (spans[1][0], end)))
    return FieldFacts(b.text(), work, education, address, remote)


def profile_source_text(fields: Mapping[str, Any] | None, field_map: Mapping[str, str] | None = None) -> str:
    """The deterministic text rendering of iCIMS person fields that `source="profile"` evidence quotes."""
    return render_fields(fields, {**DEFAULT_FIELD_MAP, **(field_map or {})}).text
