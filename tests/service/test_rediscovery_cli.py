"""`icims-agents rediscover` against a sandbox tenant: shortlist and thread id, then `--approve`."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from server.cli import app

pytestmark = pytest.mark.integration

runner = CliRunner()


def test_rediscover_prints_the_shortlist_then_approve_applies_the_writes(sandbox_factory, tmp_path):
    box = sandbox_factory(people=30, seed=5)
    env_file = tmp_path / "tenant.env"
    lines = [f"{k}={v}" for k, v in box.env.items()]
    lines.append(f"ICIMS_AGENTS_DATA_DIR={tmp_path / 'state'}")
    env_file.write_text("\n".join(lines) + "\n")
    base = ["--env-file", str(env_file)]
    assert runner.invoke(app, [*base, "sync", "--full", "--json"]).exit_code == 0
    job = next(
        jid
        for jid, rec in sorted(box.state.tenant.records["jobs"].items())
        if (rec.data.get("folder") or {}).get("id") == "D31001"
    )

    first = runner.invoke(app, [*base, "rediscover", "--job", str(job), "--top", "3", "--json"])
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout.strip().splitlines()[-1])
    assert report["thread_id"] == f"rediscovery:{box.state.config.customer_id}:{job}"
    assert report["pending"] is True and report["resumed_existing"] is False
    assert 1 <= len(report["shortlist"]) <= 3
    assert {"person_id", "score", "reasons", "gaps", "proposed_action"} <= set(report["shortlist"][0])
    assert not box.state.writelog

    table = runner.invoke(app, [*base, "rediscover", "--job", str(job)])
    assert table.exit_code == 0, table.output
    assert "already waiting for approval" in table.stdout
    assert report["thread_id"] in table.stdout

    approved = runner.invoke(app, [*base, "rediscover", "--job", str(job), "--json", "--approve"])
    assert approved.exit_code == 0, approved.output
    result = json.loads(approved.stdout.strip().splitlines()[-1])
    assert result["resumed_existing"] is True and result["pending"] is False
    assert [w["person_id"] for w in result["writes"]] == [c["person_id"] for c in report["shortlist"]]
    assert all(w["status"] == "done" for w in result["writes"])
    patched = [e for e in box.state.writelog if e.method == "PATCH"]
    # Per approved candidate: the workflow's AI fields, then the person's enrichment tags.
    workflow_patches = [e for e in patched if "/people/" not in e.path]
    tag_patches = [e for e in patched if "/people/" in e.path]
    assert len(workflow_patches) == len(result["writes"])
    assert sorted(int(e.path.rsplit("/", 1)[1]) for e in tag_patches) == sorted(
        w["person_id"] for w in result["writes"]
    )


def test_rediscover_has_help():
    result = runner.invoke(app, ["rediscover", "--help"])
    assert result.exit_code == 0
    assert "--job" in result.output and "--approve" in result.output


def test_rediscover_unknown_job_is_a_clear_error(sandbox_factory, tmp_path):
    box = sandbox_factory(people=10, seed=5)
    env_file = tmp_path / "tenant.env"
    env_file.write_text(
        "\n".join([*(f"{k}={v}" for k, v in box.env.items()), f"ICIMS_AGENTS_DATA_DIR={tmp_path / 's'}"])
        + "\n"
    )
    result = runner.invoke(app, ["--env-file", str(env_file), "rediscover", "--job", "999999"])
    assert result.exit_code == 2
    assert "999999" in result.output
