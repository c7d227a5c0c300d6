"""Explainable scoring: points per criterion with verbatim evidence, flagged quotes earn nothing, starred
criteria weigh more, more evidence never lowers a score, three-bullet summaries, rediscovery signals
from applicant workflows. Synthetic resumes only."""

from __future__ import annotations

import re
from datetime import date

import pytest

from agents.enrichment import enrich, requisition_from_posting
from agents.models import (
    CandidateProfile,
    Certification,
    Evidence,
    HistorySignal,
    Location,
    Reason,
    Requisition,
    ScoringWeights,
    SkillMention,
)
from agents.scoring import (
    RUBRIC_VERSION,
    history_from_workflows,
    history_text,
    points_counted,
    score_candidate,
    verify_evidence,
)

AS_OF = date(2024, 6, 1)

RESUME = """Morgan Reyes
Madison, WI 53703 | morgan.reyes@example.com

EXPERIENCE
Senior Data Engineer | Lakeview Credit Union | Feb 2018 - Present
- Built Python ETL pipelines feeding a Postgres warehouse.
- Ran nightly loads in Docker containers.
Data Analyst | Badger Insurance | 06/2013 to 01/2018
- Wrote SQL reports for underwriting.

EDUCATION
Bachelor of Science in Statistics, Lakeshore University, 2013
"""

REQ = Requisition(
    job_id="2025-1001",
    title="Senior Data Engineer",
    description="Hybrid role in Madison, WI.",
    must_have=["Python", "SQL", "Kubernetes"],
    nice_to_have=["PostgreSQL", "Terraform"],
    min_years=5,
    education="bachelor",
    location=Location(city="Madison", state="WI"),
    remote="Hybrid",
)


def _score(
    req: Requisition = REQ, resume: str = RESUME, history: list[HistorySignal] | None = None, **kw: object
) -> tuple[CandidateProfile, object]:
    profile = enrich("p1", resume, as_of=AS_OF)
    return profile, score_candidate(req, profile, resume, history, as_of=AS_OF, **kw)  # type: ignore[arg-type]


def test_reasons_quote_the_resume_and_add_up_to_the_score() -> None:
    _profile, scored = _score()
    assert 0 < scored.score <= 100
    assert scored.rubric_version == RUBRIC_VERSION
    criteria = {r.criterion for r in scored.reasons}
    assert {"must_have", "nice_to_have", "occupation", "seniority", "location", "education"} <= criteria
    for reason in scored.reasons:
        assert not reason.flagged
        ev = reason.evidence
        assert ev is not None and ev.verified and ev.source == "resume"
        assert ev.start is not None and RESUME[ev.start : ev.end] == ev.quote
        assert reason.text.startswith(f"+{reason.points:.0f} ")
        assert f"'{' '.join(ev.quote.split())}'" in reason.text
    assert scored.score == round(points_counted(scored.reasons))
    python = next(r for r in scored.reasons if r.criterion == "must_have" and "Python" in r.text)
    assert re.fullmatch(
        r"\+\d+ must-have Python: 'Built Python ETL pipelines feeding a Postgres warehouse\.'", python.text
    )


def test_synonyms_count_for_must_haves() -> None:
    req = REQ.model_copy(update={"must_have": ["postgres"], "nice_to_have": []})
    _profile, scored = _score(req)
    (reason,) = [r for r in scored.reasons if r.criterion == "must_have"]
    assert "Postgres" in reason.evidence.quote  # type: ignore[union-attr]
    assert not any(g.criterion == "must_have" for g in scored.gaps)


def test_missing_must_haves_are_gaps_and_flags_never_a_rejection() -> None:
    _profile, scored = _score()
    assert any(g.criterion == "must_have" and "Kubernetes" in g.text for g in scored.gaps)
    assert "missing must-have: Kubernetes" in scored.flags
    nothing = requisition_from_posting("q", "Pastry Chef", "Requirements: laminated doughs, ServSafe.")
    _p, poor = _score(nothing)
    assert 0 <= poor.score < 40
    assert len(poor.summary) == 3
    text = " ".join([*poor.summary, *poor.flags, *(g.text for g in poor.gaps)]).casefold()
    assert "reject" not in text and "disqualif" not in text
    assert not hasattr(poor, "decision")


def test_fabricated_quote_is_flagged_and_earns_nothing() -> None:
    profile = enrich("p1", RESUME, as_of=AS_OF)
    fake = SkillMention(
        skill="Kubernetes",
        matched="Kubernetes",
        evidence=Evidence(quote="Ran a 40-node Kubernetes platform", start=10, end=43, verified=True),
    )
    lying = profile.model_copy(update={"skills": [*profile.skills, fake]})
    honest = score_candidate(REQ, profile, RESUME, as_of=AS_OF)
    scored = score_candidate(REQ, lying, RESUME, as_of=AS_OF)
    (k8s,) = [r for r in scored.reasons if "Kubernetes" in r.text]
    assert k8s.flagged and k8s.points > 0
    assert k8s.evidence is not None and not k8s.evidence.verified
    assert "not counted" in k8s.text
    assert scored.score == honest.score  # the claim adds nothing
    assert any("Kubernetes" in f and "unverified" in f for f in scored.flags)
    # Other reasons are unaffected; everything that counts is verified.
    assert all(r.evidence and r.evidence.verified for r in scored.reasons if not r.flagged)


