"""Triage domain logic without I/O: policy, routing, flags, summary, proposals, decisions, redaction."""

from __future__ import annotations

import json
from datetime import date

import pytest

from agents.models import (
    CandidateProfile,
    Certification,
    Evidence,
    Reason,
    Requisition,
    Role,
    ScoredCandidate,
)
from agents.triage.assess import (
    REASONS_FIELD_LIMIT,
    Assessment,
    Flag,
    ai_fields,
    assess,
    classify_flags,
    propose,
    reasons_json,
    route,
    summary_bullets,
)
from agents.triage.decision import DecisionError, decide
from agents.triage.policy import PolicyError, Thresholds, parse_policy
from agents.triage.redact import person_names, redact
from graphs.kit.inbox import HumanResponse
from graphs.triage.deps import load_policy
from tools.settings import DEFAULT_FIELD_MAP

POLICY = """
version: test-policy
default:
  mode: assist
  thresholds: {priority_review: 70, review: 40}
  actions:
    priority_review: {status: C51219}
    talent_pool: {pool_id: 301}
requisitions:
  1001: {mode: auto, thresholds: {priority_review: 90}}
  1002: {mode: shadow}
"""


def test_policy_resolves_per_requisition_with_defaults() -> None:
    policy = parse_policy(POLICY)
    assert policy.digest and policy.version == "test-policy"
    auto = policy.for_job(1001)
    assert (auto.mode, auto.thresholds.priority_review, auto.thresholds.review) == ("auto", 90, 40)
    assert auto.rule == "requisitions.1001" and auto.auto_approves("ai_fields")
    assert not auto.auto_approves("status") and not auto.auto_approves("talent_pool")
    assert policy.for_job(1002).mode == "shadow"
    other = policy.for_job(1003)
    assert (other.mode, other.rule, other.actions.talent_pool.pool_id) == ("assist", "default", 301)
    # The settings override replaces the default mode only, not a requisition's own.
    assert policy.for_job(1003, default_mode="auto").mode == "auto"
    assert policy.for_job(1002, default_mode="auto").mode == "shadow"


