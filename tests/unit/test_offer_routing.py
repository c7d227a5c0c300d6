"""Approval routing matrix: band position, caps and non-standard terms -> the approvers policy requires."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from agents.offer import (
    OfferTerms,
    added_steps,
    approval_chain,
    band_for,
    draft_offer,
    load_policy,
    revise_draft,
)

LETTER_DATE = date(2027, 1, 15)
BAND = band_for("15-1252", "L3", "Austin, TX")
REQ = {
    "jobtitle": "Software Developer",
    "joblocation": {"value": "Austin, TX"},
    "field52003": "15-1252",
    "field52006": "Hybrid",
}


# At base = band min, the percent-of-base cap (15%) is the binding one.
SIGN_ON_CAP = min(Decimal(20000), (BAND.min * 15 / 100).quantize(Decimal("0.01")))


def draft(location: str = "Austin, TX", **changes):
    values = {"base_salary": BAND.min, "start_date": date(2027, 3, 1), "remote": "Hybrid", **changes}
    fields = {**REQ, "joblocation": {"value": location}}
    return draft_offer(
        fields,
        {"name": "Ada Lovelace"},
        OfferTerms.model_validate(values),
        band=BAND,
        letter_date=LETTER_DATE,
    )


def roles(d) -> list[str]:
    return [step.role for step in approval_chain(d, BAND, load_policy())]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"base_salary": BAND.min}, ["recruiter"]),
        ({"base_salary": BAND.mid}, ["recruiter"]),
        ({"base_salary": BAND.mid + Decimal("0.01")}, ["recruiter", "comp_partner"]),
        ({"base_salary": BAND.max}, ["recruiter", "comp_partner"]),
        ({"base_salary": BAND.max + Decimal("0.01")}, ["recruiter", "comp_partner", "vp"]),
        ({"base_salary": BAND.min - Decimal("0.01")}, ["recruiter", "comp_partner"]),
        ({"sign_on_bonus": SIGN_ON_CAP}, ["recruiter"]),
        ({"sign_on_bonus": SIGN_ON_CAP + Decimal("0.01")}, ["recruiter", "vp"]),
        ({"equity_value": Decimal("60000.01")}, ["recruiter", "vp"]),
        ({"target_bonus_pct": Decimal("25")}, ["recruiter", "vp"]),
        ({"pto_days": 30}, ["recruiter", "legal", "vp"]),
        ({"remote": "Remote"}, ["recruiter", "legal", "vp"]),
        ({"non_standard": ["guaranteed first-year bonus"]}, ["recruiter", "legal", "vp"]),
        ({"start_date": date(2027, 9, 1)}, ["recruiter", "legal", "vp"]),
    ],
)
def test_routing_matrix(changes: dict, expected: list[str]) -> None:
    assert roles(draft(**changes)) == expected


def test_sign_on_absolute_cap_binds_on_high_base() -> None:
    high = band_for("15-1252", "L5", "San Francisco, CA")
    at_cap = OfferTerms(base_salary=high.min, start_date=date(2027, 3, 1), sign_on_bonus=Decimal(20000))
    over = at_cap.model_copy(update={"sign_on_bonus": Decimal("20000.01")})
    policy = load_policy()
    fields = {**REQ, "joblocation": {"value": "San Francisco, CA"}}
    chain = [
        [
            s.role
            for s in approval_chain(
                draft_offer(fields, {"name": "A B"}, t, letter_date=LETTER_DATE), high, policy
            )
        ]
        for t in (at_cap, over)
    ]
    assert chain == [["recruiter"], ["recruiter", "vp"]]


def test_step_shape_n_of_m_and_parallel() -> None:
    chain = approval_chain(
        draft(base_salary=BAND.max + 1, non_standard=["relocation above policy"]), BAND, load_policy()
    )
    by_role = {step.role: step for step in chain}
    assert [s.order for s in chain] == sorted(s.order for s in chain)
    assert by_role["recruiter"].mode == "sequential"
    assert by_role["comp_partner"].required == 1 and len(by_role["comp_partner"].approvers) == 2
    assert by_role["vp"].mode == by_role["legal"].mode == "parallel"
    assert by_role["vp"].order == by_role["legal"].order
    assert any("above the band maximum" in r for r in by_role["vp"].reasons)
    assert any("relocation above policy" in r for r in by_role["vp"].reasons)


def test_edit_out_of_band_adds_approver() -> None:
    before = draft(base_salary=BAND.mid)
    edited = revise_draft(before, base_salary=BAND.max + Decimal("0.01"))
    old = approval_chain(before, BAND, load_policy())
    new = approval_chain(edited, BAND, load_policy())
    assert [s.role for s in added_steps(old, new)] == ["comp_partner", "vp"]


def test_prohibited_non_compete_does_not_route_but_allowed_one_does() -> None:
    assert roles(draft("Los Angeles, CA", non_compete=True)) == ["recruiter"]
    assert roles(draft("Austin, TX", non_compete=True)) == ["recruiter", "legal", "vp"]