def test_verify_evidence_fixes_offsets_and_flags_unfound_quotes() -> None:
    text = "Built Python ETL pipelines.\nWrote SQL reports."
    reasons = [
        Reason(
            criterion="must_have",
            points=10,
            text="+10 must-have SQL",
            evidence=Evidence(quote="Wrote SQL reports"),
        ),
        Reason(
            criterion="must_have",
            points=10,
            text="+10 must-have Go",
            evidence=Evidence(quote="Wrote Go services"),
        ),
        Reason(criterion="occupation", points=5, text="+5 occupation", evidence=None),
        Reason(
            criterion="location",
            points=3,
            text="+3 location",
            evidence=Evidence(quote="Madison, WI", source="profile"),
        ),
    ]
    checked = verify_evidence(reasons, text, profile_text="Address: Madison, WI\n")
    assert [r.flagged for r in checked] == [False, True, True, False]
    sql = checked[0].evidence
    assert sql is not None and sql.verified and text[sql.start : sql.end] == "Wrote SQL reports"  # type: ignore[index]
    assert checked[3].evidence.start == 9  # type: ignore[union-attr]
    assert points_counted(checked) == 13
    assert reasons[1].flagged is False  # inputs are not mutated


def test_starred_must_haves_weigh_more() -> None:
    req = REQ.model_copy(update={"must_have": ["Python", "Kubernetes"], "nice_to_have": []})
    _p, plain = _score(req)
    _p, has_starred = _score(req.model_copy(update={"starred": ["Python"]}))
    _p, missing_starred = _score(req.model_copy(update={"starred": ["Kubernetes"]}))
    assert has_starred.score > plain.score > missing_starred.score

    def must_points(scored: object) -> float:
        return sum(r.points for r in scored.reasons if r.criterion == "must_have")  # type: ignore[attr-defined]

    # Python is 1 of 2 equal must-haves, then 2 of 3 weight units with the default multiplier of 2.
    assert must_points(has_starred) == pytest.approx(must_points(plain) * (2 / 3) / (1 / 2), rel=0.02)
    assert any("(starred)" in r.text for r in has_starred.reasons)
    triple = req.model_copy(update={"starred": ["Python"], "weights": ScoringWeights(starred_multiplier=3)})
    assert _score(triple)[1].score > has_starred.score  # type: ignore[attr-defined]


def test_starred_criterion_weighs_more() -> None:
    _p, plain = _score()
    _p, location_starred = _score(REQ.model_copy(update={"starred": ["location"]}))
    # The candidate is in Madison: starring location raises the share it earns.
    assert location_starred.score > plain.score


def test_adding_a_must_have_skill_raises_the_score() -> None:
    _p, before = _score()
    richer = RESUME.replace(
        "- Ran nightly loads in Docker containers.",
        "- Ran nightly loads in Docker containers.\n- Moved the loaders to Kubernetes.",
    )
    _p, after = _score(resume=richer)
    assert after.score > before.score
    assert not any("Kubernetes" in g.text for g in after.gaps)


def test_summary_is_three_template_bullets() -> None:
    history = [HistorySignal(job_id="1001", status="C51220", stage_rank=3, updated=date(2024, 2, 1))]
    _p, scored = _score(history=history)
    assert len(scored.summary) == 3
    first, second, third = scored.summary
    assert first.startswith(f"{scored.score}/100 for Senior Data Engineer: 2 of 3 must-haves evidenced")
    assert second.startswith("Background: ")
    assert "Kubernetes" in third and "Applied before" in third
    _p, again = _score(history=history)
    assert again.summary == scored.summary  # deterministic templates


def test_inapplicable_criteria_do_not_cap_the_score() -> None:
    bare = Requisition(job_id="1", title="Senior Data Engineer", must_have=["Python", "SQL"])
    _p, scored = _score(bare)
    assert {r.criterion for r in scored.reasons} <= {"must_have", "occupation", "seniority"}
    assert scored.score >= 90


def test_location_and_remote_fit() -> None:
    req = REQ.model_copy(update={"location": Location(city="Austin", state="TX"), "remote": "On-site"})
    _p, far = _score(req)
    _p, near = _score()
    assert near.score > far.score
    assert any(g.criterion == "location" for g in far.gaps)
    remote = REQ.model_copy(update={"location": Location(), "remote": "Remote"})
    _p, scored = _score(remote)
    (reason,) = [r for r in scored.reasons if r.criterion == "location"]
    assert reason.evidence is not None and "Madison, WI" in reason.evidence.quote


