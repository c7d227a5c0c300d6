"""The console script: help on every command, and `sync --json` against a real sandbox."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from server.cli import app

runner = CliRunner()


@pytest.mark.parametrize("command", [[], ["sandbox"], ["sync"], ["demo"], ["serve"]])
def test_every_command_has_help(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
    assert "--help" in result.output


def test_global_env_file_option_is_documented():
    result = runner.invoke(app, ["--help"])
    assert "--env-file" in result.output


def test_sync_json_prints_one_line_with_the_documented_keys(sandbox_factory, tmp_path):
    box = sandbox_factory(people=30, seed=3)
    env_file = tmp_path / "tenant.env"
    lines = [f"{k}={v}" for k, v in box.env.items()]
    lines.append(f"ICIMS_AGENTS_DATA_DIR={tmp_path / 'state'}")
    env_file.write_text("\n".join(lines) + "\n")

    first = runner.invoke(app, ["--env-file", str(env_file), "sync", "--full", "--json"])
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout.strip().splitlines()[-1])
    assert set(summary) == {"records", "changed", "requests", "seconds"}
    assert set(summary["records"]) == {
        "people",
        "jobs",
        "applicantworkflows",
        "talentpools",
        "sourceworkflows",
    }
    assert summary["records"]["people"] == box.state.tenant.count("people")
    assert summary["changed"] > 0

    box.state.advance_clock(120)
    again = runner.invoke(app, ["--env-file", str(env_file), "sync", "--json"])
    assert again.exit_code == 0, again.output
    repeat = json.loads(again.stdout.strip().splitlines()[-1])
    assert repeat["changed"] == 0
    assert repeat["requests"] <= 10


def test_the_cli_module_runs_as_a_script():
    """`python -m server.cli` (how `make bench` starts its sandbox process) imports cleanly: the
    sub-command modules must not import `server.cli`, which registers them."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "server.cli", "--help"], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert all(name in out.stdout for name in ("worker", "events", "audit", "nurture", "offer"))
