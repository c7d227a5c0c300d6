"""Where a candidate is and how they want to work: iCIMS address fields first, the resume header after.

Also the vocabulary requisitions share: US state codes and the remote / hybrid / on-site modes.
"""

from __future__ import annotations

import re

from agents.enrichment.fields import FieldFacts
from agents.enrichment.text import evidence, lines, word_set
from agents.models import Location, RemoteMode

US_STATES = word_set(
    """AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY
    NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR"""
)

_CONTACT_PLACE = re.compile(
    r"\b(?P<city>[A-Z][A-Za-z.'-]+(?:[ \t]+[A-Z][A-Za-z.'-]+){0,3}),[ \t]*(?P<state>[A-Z]{2})\b"
    r"(?:[ \t]+\d{5}(?:-\d{4})?)?"
)
_REMOTE_TEXT = re.compile(
    r"\b(?:open\s+to|seeking|prefers?|preferred|preference\s+for|looking\s+for|available\s+for|interested\s+in)"
    r"\s+(?:a\s+|an\s+)?(?:fully\s+|100%\s+)?(?P<mode>remote|hybrid|on-?site|in-office|in\s+office)\b",
    re.IGNORECASE,
)
# The contact block: a city and state further down is usually an employer's.
_HEADER_LINES = 12


def remote_mode(value: str) -> RemoteMode | None:
    """ "Remote", "Hybrid" or "On-site" for the ways people and tenants write them, else None."""
    v = value.casefold().replace("-", "").replace(" ", "")
    if v.startswith("remote"):
        return "Remote"
    if v.startswith("hybrid"):
        return "Hybrid"
    if v in ("onsite", "inoffice", "office", "onpremises"):
        return "On-site"
    return None


def candidate_location(text: str, facts: FieldFacts) -> Location:
    """The place and remote preference, each with its evidence: the iCIMS fields are authoritative,
    the resume header and a stated preference in the resume fill in."""
    ptext = facts.text
    location = Location()
    city, state, country, place_span = facts.address
    if place_span is not None:
        location = Location(
            city=city,
            state=state,
            country=country,
            evidence=evidence(ptext, place_span[0], place_span[1], "profile"),
        )
    else:
        all_lines = lines(text)
        header_end = all_lines[_HEADER_LINES].start if len(all_lines) > _HEADER_LINES else len(text)
        for m in _CONTACT_PLACE.finditer(text, 0, header_end):
            if m.group("state") in US_STATES:
                location = Location(
                    city=m.group("city"),
                    state=m.group("state"),
                    country="US",
                    evidence=evidence(text, m.start(), m.end(), "resume"),
                )
                break
    if facts.remote is not None:
        mode = remote_mode(facts.remote[0])
        if mode is not None:
            location.remote_preference = mode
            location.remote_evidence = evidence(ptext, facts.remote[1][0], facts.remote[1][1], "profile")
    if location.remote_preference is None:
        m = _REMOTE_TEXT.search(text)
        if m is not None:
            mode = remote_mode(m.group("mode"))
            if mode is not None:
                location.remote_preference = mode
                location.remote_evidence = evidence(text, m.start(), m.end(), "resume")
    return location
