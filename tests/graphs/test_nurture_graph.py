"""The nurture graph against the sandbox over real HTTP: every selection rule counted by reason,
drafts behind an Agent Inbox approval, sends to the local outbox recorded in iCIMS once, re-runs
and crashed runs that send nothing twice, caps across campaigns, the cadence's next step, held
drafts never sent, and the admin auto-approval policy recorded in the audit."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from support.llm_stub import llm_stub  # noqa: F401 - fixture
from support.nurture import (
    AS_OF,
    CAMPAIGN_ID,
    ELIGIBLE,
    EXCLUDED,
    F,
    Scenario,
    campaign,
    contacted_by_other_campaign,
    scenario,
)

from graphs.kit.inbox import pending_for_thread
from graphs.nurture import REQUEST_ACTION, NurtureDeps, build_graph, run_config, send_deferred, start_run
from tools.checkpoint import open_checkpointer
from tools.embeddings import HashEmbeddings

pytestmark = pytest.mark.integration


@dataclass
class Env:
    sc: Scenario
    deps: NurtureDeps
    graph: Any
    clock: list  # [now]: the deps' clock reads it

    def run(self, run_id: str, *, as_of=None) -> tuple[str, dict[str, Any]]:
        return start_run(
            self.graph,
            customer_id=self.sc.settings.icims_customer_id,
            campaign_id=CAMPAIGN_ID,
            run_id=run_id,
            as_of=as_of or self.clock[0],
        )

    def resume(self, thread_id: str, response: dict[str, Any]) -> dict[str, Any]:
        from graphs.nurture import resume_run

        return resume_run(self.graph, thread_id, [response], approver="test-reviewer")

    def outbox(self) -> list[dict[str, Any]]:
        return self.deps.transport.index()

    def person_writes(self) -> Counter:
        return Counter(path for method, path in self.sc.writes() if method == "PATCH")


@pytest.fixture
def env(sandbox_factory, tmp_path) -> Iterator[Env]:
    with scenario(sandbox_factory, tmp_path) as sc:
        clock = [AS_OF]
        deps = NurtureDeps.from_settings(sc.settings, embeddings=HashEmbeddings(), clock=lambda: clock[0])
        deps.store.save_campaign(campaign(sc.pools))
        contacted_by_other_campaign(deps.store, sc.people)
        with open_checkpointer(sc.settings) as saver:
            yield Env(sc, deps, build_graph(saver, deps=deps), clock)
        deps.close()


def drafts_of(env: Env, thread_id: str) -> list[dict[str, Any]]:
    pending = pending_for_thread(env.graph, thread_id)
    assert pending and pending[0].request["action_request"]["action"] == REQUEST_ACTION
    return pending[0].request["action_request"]["args"]["drafts"]


def test_selection_counts_every_rule_and_waits_for_approval(env):
    thread, values = env.run("r1")
    people = env.sc.people
    selection = values["selection"]
    expected = Counter(EXCLUDED.values())
    assert selection["excluded"] == dict(expected)
    assert selection["selected"] == len(ELIGIBLE)
    assert selection["duplicate_memberships"] == 1
    assert selection["members"] == len(ELIGIBLE) + len(EXCLUDED)
    drafts = drafts_of(env, thread)
    assert sorted(d["person_id"] for d in drafts) == sorted(people[r] for r in ELIGIBLE)
    excluded_ids = {people[r] for r in [*EXCLUDED, "erased"]}
    assert not excluded_ids & {d["person_id"] for d in drafts}  # never drafted
    for draft in drafts:
        assert draft["template"] == "intro.v1" and draft["step"] == 0
        assert "/nurture/unsubscribe?token=" in draft["body"]
        assert "Jordan Lee" in draft["body"] and "Example Corp" in draft["body"]
        assert not draft["moderation"]["held"]
    # Personalised from the ranker: a matched open role and evidenced skills for someone.
    assert any(d["role"] for d in drafts)
    assert not env.outbox() and not env.sc.writelog  # nothing before approval


def test_accept_sends_once_records_in_icims_and_rerun_sends_nothing(env):
    thread, _ = env.run("r1")
    values = env.resume(thread, {"type": "accept"})
    sends = values["sends"]
    assert [s["status"] for s in sends] == ["sent"] * 3
    assert len(env.outbox()) == 3
    patches = env.person_writes()
    for role in ELIGIBLE:
        pid = env.sc.people[role]
        assert patches[f"/customers/1000/people/{pid}"] == 1
        assert patches[f"/customers/1000/sourceworkflows/{env.sc.workflows[pid]}"] == 1
        person = env.sc.box.state.tenant.records["people"][pid].data
        assert person[F["last_contacted"]] == AS_OF.date().isoformat()
        assert person[F["nurture_campaign"]] == CAMPAIGN_ID and person[F["nurture_step"]] == "1"
        workflow = env.sc.box.state.tenant.records["sourceworkflows"][env.sc.workflows[pid]].data
        assert workflow["status"]["id"] == "D37002021002"  # Contacted
    writes_before = list(env.sc.writes())
    audit = env.deps.audit.records(thread_id=thread)[-1].body
    assert audit["approver"] == "test-reviewer" and audit["decision"] == "accept"
    assert "candidates.example" not in str(audit)  # no addresses in the audit

    # The same step again, the same minute: nobody is due, nothing is drafted or sent.
    thread2, values2 = env.run("r2")
    assert values2["selection"]["selected"] == 0
    assert values2["selection"]["excluded"]["not_due"] == 3
    assert not pending_for_thread(env.graph, thread2)
    assert len(env.outbox()) == 3 and env.sc.writes() == writes_before

    # Two weeks later the next step is due (global caps allow it), with its own template.
    env.clock[0] = AS_OF + timedelta(days=14)
    thread3, _ = env.run("r3")
    steps = {d["person_id"]: (d["step"], d["template"]) for d in drafts_of(env, thread3)}
    for role in ELIGIBLE:
        assert steps[env.sc.people[role]] == (1, "checkin.v1")
    # The capped ones are out of the 7-day global window now: their first step.
    assert steps[env.sc.people["other_campaign"]] == (0, "intro.v1")


def test_crash_between_send_and_record_resends_nothing(env):
    thread, _ = env.run("r1")
    calls: list[str] = []

    def crash_once(step: str, out: dict[str, Any]) -> None:
        calls.append(step)
        if step == "sent" and calls.count("sent") == 2:
            raise RuntimeError("worker killed")

    env.deps.on_send_step = crash_once
    with pytest.raises(RuntimeError, match="worker killed"):
        env.resume(thread, {"type": "accept"})
    assert len(env.outbox()) == 2
    env.deps.on_send_step = None
    env.graph.invoke(None, run_config(thread), version="v2")  # the worker's retry
    values = env.graph.get_state(run_config(thread)).values
    assert sorted(s["status"] for s in values["sends"]) == ["already_sent", "already_sent", "sent"]
    assert len(env.outbox()) == 3
    assert len({row["message_id"] for row in env.outbox()}) == 3
    patches = env.person_writes()
    assert all(n == 1 for n in patches.values()) and len(patches) == 6


def test_edit_is_moderated_again_and_held_drafts_are_never_sent(env):
    thread, _ = env.run("r1")
    drafts = drafts_of(env, thread)
    first, second = drafts[0], drafts[1]
    bad = {
        "type": "edit",
        "args": {"drafts": [{"person_id": first["person_id"], "body": "We guarantee you the job."}]},
    }
    env.resume(thread, bad)
    state = env.graph.get_state(run_config(thread)).values
    assert "unverifiable claim" in state["approval_error"]
    assert pending_for_thread(env.graph, thread) and not env.outbox()  # asked again, nothing sent
    edited = first["body"].replace("just reply", "simply reply")
    values = env.resume(
        thread, {"type": "edit", "args": {"drafts": [{"person_id": first["person_id"], "body": edited}]}}
    )
    assert [s["person_id"] for s in values["sends"]] == [first["person_id"]]
    assert set(values["approval"]["edits"]["dropped"]) == {d["person_id"] for d in drafts[1:]}
    assert values["approval"]["edits"]["edited"] == [first["person_id"]]
    assert second["person_id"] not in {int(r["person"]) for r in env.outbox()}
    [row] = env.outbox()
    assert b"simply reply" in env.deps.transport.read(row["message_id"])


def test_policy_auto_approves_unchanged_template_sends_and_audits_it(sandbox_factory, tmp_path):
    with scenario(sandbox_factory, tmp_path, nurture_auto_approve_campaigns=[CAMPAIGN_ID]) as sc:
        deps = NurtureDeps.from_settings(sc.settings, embeddings=HashEmbeddings(), clock=lambda: AS_OF)
        deps.store.save_campaign(campaign(sc.pools))
        contacted_by_other_campaign(deps.store, sc.people)
        with open_checkpointer(sc.settings) as saver:
            graph = build_graph(saver, deps=deps)
            thread, values = start_run(
                graph,
                customer_id=sc.settings.icims_customer_id,
                campaign_id=CAMPAIGN_ID,
                run_id="p1",
                as_of=AS_OF,
            )
            assert not pending_for_thread(graph, thread)
            assert [s["status"] for s in values["sends"]] == ["sent"] * len(ELIGIBLE)
            audit = deps.audit.records(thread_id=thread)[-1].body
            assert audit["policy"]["rule"] == "nurture_auto_approve_campaigns"
            assert audit["approver"] == "policy:nurture_auto_approve_campaigns"
        deps.close()


def test_llm_rewrites_are_moderated_limited_to_the_message_and_never_auto_approved(env, llm_stub):  # noqa: F811
    stub, url = llm_stub
    sign_off = "\n\nJordan Lee\nTalent Partner, Example Corp\nUnsubscribe: [UNSUBSCRIBE_LINK]"
    stub.on(text="Hi [FIRST_NAME], we guarantee you will get the job!" + sign_off, times=1)
    stub.on(text="Hi [FIRST_NAME], a warm hello from the team." + sign_off)
    env.deps.chat_model = stub.chat_model(url)
    # The policy covers unchanged template sends only: rewritten drafts still go to a human.
    env.deps.settings.nurture_auto_approve_campaigns = [CAMPAIGN_ID]
    env.deps.store.save_campaign(campaign(env.sc.pools, llm_rewrite=True))
    thread, _ = env.run("l1")
    drafts = drafts_of(env, thread)
    assert all(d["rewritten"] for d in drafts)
    [held] = [d for d in drafts if d["moderation"]["held"]]
    assert any("unverifiable claim" in p for p in held["moderation"]["problems"])
    sent_to_llm = str([r["messages"] for r in stub.requests])
    for role in ELIGIBLE:
        person = env.sc.box.state.tenant.records["people"][env.sc.people[role]].data
        assert person["lastname"] not in sent_to_llm and person["email"] not in sent_to_llm
        assert person["firstname"] not in sent_to_llm
    assert "token=" not in sent_to_llm
    values = env.resume(thread, {"type": "accept"})
    assert held["person_id"] not in {s["person_id"] for s in values["sends"]}
    assert len(env.outbox()) == len(drafts) - 1
    assert all(b"a warm hello" in env.deps.transport.read(r["message_id"]) for r in env.outbox())


def test_ignore_or_respond_sends_nothing_and_is_audited(env):
    thread, _ = env.run("i1")
    values = env.resume(thread, {"type": "respond", "args": "Wait until January, please."})
    assert values["sends"] == [] and values["approval"]["decision"] == "respond"
    audit = env.deps.audit.records(thread_id=thread)[-1].body
    assert audit["decision"] == "respond" and audit["response_hash"] and "January" not in str(audit)
    thread2, _ = env.run("i2")  # nobody was contacted: the same people are due again
    values = env.resume(thread2, {"type": "ignore"})
    assert values["sends"] == [] and not env.outbox() and not env.sc.writelog


def test_an_opt_out_reaching_icims_after_drafting_wins_over_the_approval(env):
    thread, _ = env.run("o1")
    late = env.sc.people["ok2"]
    env.sc.box.state.tenant.patch("people", late, {F["opt_out"]: "Yes"})  # the mirror has not seen it
    values = env.resume(thread, {"type": "accept"})
    status = {s["person_id"]: (s["status"], s.get("detail")) for s in values["sends"]}
    assert status[late] == ("skipped", "opted_out")
    assert len(env.outbox()) == len(ELIGIBLE) - 1 and str(late) not in {r["person"] for r in env.outbox()}
    assert not any(path.endswith(f"/people/{late}") for _, path in env.sc.writes())


def test_drafts_approved_in_quiet_hours_go_out_once_their_window_opens(env):
    """Approved at 22:00 in New York: held, nothing sent or recorded. The tick's deferred pass sends
    them at 09:00 the next working day on that same approval, once, and audits that pass."""
    thread, _ = env.run("q1")
    env.clock[0] = AS_OF + timedelta(hours=12)  # 22:00 in New York: quiet hours
    values = env.resume(thread, {"type": "accept"})
    assert [s["status"] for s in values["sends"]] == ["deferred"] * 3
    assert not env.outbox() and not env.person_writes()
    assert send_deferred(env.graph, env.deps, now=env.clock[0]) == []  # still quiet: nothing
    env.clock[0] = AS_OF + timedelta(hours=23)  # 09:00 the next morning (a Wednesday)
    (sent,) = send_deferred(env.graph, env.deps, now=env.clock[0])
    assert sent["thread_id"] == thread and [s["status"] for s in sent["sends"]] == ["sent"] * 3
    # Per person: the contact fields and the pool membership's status (Contacted), once each.
    writes = env.person_writes()
    assert len(env.outbox()) == 3 and len(writes) == 6 and set(writes.values()) == {1}
    assert send_deferred(env.graph, env.deps, now=env.clock[0]) == []  # nothing held any more
    assert len(env.outbox()) == 3 and env.person_writes() == writes
    keys = [r.key for r in env.deps.audit.records() if r.kind == "nurture"]
    assert len(keys) == 2 and keys[0].endswith(":final") and ":sends:" in keys[1]
