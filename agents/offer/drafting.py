"""Offer-letter drafting and validation: requisition + candidate + terms -> a versioned, compliant draft.

The letter is `prompts/offer/letter.<version>.html.j2`; its clauses come from
`prompts/offer/clauses.<version>.yaml`, chosen by the jurisdiction's rules. Pure functions: no I/O
beyond reading those packaged files, no LLM (a narrative paragraph may be passed in).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any, Literal

import jinja2
import yaml
from pydantic import BaseModel, Field

from agents.offer.models import (
    Clause,
    Issue,
    OfferCandidate,
    OfferDraft,
    OfferRole,
    OfferTerms,
    PayBand,
    fmt_date,
    fmt_money,
    money,
)
from agents.offer.policy import location_state
from tools.settings import DEFAULT_FIELD_MAP

PROMPT_DIR = Path(__file__).resolve().parents[2] / "prompts" / "offer"
DEFAULT_VERSION = "v1"
_VERSION = re.compile(r"^v\d+$")
US_STATES = frozenset(
    {
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "DC",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
    }
)

Condition = Literal["sign_on", "equity", "bonus", "pto", "remote", "non_compete"]


class ClauseSpec(BaseModel):
    id: str
    title: str
    text: str
    when: Condition | None = None
    only_in: list[str] | None = None
    prohibited_in: list[str] = Field(default_factory=list)
    variants: dict[str, str] = Field(default_factory=dict)

    def prohibited(self, state: str) -> bool:
        return state in self.prohibited_in

    def in_scope(self, state: str) -> bool:
        return self.only_in is None or state in self.only_in


class ClauseLibrary(BaseModel):
    version: str
    clauses: list[ClauseSpec]

    @property
    def id(self) -> str:
        return f"clauses.{self.version}"

    def get(self, clause_id: str) -> ClauseSpec:
        for spec in self.clauses:
            if spec.id == clause_id:
                return spec
        raise KeyError(clause_id)


def _check_version(version: str) -> None:
    if not _VERSION.match(version):
        raise ValueError(f"bad template version {version!r}")


@cache
def load_clauses(version: str = DEFAULT_VERSION) -> ClauseLibrary:
    _check_version(version)
    data = yaml.safe_load((PROMPT_DIR / f"clauses.{version}.yaml").read_text(encoding="utf-8"))
    return ClauseLibrary.model_validate(data)


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(PROMPT_DIR),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


@cache
def _text_env() -> jinja2.Environment:
    return jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined)


# ---------------------------------------------------------------- inputs


def _decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return money(str(value).replace(",", "").replace("$", ""))
    except InvalidOperation:
        return None


def _value(node: Any) -> str | None:
    if isinstance(node, dict):
        node = node.get("value")
    if isinstance(node, list):
        node = node[0].get("value") if node and isinstance(node[0], dict) else None
    return str(node) if node not in (None, "") else None


def role_from_fields(req_fields: Mapping[str, Any], field_map: Mapping[str, str] | None = None) -> OfferRole:
    """The iCIMS job profile fields an offer needs (docs/CONTRACTS.md, jobs)."""
    fmap = {**DEFAULT_FIELD_MAP, **(field_map or {})}
    remote = _value(req_fields.get(fmap["job_remote"]))
    return OfferRole(
        job_id=_value(req_fields.get("jobid")) or _value(req_fields.get("id")),
        title=_value(req_fields.get("jobtitle")) or "",
        soc=_value(req_fields.get(fmap["job_soc_code"])),
        location=_value(req_fields.get("joblocation")) or "",
        remote=remote if remote in ("Remote", "Hybrid", "On-site") else None,  # type: ignore[arg-type]
        posted_min=_decimal(req_fields.get(fmap["job_salary_min"])),
        posted_max=_decimal(req_fields.get(fmap["job_salary_max"])),
        hiring_manager=_value(req_fields.get("hiringmanager")),
    )


def _condition(terms: OfferTerms, condition: Condition | None) -> bool:
    match condition:
        case None:
            return True
        case "sign_on":
            return terms.sign_on_bonus > 0
        case "equity":
            return terms.equity_value > 0
        case "bonus":
            return bool(terms.target_bonus_pct)
        case "pto":
            return terms.pto_days is not None
        case "remote":
            return terms.remote is not None
        case "non_compete":
            return terms.non_compete


def required_clauses(
    jurisdiction: str, terms: OfferTerms, library: ClauseLibrary | None = None
) -> tuple[list[ClauseSpec], list[str]]:
    """(clauses the letter must carry, in library order; "id: reason" for those left out as prohibited)."""
    library = library or load_clauses()
    keep: list[ClauseSpec] = []
    omitted: list[str] = []
    for spec in library.clauses:
        if not spec.in_scope(jurisdiction) or not _condition(terms, spec.when):
            continue
        if spec.prohibited(jurisdiction):
            omitted.append(f"{spec.id}: not enforceable / prohibited in {jurisdiction}")
            continue
        keep.append(spec)
    return keep, omitted


def _pct(value: Decimal) -> str:
    return f"{value.normalize():f}%"


def _context(
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


def _figures(
    terms: OfferTerms, pay_range: tuple[Decimal, Decimal] | None, clause_ids: list[str]
) -> dict[str, str]:
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
    template = _env().get_template(f"{draft.template_id}.html.j2")
    return template.render(
        company=draft.company,
        letter_date=fmt_date(draft.letter_date),
        candidate=draft.candidate,
        narrative=draft.narrative,
        summary=letter_summary(draft),
        clauses=draft.clauses,
    )


def _build(
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
    specs, omitted = required_clauses(jurisdiction, terms, library)
    context = _context(
        company=company, role=role, terms=terms, jurisdiction=jurisdiction, pay_range=pay_range
    )
    clauses = [
        Clause(
            id=spec.id,
            title=spec.title,
            text=" ".join(
                _text_env().from_string(spec.variants.get(jurisdiction, spec.text)).render(**context).split()
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
        figures=_figures(terms, pay_range, ids),
        html="",
    )
    return draft.model_copy(update={"html": render_html(draft)})


def draft_offer(
    req_fields: Mapping[str, Any],
    candidate: OfferCandidate | Mapping[str, Any],
    terms: OfferTerms,
    *,
    jurisdiction: str | None = None,
    band: PayBand | None = None,
    company: str | None = None,
    letter_date: date | None = None,
    narrative: str = "",
    version: str = DEFAULT_VERSION,
    field_map: Mapping[str, str] | None = None,
) -> OfferDraft:
    """Draft an offer letter. `jurisdiction` defaults to the state of the job location ("City, ST").

    The disclosed pay range is the requisition's posted range (field52004/52005), else `band`.
    A clause the jurisdiction prohibits (e.g. a non-compete in California) is left out and listed in
    `draft.omitted`.
    """
    _check_version(version)
    role = role_from_fields(req_fields, field_map)
    state = (jurisdiction or location_state(role.location) or "").upper()
    if state not in US_STATES:
        raise ValueError(f"unknown jurisdiction {jurisdiction or role.location!r}: expected a US state code")
    if role.posted_min is not None and role.posted_max is not None:
        pay_range: tuple[Decimal, Decimal] | None = (role.posted_min, role.posted_max)
    elif band is not None:
        pay_range = (money(band.min), money(band.max))
    else:
        pay_range = None
    person = candidate if isinstance(candidate, OfferCandidate) else OfferCandidate.model_validate(candidate)
    return _build(
        template_id=f"letter.{version}",
        library=load_clauses(version),
        jurisdiction=state,
        letter_date=letter_date or date.today(),
        company=company or _value(req_fields.get("companyname")) or "The Company",
        role=role,
        candidate=person,
        terms=terms.model_copy(
            update={
                "base_salary": money(terms.base_salary),
                "sign_on_bonus": money(terms.sign_on_bonus),
                "equity_value": money(terms.equity_value),
            }
        ),
        pay_range=pay_range,
        narrative=" ".join(narrative.split()),
    )


def revise_draft(draft: OfferDraft, **term_changes: Any) -> OfferDraft:
    """A new draft with changed terms (an approver's edit), re-rendered with the same versions."""
    terms = OfferTerms.model_validate({**draft.terms.model_dump(), **term_changes})
    return _build(
        template_id=draft.template_id,
        library=load_clauses(draft.clauses_version.removeprefix("clauses.")),
        jurisdiction=draft.jurisdiction,
        letter_date=draft.letter_date,
        company=draft.company,
        role=draft.role,
        candidate=draft.candidate,
        terms=terms.model_copy(
            update={
                "base_salary": money(terms.base_salary),
                "sign_on_bonus": money(terms.sign_on_bonus),
                "equity_value": money(terms.equity_value),
            }
        ),
        pay_range=draft.pay_range,
        narrative=draft.narrative,
    )


# ---------------------------------------------------------------- validation


def _plain(html: str) -> str:
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
    expected = _figures(terms, draft.pay_range, present)
    if expected != draft.figures:
        issues.append(Issue(code="figures_stale", message="the figures do not match the offer terms"))
    text = _plain(draft.html)
    for label, figure in expected.items():
        if figure not in text:
            issues.append(
                Issue(code="figure_missing", message=f"{label} {figure} does not appear in the letter")
            )
    rebuilt = _build(
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
    return [issue for issue in issues if issue.severity == "error"]
