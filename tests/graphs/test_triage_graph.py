"""The triage graph against the sandbox over real HTTP: shadow, assist and auto modes, approval and
bulk approval, exactly-once write-back (re-runs, 429s during write-back, a lost checkpoint), never a
rejection, applications read from iCIMS when the mirror lacks them, and a spent quota."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from graphs.triage import TriageDeps, build_graph, resume, run_event, triage_thread_id
from tools.audit import AuditLog
from tools.checkpoint import open_checkpointer
from tools.icims.client import ICIMSClient
from tools.icims.errors import QuotaExhausted
from tools.mirror import MirrorStore, MirrorSync
from tools.mirror.store import link_id
from tools.settings import DEFAULT_FIELD_MAP

pytestmark = pytest.mark.integration

NEW = "D10100"
STATUS_FIELDS = {"status"}
AI_FIELD_IDS = {DEFAULT_FIELD_MAP[k] for k in ("ai_score", "ai_tier", "ai_reasons", "ai_flags")}
# Every application is a "priority review" so each New one also gets a status suggestion.
POLICY = """
version: test-policy
default:
  mode: assist
  thresholds: {priority_review: 0, review: 0}
  actions:
    priority_review: {status: C51219}
"""


@dataclass
class Env:
    box: Any
    settings: Any
    store: MirrorStore
    tmp: Any

    def deps(self, chat_model: Any = None, **overrides: Any) -> TriageDeps:
        settings = self.settings.model_copy(update=overrides)
        fast = lambda: ICIMSClient.from_settings(settings, retry_wait_base=0.01, retry_wait_max=0.2)  # noqa: E731
        return TriageDeps.from_settings(
            settings, mirror=self.store, client_factory=fast, chat_model=chat_model
        )

    def new_workflows(self, n: int) -> list[int]:
        rows = [r for r in self.store.iter_records("applicantworkflows") if r.data["status"]["id"] == NEW]
        assert len(rows) >= n
        return [r.id for r in rows[:n]]

    def writes(self, since: int = 0) -> list[Any]:
        return [e for e in self.box.state.writelog[since:] if "/applicantworkflows/" in e.path]


@pytest.fixture
def env(sandbox_factory, tmp_path) -> Iterator[Env]:
    box = sandbox_factory(people=40, seed=7, faults={"retry_after_seconds": 0})
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    settings = box.settings(data_dir=str(tmp_path / "state"), triage_policy_path=str(policy))
    store = MirrorStore(settings.mirror_database_url)

    async def sync() -> None:
        async with ICIMSClient.from_settings(settings) as client:
            await MirrorSync(store, client, progress=False).run(full=True)

    asyncio.run(sync())
    yield Env(box, settings, store, tmp_path)
    store.close()


def _run(graph: Any, wf: int, event: str) -> dict[str, Any]:
    return run_event(graph, customer_id=1000, event_id=event, workflow_id=wf)


def test_shadow_scores_and_audits_without_interrupt_or_write(env: Env) -> None:
    deps = env.deps(triage_mode="shadow")
    with open_checkpointer(env.settings) as saver:
        graph = build_graph(saver, deps=deps)
        outcomes = [_run(graph, wf, f"s{wf}") for wf in env.new_workflows(3)]
        assert all(o["action"] == "triaged" and o["mode"] == "shadow" for o in outcomes)
        assert all(0 <= o["score"] <= 100 and o["writes"] == [] for o in outcomes)
        assert not graph.get_state({"configurable": {"thread_id": outcomes[0]["thread_id"]}}).interrupts
    assert env.box.state.writelog == []
    records = deps.audit.records()
    assert [r.body["stage"] for r in records] == ["shadow"] * 3
    assert records[0].body["approver"] is None and records[0].body["writes"] == []
    assert records[0].body["versions"]["rubric"] and records[0].body["input_hash"]
    deps.close()


def test_assist_waits_for_approval_then_writes_exactly_once(env: Env) -> None:
    deps = env.deps(triage_mode="assist")
    wf = env.new_workflows(1)[0]
    with open_checkpointer(env.settings) as saver:
        graph = build_graph(saver, deps=deps)
        first = _run(graph, wf, "a1")
        assert first["action"] == "pending_approval" and first["pending"] == ["ai_fields", "status"]
        assert env.writes() == []  # nothing before the approval
        assert _run(graph, wf, "a1")["action"] == "pending_approval"  # the same event again
        other = _run(graph, wf, "a2")  # another event while it waits: left alone
        assert other["action"] == "none" and "waiting for approval" in other["reason"]
        out = resume(graph, first["thread_id"], [{"type": "accept"}], approver="recruiter:dana")
        assert [(w["id"], w["status"]) for w in out["writes"]] == [("ai_fields", "done"), ("status", "done")]
        writes = env.writes()
        assert len(writes) == 2 and set(writes[0].body) >= AI_FIELD_IDS
        assert writes[1].body == {"status": {"id": "C51219"}}
        # Re-running the finished event writes nothing more.
        assert _run(graph, wf, "a1")["action"] == "triaged"
        assert len(env.writes()) == 2
    human = [r for r in deps.audit.records() if r.body["stage"] == "human"]
    assert len(human) == 1 and human[0].body["approver"] == "recruiter:dana"
    assert human[0].body["decision"] == "accept" and {w["id"] for w in human[0].body["writes"]} == {
        "ai_fields",
        "status",
    }
    deps.close()


def test_assist_edit_is_validated_and_a_rejection_is_refused(env: Env) -> None:
    deps = env.deps(triage_mode="assist")
    wf = env.new_workflows(1)[0]
    with open_checkpointer(env.settings) as saver:
        graph = build_graph(saver, deps=deps)
        thread = _run(graph, wf, "e1")["thread_id"]
        bad = {"type": "edit", "args": {"actions": [{"id": "status", "status_id": "C51222"}]}}
        resume(graph, thread, [bad], approver="recruiter:dana")
        state = graph.get_state({"configurable": {"thread_id": thread}})
        assert state.interrupts and "nobody is rejected" in state.values["approval_error"]
        assert env.writes() == []
        edit = {"type": "edit", "args": {"actions": [{"id": "ai_fields", "tier": "review"}]}}
        out = resume(graph, thread, [edit], approver="recruiter:dana")
    assert [w["id"] for w in out["writes"]] == ["ai_fields"]
    (write,) = env.writes()
    assert write.body[DEFAULT_FIELD_MAP["ai_tier"]] == "Review" and "status" not in write.body
    deps.close()


def test_auto_mode_writes_ai_fields_only_and_status_waits_for_a_human(env: Env) -> None:
    deps = env.deps(triage_mode="auto")
    workflows = env.new_workflows(4)
    with open_checkpointer(env.settings) as saver:
        graph = build_graph(saver, deps=deps)
        outcomes = [_run(graph, wf, f"u{wf}") for wf in workflows]
        assert all(o["action"] == "pending_approval" and o["pending"] == ["status"] for o in outcomes)
        writes = env.writes()
        # Exactly one PATCH per application, AI fields only: no status change without a human.
        assert Counter(e.path for e in writes) == Counter(
            f"/customers/1000/applicantworkflows/{wf}" for wf in workflows
        )
        assert not any(STATUS_FIELDS & set(e.body) for e in writes)
        auto = [r.body for r in deps.audit.records() if r.body["stage"] == "auto"]
        assert len(auto) == 4 and all(b["decision"] == "policy" for b in auto)
        assert all("ai_fields only" in b["policy_rule"] and b["approver"].startswith("policy:") for b in auto)
        out = resume(graph, outcomes[0]["thread_id"], [{"type": "accept"}], approver="recruiter:dana")
        assert [(w["id"], w["status"]) for w in out["writes"]] == [("ai_fields", "done"), ("status", "done")]
    assert sum(1 for e in env.writes() if STATUS_FIELDS & set(e.body)) == 1
    assert len(env.writes()) == 5  # the AI fields were not written again
    deps.close()


def test_auto_mode_never_rejects_anyone(env: Env, tmp_path) -> None:
    # Everyone routed to the lowest tier: the AI fields are written, no status ever changes.
    policy = tmp_path / "low.yaml"
    policy.write_text("default: {mode: auto, thresholds: {priority_review: 100, review: 100}}\n")
    deps = env.deps(triage_policy_path=str(policy))
    workflows = [r.id for r in env.store.iter_records("applicantworkflows")][:15]
    with open_checkpointer(env.settings) as saver:
        graph = build_graph(saver, deps=deps)
        outcomes = [_run(graph, wf, f"n{wf}") for wf in workflows]
    assert {o["tier"] for o in outcomes} == {"talent_pool"} and all(
        o["action"] == "triaged" for o in outcomes
    )
    assert len(env.writes()) == 15 and not any(STATUS_FIELDS & set(e.body) for e in env.writes())
    deps.close()


def test_429s_during_write_back_still_write_exactly_once(env: Env) -> None:
    deps = env.deps(triage_mode="auto")
    workflows = env.new_workflows(4)
    env.box.state.fault_injector.update({"rate_429": 0.5, "seed": 3})
    with open_checkpointer(env.settings) as saver:
        graph = build_graph(saver, deps=deps)
        outcomes = [_run(graph, wf, f"q{wf}") for wf in workflows]
    assert env.box.state.fault_injector.injected.get(429, 0) >= 2
    assert all(o["writes"] == [{"id": "ai_fields", "status": "done", "patched": True}] for o in outcomes)
    assert Counter(e.path for e in env.writes()) == Counter(
        f"/customers/1000/applicantworkflows/{wf}" for wf in workflows
    )
    deps.close()


def test_rerun_after_a_lost_checkpoint_writes_nothing_twice(env: Env, tmp_path) -> None:
    deps = env.deps(triage_mode="auto", triage_policy_path=None)
    wf = env.new_workflows(1)[0]
    with open_checkpointer(env.settings) as saver:
        _run(build_graph(saver, deps=deps), wf, "k1")
    assert len(env.writes()) == 1
    # A worker killed before its checkpoint landed: the same event re-runs on a fresh thread; the
    # ledger (same trace id, derived from the event) says the PATCH is done.
    other = env.settings.model_copy(update={"checkpointer_url": f"sqlite:///{tmp_path / 'other.sqlite'}"})
    with open_checkpointer(other) as saver:
        again = _run(build_graph(saver, deps=deps), wf, "k1")
    assert again["writes"] == [{"id": "ai_fields", "status": "already_done", "patched": False}]
    assert len(env.writes()) == 1
    assert len([r for r in deps.audit.records() if r.body["stage"] == "auto"]) == 1  # same audit key
    deps.close()


def test_unknown_application_is_read_from_icims_within_the_realtime_budget(env: Env) -> None:
    job = next(r.id for r in env.store.iter_records("jobs"))

    async def apply() -> tuple[int, int]:
        async with ICIMSClient.from_settings(env.settings) as client:
            person = await client.create_profile("people", {"firstname": "Ann", "lastname": "Lee"})
            return person, await client.create_applicant_workflow(job, person)

    person, wf = asyncio.run(apply())
    deps = env.deps(triage_mode="auto")
    before = env.box.state.requests_total
    with open_checkpointer(env.settings) as saver:
        graph = build_graph(saver, deps=deps)
        out = run_event(graph, customer_id=1000, event_id="new", workflow_id=wf, person_id=person, job_id=job)
    assert out["sources"] == {"workflow": "event", "job": "mirror", "person": "icims", "resume": "none"}
    assert out["requests"] == 2  # person + resume (none); the job came from the mirror
    assert env.box.state.requests_total - before == 3  # ... and the AI field PATCH
    deps.close()


def test_spent_quota_raises_for_the_queue_and_the_event_completes_after_reset(env: Env) -> None:
    job = next(r.id for r in env.store.iter_records("jobs"))

    async def apply() -> tuple[int, int]:
        async with ICIMSClient.from_settings(env.settings) as client:
            person = await client.create_profile("people", {"firstname": "Bo", "lastname": "Kim"})
            return person, await client.create_applicant_workflow(job, person)

    person, wf = asyncio.run(apply())
    deps = env.deps(triage_mode="auto")
    quota = env.box.state.quota
    quota.set_used(1000, env.box.state.config.daily_limit)
    with open_checkpointer(env.settings) as saver:
        graph = build_graph(saver, deps=deps)
        kwargs = {
            "customer_id": 1000,
            "event_id": "qz",
            "workflow_id": wf,
            "person_id": person,
            "job_id": job,
        }
        with pytest.raises(QuotaExhausted):
            run_event(graph, **kwargs)
        assert env.writes() == []
        quota.set_used(1000, 0)
        out = run_event(graph, **kwargs)  # the queue retries the same event after the reset
    assert out["pending"] == ["status"] and len(env.writes()) == 1  # AI fields written; status waits
    assert triage_thread_id(1000, wf) == out["thread_id"]
    deps.close()


def test_audit_log_shared_with_the_service_is_not_closed_by_triage(tmp_path) -> None:
    from tools.settings import Settings

    settings = Settings(_env_file=None, data_dir=str(tmp_path))
    store = MirrorStore(settings.mirror_database_url)
    audit = AuditLog.from_settings(settings)
    deps = TriageDeps.from_settings(settings, mirror=store, audit=audit, offline=True)
    deps.close()
    assert audit.verify().ok and store.counts()["people"] == 0  # both still usable
    audit.close()
    store.close()


class CapturingChatModel:
    """A chat model that records what it is sent and extracts nothing."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def with_structured_output(self, schema: Any, **_: Any) -> Any:
        model = self

        class Structured:
            def invoke(self, messages: list[tuple[str, str]]) -> Any:
                model.sent.append("\n".join(text for _, text in messages))
                empty = {
                    name: [] for name in ("skills", "roles", "education", "certifications", "industries")
                }
                nulls = ("headline", "headline_quote", "city", "state", "location_quote")
                return schema(**empty, **dict.fromkeys(nulls), remote_preference=None, remote_quote=None)

        return Structured()


