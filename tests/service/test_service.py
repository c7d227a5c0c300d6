"""The service over real HTTP against the sandbox: health and readiness, the run API, an approval
resolved with an edit that lands exactly the approved writes, the SSE stream, restarts, and the
demo keys `serve` prints."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from support.service import JOB_A, JOB_B, ServiceEnv, candidates, service_env
from typer.testing import CliRunner

from graphs.rediscovery import rediscovery_thread_id

pytestmark = pytest.mark.integration


@pytest.fixture
def env(sandbox_factory, tmp_path) -> Iterator[ServiceEnv]:
    with service_env(sandbox_factory, tmp_path) as e:
        yield e


def thread_of(env: ServiceEnv, job_id: int) -> str:
    return rediscovery_thread_id(env.settings.icims_customer_id, job_id)


def test_health_ready_docs_and_auth(env):
    anon = env.client(None)
    # Anyone learns the status; the details need a key.
    health = anon.get("/health")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    health = env.client("auditor").get("/health")
    assert health.status_code == 200 and health.json()["mirror"]["jobs"] >= 2
    ready = anon.get("/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"checkpointer": "ok", "mirror": "ok"}}
    assert anon.get("/docs").status_code == 200
    spec = anon.get("/openapi.json").json()
    for path in (
        "/runs/{graph}",
        "/runs/{thread_id}",
        "/runs/{thread_id}/stream",
        "/approvals",
        "/approvals/{approval_id}",
        "/approvals/{approval_id}/resolve",
        "/approvals/bulk",
        "/audit",
        "/health",
        "/ready",
    ):
        assert path in spec["paths"], path
        for operation in spec["paths"][path].values():
            assert operation.get("summary"), path
    # No key, a malformed key, a wrong secret: 401. Bearer and the pages' session work like X-API-Key.
    assert anon.get("/approvals").status_code == 401
    assert anon.get("/approvals", headers={"X-API-Key": "nope"}).status_code == 401
    key = env.keys["admin"]
    assert anon.get("/approvals", headers={"X-API-Key": key[:-2] + "xx"}).status_code == 401
    assert anon.get("/approvals", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    with httpx.Client(base_url=env.url) as browser:
        signed = browser.post("/ui/sign-in", data={"api_key": key}, headers={"Origin": env.url})
        assert signed.status_code == 303
        assert browser.get("/whoami").json()["role"] == "admin"
    # The key store keeps hashes only.
    raw = (env.settings.data_dir / "keys.sqlite").read_bytes()
    # `ica_<key id>_<secret>`: the secret (which may itself contain "_") is never stored.
    assert key.split("_", 2)[2].encode() not in raw


def test_run_review_edit_and_approve_writes_exactly_the_approved(env):
    rec = env.client("rec_a")
    started = env.run("rec_a", JOB_A, top_k=4)
    thread = thread_of(env, JOB_A)
    assert started["status"] == "interrupted"
    assert started["thread_id"] == thread and started["approval_id"] == thread
    assert len(started["result"]["shortlist"]) >= 3
    assert not env.writelog  # nothing before approval

    # Starting again returns the waiting run.
    again = env.run("rec_a", JOB_A)
    assert again["resumed_existing"] and again["status"] == "interrupted"

    state = rec.get(f"/runs/{thread}").json()
    assert state["status"] == "interrupted" and state["next"] == ["approve"]

    listed = rec.get("/approvals").json()
    assert [a["id"] for a in listed] == [thread]
    row = listed[0]
    assert row["job_id"] == JOB_A and row["owner_id"] == 1 and row["graph"] == "rediscovery"
    assert row["can_resolve"] and row["items"] == len(started["result"]["shortlist"])

    detail = rec.get(f"/approvals/{thread}").json()
    shortlist = candidates(detail)
    assert detail["request"]["action_request"]["action"] == "rediscovery_shortlist"
    assert set(detail["request"]["config"]) == {"allow_accept", "allow_edit", "allow_respond", "allow_ignore"}
    assert all(c["reasons"] for c in shortlist)
    assert any(r.get("evidence") for c in shortlist for r in c["reasons"])
    assert "gaps" in shortlist[0]

    # Edit: drop the last candidate, keep the rest as proposed.
    dropped = shortlist[-1]["person_id"]
    kept = [
        {"person_id": c["person_id"], "proposed_action": c["proposed_action"], "pool_id": c["pool_id"]}
        for c in shortlist[:-1]
    ]
    r = rec.post(
        f"/approvals/{thread}/resolve",
        json={"type": "edit", "args": {"candidates": kept}, "note": "dropped one"},
    )
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["status"] == "resolved" and result["decision"] == "edit"
    assert result["changes"]["dropped"] == [dropped]
    assert result["approver"].startswith("recruiter:rec_a#")
    assert {w["person_id"] for w in result["writes"]} == {c["person_id"] for c in kept}
    assert all(w["status"] == "done" for w in result["writes"])

    # The sandbox saw writes for the kept candidates only.
    touched: set[int] = set()
    for entry in env.writelog:
        if entry.method == "POST":
            touched.add(entry.body["associatedprofile"])
        elif "/people/" in entry.path:
            touched.add(int(entry.path.rsplit("/", 1)[1]))
    assert touched <= {c["person_id"] for c in kept} and dropped not in touched
    assert len([e for e in env.writelog if e.method == "PATCH" and "/people/" not in e.path]) == len(kept)

    # Who, when, what: the decision record in the audit log.
    audit = env.client("admin").get("/audit", params={"kind": "approval_decision"}).json()
    assert len(audit) == 1
    body = audit[0]["body"]
    assert body["approver"]["name"] == "rec_a" and body["approver"]["role"] == "recruiter"
    assert body["decision"] == "edit" and body["changes"]["dropped"] == [dropped]
    assert body["decided_at"] and body["note_hash"] and "dropped one" not in json.dumps(body)
    graph_audit = env.client("admin").get("/audit", params={"kind": "rediscovery"}).json()
    assert graph_audit[0]["body"]["approver"].startswith("recruiter:rec_a#")

    finished = rec.get(f"/runs/{thread}").json()
    assert finished["status"] == "done" and finished["approval_id"] is None
    assert len(finished["result"]["writes"]) == len(kept)
    # Gone from the inbox; resolving again is a conflict, not a second write.
    assert rec.get("/approvals").json() == []
    n = len(env.writelog)
    assert rec.post(f"/approvals/{thread}/resolve", json={"type": "accept"}).status_code == 409
    assert len(env.writelog) == n


def test_invalid_edits_are_refused_before_any_write(env):
    env.run("admin", JOB_A, top_k=3)
    thread = thread_of(env, JOB_A)
    admin = env.client("admin")
    shortlist = candidates(admin.get(f"/approvals/{thread}").json())
    bad = [
        {"type": "edit", "args": {"candidates": [{"person_id": 999999, "proposed_action": "submit"}]}},
        {
            "type": "edit",
            "args": {"candidates": [{"person_id": shortlist[0]["person_id"], "proposed_action": "reject"}]},
        },
        {"type": "edit", "args": {"candidates": [{"person_id": shortlist[0]["person_id"]}]}},
        {
            "type": "edit",
            "args": {
                "candidates": [
                    {
                        "person_id": shortlist[0]["person_id"],
                        "proposed_action": "add_to_pool",
                        "pool_id": 424242,
                    }
                ]
            },
        },
        {"type": "edit"},
        {"type": "respond"},
        {"type": "reject"},
    ]
    for decision in bad:
        r = admin.post(f"/approvals/{thread}/resolve", json=decision)
        assert r.status_code == 422, (decision, r.text)
    assert not env.writelog
    assert [a["id"] for a in admin.get("/approvals").json()] == [thread]
    # Respond and ignore write nothing either, and close the approval.
    r = admin.post(f"/approvals/{thread}/resolve", json={"type": "respond", "note": "rerun with remote only"})
    assert r.status_code == 200 and r.json()["writes"] == []
    assert not env.writelog and admin.get("/approvals").json() == []


def test_sse_stream_reports_every_node_then_the_interrupt(env):
    started = env.run("rec_a", JOB_A, top_k=3, background=True)
    assert started["status"] == "running"
    thread = started["thread_id"]
    events: list[tuple[str, dict]] = []
    with env.client("rec_a").stream("GET", f"/runs/{thread}/stream") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        name = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                events.append((name, json.loads(line.removeprefix("data: "))))
    names = [e for e, _ in events]
    assert names[0] == "start" and names[-1] == "end"
    nodes = [d["node"] for e, d in events if e == "update"]
    assert nodes == ["load", "retrieve", "score", "summarise"]
    assert ("interrupt" in names) and events[-1][1]["status"] == "interrupted"
    # After the run: the pending approval is there, and the stream of a thread with no run in this
    # process (a new app) is its state, then `end`.
    assert env.client("rec_a").get(f"/runs/{thread}").json()["status"] == "interrupted"
    env.restart()
    with env.client("rec_a").stream("GET", f"/runs/{thread}/stream") as response:
        body = response.read().decode()
    assert "event: state" in body and '"status": "interrupted"' in body and body.rstrip().endswith("}")


def test_pending_approvals_survive_a_restart(env):
    env.run("rec_a", JOB_A, top_k=3)
    env.run("rec_b", JOB_B, top_k=3)
    before = {a["id"]: a for a in env.client("admin").get("/approvals").json()}
    assert set(before) == {thread_of(env, JOB_A), thread_of(env, JOB_B)}

    env.restart()  # app #2: a new process state on the same data_dir

    assert env.client(None).get("/ready").json()["status"] == "ready"
    after = {a["id"]: a for a in env.client("admin").get("/approvals").json()}
    assert set(after) == set(before)
    assert {k: v["interrupt_id"] for k, v in after.items()} == {
        k: v["interrupt_id"] for k, v in before.items()
    }
    thread = thread_of(env, JOB_A)
    r = env.client("rec_a").post(f"/approvals/{thread}/resolve", json={"type": "accept"})
    assert r.status_code == 200, r.text
    assert r.json()["writes"] and all(w["status"] == "done" for w in r.json()["writes"])
    assert env.writelog
    assert [a["id"] for a in env.client("admin").get("/approvals").json()] == [thread_of(env, JOB_B)]


def test_run_api_errors(env):
    admin = env.client("admin")
    assert admin.post("/runs/nope", json={"input": {"job_id": JOB_A}}).status_code == 404
    assert admin.post("/runs/rediscovery", json={"input": {"top_k": 3}}).status_code == 422
    assert admin.post("/runs/rediscovery", json={"input": {"job_id": JOB_A, "top_k": 0}}).status_code == 422
    assert admin.post("/runs/rediscovery", json={"input": {"job_id": 987654}}).status_code == 404
    assert admin.get("/runs/rediscovery:1:2").status_code == 404
    assert admin.get("/approvals/nothing-here").status_code == 404


def test_serve_prints_the_url_and_a_demo_key_per_role(env, monkeypatch):
    import uvicorn

    from server.auth import KeyStore
    from server.cli import app as cli

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)
    data_dir = env.settings.data_dir.parent / "fresh"
    monkeypatch.setenv("ICIMS_AGENTS_DATA_DIR", str(data_dir))
    monkeypatch.setenv("ICIMS_AGENTS_MIRROR_URL", env.settings.mirror_database_url)

    def serve() -> dict[str, str]:
        out = CliRunner().invoke(cli, ["serve", "--port", "8123"])
        assert out.exit_code == 0, out.output
        assert "http://127.0.0.1:8123" in out.output
        return {
            parts[0]: parts[1]
            for line in out.output.splitlines()
            if len(parts := line.split()) >= 2 and parts[1].startswith("ica_")
        }

    first = serve()
    assert set(first) == {"recruiter", "hiring_manager", "admin", "auditor"}
    store = KeyStore.for_data_dir(data_dir)
    try:
        for role, key in first.items():
            principal = store.authenticate(key)
            assert principal is not None and principal.role == role
        # The demo recruiter and hiring manager own mirrored requisitions.
        assert store.authenticate(first["recruiter"]).recruiter_id in (1, 2)
        assert store.authenticate(first["hiring_manager"]).recruiter_id in (3, 4)
        # A second start prints usable keys again (the old demo keys are replaced).
        second = serve()
        assert set(second) == set(first)
        assert store.authenticate(second["admin"]).role == "admin"
        assert store.authenticate(first["admin"]) is None
        # Once real keys exist, no demo keys.
        store.create("admin", name="ops")
        out = CliRunner().invoke(cli, ["serve", "--port", "8123"])
        assert out.exit_code == 0 and "ica_" not in out.output
    finally:
        store.close()
