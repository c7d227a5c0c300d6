"""An offer whose every step was signed, crashed after the letter upload and before the status
write, is finished by `graphs.kit.runs.finish` after a restart: the approved writes happen exactly
once and no approval is asked again, on every checkpointer."""

from __future__ import annotations

from typing import Any

import pytest

from agents.offer import band_for
from graphs.kit import runs
from graphs.kit.review import DECISION_KEYS
from graphs.offer import OfferDeps, build_graph, resume_offer, start_offer
from graphs.offer.run import approved_unfinished
from tools.icims.codes import APPLICANT_OFFER

pytestmark = pytest.mark.integration

LETTER = "field51240"


class Crash(RuntimeError):
    pass


def _offer_workflow(tenant: Any) -> tuple[int, int]:
    """A seeded application at Offer whose job has an occupation code (so a pay band)."""
    for wid, record in sorted(tenant.records["applicantworkflows"].items()):
        job = tenant.records["jobs"][record.data["baseprofile"]].data
        if record.data["status"]["id"] == APPLICANT_OFFER and job.get("field52003"):
            return wid, record.data["associatedprofile"]
    raise AssertionError("seeded tenant has no workflow at Offer")


def test_crash_between_letter_and_status_is_finished_once(sandbox_factory, tmp_path, checkpointer) -> None:
    box = sandbox_factory(people=30, seed=7)
    settings = box.settings(data_dir=str(tmp_path / "state"))
    customer = settings.icims_customer_id
    workflow_id, person_id = _offer_workflow(box.state.tenant)
    thread = f"offer:{customer}:{workflow_id}"
    tenant = box.state.tenant
    job = tenant.records["jobs"][tenant.records["applicantworkflows"][workflow_id].data["baseprofile"]]
    band = band_for(job.data["field52003"], None, job.data["joblocation"]["value"])

    def writes() -> list[tuple[str, str]]:
        return [(e.method, e.path) for e in box.state.writelog]

    def crash(name: str, outcome: Any) -> None:
        if name == "letter_attached":
            raise Crash(name)

    deps = OfferDeps.from_settings(settings, on_write_step=crash)
    try:
        with checkpointer.open() as saver:
            graph = build_graph(saver, deps=deps)
            # Over the band midpoint: the recruiter and the comp partner sign, one step each.
            run = start_offer(
                graph, workflow_id=workflow_id, customer_id=customer, terms={"base_salary": str(band.mid + 1)}
            )
            assert [s["role"] for s in run.values["chain"]] == ["recruiter", "comp_partner"]
            resume_offer(graph, thread, [{"type": "accept"}], approver="rec")
            with pytest.raises(Crash):
                resume_offer(graph, thread, [{"type": "accept"}], approver="comp")
            assert writes() == [("PATCH", f"/customers/1000/people/{person_id}/fields/{LETTER}/binary")]
            values = graph.get_state(runs.run_config(thread)).values
            assert set(DECISION_KEYS) <= set(values["approval"])
            assert values["approval"]["approver"] == "comp" and values["approval"]["decision"] == "accept"
            assert runs.approved_unfinished(graph, thread)
    finally:
        deps.close()

    # A restarted process: new deps (no crash), the checkpointer opened again.
    deps = OfferDeps.from_settings(settings)
    try:
        with checkpointer.open() as saver:
            graph = build_graph(saver, deps=deps)
            finished = runs.finish(graph, thread)
            assert finished is not None and finished.continued and not finished.pending
            assert finished.values["status"] == "attached"
            assert [d["role"] for d in finished.values["decisions"]] == ["recruiter", "comp_partner"]
            assert writes() == [
                ("PATCH", f"/customers/1000/people/{person_id}/fields/{LETTER}/binary"),
                ("PATCH", f"/customers/1000/applicantworkflows/{workflow_id}"),
            ]
            assert [w["action"] for w in finished.values["writes"]] == ["attach_letter", "set_fields"]
            # Nothing more to finish, and a second start returns the attached offer as it is.
            assert runs.finish(graph, thread) is None and not approved_unfinished(graph, thread)
            again = start_offer(graph, workflow_id=workflow_id, customer_id=customer)
            assert again.existing and again.values["status"] == "attached" and not again.pending
            assert len(writes()) == 2
    finally:
        deps.close()
