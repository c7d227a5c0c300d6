"""An approved rediscovery run whose write step crashed part-way is finished after a restart, on
every checkpointer: by `graphs.kit.runs.finish` (the service's path) or by asking for the
requisition again (`start_run`). Exactly the approved writes reach iCIMS, each once, and nobody is
asked to approve again."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from support.snapshot import sync_mirror
from support.writelog import writes_by_target

from graphs.kit import runs
from graphs.rediscovery import RediscoveryDeps, build_graph, list_pending, resume_run, start_run
from tools.embeddings import HashEmbeddings
from tools.icims.codes import OPEN_JOB_FOLDERS

pytestmark = pytest.mark.integration


@pytest.fixture
def tenant(sandbox_factory, tmp_path) -> Iterator[tuple[Any, Any]]:
    box = sandbox_factory(people=40, seed=7)
    settings = box.settings(data_dir=str(tmp_path / "state"))
    sync_mirror(settings)
    yield box, settings


def open_deps(settings: Any) -> RediscoveryDeps:
    """Deps as a (re)started process opens them: the ledger and mirror on disk, nothing in memory."""
    return RediscoveryDeps.from_settings(settings, embeddings=HashEmbeddings())


@pytest.mark.parametrize("finish_with", ["kit_finish", "start_run"])
def test_a_crashed_approved_write_is_finished_once_without_a_second_approval(
    tenant, checkpointer, finish_with
):
    box, settings = tenant
    customer = settings.icims_customer_id
    deps = open_deps(settings)
    job = next(
        r.id
        for r in deps.mirror.iter_records("jobs")
        if (r.data.get("folder") or {}).get("id") in OPEN_JOB_FOLDERS
    )
    steps: Counter = Counter()

    def crash(name: str, outcome: Any) -> None:
        steps[name] += 1
        if name == "patched" and steps[name] == 2:  # the second candidate's fields sent, not recorded
            raise RuntimeError(f"injected crash after {name} of person {outcome.person_id}")

    try:
        with checkpointer.open() as saver:
            graph = build_graph(saver, deps=deps)
            run = start_run(graph, job_id=job, customer_id=customer, top_k=4)
            approved = [c["person_id"] for c in run.shortlist]
            assert len(approved) >= 3 and not box.state.writelog
            # Everyone submitted to the job: a workflow create and a PATCH per candidate.
            edit = {
                "type": "edit",
                "args": {"candidates": [{"person_id": p, "proposed_action": "submit"} for p in approved]},
            }
            deps.on_write_step = crash
            with pytest.raises(RuntimeError, match="injected crash"):
                resume_run(graph, run.thread_id, [edit], approver="rita")
            before = dict(graph.get_state(runs.run_config(run.thread_id)).values["approval"])
            assert before["decision"] == "edit" and before["request_hash"]
            partial = len(box.state.writelog)
            assert partial > 0
    finally:
        deps.close()

    restarted = open_deps(settings)
    try:
        with checkpointer.open() as saver:
            graph = build_graph(saver, deps=restarted)
            assert runs.approved_unfinished(graph, run.thread_id)
            if finish_with == "kit_finish":
                result = runs.finish(graph, run.thread_id)
                assert result is not None
            else:
                result = start_run(graph, job_id=job, customer_id=customer, top_k=4)
            assert result.continued and not result.pending
            assert list_pending(graph, saver) == []
            assert runs.finish(graph, run.thread_id) is None  # nothing left to finish
            values = result.values
            # The decision made before the crash stands: no second interrupt, no new approver.
            assert values["approval"] == before
            writes = values["writes"]
            assert [w["person_id"] for w in writes] == approved
            assert all(w["status"] in ("done", "already_done") for w in writes)
            assert writes[0]["status"] == "already_done"  # finished before the crash: not touched

            creates, patches = writes_by_target(list(box.state.writelog))
            assert creates == Counter(("applicantworkflows", job, p) for p in approved)
            assert patches == Counter(
                [("applicantworkflows", w["workflow_id"]) for w in writes]
                + [("people", w["person_id"]) for w in writes if (w["enrichment_tags"] or {}).get("patched")]
            )
            records = restarted.audit.records(thread_id=run.thread_id)
            assert len(records) == 1 and records[0].body["approver"] == "rita"
            assert records[0].body["request_hash"] == before["request_hash"]
            assert restarted.audit.verify().ok
    finally:
        restarted.close()


def test_the_audit_reads_a_decision_recorded_before_the_kit_record():
    """A rediscovery-1 checkpoint (`interrupt_args_hash`, the raw `response`) audits the same keys."""
    from graphs.rediscovery.writes import audit
    from tools.audit import value_hash

    class Log:
        def append(self, **record: Any) -> Any:
            self.record = record
            return type("Record", (), {"seq": 1, "hash": "h", "key": record["key"]})()

    log = Log()
    old = {
        "decision": "respond",
        "approver": "r1",
        "decided_at": "2026-01-05T10:00:00+00:00",
        "approved": [],
        "edits": {},
        "response": "Prefer people in Ohio",
        "interrupt_args_hash": "abc123",
    }
    state = {
        "run": {"trace_id": "t1", "thread_id": "rediscovery:1:2", "input_hash": "i"},
        "job": {"id": 2, "content_hash": "c"},
        "approval": old,
    }
    deps = type("Deps", (), {"audit": log})()
    assert audit(deps, state)["audit_record"] == {"seq": 1, "hash": "h", "key": "t1:final"}  # type: ignore[arg-type]
    body = log.record["body"]
    assert body["request_hash"] == "abc123"
    assert body["response_hash"] == value_hash("Prefer people in Ohio")
    assert (body["decision"], body["approver"], body["policy"], body["writes"]) == ("respond", "r1", None, [])
    assert "Ohio" not in str(body)
