"""The service reads its own writes before the next sync: a candidate submitted to a requisition by
a rediscovery approval is, minutes later, an active application to the nurture campaign that would
otherwise have emailed them (the mirror showed no application until iCIMS was synced again)."""

from __future__ import annotations

import pytest
from support.nurture import AS_OF, CAMPAIGN_ID, campaign, scenario

from graphs.kit.inbox import pending_for_thread
from graphs.nurture import start_run as start_nurture
from graphs.rediscovery import resume_run, start_run
from server.state import open_service
from tools.embeddings import HashEmbeddings
from tools.icims.codes import JOB_APPROVED

pytestmark = pytest.mark.integration


def test_a_rediscovery_submission_stops_the_nurture_email(sandbox_factory, tmp_path):
    with (
        scenario(sandbox_factory, tmp_path) as sc,
        open_service(sc.settings, embeddings=HashEmbeddings()) as state,
    ):
        person = sc.people["ok1"]  # eligible for the campaign: no application, consent granted
        tenant = sc.box.state.tenant
        job = min(j for j, r in tenant.records["jobs"].items() if r.data["folder"]["id"] == JOB_APPROVED)
        run = start_run(
            state.graphs["rediscovery"], job_id=job, customer_id=1000, top_k=40, pool_ids=[sc.pools[0]]
        )
        assert person in {c["person_id"] for c in run.shortlist}
        keep = [{"person_id": person, "proposed_action": "submit"}]
        resume_run(
            state.graphs["rediscovery"], run.thread_id, [{"type": "edit", "args": {"candidates": keep}}]
        )
        created = [e for e in sc.writelog if e.method == "POST" and e.path.endswith("/applicantworkflows")]
        assert len(created) == 1  # the submission reached iCIMS

        # Minutes later, no sync in between: the campaign's run must not draft for them.
        nurture = state.deps["nurture"]
        nurture.store.save_campaign(campaign(sc.pools))
        thread, values = start_nurture(
            state.graphs["nurture"], customer_id=1000, campaign_id=CAMPAIGN_ID, run_id="after", as_of=AS_OF
        )
        pending = pending_for_thread(state.graphs["nurture"], thread)
        drafted = {d["person_id"] for p in pending for d in p.request["action_request"]["args"]["drafts"]}
        assert person not in drafted
        assert values["selection"]["excluded"]["active_application"] == 2  # "active" and now ok1
        assert {sc.people["ok2"], sc.people["ok3"]} <= drafted  # the others still are
