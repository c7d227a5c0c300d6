"""An approved nurture run that crashed between an email's send and its record in iCIMS is finished
by `graphs.kit.runs.finish` after a restart, on every checkpointer: each approved email goes out
once, each iCIMS write happens once, and nobody is asked to approve again."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from support.nurture import AS_OF, CAMPAIGN_ID, ELIGIBLE, campaign, contacted_by_other_campaign, scenario

from graphs.kit import runs
from graphs.kit.inbox import pending_for_thread
from graphs.nurture import THREAD, NurtureDeps, build_graph
from tools.embeddings import HashEmbeddings

pytestmark = pytest.mark.integration


def test_approved_run_crashed_after_a_send_is_finished_once(checkpointer, sandbox_factory, tmp_path):
    with scenario(sandbox_factory, tmp_path) as sc:
        deps = NurtureDeps.from_settings(sc.settings, embeddings=HashEmbeddings(), clock=lambda: AS_OF)
        try:
            deps.store.save_campaign(campaign(sc.pools))
            contacted_by_other_campaign(deps.store, sc.people)
            thread = THREAD(sc.settings.icims_customer_id, CAMPAIGN_ID, "crash1")
            payload = {"campaign_id": CAMPAIGN_ID, "run_id": "crash1", "as_of": AS_OF.isoformat()}
            steps: list[str] = []

            def crash_after_second_send(step: str, out: dict[str, Any]) -> None:
                steps.append(step)
                if step == "sent" and steps.count("sent") == 2:
                    raise RuntimeError("worker killed")

            with checkpointer.open() as saver:
                graph = build_graph(saver, deps=deps)
                started = runs.start(graph, thread, payload)
                drafts = started.pending[0].request["action_request"]["args"]["drafts"]
                assert len(drafts) == len(ELIGIBLE) and not deps.transport.index()
                deps.on_send_step = crash_after_second_send
                with pytest.raises(RuntimeError, match="worker killed"):
                    runs.resume(graph, thread, [{"type": "accept"}], approver="reviewer")
            deps.on_send_step = None
            assert len(deps.transport.index()) == 2  # the second email went out, its record did not

            with checkpointer.open() as saver:  # a restarted process
                graph = build_graph(saver, deps=deps)
                assert runs.approved_unfinished(graph, thread) and not pending_for_thread(graph, thread)
                finished = runs.finish(graph, thread)
                assert finished is not None and finished.continued and not finished.waiting
                assert runs.finish(graph, thread) is None  # nothing left to finish

            values = finished.values
            assert values["approval"]["approver"] == "reviewer"  # the one approval, not a second
            assert sorted(s["status"] for s in values["sends"]) == ["already_sent", "already_sent", "sent"]
            outbox = deps.transport.index()
            assert sorted(int(r["person"]) for r in outbox) == sorted(d["person_id"] for d in drafts)
            assert len({r["message_id"] for r in outbox}) == len(drafts)
            # Per person: the contact fields and the pool membership's status, each written once.
            patches = Counter(path for method, path in sc.writes() if method == "PATCH")
            for role in ELIGIBLE:
                pid = sc.people[role]
                assert patches[f"/customers/1000/people/{pid}"] == 1
                assert patches[f"/customers/1000/sourceworkflows/{sc.workflows[pid]}"] == 1
            assert len(patches) == 2 * len(ELIGIBLE)
            [record] = [r for r in deps.audit.records(thread_id=thread) if r.kind == "nurture"]
            assert record.body["decision"] == "accept" and record.body["request_hash"]
        finally:
            deps.close()
