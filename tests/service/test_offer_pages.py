"""The web inbox form of an offer approval -> the decision sent to the approvals service."""

from __future__ import annotations

import pytest

from server.offers import page_decision

STEP = {"terms": {"base_salary": "120000.00"}, "step": {"role": "recruiter"}}
COUNTER = {"suggested_reply": "Hi Ada, we can do this.", "proposed_terms": {"base_salary": "125000.00"}}


def test_offer_step_form() -> None:
    same = page_decision({"decision": "approve", "base_salary": "$120,000"}, STEP)
    assert same.type == "accept" and same.args is None
    edited = page_decision({"decision": "approve", "base_salary": "130000", "note": "market"}, STEP)
    assert edited.type == "edit" and edited.args == {"terms": {"base_salary": "130000"}}
    assert edited.note == "market"
    assert page_decision({"decision": "ignore"}, STEP).type == "ignore"
    assert page_decision({"decision": "respond", "note": "lower"}, STEP).type == "respond"
    with pytest.raises(ValueError, match="feedback"):
        page_decision({"decision": "respond"}, STEP)
    with pytest.raises(ValueError, match="not a number"):
        page_decision({"decision": "approve", "base_salary": "a lot"}, STEP)
    with pytest.raises(ValueError, match="Choose"):
        page_decision({}, STEP)


def test_counter_reply_form() -> None:
    assert (
        page_decision(
            {"decision": "approve", "base_salary": "125000", "suggested_reply": COUNTER["suggested_reply"]},
            COUNTER,
        ).type
        == "accept"
    )
    edited = page_decision(
        {"decision": "approve", "base_salary": "124000", "suggested_reply": "Hi Ada: $124,000."}, COUNTER
    )
    assert edited.type == "edit"
    assert edited.args == {
        "suggested_reply": "Hi Ada: $124,000.",
        "proposed_terms": {"base_salary": "124000"},
    }
