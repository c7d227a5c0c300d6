"""Canonical skills named in free text, with the exact span of every mention.

The vocabulary is the packaged taxonomy (`tools.reference.skills()`): the technologies O*NET lists for
some occupation, ESCO digital skills, and multi-word ESCO transversal skills, plus two small curated
tables in `skill_vocabulary`: common abbreviations the taxonomy lacks ("JS", "k8s") and everyday domain
skills (accounting, nursing, teaching...) that a technology taxonomy does not cover but requisitions
ask for.

`tools.reference.SkillMatcher` answers "which labels", not "where"; evidence needs offsets and case
rules for short names ("R", "Go", "C", "Excel"), so the index is rebuilt here over the same tables.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from itertools import pairwise

from agents.enrichment.skill_vocabulary import (
    CONTEXT_ONLY,
    DOMAIN_SKILLS,
    EXACT_CASE,
    EXTRA_ALIASES,
    SHORT_ANY_CASE,
    STOP_NAMES,
)
from agents.enrichment.text import snippet_evidence
from agents.models import EvidenceSource, SkillMention
from tools.reference import skills as taxonomy
from tools.reference.tables import _tech_skills

# A token: word characters plus + and # (C++, C#), joined across dots (Node.js, ASP.NET), with a leading
# dot allowed (.NET). Hyphens and slashes split tokens so "Python-based" and "C/C++" still match.
_TOKEN = re.compile(r"(?:(?<![\w.])\.)?[\w+#]+(?:\.[\w+#]+)*")
_MAX_TOKENS = 6


@dataclass(frozen=True, slots=True)
class _Entry:
    label: str
    # None = case-insensitive; otherwise the exact spellings accepted for a single-token name.
    exact: frozenset[str] | None
    needs_context: bool


@dataclass(frozen=True, slots=True)
class SkillHit:
    label: str
    start: int
    end: int


def tokens(text: str) -> list[tuple[str, int, int]]:
    return [(m.group().casefold(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _key(name: str) -> tuple[str, ...]:
    return tuple(t for t, _s, _e in tokens(name))


def _acronym(name: str) -> bool:
    letters = [c for c in name if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters) and len(name) <= 6


class SkillIndex:
    """Token n-gram index from names (labels and aliases) to canonical labels, with case rules."""

    def __init__(
        self, entries: Iterable[tuple[str, str, Iterable[str]]], *, curated: Iterable[str] = ()
    ) -> None:
        """`entries`: (label, kind, aliases), best source first; earlier entries win on conflicts.
        `curated` aliases were chosen by hand: they keep their label even when another skill lists the
        same word (a taxonomy alias shared by two labels is otherwise dropped as ambiguous)."""
        chosen = {_key(alias) for alias in curated}
        self._index: dict[tuple[str, ...], _Entry] = {}
        self._kinds: dict[str, str] = {}
        self._names: dict[str, list[str]] = {}
        self._labels_cf: dict[str, str] = {}
        self._max = 1
        # First token -> longest name starting with it: most tokens start no name and are skipped at once.
        self._starts: dict[str, int] = {}
        pending: list[tuple[str, str, bool]] = []  # (name, label, is_label)
        alias_labels: dict[tuple[str, ...], set[str]] = {}
        for label, kind, aliases in entries:
            if label in self._kinds:
                continue
            self._kinds[label] = kind
            self._names[label] = [label]
            self._labels_cf.setdefault(label.casefold(), label)
            pending.append((label, label, True))
            for alias in aliases:
                pending.append((alias, label, False))
                alias_labels.setdefault(_key(alias), set()).add(label)
                self._names[label].append(alias)
        # Labels claim their own key first, so "SQL" is SQL even though some product lists "SQL" as alias.
        for name, label, is_label in sorted(pending, key=lambda p: not p[2]):
            key = _key(name)
            if not key or len(key) > _MAX_TOKENS or key in self._index:
                continue
            if len(key) == 1:
                if self._kinds[label] == "transversal":
                    continue  # one-word ESCO transversal names ("plan", "lead") are plain words
                ambiguous = key not in chosen and len(alias_labels.get(key, ())) > 1
                entry = self._single(name, key[0], label, is_label, ambiguous)
                if entry is None:
                    continue
            else:
                entry = _Entry(label, None, False)
            self._index[key] = entry
            self._max = max(self._max, len(key))
            self._starts[key[0]] = max(self._starts.get(key[0], 0), len(key))

    @staticmethod
    def _single(name: str, word: str, label: str, is_label: bool, ambiguous: bool) -> _Entry | None:
        word = word.lstrip(".")
        if word in STOP_NAMES or (not is_label and ambiguous):
            return None
        if word in CONTEXT_ONLY:
            return _Entry(label, frozenset({name}), True)
        if len(word) < 2:
            return None
        if word in EXACT_CASE or (len(word) <= 3 and word not in SHORT_ANY_CASE):
            return _Entry(label, frozenset({name, name.upper()}), False)
        if not is_label and _acronym(name) and len(word) <= 5:
            # Product-suffix acronyms ("HRIS", "CMMS") must be written in capitals.
            return _Entry(label, frozenset({name, name.upper()}), False)
        return _Entry(label, None, False)

    def kind(self, label: str) -> str | None:
        return self._kinds.get(label)

    def names(self, label: str) -> tuple[str, ...]:
        return tuple(self._names.get(label, ()))

    def labels(self) -> list[str]:
        return list(self._kinds)

    def canonical(self, name: str) -> str | None:
        """The taxonomy label for a skill name as a recruiter would type it (no case rules)."""
        name = name.strip()
        if not name:
            return None
        direct = self._labels_cf.get(name.casefold())
        if direct is not None:
            return direct
        entry = self._index.get(_key(name))
        if entry is not None:
            return entry.label
        return None

    def find(self, text: str) -> list[SkillHit]:
        """Every mention, in text order; the longest name wins at each position."""
        toks = tokens(text)
        hits: list[SkillHit] = []
        # Per hit: does it need list context, and can it vouch for a neighbour that does (only
        # unambiguous technology names can; "A/P, A/R, Payroll" is no programming list).
        needs_context: list[bool] = []
        vouches: list[bool] = []
        words = [t for t, _s, _e in toks]
        starts = self._starts
        i = 0
        while i < len(toks):
            step = 1
            longest = starts.get(words[i], 0)
            for n in range(min(longest, len(toks) - i), 0, -1):
                key = tuple(words[i : i + n])
                entry = self._index.get(key)
                if entry is None:
                    continue
                start, end = toks[i][1], toks[i + n - 1][2]
                if n > 1 and not _contiguous(text, toks[i : i + n]):
                    continue
                if entry.exact is not None and text[start:end] not in entry.exact:
                    continue
                hits.append(SkillHit(entry.label, start, end))
                needs_context.append(entry.needs_context)
                vouches.append(
                    not entry.needs_context and self._kinds[entry.label] in ("technology", "digital")
                )
                step = n
                break
            i += step
        if not any(needs_context):
            return hits
        keep = [not needs or _in_skill_list(text, hits, vouches, k) for k, needs in enumerate(needs_context)]
        return [h for h, ok in zip(hits, keep, strict=True) if ok]


def _contiguous(text: str, toks: list[tuple[str, int, int]]) -> bool:
    # Names span lines only in broken PDFs; across a newline they are usually two different items.
    return all("\n" not in text[a[2] : b[1]] and b[1] - a[2] <= 3 for a, b in pairwise(toks))


# What may separate two items of a list: a comma or slash (optionally followed by and/or), a bare
# and/or, or brackets ("MS Office (Word, Excel)").
_LIST_GAP = re.compile(
    r"\s*(?:[,;/|&•·]\s*(?:(?:and|or)\s+)?|\s(?:and|or)\s+|\s*\(\s*|\s*\)\s*,?\s*)", re.IGNORECASE
)
_LANGUAGE_CUE = re.compile(r"\s*(?:programming|language|languages|studio|scripts?|code)\b", re.IGNORECASE)


def _in_skill_list(text: str, hits: list[SkillHit], vouches: list[bool], k: int) -> bool:
    """A context-only name ("R", "C", "Go", "Access") counts when it sits in a run of list items
    ("C, C++, Java"; "Python, R and SQL") that holds at least one unambiguous technology, or is followed
    by a cue such as "programming"."""
    hit = hits[k]
    glued_before = hit.start > 0 and text[hit.start - 1] in "/&-"
    glued_after = hit.end < len(text) and text[hit.end] in "/&-"
    # "A/R", "R&D", "C&I", "Go-live": glued to a neighbour that is not itself a skill.
    if glued_before and not (k > 0 and hits[k - 1].end == hit.start - 1):
        return False
    if glued_after and not (k + 1 < len(hits) and hits[k + 1].start == hit.end + 1):
        return False
    if _LANGUAGE_CUE.match(text, hit.end):
        return True
    for direction in (-1, 1):
        j = k
        while 0 <= j + direction < len(hits):
            a, b = (hits[j + direction], hits[j]) if direction < 0 else (hits[j], hits[j + direction])
            if not _LIST_GAP.fullmatch(text, a.end, b.start):
                break
            j += direction
            if vouches[j]:
                return True
    return False


@cache
def skill_index() -> SkillIndex:
    table = taxonomy()
    occupation_tech = {t.label for values in _tech_skills().values() for t in values}

    def rank(label: str) -> int:
        skill = table[label]
        if skill.kind == "technology":
            return 0 if skill.hot else 1
        return 2 if skill.kind == "digital" else 3

    chosen = [
        s
        for s in table.values()
        if (s.kind == "technology" and (s.hot or s.label in occupation_tech)) or s.kind != "technology"
    ]
    chosen.sort(key=lambda s: (rank(s.label), s.label))
    extra: dict[str, list[str]] = {}
    for alias, label in EXTRA_ALIASES.items():
        if label in table:
            extra.setdefault(label, []).append(alias)
    entries: list[tuple[str, str, Iterable[str]]] = []
    for s in chosen:
        # Curated aliases go first so they win over the taxonomy's product-suffix aliases.
        entries.append((s.label, s.kind, (*extra.get(s.label, ()), *s.aliases)))
    for label, aliases in DOMAIN_SKILLS.items():
        entries.append((label, "domain", aliases))
    return SkillIndex(entries, curated=EXTRA_ALIASES)


def canonical_skill(name: str) -> str | None:
    """Taxonomy label for a skill name ("Postgres" -> "PostgreSQL"), None when unknown."""
    return skill_index().canonical(name)


def find_skills(text: str, source: EvidenceSource = "resume") -> list[SkillMention]:
    """One mention per canonical skill (its first), quoting the clause around it."""
    seen: set[str] = set()
    out: list[SkillMention] = []
    for hit in skill_index().find(text):
        if hit.label in seen:
            continue
        seen.add(hit.label)
        out.append(
            SkillMention(
                skill=hit.label,
                matched=text[hit.start : hit.end],
                evidence=snippet_evidence(text, hit.start, hit.end, source),
            )
        )
    return out


def term_pattern(term: str) -> re.Pattern[str] | None:
    """A word-bounded, case-insensitive pattern for a free-text criterion outside the taxonomy
    ("Patient care" also matches "patient-care" and "patient cares")."""
    words = [w for w in re.split(r"[\s\-/]+", term.strip()) if w]
    if not words:
        return None
    body = r"[\s\-/]+".join(re.escape(w) for w in words)
    return re.compile(rf"(?<![\w+#]){body}(?:s|es)?(?![\w+#])", re.IGNORECASE)


def find_term(text: str, term: str, *, hits: list[SkillHit] | None = None) -> SkillHit | None:
    """First mention of `term` in `text`: via the taxonomy (synonyms count) when it is a known skill,
    else as a literal phrase. `hits` = `skill_index().find(text)` when the caller already has it."""
    label = canonical_skill(term)
    if label is not None:
        for hit in skill_index().find(text) if hits is None else hits:
            if hit.label == label:
                return hit
        word = term.strip().casefold()
        if len(word) < 4 or word in CONTEXT_ONLY or word in STOP_NAMES:
            return None  # a literal search for "R" or "Go" would match prose
    pattern = term_pattern(term)
    if pattern is None:
        return None
    m = pattern.search(text)
    if m is None:
        return None
    return SkillHit(label or term, m.start(), m.end())