def test_pii_is_redacted_before_the_llm_sees_a_resume(env: Env) -> None:
    model = CapturingChatModel()
    deps = env.deps(chat_model=model, triage_mode="shadow")
    workflows = [r for r in env.store.iter_records("applicantworkflows")][:6]
    with open_checkpointer(env.settings) as saver:
        graph = build_graph(saver, deps=deps)
        outcomes = [_run(graph, wf.id, f"l{wf.id}") for wf in workflows]
    assert model.sent, "the LLM extractor was not called"
    people = [env.store.get_data("people", o["person_id"]) for o in outcomes]
    secrets = {p[k] for p in people for k in ("firstname", "lastname", "email") if p.get(k)}
    secrets |= {ph["phonenumber"] for p in people for ph in p.get("phones") or [] if ph.get("phonenumber")}
    assert secrets and not [s for s in secrets if any(s in text for text in model.sent)]
    assert any("[NAME]" in text or "[EMAIL]" in text for text in model.sent)
    record = deps.audit.records()[0].body
    assert record["versions"]["extractor"].startswith("llm-1") and record["versions"]["prompt"]
    assert sum(record["redactions"].values()) > 0
    deps.close()


def test_talent_pool_suggestion_adds_the_candidate_once_after_approval(env: Env, tmp_path) -> None:
    pool = env.store.ids("talentpools")[0]
    members = {
        link_id(r.data["associatedprofile"]) for r in env.store.workflows("sourceworkflows", base_id=pool)
    }
    wf = next(
        r.id
        for r in env.store.iter_records("applicantworkflows")
        if r.data["status"]["id"] == NEW and link_id(r.data["associatedprofile"]) not in members
    )
    policy = tmp_path / "pool.yaml"
    policy.write_text(
        "default: {mode: auto, thresholds: {priority_review: 100, review: 100},"
        f" actions: {{talent_pool: {{pool_id: {pool}}}}}}}\n"
    )
    deps = env.deps(triage_policy_path=str(policy))
    with open_checkpointer(env.settings) as saver:
        graph = build_graph(saver, deps=deps)
        out = _run(graph, wf, "p1")
        assert out["pending"] == ["talent_pool"]  # a pool addition always waits for a recruiter
        assert not [e for e in env.box.state.writelog if "sourceworkflows" in e.path]
        done = resume(graph, out["thread_id"], [{"type": "accept"}], approver="recruiter:dana")
        assert [(w["id"], w["status"]) for w in done["writes"]] == [
            ("ai_fields", "done"),
            ("talent_pool", "done"),
        ]
        assert _run(graph, wf, "p1")["action"] == "triaged"  # the same event: nothing more
    created = [
        e for e in env.box.state.writelog if e.method == "POST" and e.path.endswith("/sourceworkflows")
    ]
    assert len(created) == 1 and created[0].body["baseprofile"] == pool
    deps.close()


