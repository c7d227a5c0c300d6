"""Job titles -> O*NET-SOC occupations.

The lookup follows the recipe the eval labels were made with (see the eval README): normalise the title
(lower case, expand abbreviations such as HR/IT/VP/RN, singularise, strip seniority and level words,
"director of X" -> "X director"), look it up among O*NET occupation and alternate titles, then try title
segments, then the head noun. Generic titles ("Manager", "Consultant") stay unknown on purpose.
The words it knows are in `title_vocabulary`; seniority tiers (`seniority`) and how related two
occupations are (`relatedness`) are importable from here too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from agents.enrichment.relatedness import occupation_similarity, tech_labels, tool_overlap
from agents.enrichment.seniority import TIER_ORDER, tier_from_title, tier_from_years
from agents.enrichment.title_vocabulary import (
    ABBREVIATIONS,
    ADMIN_HEAD,
    ADMIN_TAIL,
    EXTRA_TITLES,
    GENERIC_HEADS,
    LEVEL_WORDS,
    MANAGER_AREAS,
    MANAGER_HEADS,
    NOT_PLURAL,
)
from tools.reference import normalise_title, occupations, title_index, titles, wages


def _singular(word: str) -> str:
    if word in NOT_PLURAL or len(word) <= 3 or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def _words(text: str) -> list[str]:
    text = text.casefold().replace("&", " and ")
    text = re.sub(r"\([^)]*\)", " ", text)
    raw = re.findall(r"[\w+#]+", text)
    out: list[str] = []
    for k, word in enumerate(raw):
        if word == "admin":
            out.append(ADMIN_TAIL if k == len(raw) - 1 else ADMIN_HEAD)
        else:
            out.extend(ABBREVIATIONS.get(word, word).split())
    return out


def title_key(title: str) -> str:
    """Normalised lookup key: lower case, abbreviations expanded, parentheses dropped, head noun singular."""
    words = _words(title)
    if words:
        words[-1] = _singular(words[-1])
    return " ".join(words)


def _strip_level(words: list[str]) -> list[str]:
    kept = [w for w in words if w not in LEVEL_WORDS]
    return kept or words


@dataclass(frozen=True, slots=True)
class TitleMatch:
    code: str
    title: str  # the occupation title
    confidence: float
    method: str  # exact, level-stripped, reordered, segment, head-noun


def _employment(code: str) -> int:
    wage = wages(code)
    return wage.employment or 0 if wage else 0


@cache
def _index() -> dict[str, tuple[int, str]]:
    """title key -> (rank, code); rank 0 = the occupation's own title, then its alternates by commonness.

    Alternate-title ranks are per occupation, so among occupations sharing a title the one employing
    more people wins a tie ("Teacher" is more often an elementary than a preschool teacher)."""
    index: dict[str, tuple[int, str]] = {}
    order: dict[str, tuple[int, int, str]] = {}

    def add(key: str, rank: int, code: str) -> None:
        if not key:
            return
        candidate = (rank, -_employment(code), code)
        if key not in order or candidate < order[key]:
            order[key] = candidate
            index[key] = (rank, code)

    for title, code in EXTRA_TITLES.items():
        add(title_key(title), -1, code)

    for code, occupation in occupations().items():
        title = re.split(r",\s*(?:except|all other)\b", occupation.title, flags=re.IGNORECASE)[0]
        add(title_key(title), 0, code)
        # "Accountants and Auditors" also answers to "accountant" and "auditor".
        parts = [p.strip() for p in re.split(r",?\s+and\s+|,\s*", title)]
        if len(parts) > 1 and all(p.endswith("s") and len(p.split()) <= 3 for p in parts if p):
            for part in parts:
                add(title_key(part), 1, code)
    for code, values in titles().items():
        for rank, title in enumerate(values, start=1):
            add(title_key(title), rank, code)
            # The bracket often spells the abbreviation out: "Oncology RN (Oncology Registered Nurse)".
            for inner in re.findall(r"\(([^)]*)\)", title):
                if len(inner.split()) >= 2:
                    add(title_key(inner), rank, code)
    return index


def _lookup(words: list[str]) -> tuple[int, str] | None:
    if not words:
        return None
    words = [*words[:-1], _singular(words[-1])]
    return _index().get(" ".join(words))


def _variants(words: list[str]) -> list[tuple[list[str], str, float]]:
    out: list[tuple[list[str], str, float]] = [(words, "exact", 1.0)]
    stripped = _strip_level(words)
    if stripped != words:
        out.append((stripped, "level-stripped", 0.95))
    # "director of finance" -> "finance director"; "manager, operations" arrives as segments.
    for base in (words, stripped):
        if "of" in base[1:-1]:
            k = base.index("of")
            out.append(([*base[k + 1 :], *base[:k]], "reordered", 0.9))
        if "for" in base[1:-1]:
            k = base.index("for")
            out.append(([*base[k + 1 :], *base[:k]], "reordered", 0.85))
    return out


def _manager_area(words: list[str]) -> str | None:
    text = " ".join(words)
    for head in MANAGER_HEADS:
        if text.endswith(" " + head):
            area = text[: -len(head) - 1]
        elif text.startswith(head + " of "):
            area = text[len(head) + 4 :]
        elif text.startswith(head + " "):  # "Director, Human Resources"
            area = text[len(head) + 1 :]
        else:
            continue
        area = area.removeprefix("the ").strip()
        for key in (area, area.split()[-1] if area else ""):
            if key in MANAGER_AREAS:
                return MANAGER_AREAS[key]
    return None


_SEGMENT_SPLIT = re.compile(r"\s+[-–—|]\s+|\s*[,/|;]\s*|\s+at\s+|\s*\(\s*|\)\s*", re.IGNORECASE)


def map_title(title: str | None) -> TitleMatch | None:
    """The O*NET-SOC occupation a job title names, or None when it is too generic or unknown."""
    if not title or not title.strip():
        return None
    occ = occupations()
    full = _words(title)
    if not full or len(full) > 14:
        return None

    def found(hit: tuple[int, str], method: str, confidence: float) -> TitleMatch:
        return TitleMatch(hit[1], occ[hit[1]].title, round(confidence, 3), method)

    if len(full) == 1 and _singular(full[0]) in GENERIC_HEADS:
        return None  # "Manager", "Consultant": no occupation
    for words, method, confidence in _variants(full):
        hit = _lookup(words)
        if hit is not None:
            return found(hit, method, confidence)
    # The packaged title index keys titles with their brackets ("registered nurse rn"); try it as is.
    listed = title_index().get(normalise_title(title))
    if listed:
        best = max(listed, key=_employment)
        return found((0, best), "title-index", 0.95)
    area = _manager_area(_strip_level(full))
    if area is not None:
        return found((0, area), "area-manager", 0.8)
    segments = [s for s in _SEGMENT_SPLIT.split(title) if s and s.strip()]
    if len(segments) > 1:
        for segment in segments:
            seg_words = _words(segment)
            for words, _method, confidence in _variants(seg_words):
                hit = _lookup(words)
                if hit is not None and not (len(words) == 1 and words[0] in GENERIC_HEADS):
                    return found(hit, "segment", 0.85 * confidence)
    # Head noun: drop leading modifiers one at a time ("bilingual domestic violence advocate" -> "advocate").
    for segment in segments or [title]:
        words = _strip_level(_words(segment))
        for n in range(len(words) - 1, 0, -1):
            tail = words[len(words) - n :]
            if n == 1 and _singular(tail[0]) in GENERIC_HEADS:
                break
            hit = _lookup(tail)
            if hit is not None:
                return found(hit, "head-noun", 0.75 if n > 1 else 0.65)
    return None


__all__ = [
    "EXTRA_TITLES",
    "TIER_ORDER",
    "TitleMatch",
    "map_title",
    "occupation_similarity",
    "tech_labels",
    "tier_from_title",
    "tier_from_years",
    "title_key",
    "tool_overlap",
]
