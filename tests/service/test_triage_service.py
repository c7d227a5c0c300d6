"""Triage in the service runtime: the queue's handler (`graphs.triage.events.handle_event`) runs the
registered graph, pending triage approvals appear in the approvals service next to rediscovery's, and
a recruiter bulk-approves them from the inbox."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from graphs.triage.events import handle_event
from server import pages
from server.approvals import Decision
from server.auth import Principal
from server.state import open_service
from tools.embeddings import HashEmbeddings
from tools.icims.client import ICIMSClient
from tools.mirror import MirrorStore, MirrorSync

pytestmark = pytest.mark.integration

POLICY = "default: {mode: assist, thresholds: {priority_review: 0, review: 0}}\n"
ADMIN = Principal(key_id="k1", name="Ada", role="admin")


@dataclass
class FakeStoredEvent:
    """The duck type of `tools.events.store.StoredEvent` the handler reads."""

    id: int
    payload: dict[str, Any]
    customer_id: str = "1000"
    outcome: dict[str, Any] = field(default_factory=dict)


def _event(n: int, wf: Any, event_type: str = "AssessmentEvent") -> FakeStoredEvent:
    return FakeStoredEvent(n, {"customerId": "1000", "eventType": event_type, "systemId": str(wf)})


def test_handler_inbox_and_bulk_approval(sandbox_factory, tmp_path) -> None:
    box = sandbox_factory(people=40, seed=7)
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    settings = box.settings(data_dir=str(tmp_path / "state"), triage_policy_path=str(policy))
    store = MirrorStore(settings.mirror_database_url)

    async def sync() -> None:
        async with ICIMSClient.from_settings(settings) as client:
            await MirrorSync(store, client, progress=False).run(full=True)

    asyncio.run(sync())
    workflows = [r.id for r in store.iter_records("applicantworkflows")][:4]
    store.close()
    with open_service(settings, embeddings=HashEmbeddings()) as state:
        outcomes = [handle_event(_event(i, wf), state) for i, wf in enumerate(workflows, 1)]
        assert all(o["action"] == "pending_approval" for o in outcomes)
        assert handle_event(_event(1, workflows[0]), state)["action"] == "pending_approval"  # same event
        assert handle_event(_event(9, workflows[0], "JobPostToWebEvent"), state)["action"] == "none"
        assert handle_event(_event(10, "x"), state)["action"] == "none"
        wrong = FakeStoredEvent(11, {"customerId": "2", "eventType": "AssessmentEvent", "systemId": "1"}, "2")
        assert "not this tenant" in handle_event(wrong, state)["reason"]

        listed = state.approvals.list(ADMIN, graph="triage")
        assert sorted(a.id for a in listed) == sorted(o["thread_id"] for o in outcomes)
        detail = state.approvals.get(ADMIN, listed[0].id)
        assert detail.action == "triage_application" and detail.job_id == detail.args["job_id"]
        assert len(detail.args["summary"]) == 3
        assert box.state.writelog == []

        # The web inbox renders the triage partial and turns its form into a validated edit.
        web = FastAPI()
        web.include_router(pages.router)
        web.state.service = state
        _, key = state.keys.create("admin", name="Ada")
        client = TestClient(web, follow_redirects=False)
        assert client.post("/ui/sign-in", data={"api_key": key}).status_code == 303
        first = listed[0].id
        page = client.get(f"/ui/approvals/{first}")
        assert page.status_code == 200 and "Triage:" in page.text and 'name="tier_ai_fields"' in page.text
        none_ticked = client.post(f"/ui/approvals/{first}", data={"decision": "approve"})
        assert none_ticked.status_code == 422 and "No write is ticked" in none_ticked.text
        posted = client.post(
            f"/ui/approvals/{first}",
            data={"decision": "approve", "keep": "ai_fields", "tier_ai_fields": "talent_pool"},
        )
        assert posted.status_code == 303 and "Triage+for" in posted.headers["location"]
        tier_field = settings.field_map["ai_tier"]
        assert [e.body[tier_field] for e in box.state.writelog] == ["Talent pool"]

        rest = [a.id for a in listed[1:]]
        results = state.approvals.bulk_resolve(ADMIN, rest, Decision(type="accept"))
        assert [r.status for r in results] == ["resolved"] * 3
        assert [len(r.writes) for r in results] == [1] * 3  # the AI fields of each application
        assert state.approvals.list(ADMIN, graph="triage") == []
    patched = {e.path.rsplit("/", 1)[-1] for e in box.state.writelog if e.method == "PATCH"}
    assert patched == {str(wf) for wf in workflows}


def test_runs_api_roles_and_resolve_for_triage(sandbox_factory, tmp_path, monkeypatch) -> None:
    from support.service import JOB_A, service_env

    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "default: {mode: assist, thresholds: {priority_review: 0, review: 0},"
        " actions: {priority_review: {status: C51219}}}\n"
    )
    monkeypatch.setenv("ICIMS_AGENTS_TRIAGE_POLICY_PATH", str(policy))
    with service_env(sandbox_factory, tmp_path) as env:
        tenant = env.box.state.tenant
        applied = {
            r.data["associatedprofile"]
            for r in tenant.records["applicantworkflows"].values()
            if r.data["baseprofile"] == JOB_A
        }
        person = next(
            p
            for p, r in tenant.records["people"].items()
            if r.data["folder"]["id"] == "D32006" and p not in applied
        )
        # A new application since the mirror's sync: triage reads the workflow from iCIMS.
        new = {"id": "D10100", "value": "New Submissions"}
        wf = tenant.add(
            "applicantworkflows", {"baseprofile": JOB_A, "associatedprofile": person, "status": new}
        )
        rec_a, rec_b, hm_a = env.client("rec_a"), env.client("rec_b"), env.client("hm_a")
        assert (
            rec_b.post("/runs/triage", json={"input": {"workflow_id": wf, "job_id": JOB_A}}).status_code
            == 403
        )
        started = rec_a.post("/runs/triage", json={"input": {"workflow_id": wf, "job_id": JOB_A}})
        assert started.status_code in (200, 202), started.text
        thread = started.json()["thread_id"]
        assert thread == f"triage:1000:{wf}" and started.json()["status"] == "interrupted"
        assert [a["id"] for a in rec_a.get("/approvals", params={"graph": "triage"}).json()] == [thread]
        assert rec_b.get("/approvals", params={"graph": "triage"}).json() == []  # another recruiter's
        seen = hm_a.get(f"/approvals/{thread}").json()
        assert seen["job_id"] == JOB_A and not seen["can_resolve"]
        assert rec_b.post(f"/approvals/{thread}/resolve", json={"type": "accept"}).status_code == 404
        done = rec_a.post(f"/approvals/{thread}/resolve", json={"type": "accept"})
        assert done.status_code == 200, done.text
        assert [w["action"] for w in done.json()["writes"]] == ["ai_fields", "status"]
        assert rec_a.get(f"/runs/{thread}").json()["status"] == "done"
    assert [e.body.get("status") for e in env.box.state.writelog if e.method == "PATCH"][-1] == {
        "id": "C51219"
    }
