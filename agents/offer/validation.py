"""Everything wrong with an offer draft: missing or prohibited clauses, inconsistent figures, stale
text, bad dates. Errors block approval; warnings are shown to approvers."""

from __future__ import annotations

import re
from datetime import date

from agents.offer.clauses import load_clauses, required_clauses
from agents.offer.letter import build_letter, letter_figures
from agents.offer.models import Issue, OfferDraft, fmt_money


def _plain_text(html: str) -> str:
    text = re.sub(r"<[^>]+>", " ", html)
    text = text.replace("&amp;", "&").replace("&#39;", "'").replace("&#34;", '"').replace("&quot;", '"')
    return " ".join(text.split())


def validate_draft(draft: OfferDraft, *, today: date | None = None, max_start_days: int = 365) -> list[Issue]:
    """Everything wrong with a draft: missing or prohibited clauses, inconsistent figures, bad dates.

    Errors block approval; warnings are shown to approvers.
    """
    issues: list[Issue] = []
    terms = draft.terms
    library = load_clauses(draft.clauses_version.removeprefix("clauses."))
    present = draft.clause_ids

    # Clauses.
    required, _ = required_clauses(draft.jurisdiction, terms, library)
    for spec in required:
        if spec.id not in present:
            issues.append(
                Issue(
                    code="missing_clause",
                    message=f"'{spec.title}' is required in {draft.jurisdiction} for these terms",
                    clause_id=spec.id,
                )
            )
    known = {spec.id: spec for spec in library.clauses}
    for clause in draft.clauses:
        spec = known.get(clause.id)
        if spec is None:
            issues.append(
                Issue(
                    code="unknown_clause",
                    message=f"clause {clause.id!r} is not in {library.id}",
                    clause_id=clause.id,
                )
            )
        elif spec.prohibited(draft.jurisdiction):
            issues.append(
                Issue(
                    code="prohibited_clause",
                    message=f"'{spec.title}' must not appear in an offer in {draft.jurisdiction}",
                    clause_id=clause.id,
                )
            )
        elif not spec.in_scope(draft.jurisdiction):
            issues.append(
                Issue(
                    code="wrong_jurisdiction_clause",
                    severity="warning",
                    message=f"'{spec.title}' applies only in {', '.join(spec.only_in or [])}",
                    clause_id=clause.id,
                )
            )
    if len(set(present)) != len(present):
        issues.append(Issue(code="duplicate_clause", message="a clause appears more than once"))

    # Figures.
    if terms.base_salary <= 0:
        issues.append(Issue(code="bad_figure", message="base salary must be positive"))
    for name in ("sign_on_bonus", "equity_value"):
        if getattr(terms, name) < 0:
            issues.append(Issue(code="bad_figure", message=f"{name} must not be negative"))
    if terms.target_bonus_pct is not None and not 0 <= terms.target_bonus_pct <= 100:
        issues.append(Issue(code="bad_figure", message="target bonus must be between 0% and 100%"))
    if terms.pto_days is not None and terms.pto_days < 0:
        issues.append(Issue(code="bad_figure", message="PTO days must not be negative"))
    if draft.pay_range is not None:
        low, high = draft.pay_range
        if low > high:
            issues.append(
                Issue(code="bad_pay_range", message=f"pay range {fmt_money(low)} > {fmt_money(high)}")
            )
        elif not low <= terms.base_salary <= high:
            issues.append(
                Issue(
                    code="base_outside_disclosed_range",
                    severity="error" if "pay_range_disclosure" in present else "warning",
                    message=f"base {fmt_money(terms.base_salary)} is outside the disclosed range "
                    f"{fmt_money(low)}-{fmt_money(high)}",
                )
            )
    elif "pay_range_disclosure" in present or any(s.id == "pay_range_disclosure" for s in required):
        issues.append(
            Issue(code="missing_pay_range", message=f"{draft.jurisdiction} requires a disclosed pay range")
        )
    expected = letter_figures(terms, draft.pay_range, present)
    if expected != draft.figures:
        issues.append(Issue(code="figures_stale", message="the figures do not match the offer terms"))
    text = _plain_text(draft.html)
    for label, figure in expected.items():
        if figure not in text:
            issues.append(
                Issue(code="figure_missing", message=f"{label} {figure} does not appear in the letter")
            )
    rebuilt = build_letter(
        template_id=draft.template_id,
        library=library,
        jurisdiction=draft.jurisdiction,
        letter_date=draft.letter_date,
        company=draft.company,
        role=draft.role,
        candidate=draft.candidate,
        terms=terms,
        pay_range=draft.pay_range,
        narrative=draft.narrative,
    )
    if draft.html != rebuilt.html:
        issues.append(
            Issue(
                code="render_stale", message="the letter text differs from what its terms and clauses produce"
            )
        )

    # Dates.
    today = today or draft.letter_date
    if terms.start_date < draft.letter_date or terms.start_date < today:
        issues.append(Issue(code="bad_date", message=f"start date {terms.start_date} is in the past"))
    elif (terms.start_date - today).days > max_start_days:
        issues.append(
            Issue(
                code="bad_date",
                severity="warning",
                message=f"start date is more than {max_start_days} days out",
            )
        )
    if terms.start_date.weekday() >= 5:
        issues.append(
            Issue(code="weekend_start", severity="warning", message="start date falls on a weekend")
        )
    if terms.expires_on is not None:
        if terms.expires_on < draft.letter_date:
            issues.append(Issue(code="bad_date", message="the offer expires before the letter date"))
        elif terms.expires_on > terms.start_date:
            issues.append(Issue(code="bad_date", message="the offer expires after the start date"))

    # People.
    if not draft.candidate.name.strip():
        issues.append(Issue(code="missing_name", message="candidate name is empty"))
    if not draft.role.title.strip():
        issues.append(Issue(code="missing_title", message="job title is empty"))
    return issues


def blocking(issues: list[Issue]) -> list[Issue]:
    """The issues that block approval."""
    return [issue for issue in issues if issue.severity == "error"]
