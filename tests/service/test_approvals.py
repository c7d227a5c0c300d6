"""The approvals API: filters, bulk resolution, and the service used directly (the pages and the
copilot call `ServiceState.approvals` in-process)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.service import JOB_A, JOB_B, RECRUITER_A, RECRUITER_B, ServiceEnv, service_env

from graphs.rediscovery import rediscovery_thread_id
from server.approvals import Decision
from server.auth import Principal
from server.errors import Forbidden, Invalid, NotFound

pytestmark = pytest.mark.integration


@pytest.fixture
def env(sandbox_factory, tmp_path) -> Iterator[ServiceEnv]:
    with service_env(sandbox_factory, tmp_path) as e:
        yield e


def test_filters_and_bulk_accept(env):
    cid = env.settings.icims_customer_id
    thread_a, thread_b = rediscovery_thread_id(cid, JOB_A), rediscovery_thread_id(cid, JOB_B)
    env.run("admin", JOB_A, top_k=3)
    env.run("admin", JOB_B, top_k=3)
    admin = env.client("admin")

    def ids(**params) -> list[str]:
        return [a["id"] for a in admin.get("/approvals", params=params).json()]

    assert set(ids()) == {thread_a, thread_b}
    assert ids(job_id=JOB_A) == [thread_a]
    assert ids(owner=RECRUITER_B) == [thread_b]
    assert set(ids(graph="rediscovery")) == {thread_a, thread_b}
    assert admin.get("/approvals", params={"graph": "nope"}).status_code == 404
    assert set(ids(older_than_minutes=0)) == {thread_a, thread_b}
    assert ids(older_than_minutes=60) == []
    row = admin.get("/approvals").json()[0]
    assert row["age_minutes"] is not None and row["age_minutes"] >= 0 and row["created_at"]

    # Bulk edits are refused; a bulk accept resolves each selected approval once.
    edit = {"ids": [thread_a], "decision": {"type": "edit", "args": {"candidates": []}}}
    assert admin.post("/approvals/bulk", json=edit).status_code == 422
    r = admin.post(
        "/approvals/bulk",
        json={"ids": [thread_a, thread_b, thread_a, "rediscovery:x:1"], "decision": {"type": "accept"}},
    )
    assert r.status_code == 200, r.text
    results = r.json()
    assert [x["approval_id"] for x in results] == [thread_a, thread_b, "rediscovery:x:1"]
    assert [x["status"] for x in results] == ["resolved", "resolved", "not_found"]
    writes = [w for x in results[:2] for w in x["writes"]]
    assert writes and all(w["status"] == "done" for w in writes)
    # One workflow field PATCH per approved write; no more.
    patches = [e for e in env.writelog if e.method == "PATCH" and "/people/" not in e.path]
    assert len(patches) == len(writes)
    assert ids() == []
    again = admin.post("/approvals/bulk", json={"ids": [thread_a], "decision": {"type": "accept"}}).json()
    assert again[0]["status"] == "conflict"


def test_service_methods_in_process(env):
    env.run("admin", JOB_A, top_k=3)
    thread = rediscovery_thread_id(env.settings.icims_customer_id, JOB_A)
    service = env.app.state.service
    owner = Principal("k1", "ann", "recruiter", RECRUITER_A)
    other = Principal("k2", "bob", "recruiter", RECRUITER_B)
    auditor = Principal("k3", "aud", "auditor", None)

    assert [a.id for a in service.approvals.list(owner)] == [thread]
    assert service.approvals.list(other) == []
    detail = service.approvals.get(owner, thread)
    assert detail.request["action_request"]["args"]["candidates"]
    with pytest.raises(NotFound):
        service.approvals.get(other, thread)
    with pytest.raises(Forbidden):
        service.approvals.resolve(auditor, thread, Decision(type="accept"))
    with pytest.raises(Invalid):
        service.approvals.resolve(
            owner, thread, Decision(type="edit", args={"candidates": [{"person_id": 1}]})
        )
    assert not env.writelog
    result = service.approvals.resolve(owner, thread, Decision(type="ignore", note="not now"))
    assert result.status == "resolved" and result.writes == [] and result.audit_seq
    assert service.runs.info(owner, thread).status == "done"
