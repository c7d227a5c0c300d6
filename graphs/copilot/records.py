"""Reading mirrored iCIMS person records the way the copilot shows them (names, titles, places),
and service answers as plain JSON data."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, is_dataclass
from typing import Any

from pydantic import BaseModel


def display_name(person: Mapping[str, Any], pid: int) -> str:
    name = " ".join(str(person.get(k) or "").strip() for k in ("firstname", "lastname")).strip()
    return name or f"Person {pid}"


def titles(person: Mapping[str, Any]) -> list[str]:
    """Work titles, the current / latest role first."""
    roles = [r for r in person.get("workexperience") or [] if isinstance(r, Mapping) and r.get("worktitle")]
    roles.sort(key=lambda r: (r.get("workenddate") is None, str(r.get("workstartdate") or "")), reverse=True)
    return [str(r["worktitle"]) for r in roles]


def location(person: Mapping[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(city, state abbreviation, state name) of the first address."""
    for address in person.get("addresses") or []:
        if not isinstance(address, Mapping):
            continue
        state = address.get("addressstate") if isinstance(address.get("addressstate"), Mapping) else {}
        return (
            str(address.get("addresscity") or "") or None,
            str(state.get("abbrev") or "") or None,
            str(state.get("value") or "") or None,
        )
    return None, None, None


def location_matches(wanted: str, person: Mapping[str, Any]) -> bool:
    city, abbrev, state_name = location(person)
    parts = [p.strip().lower() for p in re.split(r",", wanted) if p.strip()]
    if not parts:
        return True
    have = {x.lower() for x in (city, abbrev, state_name) if x}
    return all(p in have or (city is not None and p == city.lower()) for p in parts)


def singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    return [singular(w) for w in re.findall(r"[a-z0-9+#]+", text.lower())]


def jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if is_dataclass(value) and not isinstance(value, type):
        return jsonable(asdict(value))
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
