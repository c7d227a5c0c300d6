"""Job title -> O*NET-SOC occupations, for the structured filter and boost.

The reference `title_index` keys are O*NET's own spellings ("Registered Nurses", "Cooks, Private
Household", reported titles such as "Recruiter"). Real titles are noisier: "Registered Nurse
(RN-CA02-007)", "Entry Level Customer Service Representative (Remote)", "HR SPECIALIST", "Account
Manager-Sales". So the index is widened once (singular forms, "A and B" split, "X, Y" -> "Y X") and a
title is cleaned (parentheses, work-pattern words, seniority words, abbreviations) and then looked up
whole, then by segment, then by its longest known word span, then by its head noun, with confidence
falling at each step. Seniority words are returned separately: they are a signal of their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from tools.reference.tables import normalise_title, occupations, title_index

_ABBREVIATIONS = {
    "hr": "human resources",
    "it": "information technology",
    "rn": "registered nurse",
    "lpn": "licensed practical nurse",
    "cna": "nursing assistant",
    "vp": "vice president",
    "svp": "vice president",
    "evp": "vice president",
    "avp": "vice president",
    "qa": "quality assurance",
    "mgr": "manager",
    "asst": "assistant",
    "assoc": "associate",
    "admin": "administrative",
    "acct": "account",
    "dev": "developer",
    "eng": "engineer",
    "engr": "engineer",
    "pr": "public relations",
    "bd": "business development",
    "cfo": "chief financial officer",
    "ceo": "chief executive",
    "cto": "chief technology officer",
    "coo": "chief operating officer",
    "cpa": "accountant",
    "sde": "software developer",
    "swe": "software engineer",
    "ml": "machine learning",
    "ai": "artificial intelligence",
    "ui": "user interface",
    "ux": "user experience",
    "dba": "database administrator",
    "sr": "senior",
    "jr": "junior",
}

# Words that say how or where the job is done, not what it is.
_NOISE = frozenset(
    [
        "remote",
        "hybrid",
        "onsite",
        "on",
        "site",
        "full",
        "part",
        "time",
        "fulltime",
        "parttime",
        "temporary",
        "temp",
        "contract",
        "contractor",
        "permanent",
        "night",
        "nights",
        "day",
        "days",
        "weekend",
        "weekends",
        "shift",
        "evening",
        "evenings",
        "us",
        "usa",
        "uk",
        "india",
        "new",
        "immediate",
        "hiring",
        "urgent",
        "opening",
        "opportunity",
        "position",
        "role",
        "job",
        "m",
        "f",
        "w",
        "d",
    ]
)
SENIORITY_WORDS = {
    "intern": "entry",
    "internship": "entry",
    "trainee": "entry",
    "apprentice": "entry",
    "graduate": "entry",
    "junior": "entry",
    "i": "entry",
    "ii": "mid",
    "iii": "senior",
    "iv": "senior",
    "senior": "senior",
    "experienced": "senior",
    "lead": "lead",
    "principal": "lead",
    "head": "lead",
    "chief": "executive",
    "director": "lead",
    "vice": "executive",
    "president": "executive",
    "executive": "executive",
}
# Removed before lookup: they change the level, not the occupation ("Senior Accountant" is an accountant).
_STRIP_LEVEL = frozenset({"intern", "trainee", "junior", "senior", "i", "ii", "iii", "iv"})
# Heads too generic to name an occupation on their own ("Relationship Manager" is not "Managers, All Other").
_GENERIC_HEADS = frozenset(
    [
        "manager",
        "director",
        "specialist",
        "associate",
        "assistant",
        "engineer",
        "analyst",
        "consultant",
        "coordinator",
        "officer",
        "representative",
        "executive",
        "administrator",
        "worker",
        "technician",
        "agent",
        "supervisor",
        "lead",
        "partner",
        "member",
        "professional",
        "expert",
        "advisor",
        "generalist",
        "owner",
        "president",
        "head",
        "staff",
        "team",
        "summary",
        "profile",
    ]
)
_SEGMENT_SPLIT = re.compile(r"\s+[-–—]\s+|[,/|;:&]|\s+at\s+|\s+for\s+")
_PARENS = re.compile(r"\([^)]*\)|\[[^\]]*\]")


@dataclass(frozen=True, slots=True)
class OccupationMatch:
    codes: tuple[str, ...]
    confidence: float  # 1.0 exact title ... 0.5 head noun; 0 when nothing matched
    matched: str  # the normalised phrase that matched
    seniority: str | None  # entry | mid | senior | lead | executive, from level words in the title


NO_MATCH = OccupationMatch(codes=(), confidence=0.0, matched="", seniority=None)


def _singular(word: str) -> str:
    if len(word) <= 3 or word.endswith(("ss", "us", "is", "ics", "sales", "relations", "operations")):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def _singular_phrase(phrase: str) -> str:
    words = phrase.split()
    return " ".join([*words[:-1], _singular(words[-1])]) if words else phrase


@cache
def occupation_index() -> dict[str, tuple[str, ...]]:
    """The reference title index, widened with singular, split and reordered forms of each title."""
    index: dict[str, list[str]] = {}

    def add(key: str, codes: tuple[str, ...]) -> None:
        key = " ".join(key.split())
        if not key:
            return
        bucket = index.setdefault(key, [])
        for code in codes:
            if code not in bucket:
                bucket.append(code)

    for key, codes in title_index().items():
        variants = {key}
        # "cooks private household" came from "Cooks, Private Household": the comma is gone after
        # normalisation, so rebuild the reordered form from the occupation titles below instead.
        for variant in list(variants):
            for part in re.split(r"\s+and\s+", variant):
                variants.add(part)
        for variant in variants:
            add(variant, codes)
            add(_singular_phrase(variant), codes)
    for code, occupation in occupations().items():
        head, _, qualifier = occupation.title.partition(",")
        for part in re.split(r"\s+and\s+|\s*/\s*", head):
            base = _singular_phrase(normalise_title(part))
            add(base, (code,))
            if qualifier and "except" not in qualifier.casefold() and "all other" not in qualifier.casefold():
                add(f"{normalise_title(qualifier)} {base}", (code,))
    return {key: tuple(codes) for key, codes in index.items()}


def _clean_words(segment: str) -> tuple[list[str], str | None]:
    words: list[str] = []
    level: str | None = None
    phrase = normalise_title(segment)
    # "Entry" is a level only in "entry level"; "data entry" is an occupation.
    phrase = re.sub(r"\bentry level\b", "entrylevel", phrase)
    # "director of finance" -> "finance director": O*NET titles put the head noun last.
    left, sep, right = phrase.partition(" of ")
    if sep and left and right:
        phrase = f"{right} {left}"
    for word in phrase.split():
        if word == "entrylevel":
            level = level or "entry"
            continue
        word = _ABBREVIATIONS.get(word, word)
        for part in word.split():
            if part in SENIORITY_WORDS and level is None:
                level = SENIORITY_WORDS[part]
            if part in _NOISE or part in _STRIP_LEVEL or part.isdigit():
                continue
            words.append(part)
    return words, level


def _lookup(words: list[str]) -> tuple[str, ...]:
    index = occupation_index()
    phrase = " ".join(words)
    if not phrase or (len(words) == 1 and _singular(words[0]) in _GENERIC_HEADS):
        return ()
    return index.get(phrase) or index.get(_singular_phrase(phrase)) or ()


@cache
def match_title(title: str) -> OccupationMatch:
    """Best-effort occupation codes for a job title or resume headline (cached: titles repeat a lot)."""
    if not title or not title.strip():
        return NO_MATCH
    text = _PARENS.sub(" ", title)
    segments = [s for s in _SEGMENT_SPLIT.split(text) if s.strip()] or [text]
    cleaned = [_clean_words(s) for s in segments]
    level = next((lv for _, lv in cleaned if lv), None)
    whole = [w for words, _ in cleaned for w in words]

    codes = _lookup(whole)
    if codes:
        return OccupationMatch(codes, 1.0, " ".join(whole), level)
    for words, _ in cleaned:
        codes = _lookup(words)
        if codes:
            return OccupationMatch(codes, 0.9, " ".join(words), level)
    # Longest known span of words, preferring spans that end a segment (English titles are head-final).
    best: tuple[float, str, tuple[str, ...]] | None = None
    for words, _ in cleaned:
        n = len(words)
        for size in range(min(n, 5), 1, -1):
            for start in range(n - size, -1, -1):
                span = words[start : start + size]
                codes = _lookup(span)
                if codes:
                    conf = 0.6 + 0.3 * size / n - (0.05 if start + size < n else 0.0)
                    if best is None or conf > best[0]:
                        best = (conf, " ".join(span), codes)
        if best is not None:
            break
    if best is not None:
        return OccupationMatch(best[2], round(best[0], 3), best[1], level)
    for words, _ in cleaned:
        if words and _singular(words[-1]) not in _GENERIC_HEADS:
            codes = _lookup(words[-1:])
            if codes:
                return OccupationMatch(codes, 0.7, words[-1], level)
    return OccupationMatch((), 0.0, "", level)


def code_similarity(a: str, b: str) -> float:
    """1 same detailed occupation, 0.75 same broad group, 0.5 same minor group, 0.15 same major group."""
    if a[:7] == b[:7]:
        return 1.0
    if a[:6] == b[:6]:
        return 0.75
    if a[:4] == b[:4]:
        return 0.5
    if a[:2] == b[:2]:
        return 0.15
    return 0.0


def occupation_similarity(query: OccupationMatch, doc: OccupationMatch) -> float:
    """Best code pair, discounted by both matches' confidence and by how ambiguous each title is."""
    if not query.codes or not doc.codes:
        return 0.0
    best = max(code_similarity(a, b) for a in query.codes for b in doc.codes)
    # A title that maps to many codes ("teacher": a dozen postsecondary subjects) is weaker evidence.
    ambiguity = 1.0 / (1.0 + 0.1 * (len(query.codes) - 1)) / (1.0 + 0.1 * (len(doc.codes) - 1))
    return best * query.confidence * doc.confidence * ambiguity
