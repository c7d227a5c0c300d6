"""Bias audit numbers against hand-computed values (REFERENCES 5.4), the small-group rule, the audit
log join, the demographics file and the CLI outputs."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tools.audit import AuditLog
from tools.audit.bias import Outcome, compute, outcomes_from_audit, read_demographics, render_svg, write_csv

# person: (sex, race/ethnicity, score, tier); 13 applicants, median score 65.
PEOPLE = {
    1: ("Female", "White", 90, "priority_review"),
    2: ("Female", "White", 80, "priority_review"),
    3: ("Female", "White", 40, "review"),
    4: ("Female", "White", 30, "talent_pool"),
    5: ("Male", "White", 85, "priority_review"),
    6: ("Male", "White", 70, "review"),
    7: ("Male", "White", 60, "review"),
    8: ("Female", "Black or African American", 95, "priority_review"),
    9: ("Female", "Black or African American", 20, "talent_pool"),
    10: ("Male", "Black or African American", 50, "review"),
    11: ("Unknown", "Asian", 65, "review"),
    12: ("Declined to self-identify", "Declined to self-identify", 55, "review"),
    13: (None, None, 75, "priority_review"),  # no demographics on file
}


def _outcomes() -> list[Outcome]:
    return [Outcome(pid, 1001, 20000 + pid, score, tier) for pid, (_, _, score, tier) in PEOPLE.items()]


def _demographics() -> dict[int, dict[str, str]]:
    return {pid: {"sex": s, "race_ethnicity": r} for pid, (s, r, _, _) in PEOPLE.items() if s is not None}


def test_rates_and_impact_ratios_match_hand_computation() -> None:
    report = compute(_outcomes(), _demographics())
    assert report.applicants == 13 and report.median_score == 65 and report.without_demographics == 1
    assert report.unknown == {"sex": 3, "race_ethnicity": 2, "sex_x_race_ethnicity": 3}

    female, male = report.row("sex", "Female"), report.row("sex", "Male")
    assert (female.n, female.selected, female.above_median) == (6, 3, 3)
    assert (male.n, male.selected, male.above_median) == (4, 1, 2)
    assert (female.selection_rate, male.selection_rate) == (0.5, 0.25)
    assert (female.selection_impact_ratio, male.selection_impact_ratio) == (1.0, 0.5)
    assert (female.scoring_impact_ratio, male.scoring_impact_ratio) == (1.0, 1.0)
    assert male.adverse_impact and not female.adverse_impact
    # chi-square of 1/4 vs 3/6: 0.625 with 1 df.
    assert male.selection_p_value == pytest.approx(math.erfc(math.sqrt(0.625 / 2)))
    assert male.selection_p_value == pytest.approx(0.4292, abs=1e-4)

    white, black = (
        report.row("race_ethnicity", "White"),
        report.row("race_ethnicity", "Black or African American"),
    )
    assert (white.selection_rate, white.scoring_rate) == pytest.approx((3 / 7, 4 / 7))
    assert black.selection_impact_ratio == pytest.approx(7 / 9)
    assert black.scoring_impact_ratio == pytest.approx(7 / 12)
    assert report.row("race_ethnicity", "Asian").scoring_rate == 0  # 65 is not above the median

    mw = report.row("sex_x_race_ethnicity", "Male / White")
    fw = report.row("sex_x_race_ethnicity", "Female / White")
    assert mw.selection_impact_ratio == pytest.approx(2 / 3) and mw.scoring_impact_ratio == 1.0
    assert fw.scoring_impact_ratio == pytest.approx(0.75)
    assert "sex_x_race_ethnicity:Male / Black or African American" in report.summary()["adverse_impact"]


def test_small_groups_are_excluded_from_ratios_with_n_and_rates_kept() -> None:
    outcomes = [
        Outcome(i, 1, i, 80 if i % 2 else 20, "priority_review" if i % 2 else "review") for i in range(60)
    ]
    outcomes.append(Outcome(999, 1, 999, 10, "talent_pool"))
    demo = {i: {"sex": "Female", "race_ethnicity": "White"} for i in range(60)}
    demo[999] = {"sex": "Male", "race_ethnicity": "Native Hawaiian or Other Pacific Islander"}
    report = compute(outcomes, demo)
    small = report.row("race_ethnicity", "Native Hawaiian or Other Pacific Islander")
    assert small.excluded and "1 of 61" in small.excluded
    assert (small.n, small.selection_rate, small.selection_impact_ratio) == (1, 0.0, None)
    assert not small.adverse_impact
    assert report.row("race_ethnicity", "White").selection_impact_ratio == 1.0
    assert {"family": "race_ethnicity", "category": small.category, "n": 1, "reason": small.excluded} in (
        report.summary()["small_groups_excluded"]
    )


def test_csv_and_svg_outputs() -> None:
    report = compute(_outcomes(), _demographics())
    out = io.StringIO()
    write_csv(report, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    male = next(r for r in rows if r["family"] == "sex" and r["category"] == "Male")
    assert male["selection_impact_ratio"] == "0.5000" and male["adverse_impact"] == "yes"
    svg = render_svg(report)
    assert svg.startswith("<svg") and "four-fifths (0.80)" in svg and "Female / White" in svg


def test_audit_log_join_keeps_the_latest_result_per_application(tmp_path: Path) -> None:
    with AuditLog(f"sqlite:///{tmp_path / 'a.sqlite'}") as log:
        for seq, score in enumerate((30, 88)):
            log.append(
                kind="triage",
                key=f"r{seq}",
                trace_id=f"t{seq}",
                body={
                    "person_id": 5,
                    "job_id": 1001,
                    "workflow_id": 7,
                    "outputs": {"score": score, "tier": "x"},
                },
            )
        log.append(kind="approval_decision", key="d", trace_id="t", body={"person_id": 6})
        assert outcomes_from_audit(log) == [Outcome(5, 1001, 7, 88, "x")]


def test_demographics_file_errors_are_clear(tmp_path: Path) -> None:
    bad = tmp_path / "d.csv"
    bad.write_text("person_id,sex\n1,Female\n")
    with pytest.raises(ValueError, match="race_ethnicity"):
        read_demographics(bad)
    bad.write_text("person_id,sex,race_ethnicity\nabc,Female,White\n")
    with pytest.raises(ValueError, match=":2: person_id"):
        read_demographics(bad)


def test_bias_cli_on_the_sandbox_demographics_export(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from sandbox.seed import seed_tenant, write_demographics_csv
    from sandbox.store import Tenant
    from server.cli import app

    tenant = Tenant(1000)
    seed_tenant(tenant, people=60, seed=7, now=datetime(2026, 11, 1, tzinfo=UTC))
    demo_file = tmp_path / "demographics.csv"
    assert write_demographics_csv(tenant, demo_file) == len(tenant.demographics) > 0
    people = sorted(tenant.demographics)
    state = tmp_path / "state"
    state.mkdir()
    with AuditLog(f"sqlite:///{state / 'audit.sqlite'}") as log:
        for i, pid in enumerate(people):
            body = {"person_id": pid, "job_id": 1001, "workflow_id": 10_000 + i}
            body["outputs"] = {"score": (i * 37) % 100, "tier": "priority_review" if i % 3 == 0 else "review"}
            log.append(kind="triage", key=f"k{i}", trace_id=f"t{i}", body=body)
    env = tmp_path / ".env"
    env.write_text(f"ICIMS_AGENTS_DATA_DIR={state}\n")
    out_dir = tmp_path / "bias"
    result = CliRunner().invoke(
        app,
        [
            "--env-file",
            str(env),
            "audit",
            "bias",
            "--demographics",
            str(demo_file),
            "--out-dir",
            str(out_dir),
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"{len(people)} applicants" in result.output
    summary = json.loads((out_dir / "bias_summary.json").read_text())
    assert summary["applicants"] == len(people) and summary["without_demographics"] == 0
    assert sum(summary["unknown_excluded"].values()) > 0  # declined/unknown are counted, not guessed
    assert (out_dir / "bias_impact_ratios.svg").read_text().startswith("<svg")
    assert "sex" in (out_dir / "bias_report.csv").read_text()