@pytest.mark.parametrize(
    "text, message",
    [
        ("default: {actions: {talent_pool: {status: C51222}}}", "may not be suggested"),
        ("default: {actions: {review: {status: D10105}}}", "may not be suggested"),
        ("requisitions: {7: {actions: {review: {status: C51223}}}}", "requisition 7"),
        ("default: {thresholds: {priority_review: 40, review: 60}}", "review must not be above"),
        ("default: {mode: reject}", "default.mode"),
        ("auto_reject: true", "auto_reject"),
        ("[1, 2", "not valid YAML"),
    ],
)
def test_policy_refuses_rejections_and_bad_files(text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_policy(text)


def test_packaged_policy_loads_and_missing_file_is_a_clear_error(tmp_path) -> None:
    assert load_policy().default.mode == "assist"
    with pytest.raises(PolicyError, match="No such file"):
        load_policy(tmp_path / "nope.yaml")


def test_route_thresholds_and_lowest_tier_is_talent_pool() -> None:
    t = Thresholds(priority_review=75, review=45)
    assert [route(s, t) for s in (100, 75, 74, 45, 44, 0)] == [
        "priority_review",
        "priority_review",
        "review",
        "review",
        "talent_pool",
        "talent_pool",
    ]


def test_flags_are_typed() -> None:
    flags = classify_flags(
        [
            "missing must-have: Python",
            "certification claimed without evidence: PMP",
            "employment gap of 20 months (2019-01 to 2020-09) not explained in the resume",
            "unverified must_have evidence not counted: +10 must-have SQL",
            "missing must-have: Python",
            "something else",
        ]
    )
    assert [f.code for f in flags] == [
        "missing_must_have",
        "certification_without_evidence",
        "unexplained_gap",
        "unverified_evidence",
        "other",
    ]


def _requisition() -> Requisition:
    return Requisition(
        job_id="1001",
        title="Software Developer",
        description="Requirements: Python and SQL.",
        must_have=["Python", "SQL", "Kubernetes"],
        certifications=["PMP"],
    )


RESUME = (
    "Software Developer\n"
    "Acme Corp, Software Developer, Jan 2015 - Dec 2017. Built Python services and SQL reports.\n"
    "Beta LLC, Senior Software Developer, Jan 2020 - Present. Python APIs.\n"
)


def _profile() -> CandidateProfile:
    from agents.enrichment import enrich

    profile = enrich("7", RESUME, {}, as_of=date(2026, 11, 1))
    # A claimed certification whose quote is not in the resume (as an LLM extractor could return).
    profile.certifications.append(
        Certification(name="PMP", evidence=Evidence(quote="PMP certified 2019", verified=True))
    )
    profile.roles = [
        Role(title="Software Developer", start=date(2015, 1, 1), end=date(2017, 12, 1)),
        Role(title="Senior Software Developer", start=date(2020, 1, 1), current=True),
    ]
    return profile


def test_assess_scores_flags_and_three_bullets() -> None:
    result = assess(
        _requisition(), _profile(), RESUME, Thresholds(priority_review=90, review=30), as_of=date(2026, 11, 1)
    )
    codes = {f.code for f in result.flags}
    assert {"missing_must_have", "certification_without_evidence", "unexplained_gap"} <= codes
    assert any("Kubernetes" in f.text for f in result.flags if f.code == "missing_must_have")
    assert len(result.summary) == 3 and result.summary[0].startswith(("Review suggested", "Talent pool"))
    assert "Flags:" in result.summary[2]
    assert result.tier == route(result.score, Thresholds(priority_review=90, review=30))


def test_summary_always_three_bullets() -> None:
    scored = ScoredCandidate(person_id="1", score=50, summary=["only one"])
    bullets = summary_bullets(scored, "review", [])
    assert len(bullets) == 3 and bullets[0] == "Review suggested. only one"


def _assessment(score: int, tier: str) -> Assessment:
    return Assessment(
        score=score,
        tier=tier,  # type: ignore[arg-type]
        summary=["a", "b", "c"],
        reasons=[Reason(criterion="must_have", points=10, text="+10 must-have Python").model_dump()],
        flags=[Flag(code="missing_must_have", text="missing must-have: SQL")],
        rubric_version="rubric-1",
    )


def test_ai_fields_go_through_the_field_map() -> None:
    fields = ai_fields(
        _assessment(82, "priority_review"),
        DEFAULT_FIELD_MAP,
        versions={"rubric": "rubric-1", "extractor": "deterministic-1", "graph": "triage-1"},
        processed_at="2026-11-23 03:00 PM",
    )
    f = DEFAULT_FIELD_MAP
    assert fields[f["ai_score"]] == 82 and fields[f["ai_tier"]] == "Priority review"
    assert json.loads(fields[f["ai_reasons"]])["summary"] == ["a", "b", "c"]
    assert fields[f["ai_flags"]] == "missing must-have: SQL"
    assert fields[f["ai_model_version"]] == "rubric-1/deterministic-1/triage-1"
    with pytest.raises(ValueError, match="ai_tier"):
        ai_fields(_assessment(1, "review"), {"ai_score": "f1"}, versions={}, processed_at="x")


def test_reasons_json_fits_the_field() -> None:
    big = _assessment(50, "review")
    big.reasons = [Reason(criterion="must_have", points=i, text="x" * 300).model_dump() for i in range(20)]
    text = reasons_json(big)
    assert len(text) <= REASONS_FIELD_LIMIT and json.loads(text)["reasons"][0]["points"] == 19


def test_proposals_never_reject_and_respect_current_status() -> None:
    policy = parse_policy(POLICY).for_job(1003)
    fields = {"field51224": 1}
    high = propose(_assessment(90, "priority_review"), policy, fields=fields, current_status="D10100")
    assert [a.kind for a in high] == ["ai_fields", "status"] and high[1].status_id == "C51219"
    # Already further along, or closed (rejected, withdrawn, hired): no status suggestion.
    for status in ("C51220", "C51222", "C51223", "D10105"):
        assert [
            a.kind
            for a in propose(_assessment(90, "priority_review"), policy, fields=fields, current_status=status)
        ] == ["ai_fields"]
    low = propose(_assessment(3, "talent_pool"), policy, fields=fields, current_status="D10100")
    assert [(a.kind, a.pool_id) for a in low] == [("ai_fields", None), ("talent_pool", 301)]
    assert all(a.status_id is None for a in low)  # the lowest score suggests a pool, never a status
    member = propose(
        _assessment(3, "talent_pool"),
        policy,
        fields=fields,
        current_status="D10100",
        in_pool=lambda pid: pid == 301,
    )
    assert [a.kind for a in member] == ["ai_fields"]


def _requested() -> list[dict]:
    policy = parse_policy(POLICY).for_job(1003)
    actions = propose(
        _assessment(90, "priority_review"),
        policy,
        fields={"field51225": "Priority review"},
        current_status="D10100",
    )
    return [a.model_dump(mode="json") for a in actions]


def test_decide_accept_edit_and_refusals() -> None:
    requested = _requested()
    approved, edits = decide(requested, HumanResponse(type="accept"), tier_field="field51225")
    assert [a["id"] for a in approved] == ["ai_fields", "status"] and edits == {}
    assert decide(requested, HumanResponse(type="ignore"), tier_field="field51225") == ([], {})
    edit = HumanResponse(type="edit", args={"actions": [{"id": "ai_fields", "tier": "review"}]})
    approved, edits = decide(requested, edit, tier_field="field51225")
    assert approved[0]["fields"]["field51225"] == "Review"
    assert edits == {"dropped": ["status"], "changed": [{"id": "ai_fields", "tier": "review"}]}
    edit = HumanResponse(type="edit", args={"actions": [{"id": "status", "status_id": "C51218"}]})
    assert decide(requested, edit, tier_field="field51225")[0][0]["status_label"] == "Reviewed"
    for bad, message in (
        ({"actions": [{"id": "status", "status_id": "C51222"}]}, "nobody is rejected"),
        ({"actions": [{"id": "talent_pool"}]}, "not in this request"),
        ({"actions": [{"id": "status", "tier": "review"}]}, "only the AI fields"),
        ({"actions": [{"id": "ai_fields"}, {"id": "ai_fields"}]}, "twice"),
    ):
        with pytest.raises(DecisionError, match=message):
            decide(requested, HumanResponse(type="edit", args=bad), tier_field="field51225")


def test_redaction_removes_contact_details_and_names() -> None:
    text = (
        "Jane Q. Doe\njane.doe@example.com | +1 (555) 010-2030 | linkedin.com/in/janedoe\n"
        "12 Harbor View Rd, Apt 4, Boston, MA 02110\nDOE, JANE - Python developer. I will ship code.\n"
    )
    out = redact(text, names=person_names({"firstname": "Jane", "lastname": "Doe", "middlename": "Q."}))
    for pii in ("Jane", "JANE", "Doe", "DOE", "jane.doe", "555", "janedoe", "Harbor", "02110"):
        assert pii not in out.text
    assert "Python developer" in out.text and "Boston, MA" in out.text and "I will ship" in out.text
    assert out.counts == {"email": 1, "link": 1, "phone": 1, "address": 1, "zip": 1, "name": 4}
    assert redact(None).text == "" and person_names({"firstname": "A"}) == []


def test_an_edited_policy_file_is_read_again(tmp_path) -> None:
    import os

    path = tmp_path / "p.yaml"
    path.write_text("default: {mode: assist}\n")
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    assert load_policy(path).default.mode == "assist"
    path.write_text("default: {mode: shadow}\n")
    os.utime(path, ns=(2_000_000_000, 2_000_000_000))
    assert load_policy(path).default.mode == "shadow"


def test_describe_outcome_for_the_console() -> None:
    from graphs.triage import describe_outcome

    line = describe_outcome(
        {
            "action": "pending_approval",
            "workflow_id": 10021,
            "job_id": 1003,
            "score": 82,
            "tier": "priority_review",
            "mode": "auto",
            "flags": ["missing_must_have"],
            "writes": [{"id": "ai_fields", "status": "done", "patched": True}],
            "pending": ["status"],
        }
    )
    assert line == (
        "workflow 10021 (job 1003): 82/100, Priority review [auto]; flags missing_must_have; "
        "wrote ai_fields; waiting for a recruiter: status"
    )
    assert "not triaged (person 4 was erased)" in describe_outcome(
        {"action": "none", "workflow_id": 1, "reason": "person 4 was erased"}
    )


def test_triage_1_decisions_are_still_read() -> None:
    """Checkpoints written before the one `approval` record kept the policy's approval under `auto`
    and the recruiter's under `review`: both still authorise writes and audit the same way."""
    from graphs.triage.audit import audit_body
    from graphs.triage.review import approved_actions, human_decision, policy_approval, stage

    ai = {"id": "ai_fields", "kind": "ai_fields", "fields": {"f": 1}}
    status = {"id": "status", "kind": "status", "status_id": "C51219"}
    rule = "default: mode auto approves ai_fields only"
    auto = {"approved": [ai], "approver": "policy:default", "rule": rule}
    review = {"decision": "accept", "approver": "recruiter:dana", "approved": [status], "edits": {}}
    run = {
        "event_id": "e1",
        "input_hash": "i",
        "resume_hash": "r",
        "requisition_hash": "q",
        "sources": {},
        "requests": 0,
    }
    state: dict = {
        "policy": {"mode": "auto", "rule": "default"},
        "actions": [ai, status],
        "auto": auto,
        "run": run,
        "application": {"workflow_id": 1, "person_id": 2, "job_id": 3},
        "assessment": {"score": 80, "tier": "priority_review", "flags": [], "reasons": [], "summary": []},
        "writes": [{"id": "ai_fields", "status": "done"}],
    }
    assert stage(state) == "auto" and policy_approval(state) == auto and human_decision(state) is None
    body = audit_body(state)
    assert body["decision"] == "policy" and body["policy_rule"] == auto["rule"]
    assert [w["id"] for w in body["writes"]] == ["ai_fields"]

    state["review"] = review
    assert stage(state) == "human" and approved_actions(state) == [ai, status]
    body = audit_body(state)
    assert body["approver"] == "recruiter:dana" and body["decision"] == "accept"
    assert [a["id"] for a in body["approved"]] == ["status"] and body["policy_rule"] is None
