"""Nurture's plain functions: time zones and quiet hours, moderation (fixed or held), signed
unsubscribe tokens, campaign definitions (YAML and validation), cron evaluation, template
rendering, and the LLM rewrite's PII limits against the OpenAI-compatible stub."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.llm_stub import llm_stub  # noqa: F401 - fixture

from agents.nurture.campaigns import CampaignError, load_yaml, parse_campaign, yaml_campaigns
from agents.nurture.drafting import Draft, RoleSlot, SkillSlot, render, rewrite
from agents.nurture.models import QuietHours, Signature
from agents.nurture.moderation import moderate
from agents.nurture.timing import is_due, person_timezone, quiet_reason
from agents.nurture.tokens import InvalidToken, UnsubscribeClaim, sign, verify

SIGNATURE = Signature(name="Jordan Lee", title="Talent Partner", company="Example Corp")
LINK = "http://127.0.0.1:8000/nurture/unsubscribe?token=abc.def"


def _person(state: str | None = None, country: str | None = None) -> dict:
    address: dict = {}
    if state:
        address["addressstate"] = {"id": "D1", "abbrev": state, "value": state}
    if country:
        address["addresscountry"] = {"id": "D2", "abbrev": country, "value": country}
    return {"addresses": [address]} if address else {}


def test_time_zone_from_address_state_then_country_then_default():
    assert person_timezone(_person("CA", "US"), "America/New_York") == "America/Los_Angeles"
    assert person_timezone(_person("HI"), "America/New_York") == "Pacific/Honolulu"
    assert person_timezone(_person(None, "DE"), "America/New_York") == "Europe/Berlin"
    assert person_timezone(_person("ZZ", "US"), "America/Chicago") == "America/New_York"  # the country
    assert person_timezone({}, "America/Chicago") == "America/Chicago"


@pytest.mark.parametrize(
    ("when", "zone", "expected"),
    [
        (datetime(2026, 11, 24, 15, 0, tzinfo=UTC), "America/New_York", None),  # Tue 10:00
        (datetime(2026, 11, 24, 15, 0, tzinfo=UTC), "Pacific/Honolulu", "quiet_hours"),  # Tue 05:00
        (
            datetime(2026, 11, 25, 0, 30, tzinfo=UTC),
            "America/New_York",
            "quiet_hours",
        ),  # Tue 19:30 -> after 19:00
        (datetime(2026, 11, 24, 23, 30, tzinfo=UTC), "America/Los_Angeles", None),  # Tue 15:30
        (datetime(2026, 11, 22, 15, 0, tzinfo=UTC), "America/New_York", "non_working_day"),  # Sunday
        (datetime(2026, 11, 24, 1, 0, tzinfo=UTC), "Asia/Tokyo", None),  # Tue 10:00 in Tokyo
        (datetime(2026, 11, 24, 1, 0, tzinfo=UTC), "America/New_York", "quiet_hours"),  # Mon 20:00
    ],
)
def test_quiet_hours_and_working_days_in_the_candidates_zone(when, zone, expected):
    rules = QuietHours(start="19:00", end="08:00")
    assert quiet_reason(when, zone, rules) == expected


def test_quiet_hours_without_wrap_and_switched_off():
    lunch = QuietHours(
        start="12:00", end="13:00", working_days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    )
    assert (
        quiet_reason(datetime(2026, 11, 22, 17, 30, tzinfo=UTC), "America/New_York", lunch) == "quiet_hours"
    )
    assert quiet_reason(datetime(2026, 11, 22, 18, 30, tzinfo=UTC), "America/New_York", lunch) is None
    never = QuietHours(start="00:00", end="00:00", working_days=["sun"])
    assert quiet_reason(datetime(2026, 11, 22, 3, 0, tzinfo=UTC), "UTC", never) is None


def test_moderation_fixes_missing_link_and_sender_and_holds_the_rest():
    fixed = moderate(
        "Hello",
        "Hi Amy,\n\nWe have a role for you. Reply any time.\n",
        unsubscribe_url=LINK,
        signature=SIGNATURE,
    )
    assert not fixed.held and fixed.fixed == ["unsubscribe link added", "sender identity added"]
    assert (
        LINK in fixed.body
        and "Jordan Lee" in fixed.body
        and fixed.body.index("Jordan") < fixed.body.index(LINK)
    )
    base = f"Hi Amy,\n\nText.\n\nJordan Lee\nTalent Partner, Example Corp\nUnsubscribe: {LINK}\n"
    assert not moderate("Hello", base, unsubscribe_url=LINK, signature=SIGNATURE).held
    cases = {
        "protected attribute": base.replace("Text.", "Young energetic people wanted."),
        "unverifiable claim": base.replace("Text.", "We guarantee the best salary."),
        "template syntax": base.replace("Text.", "Hello {{ first_name }}"),
        "longer than": base + "x" * 3000,
    }
    for problem, body in cases.items():
        result = moderate("Hello", body, unsubscribe_url=LINK, signature=SIGNATURE)
        assert result.held and any(problem in p for p in result.problems), (problem, result.problems)
    assert moderate("", base, unsubscribe_url=LINK, signature=SIGNATURE).problems == ["empty subject"]


def test_unsubscribe_tokens_are_signed():
    secret = b"k" * 32
    token = sign(UnsubscribeClaim(42, "warm", 1), secret)
    assert verify(token, secret) == UnsubscribeClaim(42, "warm", 1)
    payload, mac = token.split(".")
    forged = sign(UnsubscribeClaim(43, "warm", 1), b"other-secret").split(".")[0] + "." + mac
    for bad in (forged, payload, "x.y", token[:-2] + "zz"):
        with pytest.raises(InvalidToken):
            verify(bad, secret)
    with pytest.raises(InvalidToken):
        verify(token, b"another-secret")


def test_shipped_campaign_yaml_loads_and_bad_definitions_are_refused(tmp_path: Path):
    shipped = yaml_campaigns()
    assert "talent-community" in shipped
    assert [s.template for s in shipped["talent-community"].steps] == ["intro.v1", "checkin.v1", "last.v1"]
    good = {
        "id": "x",
        "name": "X",
        "target": {"pool_ids": [301]},
        "steps": [{"day": 0, "template": "intro.v1"}],
    }
    assert parse_campaign(good).caps.max_per_run == 50
    bad = {
        "unknown template": {**good, "steps": [{"day": 0, "template": "nope.v1"}]},
        "first step": {**good, "steps": [{"day": 2, "template": "intro.v1"}]},
        "must increase": {
            **good,
            "steps": [{"day": 0, "template": "intro.v1"}, {"day": 0, "template": "last.v1"}],
        },
        "cron": {**good, "schedule": "every day"},
        "pool_ids": {**good, "target": {"pool_ids": []}},
        "working_days": {**good, "quiet_hours": {"working_days": ["funday"]}},
        "Extra inputs": {**good, "surprise": 1},
    }
    for fragment, data in bad.items():
        with pytest.raises(CampaignError, match=fragment):
            parse_campaign(data)
    path = tmp_path / "broken.yaml"
    path.write_text("id: [unclosed\n")
    with pytest.raises(CampaignError, match="not valid YAML"):
        load_yaml(path)


def test_cron_schedule_is_evaluated_in_utc():
    assert is_due("0 10,14 * * 1-5", datetime(2026, 11, 24, 14, 0, 59, tzinfo=UTC))
    assert not is_due("0 10,14 * * 1-5", datetime(2026, 11, 24, 14, 1, tzinfo=UTC))
    assert not is_due("0 10 * * 1-5", datetime(2026, 11, 22, 10, 0, tzinfo=UTC))  # Sunday
    assert is_due("*/15 * * * *", datetime(2026, 11, 22, 9, 45, tzinfo=UTC))
    assert not is_due(None, datetime(2026, 11, 22, 9, 45, tzinfo=UTC))


def test_templates_fill_every_slot_with_and_without_a_role():
    skills = [SkillSlot(name="Python", evidence="built Python ETL pipelines"), SkillSlot(name="SQL")]
    subject, body = render(
        "intro.v1",
        first_name="Amy",
        role=RoleSlot(job_id=1004, title="Data Engineer", score=81),
        skills=skills,
        signature=SIGNATURE,
        unsubscribe_url=LINK,
    )
    assert subject == "Our Data Engineer opening at Example Corp"
    assert '- Python ("built Python ETL pipelines")' in body and "- SQL\n" in body and LINK in body
    subject, body = render(
        "checkin.v1", first_name="Amy", role=None, skills=[], signature=SIGNATURE, unsubscribe_url=LINK
    )
    assert "Data Engineer" not in body and "{" not in body and "Jordan Lee" in body
    assert not moderate(subject, body, unsubscribe_url=LINK, signature=SIGNATURE).held


def test_llm_rewrite_sees_no_name_or_link_and_keeps_placeholders(llm_stub):  # noqa: F811
    stub, url = llm_stub
    sign_off = "\n\nJordan Lee\nTalent Partner, Example Corp\nUnsubscribe: [UNSUBSCRIBE_LINK]"
    stub.on(text="Dear [FIRST_NAME], a warmer note." + sign_off, times=1)
    stub.on(text="Dear [FIRST_NAME], no link here.")
    subject, body = render(
        "intro.v1", first_name="Zelda", role=None, skills=[], signature=SIGNATURE, unsubscribe_url=LINK
    )
    draft = Draft(person_id=7, name="Zelda", step=0, template="intro.v1", subject=subject, body=body)
    model = stub.chat_model(url)
    text = rewrite(model, draft, first_name="Zelda", unsubscribe_url=LINK)
    assert text.startswith("Dear Zelda,") and LINK in text
    sent = str(stub.requests[0]["messages"])
    assert "Zelda" not in sent and "token=" not in sent and "[FIRST_NAME]" in sent
    with pytest.raises(ValueError, match="unsubscribe link"):
        rewrite(model, draft, first_name="Zelda", unsubscribe_url=LINK)
