"""Triage runs approved and then stopped by a crash while writing are finished without a second
approval, over every checkpointer: the policy's approval (auto mode) and a recruiter's (assist mode)
are both the kit's `approval` record, so `graphs.kit.runs.finish` (or the queue re-delivering the
same event) completes exactly the approved writes, once. A `triage-1` checkpoint (decisions under
`auto` / `review`) still resumes and audits."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from support.snapshot import sync_mirror

from graphs.kit import runs
from graphs.kit.inbox import pending_for_thread
from graphs.triage import TriageDeps, build_graph, resume, run_event, triage_thread_id
from tools.icims.client import ICIMSClient
from tools.icims.codes import APPLICANT_NEW_SUBMISSION, APPLICANT_PHONE_SCREEN
from tools.mirror import MirrorStore
from tools.settings import DEFAULT_FIELD_MAP

pytestmark = pytest.mark.integration

AI_FIELD_IDS = {DEFAULT_FIELD_MAP[k] for k in ("ai_score", "ai_tier", "ai_reasons", "ai_flags")}
AUTO = "default: {mode: auto, thresholds: {priority_review: 0, review: 0}}\n"
# Every application a priority review with a status suggestion, which waits for a recruiter.
SUGGEST = f"actions: {{priority_review: {{status: {APPLICANT_PHONE_SCREEN}}}}}"
ASSIST = f"default: {{mode: assist, thresholds: {{priority_review: 0, review: 0}}, {SUGGEST}}}\n"
AUTO_AND_SUGGEST = f"default: {{mode: auto, thresholds: {{priority_review: 0, review: 0}}, {SUGGEST}}}\n"


class DiesWhileWriting:
    """The worker's client: it dies on its first PATCH, before sending it or just after iCIMS took it."""

    def __init__(self, inner: Any, *, after_send: bool) -> None:
        self.inner, self.after_send = inner, after_send

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def update_workflow(self, *args: Any, **kwargs: Any) -> None:
        if self.after_send:
            await self.inner.update_workflow(*args, **kwargs)
        raise RuntimeError("worker killed while writing")


@dataclass
class Env:
    box: Any
    settings: Any
    store: MirrorStore
    workflow_id: int

    @property
    def thread(self) -> str:
        return triage_thread_id(self.settings.icims_customer_id, self.workflow_id)

    def deps(self, *, dies: bool = False, after_send: bool = False) -> TriageDeps:
        settings = self.settings

        def factory() -> Any:
            client = ICIMSClient.from_settings(settings, retry_wait_base=0.01, retry_wait_max=0.2)
            return DiesWhileWriting(client, after_send=after_send) if dies else client

        return TriageDeps.from_settings(settings, mirror=self.store, client_factory=factory)

    def patches(self) -> list[Any]:
        path = f"/applicantworkflows/{self.workflow_id}"
        return [e for e in self.box.state.writelog if e.method == "PATCH" and e.path.endswith(path)]

    def event(self, graph: Any, event_id: str = "e1") -> dict[str, Any]:
        return run_event(graph, customer_id=1000, event_id=event_id, workflow_id=self.workflow_id)


def _env(sandbox_factory: Any, tmp_path: Any, policy_text: str) -> Iterator[Env]:
    box = sandbox_factory(people=16, seed=7)
    policy = tmp_path / "policy.yaml"
    policy.write_text(policy_text)
    settings = box.settings(data_dir=str(tmp_path / "state"), triage_policy_path=str(policy))
    sync_mirror(settings)
    store = MirrorStore(settings.mirror_database_url)
    new = [
        r.id
        for r in store.iter_records("applicantworkflows")
        if r.data["status"]["id"] == APPLICANT_NEW_SUBMISSION
    ]
    yield Env(box, settings, store, new[0])
    store.close()


@pytest.fixture
def auto_env(sandbox_factory, tmp_path) -> Iterator[Env]:
    yield from _env(sandbox_factory, tmp_path, AUTO)


@pytest.fixture
def assist_env(sandbox_factory, tmp_path) -> Iterator[Env]:
    yield from _env(sandbox_factory, tmp_path, ASSIST)


@pytest.fixture
def suggest_env(sandbox_factory, tmp_path) -> Iterator[Env]:
    yield from _env(sandbox_factory, tmp_path, AUTO_AND_SUGGEST)


