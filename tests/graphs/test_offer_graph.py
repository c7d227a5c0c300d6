"""The offer graph against the real sandbox over HTTP: routing and one interrupt per approval step,
edits that re-route, nothing attached before every approval the FINAL terms need, the attached PDF's
figures, idempotent attach on resume, counter-offers as new versions, and the audit trail."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader

from agents.offer import band_for
from graphs.kit.inbox import pending_for_thread
from graphs.offer import (
    OfferDeps,
    OfferError,
    build_graph,
    counter_offer,
    resume_offer,
    start_offer,
)
from graphs.offer.letters import write as _node_write
from tools.audit import AuditLog
from tools.checkpoint import open_checkpointer

pytestmark = pytest.mark.integration

LETTER = "field51240"
STATUS = "field51239"


class Crash(RuntimeError):
    pass


@dataclass
class Env:
    box: Any
    settings: Any
    deps: OfferDeps
    graph: Any
    workflow_id: int
    person_id: int

    @property
    def thread(self) -> str:
        return f"offer:{self.settings.icims_customer_id}:{self.workflow_id}"

    def writes(self) -> list[tuple[str, str]]:
        return [(e.method, e.path) for e in self.box.state.writelog]

    def start(self, **terms: Any) -> Any:
        return start_offer(
            self.graph,
            workflow_id=self.workflow_id,
            customer_id=self.settings.icims_customer_id,
            terms={k: str(v) for k, v in terms.items()},
            restart=True,
        )

    def step(self) -> str | None:
        pending = pending_for_thread(self.graph, self.thread)
        return pending[0].request["action_request"]["args"]["step"]["role"] if pending else None

    def answer(self, response: dict, approver: str) -> dict:
        return resume_offer(self.graph, self.thread, [response], approver=approver)

    def band(self) -> dict[str, Decimal]:
        """The pay band of the workflow's job, as the graph will look it up."""
        tenant = self.box.state.tenant
        job = tenant.records["jobs"][
            tenant.records["applicantworkflows"][self.workflow_id].data["baseprofile"]
        ]
        band = band_for(job.data["field52003"], None, job.data["joblocation"]["value"])
        return {"min": band.min, "mid": band.mid, "max": band.max}

    def letter(self) -> bytes:
        return self.box.state.tenant.binaries[("people", self.person_id, LETTER)].content


def _offer_workflow(tenant: Any) -> tuple[int, int]:
    for wid, record in sorted(tenant.records["applicantworkflows"].items()):
        job = tenant.records["jobs"][record.data["baseprofile"]].data
        if record.data["status"]["id"] == "C51221" and job.get("field52003"):
            return wid, record.data["associatedprofile"]
    raise AssertionError("seeded tenant has no workflow at Offer")


@pytest.fixture
def env(sandbox_factory, tmp_path) -> Iterator[Env]:
    box = sandbox_factory(people=30, seed=7)
    settings = box.settings(data_dir=str(tmp_path / "state"))
    workflow_id, person_id = _offer_workflow(box.state.tenant)
    deps = OfferDeps.from_settings(settings)  # empty mirror: every record comes from the API
    with open_checkpointer(settings) as saver:
        yield Env(box, settings, deps, build_graph(saver, deps=deps), workflow_id, person_id)
    deps.close()


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def approve_all(env: Env) -> list[str]:
    """Accept every pending step; returns the roles asked, and checks nothing is written before the last."""
    asked = []
    while role := env.step():
        assert env.writes() == [], f"written before {role} signed off"
        asked.append(role)
        env.answer({"type": "accept"}, f"{role}-approver")
    return asked


def test_in_band_offer_one_step_attached_with_every_figure(env: Env) -> None:
    run = env.start()
    assert run.values["status"] == "pending_approval" and run.values["version"] == 1
    assert [s["role"] for s in run.values["chain"]] == ["recruiter"]
    assert run.values["run"]["sources"] == {"workflow": "api", "job": "api", "person": "api"}
    request = run.pending[0].request
    assert request["action_request"]["action"] == "offer_approval"
    assert set(request["config"]) == {"allow_accept", "allow_edit", "allow_respond", "allow_ignore"}
    args = request["action_request"]["args"]
    assert args["band"]["position"] == "in_band" and args["step"]["reasons"]
    assert "in band" in request["description"] and args["figures"]["base_salary"] in request["description"]
    assert env.writes() == []

    values = env.answer({"type": "accept"}, "rec")
    assert values["status"] == "attached"
    assert env.writes() == [
        ("PATCH", f"/customers/1000/people/{env.person_id}/fields/{LETTER}/binary"),
        ("PATCH", f"/customers/1000/applicantworkflows/{env.workflow_id}"),
    ]
    assert env.box.state.tenant.records["applicantworkflows"][env.workflow_id].data[STATUS] == "Approved v1"
    # The PDF in iCIMS carries exactly the approved figures.
    text = pdf_text(env.letter())
    figures = values["versions"][-1]["figures"]
    assert len(figures) >= 3
    for label, figure in figures.items():
        assert figure in text, label
    assert values["letter"]["figures"] == figures