class CrashAfterPatch:
    """Wraps the client: the first AI-field PATCH reaches iCIMS, then the worker 'dies'."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.crashed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def update_workflow(self, *args: Any, **kwargs: Any) -> None:
        await self.inner.update_workflow(*args, **kwargs)
        if not self.crashed:
            self.crashed = True
            raise RuntimeError("worker killed after the PATCH was sent")


def test_a_patch_whose_outcome_was_lost_is_read_compared_not_repeated(env: Env) -> None:
    settings = env.settings.model_copy(update={"triage_mode": "auto"})
    wrapper: dict[str, CrashAfterPatch] = {}

    def factory() -> CrashAfterPatch:
        wrapper["client"] = CrashAfterPatch(ICIMSClient.from_settings(settings))
        return wrapper["client"]

    deps = TriageDeps.from_settings(settings, mirror=env.store, client_factory=factory)
    wf = env.new_workflows(1)[0]
    with open_checkpointer(env.settings) as saver:
        graph = build_graph(saver, deps=deps)
        with pytest.raises(RuntimeError, match="worker killed"):
            _run(graph, wf, "c1")
        assert len(env.writes()) == 1  # the PATCH landed; the ledger still says "patching"
        reads_before = env.box.state.requests_by_method["GET"]
        again = _run(graph, wf, "c1")  # the queue re-runs the event: the write node resumes
    assert again["writes"] == [{"id": "ai_fields", "status": "done", "patched": False}]
    assert len(env.writes()) == 1 and env.box.state.requests_by_method["GET"] == reads_before + 1
    deps.close()


class DiesAtStep:
    """A checkpointer that dies (like a SIGKILLed worker) when asked to save the checkpoint of
    `step`: the previous node's writes are saved, the checkpoint after them is not."""

    def __init__(self, inner: Any, step: int) -> None:
        self.inner, self.step = inner, step

    def put(self, config, checkpoint, metadata, new_versions):  # type: ignore[no-untyped-def]
        if metadata.get("step") == self.step:
            raise RuntimeError("worker killed")
        return self.inner.put(config, checkpoint, metadata, new_versions)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_worker_killed_between_checkpoints_still_writes_once(env: Env) -> None:
    """Found by the bench's worker kill: the gate's writes were saved, the next checkpoint was not;
    `get_state` then shows no `next` node, only the gate task with its result. The re-run must
    still go on to the write node."""
    from server.state import ThreadedSaver

    deps = env.deps(triage_mode="auto")
    wf = env.new_workflows(1)[0]
    with open_checkpointer(env.settings) as saver:
        dying = build_graph(ThreadedSaver(DiesAtStep(saver, 2)), deps=deps)  # type: ignore[arg-type]
        config = {"configurable": {"thread_id": f"triage:1000:{wf}"}}
        # What run_event starts, with checkpoints saved before each next step (deterministic here;
        # the default saves them in the background, which is how the kill could land in between).
        with pytest.raises(RuntimeError, match="worker killed"):
            dying.invoke({"workflow_id": wf, "event_id": "k1"}, config, durability="sync")
        graph = build_graph(saver, deps=deps)
        snap = graph.get_state(config)
        assert not snap.next and snap.tasks  # the state the kill left
        assert env.writes() == []
        again = _run(graph, wf, "k1")
        assert [w["id"] for w in again["writes"]] == ["ai_fields"]
        assert _run(graph, wf, "k1")["writes"] == again["writes"]  # finished: nothing more
    assert len(env.writes()) == 1
    deps.close()


def test_an_erased_person_is_not_triaged(env: Env) -> None:
    deps = env.deps(triage_mode="auto")
    record = env.store.get("applicantworkflows", env.new_workflows(1)[0])
    env.store.erase_person(link_id(record.data["associatedprofile"]), "request")
    with open_checkpointer(env.settings) as saver:
        out = _run(build_graph(saver, deps=deps), record.id, "x1")
    assert out["action"] == "none" and "erased" in out["reason"]
    assert env.writes() == [] and deps.audit.records() == []
    deps.close()
