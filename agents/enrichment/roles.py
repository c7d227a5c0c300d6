"""Dated roles from resume text and from iCIMS work history.

A role is a date range ("Jan 2019 - Present") plus the job title next to it: before the dates on the
same line, else on a neighbouring line that is not itself another role's date line. Anonymised resume
exports ("Company Name City , State") and labels that sit beside dates ("Duration:") are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from agents.enrichment.credentials import find_degrees
from agents.enrichment.dates import Span, find_spans, parse_date
from agents.enrichment.fields import FieldFacts, field_value
from agents.enrichment.text import Line, evidence, heading_kind, lines, sections, trim_span
from agents.enrichment.titles import TitleMatch, map_title
from agents.models import Role

_ANON = re.compile(r"Company Name|City\s*,\s*State|ï¼\u200b|ï¼|\u200b", re.IGNORECASE)
_CONNECTIVES = frozenset({"and", "or", "of", "the", "a", "an", "with", "for", "to", "in", "at", "member"})
# Labels that sit next to dates but are not titles ("Duration: Mar 2016 - Sept 2017").
_NOT_TITLE_WORDS = frozenset(
    {
        "duration",
        "period",
        "dates",
        "date",
        "description",
        "company",
        "project",
        "responsibilities",
        "from",
        "since",
        "tenure",
        "experience",
        "city",
        "state",
        "location",
        "employer",
        "present",
        "current",
    }
)
_NOT_TITLE = re.compile(r"[@:;]|https?://|\b(?:19|20)\d{2}\b|^\W*$")


@dataclass(frozen=True, slots=True)
class ParsedRole:
    """A role with where its title sits and the dates it spans (`date.min` when they are unknown)."""

    role: Role
    title_span: tuple[int, int]
    span: Span


@lru_cache(maxsize=8192)
def cached_title(title: str) -> TitleMatch | None:
    """`map_title`, remembered: the same candidate titles are looked up many times per resume."""
    return map_title(title)


def _title_in(text: str, lo: int, hi: int) -> tuple[int, int, str | None] | None:
    """A plausible job title inside text[lo:hi] (with an employer if the piece says "Title | Employer"),
    as (start, end, employer)."""
    lo, hi = trim_span(text, lo, hi)
    if lo >= hi:
        return None
    anon = _ANON.search(text, lo, hi)
    if anon is not None:
        # LiveCareer writes "Title Company Name City , State" or "Company Name City , State Title".
        before = trim_span(text, lo, anon.start())
        if before[1] - before[0] >= 3:
            lo, hi = before
        else:
            last = None
            for last in _ANON.finditer(text, lo, hi):  # noqa: B007 - we want the final match
                pass
            assert last is not None
            lo, hi = trim_span(text, last.end(), hi)
            if lo >= hi:
                return None
    employer: str | None = None
    piece = text[lo:hi]
    if "|" in piece:
        parts = [p for p in re.finditer(r"[^|]+", piece) if p.group().strip()]
        if not parts:
            return None
        first = parts[0]
        if len(parts) > 1:
            employer = parts[1].group().strip() or None
        lo, hi = trim_span(text, lo + first.start(), lo + first.end())
    else:
        at = re.search(r"\s+(?:at|@)\s+", piece)
        comma = piece.find(",")
        if at is not None and at.start() > 0:
            employer = piece[at.end() :].strip(" ,") or None
            lo, hi = trim_span(text, lo, lo + at.start())
        elif comma > 0 and piece[comma + 1 :].strip() and cached_title(piece[:comma]) is not None:
            # "Data Analyst, Lakeside Bank": the part before the comma is the title.
            employer = piece[comma + 1 :].strip(" ,") or None
            lo, hi = trim_span(text, lo, lo + comma)
    title = text[lo:hi]
    words = title.split()
    if not (1 <= len(words) <= 10) or len(title) > 80 or _NOT_TITLE.search(title):
        return None
    if title.endswith(".") and len(words) > 4:
        return None  # a sentence, not a title
    if heading_kind(title) is not None or title.casefold() in _NOT_TITLE_WORDS:
        return None
    if cached_title(title) is None:
        # Unknown titles must at least look like one: no leading connective, past-tense verb or bullet
        # text ("Processed payments for vendors", "and Volunteer").
        head = words[0]
        if head[:1].islower() or head.casefold() in _CONNECTIVES or re.fullmatch(r"[A-Za-z]{4,}ed", head):
            return None
        if len(words) > 6:
            return None
    return lo, hi, employer


def _role_title(text: str, all_lines: list[Line], k: int, span: Span) -> tuple[int, int, str | None] | None:
    line = all_lines[k]
    before = _title_in(text, line.start, span.text_start)
    if before is not None:
        return before
    after_text = text[span.text_end : line.end].strip()
    neighbours = [k - 1, k + 1] if after_text else [k + 1, k - 1]
    found: list[tuple[int, int, str | None]] = []
    for j in neighbours:
        if not 0 <= j < len(all_lines):
            continue
        other = all_lines[j]
        if find_spans(other.text(text), as_of=date(2100, 1, 1)):
            continue  # the neighbour is another role's date line
        got = _title_in(text, other.start, other.end)
        if got is not None:
            found.append(got)
    # Prefer the neighbour that reads as an occupation; otherwise the first plausible one.
    for got in found:
        if cached_title(text[got[0] : got[1]]) is not None:
            return got
    if found:
        return found[0]
    return _title_in(text, span.text_end, line.end)


def _employer_after(text: str, lo: int, hi: int) -> str | None:
    """An organisation name right after the dates ("Jan 2019 - Present  Acme Corp, Boston, MA")."""
    tail = _ANON.sub(" ", text[lo:hi]).strip(" -–|,")
    tail = re.split(r"\s+[-–|]\s+|\s*,\s*|\s{2,}", tail)[0].strip()
    if not (2 <= len(tail) <= 60) or len(tail.split()) > 6 or re.search(r"[\d*•.;:]", tail):
        return None
    if tail.casefold() in _NOT_TITLE_WORDS:
        return None
    return tail if tail[:1].isupper() else None


def roles_from_text(text: str, as_of: date) -> list[ParsedRole]:
    """One role per dated line outside the education and certification sections."""
    all_lines = lines(text)
    kinds = [kind for kind, _line in sections(text)]
    out: list[ParsedRole] = []
    for k, line in enumerate(all_lines):
        if kinds[k] in ("education", "certifications"):
            continue
        line_text = line.text(text)
        spans = find_spans(line_text, as_of=as_of)
        if not spans:
            continue
        if find_degrees(line_text, in_education_section=False):
            continue  # "May 2011 to May 2014 Bachelor of Science ..." is schooling, not a job
        for local in spans[:1]:  # one role per line; a second range is usually a note
            span = Span(
                local.start,
                local.end,
                local.current,
                line.start + local.text_start,
                line.start + local.text_end,
            )
            got = _role_title(text, all_lines, k, span)
            if got is None:
                continue
            t_lo, t_hi, employer = got
            if employer is None:
                employer = _employer_after(text, span.text_end, line.end)
            title = text[t_lo:t_hi]
            lo, hi = min(t_lo, span.text_start), max(t_hi, span.text_end)
            match = cached_title(title)
            role = Role(
                title=title,
                employer=employer,
                start=span.start,
                end=None if span.current else span.end,
                current=span.current,
                occupation_code=match.code if match else None,
                occupation_title=match.title if match else None,
                evidence=evidence(text, lo, hi, "resume"),
            )
            out.append(ParsedRole(role, (t_lo, t_hi), span))
    return out


def roles_from_fields(facts: FieldFacts, as_of: date) -> list[ParsedRole]:
    """The iCIMS work history entries, quoting their line of the field rendering."""
    out: list[ParsedRole] = []
    for entry, title_span, line_span in facts.work:
        start = iso_date(field_value(entry.get("workstartdate")))
        end_text = field_value(entry.get("workenddate"))
        end = iso_date(end_text)
        current = end_text is None
        title = facts.text[title_span[0] : title_span[1]]
        match = cached_title(title)
        lo, hi = line_span or title_span
        role = Role(
            title=title,
            employer=field_value(entry.get("workemployer")),
            start=start,
            end=end,
            current=current,
            occupation_code=match.code if match else None,
            occupation_title=match.title if match else None,
            evidence=evidence(facts.text, lo, hi, "profile"),
        )
        span_end = date(as_of.year, as_of.month, 1) if current else end
        if start is not None and span_end is not None and span_end >= start:
            span = Span(start, span_end, current, lo, hi)
        else:
            span = Span(date.min, date.min, current, lo, hi)
        out.append(ParsedRole(role, title_span, span))
    return out


def iso_date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return parse_date(text)


def same_role(a: Role, b: Role) -> bool:
    """Whether two roles are one job told twice (same start month, one title within the other or the
    same occupation)."""
    if a.start is None or b.start is None:
        return False
    if (a.start.year, a.start.month) != (b.start.year, b.start.month):
        return False
    ta, tb = a.title.casefold(), b.title.casefold()
    return ta in tb or tb in ta or (a.occupation_code is not None and a.occupation_code == b.occupation_code)
