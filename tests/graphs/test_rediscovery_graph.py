"""The rediscovery graph against the sandbox over real HTTP: a run pauses at an Agent Inbox approval,
the approval is listed from the checkpointer, a new process resumes it, and exactly the approved
writes reach iCIMS once, even across crashes, repeats and duplicates."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.writelog import writes_by_target

from graphs.kit.inbox import pending_for_thread
from graphs.rediscovery import (
    REQUEST_ACTION,
    RediscoveryDeps,
    build_graph,
    continue_run,
    list_pending,
    rediscovery_thread_id,
    resume_run,
    start_run,
)
from tools.checkpoint import open_checkpointer
from tools.embeddings import HashEmbeddings
from tools.icims.client import ICIMSClient
from tools.mirror import MirrorStore, MirrorSync

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
OPEN = "D31001"
AI_FIELDS = ("ai_score", "ai_reasons", "ai_model_version", "ai_processed_at")

# What a second process runs: settings from the environment only, the same checkpointer file, no
# state shared with the test process but the SQLite files and the sandbox.
RESUME_SCRIPT = """
import json, sys
from graphs.rediscovery import RediscoveryDeps, build_graph, resume_run
from tools.checkpoint import open_checkpointer
from tools.embeddings import HashEmbeddings
from tools.settings import Settings

settings = Settings(_env_file=None)
deps = RediscoveryDeps.from_settings(settings, embeddings=HashEmbeddings())
with open_checkpointer(settings) as saver:
    graph = build_graph(saver, deps=deps)
    values = resume_run(graph, sys.argv[1], json.loads(sys.argv[2]), approver="reviewer-in-process-b")
print(json.dumps({"pid": __import__("os").getpid(), "writes": values.get("writes") or [],
                  "approval": values.get("approval") or {}, "audit": values.get("audit_record") or {}}))
