"""An offer letter assembled from its terms: the clauses in force, their wording, the figures the
letter states and the rendered HTML. `build_letter` is the one way a draft's text is produced, so
validation can rebuild a draft and compare."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from agents.offer.clauses import ClauseLibrary, required_clauses
from agents.offer.models import Clause, OfferCandidate, OfferDraft, OfferRole, OfferTerms, fmt_date, fmt_money
from agents.offer.templates import clause_env, letter_env


def _pct(value: Decimal) -> str:
    return f"{value.normalize():f}%"


def _letter_context(
    *,
    company: str,
    role: OfferRole,
    terms: OfferTerms,
    jurisdiction: str,
    pay_range: tuple[Decimal, Decimal] | None,
) -> dict[str, Any]:
    remote_text = {"Remote": "fully remote", "Hybrid": "hybrid", "On-site": "on-site"}
    return {
        "company": company,
        "role": role,
        "level": terms.level,
        "jurisdiction": jurisdiction,
        "start_date": fmt_date(terms.start_date),
        "base": fmt_money(terms.base_salary),
        "sign_on": fmt_money(terms.sign_on_bonus),
        "equity": fmt_money(terms.equity_value),
        "bonus_pct": _pct(terms.target_bonus_pct) if terms.target_bonus_pct else "",
        "pto_days": terms.pto_days,
        "remote_text": remote_text.get(terms.remote or "", ""),
        "pay_min": fmt_money(pay_range[0]) if pay_range else "",
        "pay_max": fmt_money(pay_range[1]) if pay_range else "",
        "expires_on": fmt_date(terms.expires_on) if terms.expires_on else "",
    }


def letter_figures(
    terms: OfferTerms, pay_range: tuple[Decimal, Decimal] | None, clause_ids: list[str]
) -> dict[str, str]:
    """The figures the letter states (label -> text as printed), given the clauses it carries."""
    figures = {"base_salary": fmt_money(terms.base_salary), "start_date": fmt_date(terms.start_date)}
    if "sign_on_bonus" in clause_ids:
        figures["sign_on_bonus"] = fmt_money(terms.sign_on_bonus)
    if "equity" in clause_ids:
        figures["equity_value"] = fmt_money(terms.equity_value)
    if "target_bonus" in clause_ids and terms.target_bonus_pct:
        figures["target_bonus_pct"] = _pct(terms.target_bonus_pct)
    if "paid_time_off" in clause_ids and terms.pto_days is not None:
        figures["pto_days"] = f"{terms.pto_days} days"
    if "pay_range_disclosure" in clause_ids and pay_range:
        figures["pay_range_min"] = fmt_money(pay_range[0])
        figures["pay_range_max"] = fmt_money(pay_range[1])
    if terms.expires_on:
        figures["expires_on"] = fmt_date(terms.expires_on)
    return figures


def letter_summary(draft: OfferDraft) -> list[tuple[str, str]]:
    """The summary table: (label, figure) rows shown at the top of the letter."""
    figures = draft.figures
    rows = [
        ("Position", draft.role.title),
        ("Start date", figures["start_date"]),
        ("Base salary", figures["base_salary"]),
    ]
    labels = {
        "sign_on_bonus": "Sign-on bonus",
        "target_bonus_pct": "Target bonus",
        "equity_value": "Equity (grant value)",
        "pto_days": "Paid time off",
    }
    rows += [(label, figures[key]) for key, label in labels.items() if key in figures]
    return rows


def render_html(draft: OfferDraft) -> str:
    """The letter HTML for a draft's data (what `draft.html` must equal)."""
    template = letter_env().get_template(f"{draft.template_id}.html.j2")
    return template.render(
        company=draft.company,
        letter_date=fmt_date(draft.letter_date),
        candidate=draft.candidate,
        narrative=draft.narrative,
        summary=letter_summary(draft),
        clauses=draft.clauses,
    )


def build_letter(
    *,
    template_id: str,
    library: ClauseLibrary,
    jurisdiction: str,
    letter_date: date,
    company: str,
    role: OfferRole,
    candidate: OfferCandidate,
    terms: OfferTerms,
    pay_range: tuple[Decimal, Decimal] | None,
    narrative: str,
) -> OfferDraft:
    """The draft these inputs produce: clauses chosen and worded, figures stated, HTML rendered."""
    specs, omitted = required_clauses(jurisdiction, terms, library)
    context = _letter_context(
        company=company, role=role, terms=terms, jurisdiction=jurisdiction, pay_range=pay_range
    )
    clauses = [
        Clause(
            id=spec.id,
            title=spec.title,
            text=" ".join(
                clause_env().from_string(spec.variants.get(jurisdiction, spec.text)).render(**context).split()
            ),
        )
        for spec in specs
    ]
    ids = [clause.id for clause in clauses]
    draft = OfferDraft(
        template_id=template_id,
        clauses_version=library.id,
        jurisdiction=jurisdiction,
        letter_date=letter_date,
        company=company,
        role=role,
        candidate=candidate,
        terms=terms,
        pay_range=pay_range,
        clauses=clauses,
        narrative=narrative,
        omitted=omitted,
        figures=letter_figures(terms, pay_range, ids),
        html="",
    )
    return draft.model_copy(update={"html": render_html(draft)})
