"""Sign-off bookkeeping and opening terms: pure functions, no I/O."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from agents.offer import OfferTerms, band_for
from agents.offer.models import ApprovalStep, OfferRole
from agents.offer.proposal import default_terms, first_monday, opening_base
from agents.offer.signoff import approvers_for, missing, next_step, terms_hash

TERMS = OfferTerms(base_salary=Decimal(120000), start_date=date(2027, 3, 1))
OTHER = TERMS.model_copy(update={"base_salary": Decimal("120000.01")})
CHAIN = [
    ApprovalStep(role="vp", order=3, approvers=["vp"], required=1, mode="parallel", reasons=["r"]),
    ApprovalStep(role="recruiter", order=1, approvers=["r"], required=1, mode="sequential", reasons=["r"]),
    ApprovalStep(role="legal", order=3, approvers=["l1", "l2"], required=2, mode="parallel", reasons=["r"]),
]


def signed(role: str, who: str, terms: OfferTerms = TERMS, decision: str = "accept") -> dict:
    return {"role": role, "approver": who, "decision": decision, "terms_hash": terms_hash(terms)}


def test_terms_hash_changes_with_one_cent_and_not_with_representation() -> None:
    assert terms_hash(TERMS) != terms_hash(OTHER)
    assert terms_hash(TERMS) == terms_hash(TERMS.model_dump(mode="json"))


def test_steps_in_order_then_role_and_n_of_m_needs_distinct_approvers() -> None:
    h = terms_hash(TERMS)
    assert next_step(CHAIN, [], h).role == "recruiter"
    given = [signed("recruiter", "ann")]
    assert next_step(CHAIN, given, h).role == "legal"  # order 3: legal before vp (by name)
    given.append(signed("legal", "lee"))
    given.append(signed("legal", "lee"))  # the same approver twice is still one of two
    assert next_step(CHAIN, given, h).role == "legal"
    assert missing(CHAIN, given, h) == ["legal: 1 of 2", "vp: 0 of 1"]
    given += [signed("legal", "lou"), signed("vp", "val")]
    assert next_step(CHAIN, given, h) is None and missing(CHAIN, given, h) == []


def test_approvals_of_other_terms_and_non_approvals_do_not_count() -> None:
    h = terms_hash(OTHER)
    given = [
        signed("recruiter", "ann"),  # on the old terms
        signed("recruiter", "bob", OTHER, decision="respond"),
        signed("recruiter", "cat", OTHER, decision="ignore"),
    ]
    assert approvers_for("recruiter", given, h) == []
    assert next_step(CHAIN, given, h).role == "recruiter"
    given.append(signed("recruiter", "dan", OTHER, decision="edit"))  # an edit signs its own terms
    assert approvers_for("recruiter", given, h) == ["dan"]


def test_opening_terms_stay_in_band_and_start_on_a_monday() -> None:
    band = band_for("15-1252", "L3", "Austin, TX")
    role = OfferRole(title="Software Developer", remote="Hybrid")
    terms = default_terms(role, band, today=date(2027, 1, 13))  # a Wednesday
    assert band.min <= terms.base_salary <= band.mid
    assert terms.base_salary % 500 == 0
    assert terms.start_date == date(2027, 2, 8) and terms.start_date.weekday() == 0
    assert terms.expires_on == date(2027, 1, 20) and terms.remote == "Hybrid"
    assert first_monday(date(2027, 2, 8)) == date(2027, 2, 8)
    # The posted range wins over the band midpoint; given terms win over defaults.
    posted = role.model_copy(update={"posted_min": Decimal(90000), "posted_max": Decimal(110000)})
    assert opening_base(band, posted) == Decimal(110000)
    assert default_terms(role, band, today=date(2027, 1, 13), base_salary="99999").base_salary == Decimal(
        99999
    )