"""


@dataclass
class Env:
    box: Any  # conftest.RunningSandbox
    settings: Any
    store: MirrorStore
    deps: RediscoveryDeps
    saver: Any
    graph: Any

    @property
    def writelog(self) -> list[Any]:
        return self.box.state.writelog

    def start(self, job_id: int, **kwargs: Any):
        return start_run(self.graph, job_id=job_id, customer_id=self.settings.icims_customer_id, **kwargs)


def _sync(settings: Any, store: MirrorStore) -> None:
    async def run() -> None:
        async with ICIMSClient.from_settings(settings) as client:
            await MirrorSync(store, client, progress=False).run(full=True)

    asyncio.run(run())


@pytest.fixture
def env(sandbox_factory, tmp_path) -> Iterator[Env]:
    box = sandbox_factory(people=40, seed=7)
    settings = box.settings(data_dir=str(tmp_path / "state"))
    store = MirrorStore(settings.mirror_database_url)
    _sync(settings, store)
    deps = RediscoveryDeps.from_settings(settings, mirror=store, embeddings=HashEmbeddings())
    with open_checkpointer(settings) as saver:
        yield Env(box, settings, store, deps, saver, build_graph(saver, deps=deps))
    deps.close()


def open_jobs(store: MirrorStore) -> list[int]:
    return [r.id for r in store.iter_records("jobs") if (r.data.get("folder") or {}).get("id") == OPEN]


def candidates_of(run: Any) -> list[dict[str, Any]]:
    return run.pending[0].request["action_request"]["args"]["candidates"]


def subprocess_env(env: Env) -> dict[str, str]:
    values = dict(os.environ)
    values.update(env.box.env)
    values["ICIMS_AGENTS_DATA_DIR"] = str(env.settings.data_dir)
    # Fail on any checkpoint value that would need a pickled class to load in another process.
    values["LANGGRAPH_STRICT_MSGPACK"] = "true"
    values["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), values.get("PYTHONPATH", "")) if p)
    return values


def resume_in_new_process(env: Env, thread_id: str, response: Any) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", RESUME_SCRIPT, thread_id, json.dumps(response)],
        env=subprocess_env(env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def assert_exactly_once(env: Env, entries: list[Any], writes: list[dict[str, Any]]) -> None:
    """Each approved write: its workflow created at most once (never if it existed), its AI fields
    PATCHed exactly once, the person's enrichment tags PATCHed once when they changed, and nothing
    else was written."""
    creates, patches = writes_by_target(entries)
    field_ids = {env.settings.field_map[name] for name in AI_FIELDS}
    tags_field = env.settings.field_map["enrichment_tags"]
    expected_creates = Counter(
        (w["workflow_kind"], w["base_id"], w["person_id"]) for w in writes if w["created"]
    )
    expected_patches = Counter((w["workflow_kind"], w["workflow_id"]) for w in writes)
    expected_patches += Counter(
        ("people", w["person_id"]) for w in writes if (w["enrichment_tags"] or {}).get("patched")
    )
    assert creates == expected_creates
    assert patches == expected_patches
    tags = {w["person_id"]: (w["enrichment_tags"] or {}).get("fields", {}).get(tags_field) for w in writes}
    for e in entries:
        if e.method == "PATCH" and "/people/" in e.path:
            person_id = int(e.path.rsplit("/", 1)[1])
            assert e.body == {tags_field: tags[person_id]}
        elif e.method == "PATCH":
            assert set(e.body) == field_ids
            assert 0 <= e.body[env.settings.field_map["ai_score"]] <= 100


# --- the acceptance path --------------------------------------------------------------------------


def test_new_process_resumes_with_an_edit_and_only_approved_writes_land_once(env):
    job, other = open_jobs(env.store)[:2]
    run = env.start(job, top_k=5)
    second = env.start(other, top_k=3)
    assert run.thread_id == rediscovery_thread_id(env.settings.icims_customer_id, job)

    # Pending approvals are read back from the checkpointer, across threads.
    pending = {p.thread_id: p for p in list_pending(env.graph, env.saver)}
    assert set(pending) == {run.thread_id, second.thread_id}
    assert not env.writelog  # nothing written before approval

    candidates = candidates_of(run)
    assert len(candidates) >= 3
    dropped = candidates[-1]
    kept = [dict(c) for c in candidates[:-1]]
    # Change one action too: a proposal to pool becomes a submission, and the reverse.
    flip = kept[0]
    if flip["proposed_action"] == "submit":
        flip["proposed_action"], flip["pool_id"] = "add_to_pool", 301
    else:
        flip["proposed_action"], flip["pool_id"] = "submit", None
    edited = [
        {"person_id": c["person_id"], "proposed_action": c["proposed_action"], "pool_id": c["pool_id"]}
        for c in kept
    ]
    # As the Agent Inbox sends an edit: a list of one, the whole ActionRequest, values as strings.
    response = [
        {
            "type": "edit",
            "args": {"action": REQUEST_ACTION, "args": {"candidates": json.dumps(edited)}},
        }
    ]

    out = resume_in_new_process(env, run.thread_id, response)
    assert out["pid"] != os.getpid()
    writes = out["writes"]
    assert [(w["person_id"], w["action"]) for w in writes] == [
        (c["person_id"], c["proposed_action"]) for c in kept
    ]
    assert all(w["status"] == "done" for w in writes)
    assert out["approval"]["decision"] == "edit"
    assert out["approval"]["approver"] == "reviewer-in-process-b"
    assert out["approval"]["edits"]["dropped"] == [dropped["person_id"]]
    assert [c["person_id"] for c in out["approval"]["edits"]["changed"]] == [flip["person_id"]]

    entries = list(env.writelog)
    assert_exactly_once(env, entries, writes)
    touched = {e.body.get("associatedprofile") for e in entries if e.method == "POST"}
    assert dropped["person_id"] not in touched
    tenant = env.box.state.tenant
    flipped = next(w for w in writes if w["person_id"] == flip["person_id"])
    assert tenant.get(flipped["workflow_kind"], flipped["workflow_id"]) is not None

    # Each approved person's enrichment tags (as shown in the approval) were written once, after
    # the approval; the dropped candidate's person profile was not touched.
    tags_field = env.settings.field_map["enrichment_tags"]
    shown = {c["person_id"]: c["enrichment_tags"] for c in candidates}
    people_patches = [e for e in entries if e.method == "PATCH" and "/people/" in e.path]
    assert sorted(int(e.path.rsplit("/", 1)[1]) for e in people_patches) == sorted(
        c["person_id"] for c in kept
    )
    for w in writes:
        assert w["enrichment_tags"]["status"] == "done" and w["enrichment_tags"]["patched"]
        assert tenant.get("people", w["person_id"]).data[tags_field] == shown[w["person_id"]]
        assert "skills=" in shown[w["person_id"]] and len(shown[w["person_id"]]) <= 255
    assert tags_field not in tenant.get("people", dropped["person_id"]).data

    # Resuming again (another new process, then this one) writes nothing more.
    again = resume_in_new_process(env, run.thread_id, [{"type": "accept", "args": None}])
    assert again["writes"] == writes  # the finished run's values, unchanged
    resume_run(env.graph, run.thread_id, [{"type": "accept", "args": None}])
    assert len(env.writelog) == len(entries)

    # The run is finished and audited; the other requisition still waits.
    assert env.graph.get_state({"configurable": {"thread_id": run.thread_id}}).next == ()
    assert [p.thread_id for p in list_pending(env.graph, env.saver)] == [second.thread_id]
    records = env.deps.audit.records(thread_id=run.thread_id)
    assert len(records) == 1
    body = records[0].body
    assert body["decision"] == "edit" and body["approver"] == "reviewer-in-process-b"
    assert [w["workflow_id"] for w in body["writes"]] == [w["workflow_id"] for w in writes]
    assert body["versions"]["rubric"] == env.deps.rubric_version
    assert body["versions"]["outreach_template"] == "outreach_line.v1"
    assert env.deps.audit.verify().ok


def test_interrupt_payload_follows_the_agent_inbox_schema(env):
    job = open_jobs(env.store)[0]
    before = env.box.state.requests_total
    run = env.start(job, top_k=5)
    # The requisition refresh is the only iCIMS request before approval (everything else: mirror).
    assert env.box.state.requests_total - before == 1

    state = env.graph.get_state({"configurable": {"thread_id": run.thread_id}})
    assert state.next == ("approve",)
    (item,) = state.interrupts
    assert isinstance(item.value, list) and len(item.value) == 1
    request = item.value[0]
    assert set(request) == {"action_request", "config", "description"}
    assert set(request["action_request"]) == {"action", "args"}
    assert request["action_request"]["action"] == REQUEST_ACTION
    assert request["config"] == {
        "allow_accept": True,
        "allow_edit": True,
        "allow_respond": True,
        "allow_ignore": True,
    }
    assert isinstance(request["description"], str) and request["description"].startswith("### ")
    args = request["action_request"]["args"]
    assert args["job_id"] == job and args["thread_id"] == run.thread_id
    assert args["outreach_template"] == "outreach_line.v1"
    candidates = args["candidates"]
    assert 1 <= len(candidates) <= 5
    assert [c["rank"] for c in candidates] == list(range(1, len(candidates) + 1))
    assert [c["score"] for c in candidates] == sorted((c["score"] for c in candidates), reverse=True)
    applied = {
        wf.data["associatedprofile"]["id"] for wf in env.store.workflows("applicantworkflows", base_id=job)
    }
    for c in candidates:
        assert c["person_id"] not in applied  # already applied to this job: not rediscovered
        assert c["proposed_action"] in ("submit", "add_to_pool")
        assert (c["pool_id"] is not None) == (c["proposed_action"] == "add_to_pool")
        assert len(c["summary"]) == 3 and c["outreach_line"]
        assert isinstance(c["gaps"], list)
        for reason in c["reasons"]:
            evidence = reason.get("evidence")
            # Every reason shown carries a verbatim quote, or is flagged.
            assert reason["flagged"] or (evidence and evidence["verified"])
            if evidence and evidence["verified"] and evidence["source"] == "resume":
                assert evidence["quote"] in env.store.resume_text(c["person_id"])
    # State is JSON-like: the checkpoint needs no pickled classes to resume elsewhere.
    json.dumps(state.values)
    json.dumps(request)


@pytest.mark.parametrize(
    ("step", "nth"),
    [("workflow_created", 2), ("patched", 2), ("done", 2), ("person_fields_patched", 2)],
)
def test_crash_in_the_write_node_then_resume_performs_only_the_remaining_writes(env, step, nth):
    job = open_jobs(env.store)[0]
    run = env.start(job, top_k=4)
    seen: Counter = Counter()

    def crash(name: str, outcome: Any) -> None:
        seen[name] += 1
        if name == step and seen[name] == nth:
            raise RuntimeError(f"injected crash after {name} of person {outcome.person_id}")

    # Force creates: everyone is submitted to the job (nobody on it has applied yet).
    edit = {
        "type": "edit",
        "args": {
            "candidates": [
                {"person_id": c["person_id"], "proposed_action": "submit"} for c in candidates_of(run)
            ]
        },
    }
    env.deps.on_write_step = crash
    with pytest.raises(RuntimeError, match="injected crash"):
        resume_run(env.graph, run.thread_id, [edit])
    partial = len(env.writelog)
    assert partial > 0
    # Paused on the failed write node, with the approval kept.
    assert env.graph.get_state({"configurable": {"thread_id": run.thread_id}}).next == ("write",)

    env.deps.on_write_step = None
    if step == "done":
        # Asking for the requisition again finishes the approved run instead of starting over.
        again = env.start(job, top_k=4)
        assert again.continued and not again.pending
        values = again.values
    else:
        values = continue_run(env.graph, run.thread_id)
    writes = values["writes"]
    assert len(writes) == len(candidates_of(run))
    assert all(w["status"] in ("done", "already_done") for w in writes)
    # The candidate finished before the crash is not touched again.
    assert writes[0]["status"] == "already_done"
    assert_exactly_once(env, list(env.writelog), writes)
    assert env.deps.audit.verify().ok


def test_an_existing_workflow_unknown_to_the_mirror_counts_as_done(env):
    """iCIMS answers 400 to a second workflow for the same person and job; found by Search, that
    workflow gets the fields and no duplicate is created."""
    job = open_jobs(env.store)[0]
    run = env.start(job, top_k=3)
    first = candidates_of(run)[0]
    tenant = env.box.state.tenant
    existing = tenant.add(
        "applicantworkflows",
        {"baseprofile": job, "associatedprofile": first["person_id"], "status": {"id": "D10100"}},
    )
    edit = {"type": "edit", "args": {"candidates": [{"person_id": first["person_id"], "action": "submit"}]}}
    values = resume_run(env.graph, run.thread_id, [edit])
    (write,) = values["writes"]
    assert (write["workflow_id"], write["created"], write["status"]) == (existing, False, "done")
    cid = env.settings.icims_customer_id
    assert [(e.method, e.path) for e in env.writelog] == [
        ("PATCH", f"/customers/{cid}/applicantworkflows/{existing}"),
        ("PATCH", f"/customers/{cid}/people/{first['person_id']}"),  # the enrichment tags
    ]


def test_respond_and_ignore_write_nothing_and_are_audited(env):
    first, second = open_jobs(env.store)[:2]
    a = env.start(first, top_k=2)
    b = env.start(second, top_k=2)
    va = resume_run(
        env.graph, a.thread_id, [{"type": "response", "args": "Prefer people in Ohio"}], approver="r1"
    )
    vb = resume_run(env.graph, b.thread_id, {"type": "ignore", "args": None}, approver="r2")
    assert not env.writelog
    assert va["writes"] == [] and vb["writes"] == []
    assert (va["approval"]["decision"], vb["approval"]["decision"]) == ("respond", "ignore")
    bodies = {r.thread_id: r.body for r in env.deps.audit.records()}
    assert bodies[a.thread_id]["decision"] == "respond"
    assert bodies[a.thread_id]["response_hash"]  # the feedback is kept as a hash, not as text
    assert "Ohio" not in json.dumps(bodies)
    assert bodies[b.thread_id]["approver"] == "r2"
    assert list_pending(env.graph, env.saver) == []


def test_an_invalid_edit_is_refused_and_asked_again(env):
    job = open_jobs(env.store)[0]
    run = env.start(job, top_k=3)
    stranger = max(env.store.ids("people")) + 1000
    bad = {"type": "edit", "args": {"candidates": [{"person_id": stranger, "proposed_action": "submit"}]}}
    resume_run(env.graph, run.thread_id, [bad])
    (waiting,) = pending_for_thread(env.graph, run.thread_id)
    assert "Edit not applied" in waiting.request["description"]
    assert str(stranger) in waiting.request["description"]
    worse = {"type": "edit", "args": {"candidates": [{"person_id": 1, "proposed_action": "reject"}]}}
    resume_run(env.graph, run.thread_id, [worse])
    assert pending_for_thread(env.graph, run.thread_id)  # never auto-reject: not an action at all
    assert not env.writelog
    values = resume_run(env.graph, run.thread_id, [{"type": "accept", "args": None}])
    assert len(values["writes"]) == len(candidates_of(run))


def test_a_second_start_on_the_same_requisition_returns_the_pending_run(env):
    job = open_jobs(env.store)[0]
    first = env.start(job, top_k=3)
    again = env.start(job, top_k=3)
    assert again.resumed_existing
    assert again.pending[0].interrupt_id == first.pending[0].interrupt_id
    trace = first.values["run"]["trace_id"]
    assert again.values["run"]["trace_id"] == trace
    # After it finishes, a new run on the thread starts clean (new trace, no stale writes)...
    done = resume_run(env.graph, first.thread_id, [{"type": "accept"}])
    created = {w["person_id"]: w["workflow_id"] for w in done["writes"] if w["created"]}
    fresh = env.start(job, top_k=3)
    assert not fresh.resumed_existing
    assert fresh.values["run"]["trace_id"] != trace
    assert fresh.values["writes"] == [] and fresh.values["approval"] == {}
    # ...and proposes nobody the first run put in this requisition's pipeline: the write step wrote
    # their new workflows through to the mirror, so the service does not wait for a sync to see them.
    shortlisted = {c["person_id"] for c in candidates_of(fresh)}
    assert not shortlisted & set(created)
    for person_id, workflow_id in created.items():
        assert env.store.get_data("applicantworkflows", workflow_id) is not None
        assert workflow_id in {w.id for w in env.store.workflows("applicantworkflows", person_id=person_id)}
    # A workflow a recruiter made in iCIMS since the sync (not mirrored): iCIMS refuses the duplicate
    # create and the write step finds it by Search instead of creating a second one.
    tenant = env.box.state.tenant
    person = next(c["person_id"] for c in candidates_of(fresh) if c["proposed_action"] == "submit")
    made = tenant.add("applicantworkflows", {"baseprofile": job, "associatedprofile": person})
    seq = len(env.writelog)
    again_values = resume_run(env.graph, fresh.thread_id, [{"type": "accept"}])
    mine = next(w for w in again_values["writes"] if w["person_id"] == person)
    assert (mine["created"], mine["workflow_id"], mine["status"]) == (False, made, "done")
    assert_exactly_once(env, list(env.writelog)[seq:], again_values["writes"])
