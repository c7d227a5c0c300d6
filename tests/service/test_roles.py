"""The role matrix over real HTTP: two recruiters' requisitions, hiring managers, an auditor and an
admin. 403 where a role may not act; another recruiter's items are invisible (404, never listed);
nothing reaches iCIMS unless an owner or an admin approves."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.service import JOB_A, JOB_B, RECRUITER_A, ServiceEnv, service_env
from typer.testing import CliRunner

from graphs.rediscovery import rediscovery_thread_id
from server.auth import KeyStore

pytestmark = pytest.mark.integration


@pytest.fixture
def env(sandbox_factory, tmp_path) -> Iterator[ServiceEnv]:
    with service_env(sandbox_factory, tmp_path) as e:
        yield e


def test_role_matrix(env):
    cid = env.settings.icims_customer_id
    thread_a, thread_b = rediscovery_thread_id(cid, JOB_A), rediscovery_thread_id(cid, JOB_B)
    start = {"input": {"job_id": JOB_A, "top_k": 3}}

    # Starting runs: hiring managers, auditors and other recruiters may not.
    for who in ("hm_a", "auditor", "rec_b"):
        assert env.client(who).post("/runs/rediscovery", json=start).status_code == 403, who
    env.run("rec_a", JOB_A, top_k=3)
    env.run("rec_b", JOB_B, top_k=3)

    # Listing: each sees exactly what is theirs.
    def ids(who: str, **params) -> set[str]:
        r = env.client(who).get("/approvals", params=params)
        assert r.status_code == 200, r.text
        return {a["id"] for a in r.json()}

    assert ids("admin") == ids("auditor") == {thread_a, thread_b}
    assert ids("rec_a") == {thread_a}
    assert ids("rec_b") == {thread_b}
    assert ids("hm_a") == {thread_a}
    assert ids("hm_other") == set()
    # A recruiter filtering by another's owner id or job still gets nothing of theirs.
    assert ids("rec_a", owner=2) == set() and ids("rec_a", job_id=JOB_B) == set()

    # Reading: another recruiter's items do not exist for them; hiring managers read their shortlists.
    assert env.client("rec_b").get(f"/approvals/{thread_a}").status_code == 404
    assert env.client("rec_b").get(f"/runs/{thread_a}").status_code == 404
    assert env.client("rec_b").get(f"/runs/{thread_a}/stream").status_code == 404
    assert env.client("hm_other").get(f"/approvals/{thread_a}").status_code == 404
    hm_view = env.client("hm_a").get(f"/approvals/{thread_a}")
    assert hm_view.status_code == 200
    assert hm_view.json()["args"]["candidates"] and hm_view.json()["can_resolve"] is False
    assert env.client("hm_a").get(f"/runs/{thread_a}").json()["result"]["shortlist"]
    auditor_view = env.client("auditor").get(f"/approvals/{thread_b}")
    assert auditor_view.status_code == 200 and auditor_view.json()["can_resolve"] is False
    assert env.client("rec_a").get(f"/approvals/{thread_a}").json()["can_resolve"] is True

    # Resolving: auditor and hiring managers 403, another recruiter 404; nothing written.
    accept = {"type": "accept"}
    assert env.client("auditor").post(f"/approvals/{thread_a}/resolve", json=accept).status_code == 403
    assert env.client("hm_a").post(f"/approvals/{thread_a}/resolve", json=accept).status_code == 403
    assert env.client("rec_b").post(f"/approvals/{thread_a}/resolve", json=accept).status_code == 404
    for who in ("auditor", "hm_a"):
        r = env.client(who).post("/approvals/bulk", json={"ids": [thread_a, thread_b], "decision": accept})
        assert r.status_code == 403, who
    bulk = env.client("rec_b").post("/approvals/bulk", json={"ids": [thread_a], "decision": accept}).json()
    assert [r["status"] for r in bulk] == ["not_found"]
    assert not env.writelog
    assert ids("admin") == {thread_a, thread_b}

    # The owner resolves theirs; an admin resolves anyone's.
    assert (
        env.client("rec_a").post(f"/approvals/{thread_a}/resolve", json={"type": "ignore"}).status_code == 200
    )
    r = env.client("admin").post(f"/approvals/{thread_b}/resolve", json={"type": "ignore"})
    assert r.status_code == 200 and r.json()["approver"].startswith("admin:admin#")

    # The audit log follows the same lines.
    def audit_threads(who: str) -> set[str]:
        r = env.client(who).get("/audit", params={"kind": "approval_decision"})
        assert r.status_code == 200
        return {a["thread_id"] for a in r.json()}

    assert audit_threads("auditor") == audit_threads("admin") == {thread_a, thread_b}
    assert audit_threads("rec_a") == {thread_a}
    assert audit_threads("rec_b") == {thread_b}
    assert audit_threads("hm_other") == set()


def test_keys_cli_creates_hashed_keys_with_roles(tmp_path, monkeypatch):
    from server.cli import app as cli

    monkeypatch.setenv("ICIMS_AGENTS_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    out = runner.invoke(
        cli, ["keys", "create", "--role", "recruiter", "--name", "Ann", "--recruiter-id", "1"]
    )
    assert out.exit_code == 0, out.output
    key = out.stdout.strip().splitlines()[0]
    assert key.startswith("ica_")
    store = KeyStore.for_data_dir(tmp_path)
    try:
        principal = store.authenticate(key)
        assert principal is not None
        assert (principal.role, principal.name, principal.recruiter_id) == ("recruiter", "Ann", RECRUITER_A)
        assert key.split("_", 2)[2].encode() not in (tmp_path / "keys.sqlite").read_bytes()
        listed = runner.invoke(cli, ["keys", "list"])
        assert principal.key_id in listed.output and key not in listed.output
        assert runner.invoke(cli, ["keys", "create", "--role", "boss"]).exit_code != 0
        assert runner.invoke(cli, ["keys", "revoke", principal.key_id]).exit_code == 0
        assert store.authenticate(key) is None
    finally:
        store.close()
