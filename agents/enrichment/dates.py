"""Dated spans in resume text ("01/2015 to 03/2019", "Jan 2015 - Present", "2012 – 2016"), merged
into years of experience and checked for gaps."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

# Month abbreviations -> number; shared with the offer parser so both read dates the same way.
MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_SEASONS = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12}

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_YEAR = r"(?:19[5-9]\d|20[0-4]\d)"
_DATE = (
    # Jan 2015, Sept. 2015, May 3, 2015, Jan '15
    rf"(?:{_MONTH}\.?,?\s*(?:\d{{1,2}},?\s*)?(?:{_YEAR}|'\d{{2}})"
    rf"|(?:spring|summer|fall|autumn|winter)\s+{_YEAR}"  # Summer 2015
    rf"|(?:0?[1-9]|1[0-2])\s*[/.-]\s*(?:(?:0?[1-9]|[12]\d|3[01])\s*/\s*)?{_YEAR}"  # 01/2015, 1/15/2015
    rf"|{_YEAR}\s*[/-]\s*(?:0[1-9]|1[0-2])(?![\d/])"  # 2015-03
    rf"|{_YEAR})"  # 2015
)
_OPEN_END = r"(?:present|current(?:ly)?|now|today|to\s+date|till\s+date|date|ongoing)"
_SEP = r"\s*(?:-{1,2}|–|—|to|until|till|through|thru|~)\s*"
RANGE = re.compile(
    rf"(?<![\w/.-])(?P<start>{_DATE}){_SEP}(?P<end>{_DATE}|{_OPEN_END})(?![\w/])",
    re.IGNORECASE,
)
_ONE = re.compile(_DATE, re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Span:
    start: date
    end: date
    current: bool
    text_start: int  # offsets of the whole range in the source text
    text_end: int


def _year(text: str) -> int:
    if text.startswith("'"):
        two = int(text[1:])
        return 2000 + two if two < 50 else 1900 + two
    return int(text)


def parse_date(text: str, *, is_end: bool = False) -> date | None:
    """One date as a resume writes it; a bare year means January (start) or December (end)."""
    t = text.strip().casefold().replace(".", " ").replace(",", " ")
    t = re.sub(r"\s+", " ", t)
    m = re.fullmatch(r"([a-z]+)\s*(?:\d{1,2}\s+)?('?\d{2,4})", t)
    if m and m.group(1)[:3] in MONTHS and m.group(1) not in _SEASONS:
        return date(_year(m.group(2)), MONTHS[m.group(1)[:3]], 1)
    m = re.fullmatch(r"(spring|summer|fall|autumn|winter) (\d{4})", t)
    if m:
        return date(int(m.group(2)), _SEASONS[m.group(1)], 1)
    m = re.fullmatch(r"(\d{1,2})\s*[/ -]\s*(?:\d{1,2}\s*/\s*)?(\d{4})", t)
    if m and 1 <= int(m.group(1)) <= 12:
        return date(int(m.group(2)), int(m.group(1)), 1)
    m = re.fullmatch(r"(\d{4})\s*[/-]\s*(\d{2})", t)
    if m and 1 <= int(m.group(2)) <= 12:
        return date(int(m.group(1)), int(m.group(2)), 1)
    m = re.fullmatch(r"\d{4}", t)
    if m:
        return date(int(t), 12 if is_end else 1, 1)
    return None


def find_spans(text: str, *, as_of: date) -> list[Span]:
    """Every date range in `text`, with open ends ("Present") resolved to `as_of`."""
    spans: list[Span] = []
    for m in RANGE.finditer(text):
        start_text, end_text = m.group("start"), m.group("end")
        start = parse_date(start_text)
        current = re.fullmatch(_OPEN_END, end_text.strip(), re.IGNORECASE) is not None
        year_only = re.fullmatch(r"\d{4}", start_text.strip()) is not None
        if current:
            end: date | None = date(as_of.year, as_of.month, 1)
        elif year_only and re.fullmatch(r"\d{4}", end_text.strip()):
            # "2012 – 2016" reads as four years, not five: both ends at January unless the same year.
            end_year = int(end_text.strip())
            end = date(end_year, 12 if start is not None and end_year == start.year else 1, 1)
        else:
            end = parse_date(end_text, is_end=True)
        if start is None or end is None or end < start:
            continue
        if start > as_of:
            continue
        end = min(end, date(as_of.year, as_of.month, 1))
        spans.append(Span(start, end, current, m.start(), m.end()))
    return spans


def months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + (end.month - start.month)


def merge(intervals: list[tuple[date, date]]) -> list[tuple[date, date]]:
    """Union of intervals: overlapping or touching roles count once."""
    merged: list[tuple[date, date]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def total_years(intervals: list[tuple[date, date]]) -> float:
    months = sum(months_between(s, e) for s, e in merge(intervals))
    return round(months / 12, 1)


def gaps(intervals: list[tuple[date, date]], *, min_months: int = 12) -> list[tuple[date, date, int]]:
    """Stretches between merged spans longer than `min_months` (start, end, months)."""
    merged = merge(intervals)
    out: list[tuple[date, date, int]] = []
    for (_s1, e1), (s2, _e2) in pairwise(merged):
        months = months_between(e1, s2)
        if months > min_months:
            out.append((e1, s2, months))
    return out
