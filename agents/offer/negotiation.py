"""Counter-offers: deterministic extraction from free text, analysis against band, policy and authority,
and a suggested reply from `prompts/offer/replies.<version>.yaml`.

The parser works in passes, masking what each pass consumed so later passes do not reread it: dates
(start date), PTO, remote terms, bonus percentages, then money amounts classified by the words around
them ("10k signing bonus", "base of 140k", "20k in RSUs"); an unlabelled amount of $20,000 or more is
the base salary.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import jinja2
import yaml

from agents.enrichment.dates import MONTHS
from agents.models import RemoteMode
from agents.offer.drafting import PROMPT_DIR
from agents.offer.models import (
    ApprovalStep,
    Authority,
    CounterAnalysis,
    CounterOffer,
    OfferRole,
    OfferTerms,
    PayBand,
    Policy,
    TermChange,
    fmt_date,
    fmt_money,
    money,
)
from agents.offer.routing import added_steps, chain_for_terms, sign_on_cap

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


# ---------------------------------------------------------------- analysis


@cache
def _replies(version: str = "v1") -> dict[str, Any]:
    return yaml.safe_load((PROMPT_DIR / f"replies.{version}.yaml").read_text(encoding="utf-8"))


def _render_reply(name: str, **values: Any) -> str:
    env = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined)
    return " ".join(env.from_string(_replies()[name]).render(**values).split())


def _business_days(start: date, days: int) -> date:
    current = start
    while days:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def apply_counter(current: OfferTerms, counter: CounterOffer) -> OfferTerms:
    """The terms the candidate is asking for (unchanged where the counter says nothing)."""
    update: dict[str, Any] = {}
    if counter.base_salary is not None:
        update["base_salary"] = counter.base_salary
    elif counter.base_increase is not None:
        update["base_salary"] = money(current.base_salary + counter.base_increase)
    base = update.get("base_salary", current.base_salary)
    if counter.sign_on_bonus is not None:
        update["sign_on_bonus"] = counter.sign_on_bonus
    if counter.equity_value is not None:
        update["equity_value"] = counter.equity_value
    if counter.bonus_pct is not None:
        update["target_bonus_pct"] = counter.bonus_pct
    elif counter.bonus_amount is not None and base:
        update["target_bonus_pct"] = (counter.bonus_amount / base * 100).quantize(Decimal("0.1"))
    if counter.start_date is not None:
        update["start_date"] = counter.start_date
    if counter.pto_days is not None:
        update["pto_days"] = counter.pto_days
    elif counter.extra_pto_days is not None:
        update["pto_days"] = (current.pto_days or 0) + counter.extra_pto_days
    if counter.remote is not None:
        update["remote"] = counter.remote
    return current.model_copy(update=update)


ROLE_NAMES = {
    "recruiter": "the recruiting team",
    "comp_partner": "our compensation partner",
    "vp": "our VP",
    "legal": "our legal team",
}


def _describe(term: str, value: Any) -> str:
    labels = {
        "base_salary": "a base salary of {}",
        "sign_on_bonus": "a sign-on bonus of {}",
        "equity_value": "an equity grant of {}",
        "target_bonus_pct": "a target bonus of {}%",
        "start_date": "a start date of {}",
        "pto_days": "{} days of PTO",
        "remote": "a {} arrangement",
    }
    if isinstance(value, Decimal) and term != "target_bonus_pct":
        shown = fmt_money(value)
    elif isinstance(value, date):
        shown = fmt_date(value)
    elif isinstance(value, Decimal):
        shown = f"{value.normalize():f}"
    else:
        shown = str(value)
    return labels[term].format(shown)


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def analyse_counter(
    current: OfferTerms,
    counter: CounterOffer,
    band: PayBand,
    policy: Policy,
    authority: Authority | str = "recruiter",
    *,
    role: OfferRole | None = None,
    letter_date: date | None = None,
    candidate_name: str = "",
    today: date | None = None,
) -> CounterAnalysis:
    """Within the negotiator's authority and needing no approval beyond the current offer's -> "accept"
    with a reply; otherwise "escalate" with the reasons and the approvals the new terms need."""
    limits = policy.approval.authority[authority] if isinstance(authority, str) else authority
    proposed = apply_counter(current, counter)
    changes: list[TermChange] = []

    def check(term: str, ok: bool, reason: str) -> None:
        old, new = getattr(current, term), getattr(proposed, term)
        if old == new:
            return
        changes.append(
            TermChange(
                term=term,
                current=_describe(term, old) if old is not None else "none",
                requested=_describe(term, new),
                within_authority=ok,
                reason=None if ok else reason,
            )
        )

    base_cap = band.mid if limits.base_up_to == "mid" else band.max
    base_limit = min(
        money(current.base_salary * (1 + limits.max_base_increase_pct / 100)), base_cap, band.max
    )
    # An offer already above the limit (approved higher) may keep its base, not grow it.
    base_limit = max(base_limit, current.base_salary)
    check(
        "base_salary",
        proposed.base_salary <= base_limit,
        f"base {fmt_money(proposed.base_salary)} is over the negotiation limit {fmt_money(base_limit)} "
        f"(+{limits.max_base_increase_pct}% and at most the band {limits.base_up_to})",
    )
    cap = min(limits.max_sign_on, sign_on_cap(proposed, policy))
    check(
        "sign_on_bonus",
        proposed.sign_on_bonus <= max(cap, current.sign_on_bonus),
        f"sign-on {fmt_money(proposed.sign_on_bonus)} is over the limit {fmt_money(cap)}",
    )
    check(
        "equity_value",
        proposed.equity_value - current.equity_value <= limits.max_equity_increase
        and proposed.equity_value <= max(policy.approval.caps.equity, current.equity_value),
        f"equity {fmt_money(proposed.equity_value)} is more than "
        f"{fmt_money(limits.max_equity_increase)} over the current grant or over the cap",
    )
    check(
        "target_bonus_pct",
        (proposed.target_bonus_pct or 0) - (current.target_bonus_pct or 0) <= limits.max_bonus_pct_increase,
        f"a bonus target change of more than {limits.max_bonus_pct_increase} points needs approval",
    )
    shift = abs((proposed.start_date - current.start_date).days)
    check(
        "start_date",
        shift <= limits.max_start_shift_days,
        f"the start date moves {shift} days (limit {limits.max_start_shift_days})",
    )
    check(
        "pto_days",
        (proposed.pto_days or 0) - (current.pto_days or 0) <= limits.max_extra_pto_days,
        f"extra PTO beyond {limits.max_extra_pto_days} days needs approval",
    )
    check("remote", limits.may_change_remote, "a change of work arrangement needs approval")

    before = chain_for_terms(current, band, policy, role=role, letter_date=letter_date)
    after = chain_for_terms(proposed, band, policy, role=role, letter_date=letter_date)
    reasons = [f"{change.term}: {change.reason}" for change in changes if not change.within_authority]
    new_steps: list[ApprovalStep] = added_steps(before, after)
    for step in new_steps:
        reasons += [f"needs {step.role}: {reason}" for reason in step.reasons]

    first_name = candidate_name.split()[0] if candidate_name.strip() else "there"
    requested = [_describe(c.term, getattr(proposed, c.term)) for c in changes]
    if not changes:
        decision, template = "no_change", "no_change"
        reply = _render_reply("no_change", first_name=first_name)
    elif not reasons:
        decision, template = "accept", "accept"
        reply = _render_reply("accept", first_name=first_name, summary=_join(requested))
    else:
        decision, template = "escalate", "escalate"
        over = [
            _describe(c.term, getattr(proposed, c.term)) for c in changes if not c.within_authority
        ] or requested
        approvers = [ROLE_NAMES.get(s.role, s.role) for s in (new_steps or after) if s.role != "recruiter"]
        reply = _render_reply(
            "escalate",
            first_name=first_name,
            summary_sentence=_join(over)[0].upper() + _join(over)[1:],
            approvers=_join(approvers or ["our compensation team"]),
            reply_by=fmt_date(_business_days(today or date.today(), 2)),
        )
    return CounterAnalysis(
        decision=decision,
        proposed=proposed,
        band_position=band.position(proposed.base_salary),
        compa_ratio=band.compa_ratio(proposed.base_salary),
        changes=changes,
        reasons=reasons,
        approvals=after,
        suggested_reply=reply,
        reply_template=f"replies.v1.{template}",
    )
