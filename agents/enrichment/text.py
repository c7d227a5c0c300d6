"""Offsets, quotes and sections: the plumbing that keeps every extracted fact tied to its source span."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from agents.models import Evidence, EvidenceSource

# Quotes shown to recruiters are clipped to this many characters around the mention: long enough to read
# as a phrase ("built Python ETL pipelines"), short enough for a reason line.
SNIPPET_CHARS = 90
_CLAUSE_BREAK = re.compile(r"(?<=[.;!?])\s+|\s+[•·▪●◦]\s*|\s{3,}|\t")
_EDGE_TRIM = " \t\r\n-–—•·▪●◦*:;,|>"


def word_set(text: str) -> frozenset[str]:
    """A vocabulary written as one whitespace-separated string (long word lists stay readable)."""
    return frozenset(text.split())


@dataclass(frozen=True, slots=True)
class Line:
    start: int
    end: int  # exclusive, before the newline

    def text(self, source: str) -> str:
        return source[self.start : self.end]


def lines(text: str) -> list[Line]:
    out: list[Line] = []
    pos = 0
    for raw in text.splitlines(keepends=True):
        stripped = raw.rstrip("\r\n")
        out.append(Line(pos, pos + len(stripped)))
        pos += len(raw)
    return out


def trim_span(text: str, start: int, end: int, chars: str = _EDGE_TRIM) -> tuple[int, int]:
    """Shrink [start, end) past leading/trailing separators so quotes read cleanly."""
    while start < end and text[start] in chars:
        start += 1
    while end > start and text[end - 1] in chars:
        end -= 1
    return start, end


def evidence(text: str, start: int, end: int, source: EvidenceSource = "resume") -> Evidence:
    """Evidence for text[start:end]; verified because it is cut from the source itself."""
    return Evidence(quote=text[start:end], source=source, start=start, end=end, verified=True)


def snippet(text: str, start: int, end: int, *, limit: int = SNIPPET_CHARS) -> tuple[int, int]:
    """The clause around a mention, clipped to about `limit` characters on word boundaries."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    lo, hi = line_start, line_end
    # Narrow to the clause (sentence, bullet) that holds the mention.
    for m in _CLAUSE_BREAK.finditer(text, line_start, line_end):
        if m.end() <= start:
            lo = m.end()
        elif m.start() >= end:
            hi = m.start()
            break
    if hi - lo > limit:
        room = max(0, limit - (end - start)) // 2
        new_lo = max(lo, start - room)
        new_hi = min(hi, end + room)
        # Snap to whole words so the quote never starts or ends mid-word.
        if new_lo > lo:
            space = text.find(" ", new_lo, start)
            new_lo = space + 1 if space >= 0 else start
        if new_hi < hi:
            space = text.rfind(" ", end, new_hi)
            new_hi = space if space >= 0 else end
        lo, hi = new_lo, new_hi
    lo, hi = trim_span(text, lo, hi)
    if lo > start or hi < end:  # never cut into the mention itself
        lo, hi = min(lo, start), max(hi, end)
    return lo, hi


def snippet_evidence(text: str, start: int, end: int, source: EvidenceSource = "resume") -> Evidence:
    lo, hi = snippet(text, start, end)
    return evidence(text, lo, hi, source)


def locate(text: str, quote: str, start: int | None = None, end: int | None = None) -> tuple[int, int] | None:
    """Where `quote` occurs verbatim in `text`: at the claimed offsets if they hold, else the first match."""
    if not quote:
        return None
    if start is not None and end is not None and 0 <= start <= end <= len(text) and text[start:end] == quote:
        return start, end
    found = text.find(quote)
    return (found, found + len(quote)) if found >= 0 else None


def verify(ev: Evidence, text: str | None) -> Evidence:
    """A copy of `ev` with offsets fixed and `verified` set from a verbatim search of `text`."""
    if text is None:
        return ev.model_copy(update={"verified": False})
    span = locate(text, ev.quote, ev.start, ev.end)
    if span is None:
        return ev.model_copy(update={"verified": False, "start": None, "end": None})
    return ev.model_copy(update={"verified": True, "start": span[0], "end": span[1]})


# ---------------------------------------------------------------- sections

SectionKind = str  # "experience" | "education" | "skills" | "certifications" | "summary" | "other"

_SECTION_WORDS: dict[str, tuple[str, ...]] = {
    "experience": (
        "experience",
        "work experience",
        "professional experience",
        "work history",
        "employment history",
        "employment",
        "career history",
        "relevant experience",
        "professional background",
        "company details",
    ),
    "education": (
        "education",
        "education details",
        "education and training",
        "academic background",
        "academic qualifications",
        "educational background",
        "training",
    ),
    "skills": (
        "skills",
        "technical skills",
        "skill highlights",
        "core competencies",
        "competencies",
        "highlights",
        "skill details",
        "areas of expertise",
        "expertise",
        "technologies",
        "tools",
    ),
    "certifications": (
        "certifications",
        "certification",
        "certificates",
        "licenses",
        "licenses and certifications",
        "certifications and licenses",
        "licensure",
        "credentials",
    ),
    "summary": (
        "summary",
        "professional summary",
        "profile",
        "professional profile",
        "objective",
        "career objective",
        "career overview",
        "executive profile",
        "executive summary",
        "about me",
        "qualifications summary",
        "summary of qualifications",
    ),
    "other": (
        "accomplishments",
        "achievements",
        "awards",
        "interests",
        "additional information",
        "affiliations",
        "languages",
        "volunteer experience",
        "activities",
        "references",
        "projects",
        "publications",
    ),
}
_HEADINGS = {phrase: kind for kind, phrases in _SECTION_WORDS.items() for phrase in phrases}


def heading_kind(line_text: str) -> SectionKind | None:
    """The section a heading line opens, or None when the line is not a heading."""
    words = re.sub(r"[^a-z ]+", " ", line_text.casefold().replace("&", " and ")).split()
    if not words or len(words) > 5:
        return None
    return _HEADINGS.get(" ".join(words))


def sections(text: str) -> Iterator[tuple[SectionKind | None, Line]]:
    """Each line with the section it belongs to (None before the first recognised heading)."""
    current: SectionKind | None = None
    for line in lines(text):
        kind = heading_kind(line.text(text))
        if kind is not None:
            current = kind
        yield current, line
