"""How related two O*NET-SOC occupations are: the code hierarchy, refined by the tools they share."""

from __future__ import annotations

from collections import Counter
from functools import cache

from tools.reference import tech_skills

# Codes whose minor group mixes unrelated work (management, business operations, health diagnosing):
# the eval labels require the broad group there, and so do we.
_HETEROGENEOUS_MINORS = frozenset({"11-3", "11-9", "13-1", "29-1"})


@cache
def _distinctive_tools() -> dict[str, frozenset[str]]:
    """Per occupation, the technologies it lists minus those most occupations list (office suites)."""
    from tools.reference.tables import _tech_skills

    table = _tech_skills()
    counts = Counter(label for values in table.values() for label in {t.label for t in values})
    common = {label for label, n in counts.items() if n > 0.08 * len(table)}
    return {
        code: frozenset(t.label for t in values if t.label not in common) for code, values in table.items()
    }


def tool_overlap(a: str, b: str) -> float:
    """Jaccard overlap of two occupations' distinctive technologies."""
    tools = _distinctive_tools()
    x, y = tools.get(a, frozenset()), tools.get(b, frozenset())
    if not x or not y:
        return 0.0
    return len(x & y) / len(x | y)


def occupation_similarity(a: str | None, b: str | None) -> tuple[float, str]:
    """How close two O*NET-SOC codes are, 0..1, with the relation in words."""
    if not a or not b:
        return 0.0, "unknown occupation"
    if a == b:
        return 1.0, "same occupation"
    if a[:7] == b[:7]:
        return 0.9, "same detailed occupation"
    if a[:6] == b[:6]:
        return 0.75, "same occupation group"
    if a[:4] == b[:4] and a[:4] not in _HETEROGENEOUS_MINORS:
        return 0.55, "same occupation family"
    if tool_overlap(a, b) >= 0.3:
        return 0.45, "related occupation (shared tools)"
    if a[:4] == b[:4]:
        return 0.35, "same broad field"
    if a[:2] == b[:2]:
        return 0.2, "same major group"
    return 0.0, "different occupation"


def tech_labels(code: str | None) -> tuple[str, ...]:
    """The technologies O*NET lists for an occupation."""
    return tuple(t.label for t in tech_skills(code)) if code else ()
