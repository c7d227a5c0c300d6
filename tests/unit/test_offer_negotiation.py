"""Counter-offers: extraction from real-world phrasings and analysis against band, policy, authority."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from agents.offer import OfferTerms, analyse_counter, band_for, load_policy, parse_counter
from agents.offer.models import Authority

TODAY = date(2027, 1, 15)
D = Decimal


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "I was hoping for 135k plus a 10k signing bonus",
            {"base_salary": D(135000), "sign_on_bonus": D(10000)},
        ),
        (
            "could we do $140,000 and start March 3?",
            {"base_salary": D(140000), "start_date": date(2027, 3, 3)},
        ),
        (
            "$150K base, 15% bonus, fully remote",
            {"base_salary": D(150000), "bonus_pct": D(15), "remote": "Remote"},
        ),
        ("an extra week of PTO", {"extra_pto_days": 5}),
        (
            "Would you be able to get to 142,500? I'd like to start on 4/14.",
            {"base_salary": D(142500), "start_date": date(2027, 4, 14)},
        ),
        (
            "I'd want a sign-on bonus of $15,000 and 20k in RSUs",
            {"sign_on_bonus": D(15000), "equity_value": D(20000)},
        ),
        (
            "Can you add another 10k to the base? And 4 weeks of vacation.",
            {"base_increase": D(10000), "pto_days": 20},
        ),
        (
            "A hybrid setup with two days in the office, and a 12% target bonus?",
            {"remote": "Hybrid", "bonus_pct": D(12)},
        ),
        (
            "Not fully remote, but a base salary of $160,000 starting the 1st of June 2027",
            {"base_salary": D(160000), "start_date": date(2027, 6, 1)},
        ),
        ("If you can match 1.5 million I'm in", {"base_salary": D(1500000)}),
        ("Thanks! Let me think about it until January 20.", {}),
        ("two more days of PTO and a $5,000 annual bonus", {"extra_pto_days": 2, "bonus_amount": D(5000)}),
    ],
)
def test_parse_counter(text: str, expected: dict) -> None:
    counter = parse_counter(text, today=TODAY)
    got = counter.model_dump(exclude={"text", "evidence"}, exclude_none=True)
    assert got == expected
    assert set(counter.evidence) == set(expected)


def test_year_rollover_for_dates_already_past() -> None:
    assert parse_counter("Could I start Jan 5?", today=TODAY).start_date == date(2028, 1, 5)


BAND = band_for("15-1252", "L3", "Austin, TX")
CURRENT = OfferTerms(
    base_salary=D(128000), start_date=date(2027, 3, 1), sign_on_bonus=D(5000), pto_days=15, remote="Hybrid"
)


def analyse(text: str, **kwargs):
    return analyse_counter(
        CURRENT,
        parse_counter(text, today=TODAY),
        BAND,
        load_policy(),
        candidate_name="Ada Lovelace",
        today=TODAY,
        **kwargs,
    )


def test_within_authority_suggests_reply() -> None:
    assert BAND.mid >= D(133000)  # +5% of 128k = 134,400 is capped at the midpoint
    result = analyse("could we do 133k and a 10k signing bonus, and start March 8?")
    assert result.decision == "accept", result.reasons
    assert result.proposed.base_salary == D(133000) and result.proposed.sign_on_bonus == D(10000)
    assert "$133,000" in result.suggested_reply and "Ada" in result.suggested_reply
    assert result.approvals[0].role == "recruiter" and len(result.approvals) == 1
    assert result.reply_template == "replies.v1.accept"


def test_over_band_max_escalates_with_reason() -> None:
    ask = BAND.max + D(1000)
    result = analyse(f"I was hoping for {int(ask)} plus a 10k signing bonus")
    assert result.decision == "escalate"
    assert result.band_position == "above_max"
    assert any(r.startswith("base_salary:") for r in result.reasons)
    assert any("above the band maximum" in r for r in result.reasons)
    assert {"comp_partner", "vp"} <= {s.role for s in result.approvals}
    assert "our VP" in result.suggested_reply and "January 19, 2027" in result.suggested_reply


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("an extra week of PTO", "pto_days"),
        ("I'd need it to be fully remote", "remote"),
        ("a 15% bonus would make this work", "target_bonus_pct"),
        ("a 25k signing bonus", "sign_on_bonus"),
        ("could I start June 1?", "start_date"),
    ],
)
def test_outside_authority_escalates(text: str, term: str) -> None:
    result = analyse(text)
    assert result.decision == "escalate"
    assert [c.term for c in result.changes if not c.within_authority] == [term]


def test_wider_authority_accepts_and_no_change() -> None:
    generous = Authority(max_extra_pto_days=5, max_base_increase_pct=D(10))
    assert analyse("an extra week of PTO", authority=generous).decision == "accept"
    nothing = analyse("Thanks, I'm thinking it over.")
    assert nothing.decision == "no_change" and nothing.changes == []
