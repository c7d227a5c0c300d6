"""Industries a text names often enough to label a candidate's domain."""

from __future__ import annotations

import re

from agents.enrichment.text import evidence, sections
from agents.models import EvidenceSource, IndustryMention

# Industry -> keywords (lower case, matched as whole words). Small on purpose: a domain label for
# filtering and summaries, not a classifier.
INDUSTRIES: dict[str, tuple[str, ...]] = {
    "healthcare": (
        "hospital",
        "clinic",
        "clinical",
        "patient",
        "patients",
        "nursing",
        "medical center",
        "healthcare",
        "health care",
    ),
    "finance and banking": (
        "bank",
        "banking",
        "credit union",
        "financial services",
        "investment",
        "investments",
        "wealth management",
    ),
    "accounting": ("cpa firm", "accounting firm", "public accounting"),
    "insurance": ("insurance", "underwriting", "claims adjuster"),
    "retail": ("retail", "store", "stores", "merchandising", "e-commerce", "ecommerce"),
    "hospitality and food service": (
        "restaurant",
        "hotel",
        "catering",
        "culinary",
        "kitchen",
        "banquet",
        "hospitality",
    ),
    "education": (
        "school",
        "schools",
        "university",
        "college",
        "classroom",
        "students",
        "student",
        "curriculum",
    ),
    "technology": ("software", "saas", "cloud", "it services", "information technology", "tech startup"),
    "manufacturing": (
        "manufacturing",
        "manufacturer",
        "production line",
        "assembly line",
        "plant floor",
        "factory",
    ),
    "construction": ("construction", "contractor", "jobsite", "job site", "general contractor"),
    "government": (
        "federal",
        "county",
        "municipal",
        "state agency",
        "department of",
        "public sector",
        "government",
    ),
    "nonprofit": ("nonprofit", "non-profit", "charity", "charitable", "foundation", "ngo"),
    "logistics and transportation": (
        "warehouse",
        "logistics",
        "freight",
        "trucking",
        "shipping",
        "distribution center",
    ),
    "energy and utilities": ("oil and gas", "utility", "utilities", "energy", "solar", "power plant"),
    "telecommunications": ("telecom", "telecommunications", "wireless carrier"),
    "media and marketing": ("advertising agency", "marketing agency", "media", "publishing", "broadcasting"),
    "legal": ("law firm", "legal services", "litigation"),
    "real estate": ("real estate", "property management", "leasing office"),
    "pharma and biotech": (
        "pharmaceutical",
        "biotech",
        "biotechnology",
        "clinical trials",
        "clinical trial",
        "life sciences",
    ),
    "automotive": ("automotive", "dealership", "auto repair"),
    "aviation": ("aviation", "airline", "aircraft", "airport"),
    "military and defense": ("army", "navy", "air force", "marine corps", "military", "defense contractor"),
    "fitness and wellness": ("fitness", "gym", "wellness center"),
}
_INDUSTRY_KEYS: dict[tuple[str, ...], str] = {
    tuple(phrase.split()): name for name, phrases in INDUSTRIES.items() for phrase in phrases
}
_INDUSTRY_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def find_industries(text: str, source: EvidenceSource) -> list[IndustryMention]:
    """Up to three industries named at least twice outside the education section (where "university"
    says where someone studied, not where they worked)."""
    skip = [(line.start, line.end) for kind, line in sections(text) if kind == "education"]
    words = [(m.group(), m.start(), m.end()) for m in _INDUSTRY_WORD.finditer(text.casefold())]
    counts: dict[str, int] = {}
    first: dict[str, tuple[int, int]] = {}
    i = 0
    while i < len(words):
        step = 1
        for n in (3, 2, 1):
            if i + n > len(words):
                continue
            name = _INDUSTRY_KEYS.get(tuple(w for w, _s, _e in words[i : i + n]))
            if name is None:
                continue
            lo, hi = words[i][1], words[i + n - 1][2]
            if not any(a <= lo < b for a, b in skip):
                counts[name] = counts.get(name, 0) + 1
                first.setdefault(name, (lo, hi))
            step = n
            break
        i += step
    ranked = sorted((n for n in counts if counts[n] >= 2), key=lambda n: (-counts[n], first[n][0]))
    return [IndustryMention(industry=n, evidence=evidence(text, *first[n], source)) for n in ranked[:3]]
