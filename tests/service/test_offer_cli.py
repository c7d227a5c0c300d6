"""`icims-agents offer draft|approve|counter|show` against the sandbox over HTTP."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from server.cli import app

pytestmark = pytest.mark.integration
runner = CliRunner()


def test_offer_cli_draft_approve_counter_show(sandbox_factory, tmp_path) -> None:
    box = sandbox_factory(people=30, seed=7)
    env_file = tmp_path / "tenant.env"
    lines = [f"{k}={v}" for k, v in box.env.items()] + [f"ICIMS_AGENTS_DATA_DIR={tmp_path / 'state'}"]
    env_file.write_text("\n".join(lines) + "\n")
    tenant = box.state.tenant
    workflow = next(
        wid
        for wid, r in sorted(tenant.records["applicantworkflows"].items())
        if r.data["status"]["id"] == "C51221"
        and tenant.records["jobs"][r.data["baseprofile"]].data.get("field52003")
    )

    def cli(*args: str) -> str:
        result = runner.invoke(app, ["--env-file", str(env_file), "offer", *args])
        assert result.exit_code == 0, result.output
        return result.output

    drafted = json.loads(cli("draft", "--workflow", str(workflow), "--json"))
    assert drafted["status"] == "pending_approval" and drafted["pending_step"] == "recruiter"
    assert not box.state.writelog
    # Edit while approving: far over the band max adds the comp partner and the VP.
    result = runner.invoke(
        app,
        [
            "--env-file",
            str(env_file),
            "offer",
            "approve",
            "-w",
            str(workflow),
            "--as",
            "ann",
            "--base",
            "999999",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "waiting for: recruiter" not in result.output and "comp_partner" in result.output
    while "waiting for:" in (out := cli("show", "-w", str(workflow))):
        cli("approve", "-w", str(workflow), "--as", "approver")
    assert "attached (version 2)" in out and "$999,999" in out
    assert len(box.state.writelog) == 2

    countered = json.loads(
        cli("counter", "-w", str(workflow), "--text", "Could we add an extra week of PTO?", "--json")
    )
    assert countered["status"] == "negotiating" and countered["negotiation"]["decision"] == "escalate"
    shown = cli("show", "-w", str(workflow))
    assert "counter-offer 1: escalate" in shown and "reply:" in shown
    missing = runner.invoke(app, ["--env-file", str(env_file), "offer", "show", "-w", "1"])
    assert missing.exit_code == 2 and "no offer" in missing.output