@pytest.mark.parametrize(
    ("terms", "expected"),
    [
        ({"base": "mid+0.01"}, ["recruiter", "comp_partner"]),
        ({"base": "max+0.01"}, ["recruiter", "comp_partner", "vp"]),
        ({"equity_value": "60000.01"}, ["recruiter", "vp"]),
        ({"pto_days": 30}, ["recruiter", "legal", "vp"]),
    ],
)
def test_no_attach_without_every_step_the_final_terms_need(
    env: Env, terms: dict, expected: list[str]
) -> None:
    band = env.band()
    given = dict(terms)
    if "base" in given:
        spec = given.pop("base")
        point, _, extra = spec.partition("+")
        given["base_salary"] = band[point] + Decimal(extra or 0)
    run = env.start(**given)
    chain = [s["role"] for s in run.values["chain"]]
    assert chain == expected
    # One interrupt per step, in order (parallel steps one after the other), nothing written until the end.
    assert approve_all(env) == expected
    values = env.graph.get_state({"configurable": {"thread_id": env.thread}}).values
    assert values["status"] == "attached"
    final = values["versions"][-1]["terms_hash"]
    signed = {d["role"] for d in values["decisions"] if d["terms_hash"] == final}
    assert signed == set(expected)
    assert [m for m, _ in env.writes()] == ["PATCH", "PATCH"]


def test_out_of_band_edit_adds_the_approver_and_old_approvals_stop_counting(env: Env) -> None:
    band = env.band()
    env.start(base_salary=band["mid"] + 1000)
    assert env.step() == "recruiter"
    env.answer({"type": "accept"}, "rec")
    assert env.step() == "comp_partner"
    # The comp partner edits the base one cent over the band maximum.
    over = band["max"] + Decimal("0.01")
    values = env.answer({"type": "edit", "args": {"terms": {"base_salary": str(over)}}}, "comp")
    assert values["version"] == 2
    assert [s["role"] for s in values["chain"]] == ["recruiter", "comp_partner", "vp"]
    assert values["versions"][-1]["added_steps"] == ["vp"]
    assert values["versions"][-1]["changes"] == {
        "base_salary": {"from": str(band["mid"] + 1000) + ".00", "to": str(over)}
    }
    # The recruiter approved v1 only: asked again for v2; the comp partner's edit signs v2.
    assert env.step() == "recruiter"
    env.answer({"type": "accept"}, "rec")
    assert env.step() == "vp"
    assert env.writes() == []
    values = env.answer({"type": "accept"}, "vp")
    assert values["status"] == "attached"
    text = pdf_text(env.letter())
    assert f"${over:,.2f}" in text
    assert env.box.state.tenant.records["applicantworkflows"][env.workflow_id].data[STATUS] == "Approved v2"

    # Every version and decision is in the audit log.
    log = AuditLog.from_settings(env.settings)
    records = log.records(thread_id=env.thread)
    log.close()
    kinds = [r.kind for r in records]
    assert kinds.count("offer_version") == 2
    assert kinds.count("offer_decision") == 4 and kinds[-1] == "offer"
    final = records[-1].body
    assert final["status"] == "attached" and [v["version"] for v in final["versions"]] == [1, 2]
    assert [(d["role"], d["decision"], d["version"]) for d in final["decisions"]] == [
        ("recruiter", "accept", 1),
        ("comp_partner", "edit", 2),
        ("recruiter", "accept", 2),
        ("vp", "accept", 2),
    ]


def test_refused_edit_and_blocking_issues_keep_the_step_and_write_nothing(env: Env) -> None:
    env.start()
    past = (date.today() - timedelta(days=3)).isoformat()
    values = env.answer({"type": "edit", "args": {"terms": {"start_date": past}}}, "rec")
    assert "in the past" in values["approval_error"] and values["version"] == 1
    assert env.step() == "recruiter"
    values = env.answer({"type": "edit", "args": {"terms": {"bogus": 1}}}, "rec")
    assert "unknown term" in values["approval_error"]
    # A draft with a blocking issue cannot be accepted, only edited.
    env.start(start_date=past)
    request = pending_for_thread(env.graph, env.thread)[0].request
    assert request["config"]["allow_accept"] is False
    issues = request["action_request"]["args"]["issues"]
    assert any(i["code"] == "bad_date" and i["severity"] == "error" for i in issues)
    values = env.answer({"type": "accept"}, "rec")
    assert "blocking issues" in values["approval_error"] and env.step() == "recruiter"
    values = env.answer({"type": "respond", "args": "please rework"}, "rec")
    assert values["status"] == "changes_requested"
    assert env.writes() == []


