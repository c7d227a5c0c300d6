"""Counter-offers in free text -> `CounterOffer`, deterministically.

The parser works in passes, masking what each pass consumed so later passes do not reread it: dates
(start date), PTO, remote terms, bonus percentages, then money amounts classified by the words around
them ("10k signing bonus", "base of 140k", "20k in RSUs"); an unlabelled amount of $20,000 or more is
the base salary.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from agents.enrichment.dates import MONTHS
from agents.models import RemoteMode
from agents.offer.models import CounterOffer, money

NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
_NUM = r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten)"
_MONTH = (
    r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
DATE_PATTERNS = (
    re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<year>\d{{4}}))?\b", re.I),
    re.compile(
        rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+(?P<year>\d{{4}}))?\b", re.I
    ),
    re.compile(r"\b(?P<year>\d{4})-(?P<mnum>\d{1,2})-(?P<day>\d{1,2})\b"),
    re.compile(r"\b(?P<mnum>\d{1,2})/(?P<day>\d{1,2})(?:/(?P<year>\d{2,4}))?\b"),
)
START_WORDS = re.compile(r"\b(start|starting|begin|beginning|join|joining|first day|onboard\w*)\b", re.I)
_TIME_OFF = r"(?:pto|paid time off|vacation|time off|holidays?|leave)"
PTO_EXTRA = (
    re.compile(
        rf"\b(?P<n>{_NUM})\s+(?:extra|additional|more)\s+(?P<unit>weeks?|days?)\s+(?:of\s+)?{_TIME_OFF}", re.I
    ),
    re.compile(
        rf"\b(?:extra|additional|another)\s+(?P<n>{_NUM})?\s*(?P<unit>weeks?|days?)\s+(?:of\s+)?{_TIME_OFF}",
        re.I,
    ),
    re.compile(rf"\b(?P<n>{_NUM})\s+(?P<unit>weeks?|days?)\s+more\s+(?:of\s+)?{_TIME_OFF}", re.I),
)
PTO_TOTAL = (
    re.compile(rf"\b(?P<n>\d+|{_NUM})\s+(?P<unit>weeks?|days?)\s+(?:of\s+)?(?:paid\s+)?{_TIME_OFF}", re.I),
    re.compile(rf"\b{_TIME_OFF}\s+(?:of\s+)?(?P<n>\d+)\s+(?P<unit>weeks?|days?)", re.I),
)
REMOTE_PATTERNS: tuple[tuple[re.Pattern[str], RemoteMode], ...] = (
    (
        re.compile(
            r"\bhybrid\b|\b(?:\d|one|two|three)\s+days?\s+(?:a\s+week\s+)?(?:in|at)\s+(?:the\s+)?office\b",
            re.I,
        ),
        "Hybrid",
    ),
    (
        re.compile(
            r"\b(?:fully|full[- ]time|100\s*%|completely|entirely|100 percent)\s+remote(?:ly)?\b"
            r"|\bremote(?:ly)?\s+full[- ]time\b|\bwork(?:ing)?\s+remotely\b|\bremote\b",
            re.I,
        ),
        "Remote",
    ),
    (re.compile(r"\bon[- ]?site\b|\bin[- ]office\b", re.I), "On-site"),
)
BONUS_PCT = (
    re.compile(r"(?P<n>\d+(?:\.\d+)?)\s*(?:%|percent)\s+(?:target\s+|annual\s+|performance\s+)*bonus", re.I),
    re.compile(r"bonus\s+(?:target\s+)?(?:of\s+|at\s+|to\s+)?(?P<n>\d+(?:\.\d+)?)\s*(?:%|percent)", re.I),
)
AMOUNT = re.compile(
    r"(?<![\w.])(?P<dollar>\$\s?)?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s?"
    r"(?P<suffix>k\b|thousand\b|grand\b|m\b|mm\b|million\b)?",
    re.I,
)
NOT_MONEY_AFTER = re.compile(
    r"^\s*(?:%|percent|days?|weeks?|months?|years?|hours?|shares|units|options)\b", re.I
)
CONNECTOR = re.compile(r"\b(?:plus|and|with|also|as well as|or)\b|[,;.!?()]", re.I)
SIGN_ON = re.compile(r"sign(?:ing)?[- ]?(?:on)?\s*bonus|\bsigning\b|\bsign[- ]on\b|\bhiring bonus\b", re.I)
EQUITY = re.compile(r"\b(?:equity|rsus?|stock|options|shares|grant)\b", re.I)
BONUS = re.compile(r"\bbonus\b", re.I)
BASE = re.compile(r"\b(?:base|salary|annual|comp|compensation|pay)\b", re.I)
INCREASE = re.compile(r"\b(?:extra|additional|more|another|increase|bump|raise)\b", re.I)
MIN_UNLABELLED_BASE = Decimal(20000)


def _mask(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def _count(word: str | None) -> int:
    if not word:
        return 1
    return int(word) if word.isdigit() else NUMBER_WORDS[word.lower()]


def _days(n: int, unit: str) -> int:
    return n * 5 if unit.lower().startswith("week") else n


def _resolve(month: int, day: int, year: int | None, today: date) -> date | None:
    try:
        if year is not None:
            return date(year + 2000 if year < 100 else year, month, day)
        found = date(today.year, month, day)
        return found if found >= today else date(today.year + 1, month, day)
    except ValueError:
        return None


def _dates(text: str, today: date, out: CounterOffer) -> str:
    for pattern in DATE_PATTERNS:
        for match in pattern.finditer(text):
            groups = match.groupdict()
            month = MONTHS[groups["month"][:3].lower()] if groups.get("month") else int(groups["mnum"])
            year = int(groups["year"]) if groups.get("year") else None
            found = _resolve(month, int(groups["day"]), year, today)
            if found is None:
                continue
            before = text[max(0, match.start() - 40) : match.start()]
            after = text[match.end() : match.end() + 15]
            if out.start_date is None and (START_WORDS.search(before) or START_WORDS.search(after)):
                out.start_date = found
                out.evidence["start_date"] = match.group(0)
            text = _mask(text, match.start(), match.end())
    return text


def _pto(text: str, out: CounterOffer) -> str:
    for pattern in PTO_EXTRA:
        match = pattern.search(text)
        if match:
            out.extra_pto_days = _days(_count(match.group("n")), match.group("unit"))
            out.evidence["extra_pto_days"] = match.group(0)
            return _mask(text, match.start(), match.end())
    for pattern in PTO_TOTAL:
        match = pattern.search(text)
        if match:
            out.pto_days = _days(_count(match.group("n")), match.group("unit"))
            out.evidence["pto_days"] = match.group(0)
            return _mask(text, match.start(), match.end())
    return text


def _remote(text: str, out: CounterOffer) -> str:
    for pattern, mode in REMOTE_PATTERNS:
        match = pattern.search(text)
        if match:
            before = text[max(0, match.start() - 12) : match.start()].lower()
            if re.search(r"\bnot\s+(?:fully\s+)?$|\bno\s+$", before):
                continue
            out.remote = mode
            out.evidence["remote"] = match.group(0)
            return _mask(text, match.start(), match.end())
    return text


def _bonus_pct(text: str, out: CounterOffer) -> str:
    for pattern in BONUS_PCT:
        match = pattern.search(text)
        if match and not SIGN_ON.search(match.group(0)):
            out.bonus_pct = Decimal(match.group("n"))
            out.evidence["bonus_pct"] = match.group(0)
            return _mask(text, match.start(), match.end())
    return text


def _amount(match: re.Match[str]) -> Decimal | None:
    value = Decimal(match.group("num").replace(",", ""))
    suffix = (match.group("suffix") or "").lower()
    if suffix in ("k", "thousand", "grand"):
        value *= 1000
    elif suffix in ("m", "mm", "million"):
        value *= 1_000_000
    if not (match.group("dollar") or suffix) and value < 1000:
        return None
    return money(value)


def _segment(text: str, *, forward: bool) -> str:
    """The words around an amount up to the nearest connector ("plus", "and", a comma...)."""
    if forward:
        found = CONNECTOR.search(text)
        return text[: found.start()] if found else text
    cuts = list(CONNECTOR.finditer(text))
    return text[cuts[-1].end() :] if cuts else text


def _classify(after: str, before: str) -> str | None:
    for words in (after, before):
        if SIGN_ON.search(words):
            return "sign_on_bonus"
        if EQUITY.search(words):
            return "equity_value"
        if BONUS.search(words):
            return "bonus_amount"
        if BASE.search(words):
            return "base_salary"
    return None


def _money(text: str, out: CounterOffer) -> None:
    matches = [m for m in AMOUNT.finditer(text) if not NOT_MONEY_AFTER.match(text[m.end() :])]
    amounts = [(m, _amount(m)) for m in matches]
    amounts = [(m, value) for m, value in amounts if value is not None]
    for i, (match, value) in enumerate(amounts):
        prev_end = amounts[i - 1][0].end() if i else 0
        next_start = amounts[i + 1][0].start() if i + 1 < len(amounts) else len(text)
        after = _segment(text[match.end() : next_start], forward=True)
        before = _segment(text[prev_end : match.start()], forward=False)
        kind = _classify(after, before)
        increase = bool(INCREASE.search(before) or re.match(r"^\s*more\b", after, re.I))
        if kind is None:
            if value < MIN_UNLABELLED_BASE and not increase:
                continue
            kind = "base_salary"
        if kind == "base_salary" and increase:
            kind = "base_increase"
        if getattr(out, kind) is None:
            setattr(out, kind, value)
            out.evidence[kind] = " ".join(f"{before}{match.group(0)}{after}".split())


def parse_counter(text: str, *, today: date | None = None) -> CounterOffer:
    """Extract the terms a candidate asks for from free text. Deterministic; a date without a year is
    the next such date on or after `today`."""
    out = CounterOffer(text=text)
    work = " ".join(text.replace("’", "'").split())
    work = _dates(work, today or date.today(), out)
    work = _pto(work, out)
    work = _remote(work, out)
    work = _bonus_pct(work, out)
    _money(work, out)
    return out
