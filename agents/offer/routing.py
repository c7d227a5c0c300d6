"""Approval routing: which approvers an offer needs, computed from the policy, the band and the terms.

The graph turns each step into one interrupt; this module only computes the chain. Call it again after
every edit: an edit that moves the offer out of band adds the approver the new terms need
(`added_steps` says which).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from agents.offer.models import (
    ApprovalStep,
    OfferDraft,
    OfferRole,
    OfferTerms,
    PayBand,
    Policy,
    Trigger,
    fmt_money,
    money,
)

ALWAYS = "recruiter"


def sign_on_cap(terms: OfferTerms, policy: Policy) -> Decimal:
    caps = policy.approval.caps
    return money(min(caps.sign_on, terms.base_salary * caps.sign_on_pct_of_base / 100))


def non_standard_reasons(
    terms: OfferTerms, policy: Policy, *, role: OfferRole | None = None, letter_date: date | None = None
) -> list[str]:
    standard = policy.approval.standard
    reasons = [f"non-standard term: {item}" for item in terms.non_standard]
    if terms.non_compete and not standard.non_compete:
        reasons.append("non-standard term: non-compete requested")
    if terms.pto_days is not None and terms.pto_days > standard.pto_days_max:
        reasons.append(f"non-standard term: {terms.pto_days} PTO days (standard max {standard.pto_days_max})")
    if letter_date is not None and (terms.start_date - letter_date).days > standard.max_start_days_out:
        reasons.append(f"non-standard term: start date more than {standard.max_start_days_out} days out")
    if role is not None and role.remote and terms.remote and terms.remote != role.remote:
        reasons.append(f"non-standard term: {terms.remote} for a position posted as {role.remote}")
    return reasons


def triggers(
    terms: OfferTerms,
    band: PayBand,
    policy: Policy,
    *,
    role: OfferRole | None = None,
    letter_date: date | None = None,
) -> list[tuple[Trigger, str]]:
    """Every policy trigger the terms hit, with a human reason."""
    base = money(terms.base_salary)
    caps = policy.approval.caps
    found: list[tuple[Trigger, str]] = []
    position = band.position(base)
    band_text = f"{fmt_money(band.min)}-{fmt_money(band.max)}, midpoint {fmt_money(band.mid)}"
    if position == "below_min":
        found.append(("below_min", f"base {fmt_money(base)} is below the band minimum ({band_text})"))
    elif position == "above_max":
        found.append(("above_max", f"base {fmt_money(base)} is above the band maximum ({band_text})"))
    elif position == "above_mid":
        found.append(("above_mid", f"base {fmt_money(base)} is above the band midpoint ({band_text})"))
    else:
        found.append(("in_band", f"base {fmt_money(base)} is in band ({band_text})"))
    cap = sign_on_cap(terms, policy)
    if terms.sign_on_bonus > cap:
        found.append(
            (
                "sign_on_above_cap",
                f"sign-on {fmt_money(terms.sign_on_bonus)} exceeds the cap {fmt_money(cap)}",
            )
        )
    if terms.equity_value > caps.equity:
        found.append(
            (
                "equity_above_cap",
                f"equity {fmt_money(terms.equity_value)} exceeds the cap {fmt_money(caps.equity)}",
            )
        )
    if terms.target_bonus_pct is not None and terms.target_bonus_pct > caps.bonus_pct:
        found.append(
            ("bonus_above_cap", f"target bonus {terms.target_bonus_pct}% exceeds the cap {caps.bonus_pct}%")
        )
    found += [
        ("non_standard_terms", reason)
        for reason in non_standard_reasons(terms, policy, role=role, letter_date=letter_date)
    ]
    return found


def chain_for_terms(
    terms: OfferTerms,
    band: PayBand,
    policy: Policy,
    *,
    role: OfferRole | None = None,
    letter_date: date | None = None,
) -> list[ApprovalStep]:
    steps = policy.approval.steps
    reasons: dict[str, list[str]] = {ALWAYS: []}
    for trigger, reason in triggers(terms, band, policy, role=role, letter_date=letter_date):
        for name in policy.approval.routing.get(trigger, []):
            reasons.setdefault(name, []).append(reason)
    if not reasons[ALWAYS]:
        reasons[ALWAYS].append("every offer needs the recruiter's approval")
    orders = [steps[name].order for name in reasons]
    chain = [
        ApprovalStep(
            role=name,
            order=steps[name].order,
            approvers=list(steps[name].approvers),
            required=min(steps[name].required, len(steps[name].approvers)),
            mode="parallel" if orders.count(steps[name].order) > 1 else "sequential",
            reasons=found,
        )
        for name, found in reasons.items()
    ]
    return sorted(chain, key=lambda step: (step.order, step.role))


def approval_chain(draft: OfferDraft, band: PayBand, policy: Policy) -> list[ApprovalStep]:
    """The approvals the draft's terms need: in band -> recruiter; above midpoint -> + comp partner;
    above max, sign-on / equity / bonus over caps -> + VP; non-standard terms -> + VP and legal."""
    terms = draft.terms
    if terms.non_compete and "non_compete" not in draft.clause_ids:
        # Requested but left out because the jurisdiction prohibits it: nothing non-standard is sent.
        terms = terms.model_copy(update={"non_compete": False})
    return chain_for_terms(terms, band, policy, role=draft.role, letter_date=draft.letter_date)


def added_steps(before: list[ApprovalStep], after: list[ApprovalStep]) -> list[ApprovalStep]:
    """Steps the new chain needs that the old one did not (e.g. after an edit moved the offer out of band)."""
    known = {step.role for step in before}
    return [step for step in after if step.role not in known]
