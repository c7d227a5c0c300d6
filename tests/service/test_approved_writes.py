"""Approved writes always land, once.

- Under 35% 429 + 35% 5xx from iCIMS, 20 triage approvals resolved through the HTTP API all land
  exactly once: a resolve whose writes fail answers `applying` (never 502), the approval stays in
  the list as "approved, applying (retry N, next at T, last error)", and the worker's reconciler
  (`server.worker.reconcile_once`, called here as the worker does) finishes it with no second
  approval and nobody starting anything again.
- One resume per interrupt across processes: `rediscover --approve` in another process racing the
  HTTP resolve on the same approval gives one decision and each write once; whoever comes second
  is told it is being resolved elsewhere (409 over HTTP, exit 3 on the command line).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.service import JOB_A, JOB_B, ServiceEnv, service_env

from graphs.kit.runs import run_config
from graphs.rediscovery import rediscovery_thread_id
from server.applying import lease_key
from server.state import open_service
from server.worker import reconcile_once
from tools.embeddings import HashEmbeddings

pytestmark = pytest.mark.integration

EXE = Path(sys.executable).parent / "icims-agents"
POLICY = "default: {mode: assist, thresholds: {priority_review: 0, review: 0}}\n"
FAULTS = {"rate_429": 0.35, "rate_5xx": 0.35, "retry_after_seconds": 0, "seed": 12}
APPROVALS = 20


def _until(what: str, check: Any, deadline_s: float = 120.0) -> Any:
    deadline = time.monotonic() + deadline_s
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _faults(env: ServiceEnv, **faults: Any) -> None:
    r = httpx.put(f"{env.box.url}/_sandbox/faults", json=faults)
    assert r.status_code == 200, r.text


@pytest.fixture
def triage_env(sandbox_factory, tmp_path, monkeypatch) -> Iterator[ServiceEnv]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    monkeypatch.setenv("ICIMS_AGENTS_TRIAGE_POLICY_PATH", str(policy))
    # One retry per request inside the client: with 70% of requests failing, about half the
    # resolves then fail their write, which is what the reconciler must make good.
    monkeypatch.setenv("ICIMS_AGENTS_ICIMS_MAX_RETRIES", "1")
    with service_env(sandbox_factory, tmp_path) as env:
        yield env


def _triage_approvals(env: ServiceEnv, count: int) -> list[tuple[str, int]]:
    """(approval id, workflow id) for `count` applications waiting for a recruiter."""
    admin = env.client("admin")
    workflows = sorted(env.box.state.tenant.records["applicantworkflows"].items())
    out: list[tuple[str, int]] = []
    for wf, record in workflows:
        started = admin.post(
            "/runs/triage", json={"input": {"workflow_id": wf, "job_id": record.data["baseprofile"]}}
        )
        if started.status_code in (200, 202) and started.json()["status"] == "interrupted":
            out.append((started.json()["thread_id"], wf))
        if len(out) == count:
            return out
    raise AssertionError(f"only {len(out)} triage approvals could be made")


def test_twenty_approvals_land_exactly_once_under_faults(triage_env: ServiceEnv) -> None:
    env = triage_env
    admin = env.client("admin")
    approvals = _triage_approvals(env, APPROVALS)
    assert not env.writelog
    _faults(env, **FAULTS)

    answers = {}
    for approval_id, _ in approvals:
        r = admin.post(f"/approvals/{approval_id}/resolve", json={"type": "accept"})
        assert r.status_code == 200, r.text  # never 502: the decision is recorded either way
        answers[approval_id] = r.json()
    statuses = Counter(a["status"] for a in answers.values())
    applying = sorted(a for a, body in answers.items() if body["status"] == "applying")
    print(f"\nresolves under faults: {dict(statuses)}")
    assert set(statuses) <= {"resolved", "applying"} and applying, statuses
    for approval_id in applying:
        info = answers[approval_id]["applying"]
        assert info["attempts"] == 1 and info["last_error"] and info["text"].startswith("approved, applying")

    # What failed is still listed, as approved and applying, not as a second request.
    listed = admin.get("/approvals").json()
    assert sorted(row["id"] for row in listed) == applying
    assert {row["status"] for row in listed} == {"applying"}
    assert all(not row["can_resolve"] and "retry 1, next at" in row["applying"]["text"] for row in listed)
    detail = admin.get(f"/approvals/{applying[0]}").json()
    assert detail["status"] == "applying" and detail["applying"]["decision"] == "accept"
    assert admin.get(f"/runs/{applying[0]}").json()["status"] == "applying"
    again = admin.post(f"/approvals/{applying[0]}/resolve", json={"type": "accept"})
    assert again.status_code == 409 and "approved, applying" in again.json()["detail"]

    # The worker's reconciler, faults still on, with every retry due: passes until nothing waits.
    passes: list[dict[str, int]] = []
    far = time.time() + 10**7
    with open_service(env.settings, embeddings=HashEmbeddings()) as worker:

        def settled() -> bool:
            passes.append(reconcile_once(worker, now=far))
            return passes[-1]["waiting"] == 0

        _until("the reconciler to land every approved write", settled)
        _faults(env, rate_429=0.0, rate_5xx=0.0)
        assert reconcile_once(worker, now=far) == {
            "finished": 0,
            "failed": 0,
            "busy": 0,
            "cleared": 0,
            "waiting": 0,
        }
    retried, finished = sum(p["failed"] for p in passes), sum(p["finished"] for p in passes)
    print(f"reconciler: {len(passes)} passes, {retried} failed retries, {finished} finished")
    assert finished == len(applying)

    assert admin.get("/approvals").json() == []
    for approval_id, _ in approvals:
        assert admin.get(f"/runs/{approval_id}").json()["status"] == "done"
    # Exactly one AI-field PATCH per application, and nothing else written.
    patches = Counter(e.path for e in env.writelog if e.method == "PATCH")
    assert sorted(patches) == sorted(
        f"/customers/{env.settings.icims_customer_id}/applicantworkflows/{wf}" for _, wf in approvals
    )
    assert set(patches.values()) == {1}
    assert len(env.writelog) == APPROVALS
    # One decision per approval (nobody asked twice), one completion record per retried one.
    audit = env.app.state.service.audit
    for approval_id, _ in approvals:
        kinds = Counter(r.kind for r in audit.records(thread_id=approval_id))
        assert kinds["approval_decision"] == 1
        assert kinds["approval_applied"] == (1 if approval_id in applying else 0)
        assert _decisions(env, approval_id) == 1


def test_the_worker_finishes_approved_runs_nobody_recorded_and_those_the_api_did(
    triage_env: ServiceEnv, tmp_path: Path
) -> None:
    """`icims-agents worker --once`: an approval resumed outside the service whose writes failed
    (no applying row: found from the checkpoint's error) and one the API answered `applying` both
    land, once, with no second approval."""
    from graphs.kit.runs import resume

    env = triage_env
    admin = env.client("admin")
    (by_api, wf_api), (by_hand, wf_hand) = _triage_approvals(env, 2)
    _faults(env, rate_5xx=1.0, retry_after_seconds=0, seed=1)
    assert admin.post(f"/approvals/{by_api}/resolve", json={"type": "accept"}).json()["status"] == "applying"
    graph = env.app.state.service.graphs["triage"]
    with pytest.raises(Exception, match=r"50[03]"):
        resume(graph, by_hand, [{"type": "accept", "args": None}], approver="cli:someone")
    assert [row["id"] for row in admin.get("/approvals").json()] == [by_api]  # only the recorded one
    _faults(env, rate_5xx=0.0)

    worker = subprocess.run(
        [str(EXE), "--env-file", str(_env_file(env, tmp_path)), "worker", "--once"],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ},
    )
    assert worker.returncode == 0, worker.stderr
    assert "approval.applied" in worker.stderr
    for thread_id in (by_api, by_hand):
        assert admin.get(f"/runs/{thread_id}").json()["status"] == "done"
        assert _decisions(env, thread_id) == 1
    assert admin.get("/approvals").json() == []
    cid = env.settings.icims_customer_id
    assert sorted(e.path for e in env.writelog) == sorted(
        f"/customers/{cid}/applicantworkflows/{wf}" for wf in (wf_api, wf_hand)
    )


def test_a_new_event_on_an_applying_triage_finishes_it_without_asking_again(triage_env: ServiceEnv) -> None:
    from types import SimpleNamespace

    from graphs.triage.events import handle_event

    env = triage_env
    admin = env.client("admin")
    [(approval_id, wf)] = _triage_approvals(env, 1)
    _faults(env, rate_5xx=1.0, retry_after_seconds=0, seed=1)
    assert (
        admin.post(f"/approvals/{approval_id}/resolve", json={"type": "accept"}).json()["status"]
        == "applying"
    )
    _faults(env, rate_5xx=0.0)
    event = SimpleNamespace(
        id=9001,
        customer_id=str(env.settings.icims_customer_id),
        outcome={},
        payload={
            "customerId": str(env.settings.icims_customer_id),
            "eventType": "AssessmentEvent",
            "systemId": str(wf),
        },
    )
    outcome = handle_event(event, env.app.state.service)
    assert outcome["action"] == "triaged" and not outcome["pending"], outcome
    assert admin.get("/approvals").json() == []
    assert [e.method for e in env.writelog] == ["PATCH"]


def _decisions(env: ServiceEnv, thread_id: str) -> int:
    """Distinct decision records in the thread's checkpoint history: one per resume of the interrupt."""
    spec = env.app.state.service.spec_for_thread(thread_id)
    seen = {
        json.dumps(snapshot.values.get("approval"), sort_keys=True, default=str)
        for snapshot in spec.graph.get_state_history(run_config(thread_id))
        if (snapshot.values or {}).get("approval")
    }
    return len(seen)


# -- one resume per interrupt across processes ---------------------------------------------------


@pytest.fixture
def env(sandbox_factory, tmp_path) -> Iterator[ServiceEnv]:
    with service_env(sandbox_factory, tmp_path) as e:
        yield e


def _env_file(env: ServiceEnv, tmp_path: Path) -> Path:
    path = tmp_path / "cli.env"
    lines = [f"{k}={v}" for k, v in env.box.env.items()]
    lines.append(f"ICIMS_AGENTS_DATA_DIR={env.settings.data_dir}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _held(env: ServiceEnv, thread_id: str) -> bool:
    return env.app.state.service.approvals.applying.leases.get(lease_key(thread_id)) is not None


def _workflow_patches(env: ServiceEnv) -> Counter[str]:
    return Counter(e.path for e in env.writelog if e.method == "PATCH" and "/people/" not in e.path)


def test_cli_and_http_racing_on_one_approval_resolve_it_once(env: ServiceEnv, tmp_path: Path) -> None:
    cid = env.settings.icims_customer_id
    admin = env.client("admin")
    env_file = _env_file(env, tmp_path)
    # Slow iCIMS: every resume takes seconds, so the second resolver arrives while the first holds it.
    _faults(env, latency_ms=250)

    # The command line first, the API second: 409, being resolved elsewhere.
    thread_a = rediscovery_thread_id(cid, JOB_A)
    env.run("admin", JOB_A, top_k=3)
    cli = subprocess.Popen(
        [str(EXE), "--env-file", str(env_file), "rediscover", "--job", str(JOB_A), "--approve", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        _until(
            "the command line to hold the approval", lambda: _held(env, thread_a) or cli.poll() is not None
        )
        r = admin.post(f"/approvals/{thread_a}/resolve", json={"type": "accept"})
        out, err = cli.communicate(timeout=180)
    finally:
        if cli.poll() is None:
            cli.kill()
    assert cli.returncode == 0, err
    assert r.status_code == 409 and "being resolved elsewhere" in r.json()["detail"], r.text
    report = json.loads(out.strip().splitlines()[-1])
    candidates = len(report["writes"])
    assert candidates and all(w["status"] == "done" for w in report["writes"])

    # The API first, the command line second (in this process, holding nothing): exit 3.
    thread_b = rediscovery_thread_id(cid, JOB_B)
    env.run("admin", JOB_B, top_k=3)
    answer: dict[str, Any] = {}

    def resolve() -> None:
        answer["r"] = env.client("rec_b").post(f"/approvals/{thread_b}/resolve", json={"type": "accept"})

    http = threading.Thread(target=resolve)
    http.start()
    _until("the API to hold the approval", lambda: _held(env, thread_b) or "r" in answer)
    second = subprocess.run(
        [str(EXE), "--env-file", str(env_file), "rediscover", "--job", str(JOB_B), "--approve", "--json"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    http.join(timeout=180)
    assert answer["r"].status_code == 200 and answer["r"].json()["status"] == "resolved", answer["r"].text
    assert second.returncode == 3 and "being resolved elsewhere" in second.stderr, second.stderr

    # Each approval: one decision in its thread, one accept record in the audit, each write once.
    audit = env.app.state.service.audit
    for thread_id in (thread_a, thread_b):
        assert _decisions(env, thread_id) == 1
        decisions = [r for r in audit.records(thread_id=thread_id) if r.kind == "approval_decision"]
        assert [r.body["decision"] for r in decisions] == ["accept"]
        finals = [r for r in audit.records(thread_id=thread_id) if r.kind == "rediscovery"]
        assert len(finals) == 1 and finals[0].body["decision"] == "accept"
    patches = _workflow_patches(env)
    writes_b = answer["r"].json()["writes"]
    assert sum(patches.values()) == candidates + len(writes_b) and set(patches.values()) == {1}
    print(
        f"\nrace: cli wrote {candidates}, api wrote {len(writes_b)}, workflow PATCHes {sum(patches.values())}"
    )


# -- the pages ---------------------------------------------------------------------------------


def test_the_inbox_and_the_review_page_show_an_applying_approval() -> None:
    from starlette.requests import Request

    from server.approval_models import ApprovalDetail, ApprovalSummary
    from server.approval_records import applying_info, applying_summary
    from server.auth import Principal
    from server.pages.approval import detail_context, template_of
    from server.pages.common import approval_id
    from server.pages.render import render
    from tools.applying import Applying

    row = Applying(
        thread_id="triage:1000:10001",
        graph="triage",
        interrupt_id="i1",
        action="triage_application",
        job_id=1004,
        job_title="Data Engineer",
        owner_id=1,
        hiring_manager_id=3,
        items=1,
        requested_at="2026-01-05T10:00:00+00:00",
        decision="accept",
        approver="admin:ada#k1",
        decided_at="2026-01-05T10:02:00+00:00",
        attempts=2,
        next_at=1767607440.0,  # 2026-01-05 10:04:00 UTC
        last_error="ICIMSServerError: iCIMS 503",
        updated_at=0.0,
    )
    text = applying_info(row)["text"]
    assert (
        text == "approved, applying (retry 2, next at 10:04:00 UTC, last error: ICIMSServerError: iCIMS 503)"
    )

    class View:
        def person_name(self, person_id: int | None) -> str | None:
            return "Rita Recruiter"

    spec = type("Spec", (), {"name": "triage"})()
    item = applying_summary(View(), spec, row, None, moment=datetime.now(UTC))  # type: ignore[arg-type]
    summary = ApprovalSummary.model_validate(item)
    assert summary.status == "applying" and not summary.can_resolve and summary.job_id == 1004
    principal = Principal("k1", "ada", "admin")
    request = Request(
        {"type": "http", "method": "GET", "path": "/ui/inbox", "headers": [], "query_string": b""}
    )
    page = render(
        request,
        "inbox.html",
        principal,
        items=[summary],
        approval_id=approval_id,
        filters={"graph": "", "job_id": "", "older_than_minutes": ""},
        filtered=False,
        graphs=["triage"],
    ).body.decode()
    assert text in page and 'value="triage:1000:10001"' not in page  # nothing to tick: it is decided

    detail = ApprovalDetail.model_validate(
        {**item, "request": {}, "description": "", "args": {"job_id": 1004}, "approval_error": None}
    )
    assert template_of(detail) == "approval.html"
    review = render(
        request, "approval.html", principal, approval_id=row.thread_id, form=None, **detail_context(detail)
    )
    html = review.body.decode()
    assert "This decision is recorded" in html and text in html and 'class="approval-form"' not in html
