"""Seniority tiers: the level a job title states ("Senior", "Lead", "VP of"), or the years suggest."""

from __future__ import annotations

import re

from agents.models import Seniority

_TIER_PATTERNS: tuple[tuple[Seniority, re.Pattern[str]], ...] = (
    (
        "executive",
        re.compile(
            r"\b(?:chief|ceo|cfo|coo|cto|cio|cmo|president|vice[\s-]+president|s?vp|evp|avp|head\s+of|"
            r"director|managing\s+partner|founder|co-founder|owner)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "lead",
        re.compile(
            r"\b(?:lead|principal|staff\s+(?:engineer|developer|scientist)|manager|mgr|supervisor|"
            r"superintendent|team\s+leader|foreman|architect)\b",
            re.IGNORECASE,
        ),
    ),
    ("senior", re.compile(r"\b(?:senior|sr\.?|snr|experienced|iii|iv)(?=\s|$|,|\.)", re.IGNORECASE)),
    (
        "entry",
        re.compile(
            r"\b(?:junior|jr\.?|entry[\s-]+level|trainee|intern(?:ship)?|apprentice|graduate|assistant|"
            r"aide|helper|student)\b",
            re.IGNORECASE,
        ),
    ),
)
TIER_ORDER: tuple[Seniority, ...] = ("entry", "mid", "senior", "lead", "executive")


def tier_from_title(title: str) -> tuple[Seniority, int, int] | None:
    """The seniority a title states and the span of the word that says so."""
    for tier, pattern in _TIER_PATTERNS:
        m = pattern.search(title)
        if m is not None:
            if tier == "entry" and re.search(r"\bassistant\s+(?:manager|director|principal)", title, re.I):
                return "lead", m.start(), m.end()
            return tier, m.start(), m.end()
    return None


def tier_from_years(years: float) -> Seniority:
    """The seniority years of experience suggest when no title says it."""
    if years < 2:
        return "entry"
    if years < 5:
        return "mid"
    return "senior"