def test_attach_is_idempotent_across_crashes_and_reruns(env: Env) -> None:
    env.start()
    crashes = {"letter_attached"}

    def crash(name: str, outcome: Any) -> None:
        if name in crashes:
            crashes.discard(name)
            raise Crash(name)

    env.deps.on_write_step = crash
    with pytest.raises(Crash):
        env.answer({"type": "accept"}, "rec")
    assert len(env.writes()) == 1  # the PDF landed, the ledger still says "patching"
    # Resume: the write node re-runs from its top, finds the same file in iCIMS, does not re-send it.
    crashes.add("fields_patched")
    with pytest.raises(Crash):
        env.graph.invoke(None, {"configurable": {"thread_id": env.thread}})
    assert len(env.writes()) == 2
    env.graph.invoke(None, {"configurable": {"thread_id": env.thread}})
    values = env.graph.get_state({"configurable": {"thread_id": env.thread}}).values
    assert values["status"] == "attached"
    assert [p for _, p in env.writes()] == [
        f"/customers/1000/people/{env.person_id}/fields/{LETTER}/binary",
        f"/customers/1000/applicantworkflows/{env.workflow_id}",
    ]
    # A second start on the application returns the same offer and writes nothing more.
    again = start_offer(env.graph, workflow_id=env.workflow_id, customer_id=1000)
    assert again.existing and again.values["status"] == "attached"
    assert len(env.writes()) == 2


def test_write_node_refuses_without_the_final_terms_approvals(env: Env) -> None:
    env.start()
    env.answer({"type": "accept"}, "rec")
    values = dict(env.graph.get_state({"configurable": {"thread_id": env.thread}}).values)
    before = len(env.writes())
    # Same state, but the recruiter's sign-off was for other terms.
    tampered = {**values, "decisions": [{**values["decisions"][0], "terms_hash": "0" * 64}]}
    with pytest.raises(OfferError, match="approvals missing"):
        _node_write(env.deps, tampered, {})
    assert len(env.writes()) == before


def test_counter_within_authority_and_escalated_become_new_versions(env: Env) -> None:
    base = env.band()["mid"] - 10000
    env.start(base_salary=base)
    env.answer({"type": "accept"}, "rec")
    # Within authority: +2% and a 5k signing bonus.
    ask = (base * Decimal("1.02")).quantize(Decimal(1))
    counter = counter_offer(
        env.graph, env.thread, {"text": f"I was hoping for ${ask:,} plus a 5k signing bonus"}
    )
    analysis = counter.values["negotiation"]["analysis"]
    assert analysis["decision"] == "accept" and analysis["reasons"] == []
    assert counter.pending[0].request["action_request"]["action"] == "offer_counter_reply"
    assert "we can do this" in analysis["suggested_reply"]
    values = env.answer({"type": "accept"}, "rec")
    assert values["version"] == 2 and values["status"] == "attached"
    assert values["negotiation"]["outcome"] == "new_version"
    assert [d["role"] for d in values["decisions"]] == ["recruiter", "recruiter"]
    text = pdf_text(env.letter())
    assert f"${ask:,}" in text and "$5,000" in text
    binaries = [p for m, p in env.writes() if p.endswith("/binary")]
    assert len(binaries) == 2  # v1 and v2

    # Escalated: over the band max needs the comp partner and the VP before anything is attached.
    over = env.band()["max"] + 5000
    counter = counter_offer(env.graph, env.thread, {"terms": {"base_salary": str(over)}})
    analysis = counter.values["negotiation"]["analysis"]
    assert analysis["decision"] == "escalate" and any("base" in r for r in analysis["reasons"])
    assert "taking it to" in analysis["suggested_reply"]
    with pytest.raises(OfferError, match="waits for an approval"):
        counter_offer(env.graph, env.thread, {"text": "and 20k in RSUs"})
    writes = len(env.writes())
    env.answer({"type": "accept"}, "rec")
    assert env.step() == "comp_partner"
    env.answer({"type": "accept"}, "comp")
    assert env.step() == "vp" and len(env.writes()) == writes
    values = env.answer({"type": "accept"}, "vp")
    assert values["version"] == 3 and values["status"] == "attached"
    assert f"${over:,}" in pdf_text(env.letter())


def test_counter_dismissed_keeps_the_offer(env: Env) -> None:
    env.start()
    env.answer({"type": "accept"}, "rec")
    counter_offer(env.graph, env.thread, {"text": "Thanks, let me think about it."})
    values = env.answer({"type": "ignore"}, "rec")
    assert values["version"] == 1 and values["status"] == "attached"
    assert (
        values["negotiation"]["decision"] == "no_change" and values["negotiation"]["outcome"] == "dismissed"
    )
    log = AuditLog.from_settings(env.settings)
    records = [r for r in log.records(thread_id=env.thread) if r.kind in ("offer_counter", "offer_decision")]
    log.close()
    assert records[-2].kind == "offer_counter" and records[-2].body["decision"] == "no_change"
    assert "text_hash" in records[-2].body and "Thanks" not in str(records[-2].body)
    assert records[-1].body["outcome"] == "dismissed" and records[-1].body["decision"] == "ignore"
    with pytest.raises(OfferError, match="needs its text or its terms"):
        counter_offer(env.graph, env.thread, {"text": "  "})
