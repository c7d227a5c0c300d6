"""Offer-letter drafting: requisition + candidate + terms -> a versioned, compliant draft.

The letter is `prompts/offer/letter.<version>.html.j2`; its clauses come from
`prompts/offer/clauses.<version>.yaml`, chosen by the jurisdiction's rules (`clauses`), assembled by
`letter` and checked by `validation`. Pure functions: no I/O beyond reading those packaged files, no
LLM (a narrative paragraph may be passed in).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from agents.offer.clauses import ClauseLibrary, ClauseSpec, Condition, load_clauses, required_clauses
from agents.offer.letter import build_letter, letter_summary, render_html
from agents.offer.models import OfferCandidate, OfferDraft, OfferRole, OfferTerms, PayBand, money
from agents.offer.policy import location_state
from agents.offer.templates import DEFAULT_VERSION, PROMPT_DIR, check_version
from agents.offer.validation import blocking, validate_draft
from tools.settings import DEFAULT_FIELD_MAP

US_STATES = frozenset(
    """AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY
    NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY""".split()  # noqa: SIM905 - reads as the list it is
)


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


def _in_cents(terms: OfferTerms) -> OfferTerms:
    return terms.model_copy(
        update={
            "base_salary": money(terms.base_salary),
            "sign_on_bonus": money(terms.sign_on_bonus),
            "equity_value": money(terms.equity_value),
        }
    )


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
    check_version(version)
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
    return build_letter(
        template_id=f"letter.{version}",
        library=load_clauses(version),
        jurisdiction=state,
        letter_date=letter_date or date.today(),
        company=company or _value(req_fields.get("companyname")) or "The Company",
        role=role,
        candidate=person,
        terms=_in_cents(terms),
        pay_range=pay_range,
        narrative=" ".join(narrative.split()),
    )


def revise_draft(draft: OfferDraft, **term_changes: Any) -> OfferDraft:
    """A new draft with changed terms (an approver's edit), re-rendered with the same versions."""
    terms = OfferTerms.model_validate({**draft.terms.model_dump(), **term_changes})
    return build_letter(
        template_id=draft.template_id,
        library=load_clauses(draft.clauses_version.removeprefix("clauses.")),
        jurisdiction=draft.jurisdiction,
        letter_date=draft.letter_date,
        company=draft.company,
        role=draft.role,
        candidate=draft.candidate,
        terms=_in_cents(terms),
        pay_range=draft.pay_range,
        narrative=draft.narrative,
    )


__all__ = [
    "DEFAULT_VERSION",
    "PROMPT_DIR",
    "US_STATES",
    "ClauseLibrary",
    "ClauseSpec",
    "Condition",
    "blocking",
    "draft_offer",
    "letter_summary",
    "load_clauses",
    "render_html",
    "required_clauses",
    "revise_draft",
    "role_from_fields",
    "validate_draft",
]