def test_employment_gap_over_a_year_is_flagged_unless_explained() -> None:
    gap_resume = RESUME.replace("06/2013 to 01/2018", "06/2013 to 01/2016")
    _p, scored = _score(resume=gap_resume)
    assert any(f.startswith("employment gap of 25 months (2016-01 to 2018-02)") for f in scored.flags)
    _p, fine = _score()
    assert not any("employment gap" in f for f in fine.flags)
    explained = gap_resume + "\nTook a sabbatical in 2016-2017 to care for family.\n"
    _p, scored = _score(resume=explained)
    assert not any("employment gap" in f for f in scored.flags)


def test_claimed_certification_without_evidence_is_flagged() -> None:
    profile = enrich("p1", RESUME, as_of=AS_OF)
    claimed = profile.model_copy(
        update={
            "certifications": [Certification(name="PMP", evidence=Evidence(quote="PMP certified since 2015"))]
        }
    )
    req = REQ.model_copy(update={"certifications": ["PMP"]})
    scored = score_candidate(req, claimed, RESUME, as_of=AS_OF)
    assert "certification claimed without evidence: PMP" in scored.flags
    (reason,) = [r for r in scored.reasons if "PMP" in r.text]
    assert reason.flagged
    with_cert = RESUME + "\nCERTIFICATIONS\nPMP, 2019\n"
    _p, ok = _score(req, with_cert)
    assert ok.score > scored.score
    assert not any("certification claimed" in f for f in ok.flags)


# ---------------------------------------------------------------- history


def _workflow(status: str, value: str, updated: str, job: int = 1001, **extra: object) -> dict:
    return {
        "baseprofile": {"profile": "https://example/jobs/x", "id": job},
        "associatedprofile": {"id": 7},
        "status": {"id": status, "value": value},
        "updateddate": updated,
        **extra,
    }


def test_history_from_workflows_maps_statuses() -> None:
    signals = history_from_workflows(
        [
            _workflow("D10100", "New Submissions", "2021-01-05 09:00 AM", job=1001),
            _workflow(
                "C51222", "Rejected", "2023-04-02 10:30 AM", job=1002, statushistory=[{"id": "C51220"}]
            ),
            _workflow("C51223", "Withdrawn", "2022-08-01 08:00 AM", job=1003),
            _workflow("D10105", "Hired", "2020-03-01 08:00 AM", job=1004),
            {"baseprofile": 1005, "status": "C51219", "updated": "2024-01-09"},
            {"baseprofile": 1006, "status": {"id": "X999", "value": "Something else"}},
        ]
    )
    by_job = {s.job_id: s for s in signals}
    assert set(by_job) == {"1001", "1002", "1003", "1004", "1005"}
    assert (by_job["1001"].stage_rank, by_job["1001"].disposition) == (0, "open")
    assert (by_job["1002"].stage_rank, by_job["1002"].disposition) == (3, "rejected")
    assert (by_job["1003"].stage_rank, by_job["1003"].disposition) == (0, "withdrawn")
    assert (by_job["1004"].stage_rank, by_job["1004"].disposition) == (5, "hired")
    assert by_job["1005"].status_label == "Phone Screen" and by_job["1005"].updated == date(2024, 1, 9)
    assert by_job["1002"].updated == date(2023, 4, 2)
    assert signals[0].job_id == "1005"  # newest first
    assert history_from_workflows([_workflow("C51222", "Rejected", "2023-01-01")])[0].stage_rank == 1


def test_rediscovery_signals_rank_late_stages_above_early_rejection() -> None:
    def rediscovery(*workflows: dict) -> float:
        history = history_from_workflows(list(workflows))
        _p, scored = _score(history=history)
        reasons = [r for r in scored.reasons if r.criterion == "rediscovery"]
        for reason in reasons:  # quotes the rendered workflow history verbatim
            assert reason.evidence is not None and reason.evidence.source == "workflow"
            assert reason.evidence.quote in history_text(history) and not reason.flagged
        return sum(r.points for r in reasons)

    hired = rediscovery(_workflow("D10105", "Hired", "2024-01-02 10:00 AM"))
    late = rediscovery(_workflow("C51222", "Rejected", "2024-01-02 10:00 AM", statushistory=["C51221"]))
    withdrawn = rediscovery(_workflow("C51223", "Withdrawn", "2024-01-02 10:00 AM"))
    early = rediscovery(_workflow("C51222", "Rejected", "2024-01-02 10:00 AM"))
    stale = rediscovery(_workflow("D10105", "Hired", "2016-01-02 10:00 AM"))
    assert hired > late > withdrawn > early > 0
    assert hired > stale  # recency
    # No history: rediscovery does not apply (no points, no penalty).
    _p, none = _score()
    assert not any(r.criterion == "rediscovery" for r in none.reasons)
