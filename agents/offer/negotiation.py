"""Counter-offers: analysis of what a candidate asks (`parse_counter`) against band, policy and the
negotiator's authority, and a suggested reply from `prompts/offer/replies.<version>.yaml`."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import jinja2
import yaml

from agents.offer.counter_parser import parse_counter
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
from agents.offer.templates import PROMPT_DIR


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


__all__ = ["ROLE_NAMES", "analyse_counter", "apply_counter", "parse_counter"]