@pytest.mark.parametrize("finish_by", ["kit_finish", "same_event"])
def test_auto_policy_approval_crashed_in_write_is_finished_once(checkpointer, auto_env, finish_by) -> None:
    env = auto_env
    dying = env.deps(dies=True, after_send=finish_by == "same_event")
    with checkpointer.open() as saver, pytest.raises(RuntimeError, match="worker killed"):
        env.event(build_graph(saver, deps=dying))
    dying.close()
    sent_before = len(env.patches())

    deps = env.deps()  # the restarted worker
    with checkpointer.open() as saver:
        graph = build_graph(saver, deps=deps)
        assert runs.approved_unfinished(graph, env.thread)  # the policy's approval is on record
        values = graph.get_state(runs.run_config(env.thread)).values
        assert values["approval"]["approver"] == "policy:default" and values["approval"]["decision"]
        if finish_by == "kit_finish":
            done = runs.finish(graph, env.thread)
            assert done is not None and not done.waiting
            writes = done.values["writes"]
        else:
            writes = env.event(graph)["writes"]
        assert [(w["id"], w["status"]) for w in writes] == [("ai_fields", "done")]
        assert runs.finish(graph, env.thread) is None  # nothing left to finish
        assert env.event(graph)["action"] == "triaged"  # the event again: nothing more
    (patch,) = env.patches()  # one AI-field PATCH, whichever side of it the worker died on
    assert sent_before == (1 if finish_by == "same_event" else 0) and set(patch.body) >= AI_FIELD_IDS
    # Written through: the mirror shows the score before the next sync.
    score_field = DEFAULT_FIELD_MAP["ai_score"]
    assert env.store.get_data("applicantworkflows", env.workflow_id)[score_field] == patch.body[score_field]
    (record,) = [r.body for r in deps.audit.records() if r.body["stage"] == "auto"]
    assert record["decision"] == "policy" and [w["id"] for w in record["writes"]] == ["ai_fields"]
    deps.close()


def test_assist_approval_crashed_in_write_is_finished_without_a_second_approval(
    checkpointer, assist_env
) -> None:
    env = assist_env
    dying = env.deps(dies=True, after_send=True)
    with checkpointer.open() as saver:
        graph = build_graph(saver, deps=dying)
        assert env.event(graph)["pending"] == ["ai_fields", "status"]
        with pytest.raises(RuntimeError, match="worker killed"):
            resume(graph, env.thread, [{"type": "accept"}], approver="recruiter:dana")
    dying.close()
    assert len(env.patches()) == 1  # the AI fields reached iCIMS; the status did not

    deps = env.deps()
    with checkpointer.open() as saver:
        graph = build_graph(saver, deps=deps)
        assert not pending_for_thread(graph, env.thread) and runs.approved_unfinished(graph, env.thread)
        done = runs.finish(graph, env.thread)
        assert done is not None and not done.waiting  # no second approval asked
        assert [(w["id"], w["status"]) for w in done.values["writes"]] == [
            ("ai_fields", "done"),
            ("status", "done"),
        ]
        approval = done.values["approval"]
        assert approval["approver"] == "recruiter:dana" and approval["decision"] == "accept"
        assert runs.finish(graph, env.thread) is None
    ai, status = env.patches()  # each approved write once
    assert set(ai.body) >= AI_FIELD_IDS and status.body == {"status": {"id": APPLICANT_PHONE_SCREEN}}
    assert env.store.get_data("applicantworkflows", env.workflow_id)["status"]["id"] == APPLICANT_PHONE_SCREEN
    (record,) = [r.body for r in deps.audit.records() if r.body["stage"] == "human"]
    assert record["approver"] == "recruiter:dana" and [w["id"] for w in record["writes"]] == [
        "ai_fields",
        "status",
    ]
    deps.close()


def test_a_triage_1_checkpoint_waiting_for_a_recruiter_resumes_and_audits(suggest_env) -> None:
    from langgraph.checkpoint.memory import InMemorySaver

    env = suggest_env
    deps = env.deps()
    graph = build_graph(InMemorySaver(), deps=deps)
    assert env.event(graph)["pending"] == ["status"]
    config = runs.run_config(env.thread)
    # Rewrite the waiting state as triage-1 kept it: the policy's approval under `auto`.
    policy_approval = graph.get_state(config).values["approval"]
    legacy = {k: policy_approval[k] for k in ("approved", "approver", "rule", "decided_at")}
    graph.update_state(config, {"approval": {}, "auto": legacy}, as_node="audit")
    assert runs.proceed(graph, env.thread).waiting  # asked again, from the same state
    out = resume(graph, env.thread, [{"type": "accept"}], approver="recruiter:dana")
    assert [(w["id"], w["status"]) for w in out["writes"]] == [("ai_fields", "done"), ("status", "done")]
    assert out["approval"]["auto"]["approver"] == "policy:default"
    assert len(env.patches()) == 2  # the AI fields once (before the rewrite), the status once
    human = [r.body for r in deps.audit.records() if r.body["stage"] == "human"]
    assert len(human) == 1 and [a["id"] for a in human[0]["approved"]] == ["status"]
    assert [w["id"] for w in human[0]["writes"]] == ["status"]
    deps.close()
