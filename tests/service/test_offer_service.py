"""Offers through the service over real HTTP: the offers API, offer approvals in `/approvals` and the
web inbox, the letter download, roles, counter-offers, and the status-change event trigger."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from pypdf import PdfReader
from support.service import JOB_A, ServiceEnv, service_env

from graphs.offer.events import handle_event

pytestmark = pytest.mark.integration

WORKFLOW_A = 10024  # job 1004 (recruiter rec_a), person 33
OFFER = {"id": "C51221", "value": "Offer", "formattedvalue": "Offer"}
# A Monday a month out: within the policy's standard start window (a later start is non-standard).
START = (
    date.today() + timedelta(days=30 + (7 - (date.today() + timedelta(days=30)).weekday()) % 7)
).isoformat()


@pytest.fixture
def env(sandbox_factory, tmp_path) -> Iterator[ServiceEnv]:
    with service_env(sandbox_factory, tmp_path) as e:
        yield e


def thread(env: ServiceEnv, workflow_id: int = WORKFLOW_A) -> str:
    return f"offer:{env.settings.icims_customer_id}:{workflow_id}"


def start(env: ServiceEnv, who: str = "rec_a", **terms) -> dict:
    r = env.client(who).post("/offers", json={"workflow_id": WORKFLOW_A, "terms": terms})
    assert r.status_code == 200, r.text
    return r.json()


def test_offer_api_inbox_resolve_and_letter(env: ServiceEnv) -> None:
    rec = env.client("rec_a")
    assert env.client("rec_b").post("/offers", json={"workflow_id": WORKFLOW_A}).status_code == 404
    assert env.client("auditor").post("/offers", json={"workflow_id": WORKFLOW_A}).status_code == 403
    bad = rec.post("/offers", json={"workflow_id": WORKFLOW_A, "terms": {"base_salary": "lots"}})
    assert bad.status_code == 422
    assert rec.post("/offers", json={"workflow_id": WORKFLOW_A, "terms": {"salary": 1}}).status_code == 422

    started = start(env, base_salary="110000", start_date=START)
    assert started["approval_id"] == thread(env) and started["pending_step"] == "recruiter"
    assert started["status"] == "pending_approval" and [s["role"] for s in started["chain"]] == ["recruiter"]
    assert not env.writelog
    assert start(env)["existing"] is True  # a second start returns the same offer
    run = rec.get(f"/runs/{thread(env)}").json()
    assert run["graph"] == "offer" and run["status"] == "interrupted" and run["job_id"] == JOB_A

    listed = rec.get("/approvals", params={"graph": "offer"}).json()
    assert [a["id"] for a in listed] == [thread(env)]
    assert (
        listed[0]["job_id"] == JOB_A and listed[0]["action"] == "offer_approval" and listed[0]["can_resolve"]
    )
    assert env.client("rec_b").get("/approvals", params={"graph": "offer"}).json() == []
    assert env.client("hm_a").get(f"/offers/{WORKFLOW_A}").status_code == 200
    assert env.client("rec_b").get(f"/offers/{WORKFLOW_A}").status_code == 404
    assert rec.get(f"/offers/{WORKFLOW_A}/letter.pdf").status_code == 404  # nothing approved yet

    # The web inbox lists the offer and renders it with its own partial.
    inbox = rec.get("/ui/inbox")
    assert inbox.status_code == 200 and thread(env) in inbox.text
    page = rec.get(f"/ui/approvals/{thread(env)}")
    assert page.status_code == 200 and "Approval chain" in page.text and "$110,000" in page.text

    # An edit that is not valid is refused before anything resumes.
    bad_edit = rec.post(
        f"/approvals/{thread(env)}/resolve",
        json={"type": "edit", "args": {"terms": {"start_date": "2001-01-01"}}},
    )
    assert bad_edit.status_code == 422 and "past" in bad_edit.json()["detail"]
    r = rec.post(f"/approvals/{thread(env)}/resolve", json={"type": "accept"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "resolved"

    offer = rec.get(f"/offers/{WORKFLOW_A}").json()
    assert offer["status"] == "attached" and offer["version"] == 1 and offer["approval_id"] is None
    assert [(d["role"], d["decision"]) for d in offer["decisions"]] == [("recruiter", "accept")]
    assert offer["decisions"][0]["approver"].startswith("recruiter:rec_a#")
    assert [(e.method, e.path.rsplit("/", 2)[-2]) for e in env.writelog] == [
        ("PATCH", "field51240"),
        ("PATCH", "applicantworkflows"),
    ]
    letter = rec.get(f"/offers/{WORKFLOW_A}/letter.pdf")
    assert letter.status_code == 200 and letter.headers["content-type"] == "application/pdf"
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(letter.content)).pages).split())
    for figure in offer["versions"][-1]["figures"].values():
        assert figure in text
    assert letter.content == env.box.state.tenant.binaries[("people", 33, "field51240")].content


def test_counter_via_api_and_inbox_form(env: ServiceEnv) -> None:
    rec = env.client("rec_a")
    start(env, base_salary="110000", start_date=START)
    assert rec.post(f"/offers/{WORKFLOW_A}/counter", json={"text": "135k?"}).status_code == 409  # pending
    assert rec.post(f"/approvals/{thread(env)}/resolve", json={"type": "accept"}).status_code == 200
    assert env.client("hm_a").post(f"/offers/{WORKFLOW_A}/counter", json={"text": "x"}).status_code == 403
    assert rec.post(f"/offers/{WORKFLOW_A}/counter", json={"nope": 1}).status_code == 422

    r = rec.post(
        f"/offers/{WORKFLOW_A}/counter", json={"text": "could we do $112,000 and a 5k signing bonus?"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["pending_action"] == "offer_counter_reply" and body["status"] == "negotiating"
    analysis = body["negotiation"]["analysis"]
    assert {c["term"] for c in analysis["changes"]} == {"base_salary", "sign_on_bonus"}
    assert "we can do this" in analysis["suggested_reply"]

    # The recruiter sends an edited reply from the web inbox: the offer becomes version 2, attached.
    page = rec.get(f"/ui/approvals/{thread(env)}")
    assert page.status_code == 200 and "Reply to the candidate" in page.text
    form = {
        "decision": "approve",
        "suggested_reply": "Deal: $112,000 and $5,000 to sign.",
        "base_salary": "112000",
    }
    posted = rec.post(f"/ui/approvals/{thread(env)}", data=form, follow_redirects=False)
    assert posted.status_code == 303, posted.text
    offer = rec.get(f"/offers/{WORKFLOW_A}").json()
    assert offer["version"] == 2 and offer["status"] == "attached"
    assert offer["negotiation"]["reply"] == form["suggested_reply"]
    assert offer["versions"][-1]["figures"]["base_salary"] == "$112,000"
    assert sum(1 for e in env.writelog if e.path.endswith("/binary")) == 2


def test_multi_step_offer_through_approvals_api(env: ServiceEnv) -> None:
    """Each step is signed by whom policy names: the recruiter step by the job's recruiter; the
    others by a key named for that role in `offer_approvers`, or an admin when none is named."""
    admin, rec = env.client("admin"), env.client("rec_a")
    accept = {"type": "accept"}
    started = start(env, base_salary="180000", start_date=START)  # over the band max: 3 steps
    roles = [s["role"] for s in started["chain"]]
    assert len(roles) == 3 and roles[0] == "recruiter"
    assert rec.post(f"/approvals/{thread(env)}/resolve", json=accept).status_code == 200
    # The recruiter cannot sign the comp partner's (or VP's) step, even on their own requisition.
    denied = rec.post(f"/approvals/{thread(env)}/resolve", json=accept)
    assert denied.status_code == 403 and roles[1] in denied.json()["detail"]
    assert admin.post(f"/approvals/{thread(env)}/resolve", json=accept).status_code == 200
    # Once a role names its approvers, even an admin key not among them is refused.
    env.settings.offer_approvers[roles[2]] = ["rec_b"]
    assert admin.post(f"/approvals/{thread(env)}/resolve", json=accept).status_code == 403
    assert not [e for e in env.writelog if e.path.endswith("/binary")]  # nothing attached yet
    env.settings.offer_approvers[roles[2]] = ["admin"]
    assert admin.post(f"/approvals/{thread(env)}/resolve", json=accept).status_code == 200
    assert env.client("admin").get(f"/offers/{WORKFLOW_A}").json()["status"] == "attached"


def test_status_change_event_starts_one_offer(env: ServiceEnv) -> None:
    assert env.client("admin").get("/ready").status_code == 200  # the app's lifespan has run
    service = env.app.state.service
    tenant = env.box.state.tenant

    def event(n: int, workflow_id: int) -> SimpleNamespace:
        payload = {
            "customerId": str(env.settings.icims_customer_id),
            "eventType": "WorkFlowStatusChangeEvent",
            "systemId": str(workflow_id),
            "newStatus": "22101",  # node ids, not status codes: the handler reads the real status
        }
        return SimpleNamespace(id=n, payload=payload, event_type=payload["eventType"], customer_id="1000")

    # Still at Interview in iCIMS: nothing starts.
    outcome = handle_event(event(1, WORKFLOW_A), service)
    assert outcome["action"] == "none" and "C51220" in outcome["reason"]
    tenant.patch("applicantworkflows", WORKFLOW_A, {"status": OFFER})
    outcome = handle_event(event(2, WORKFLOW_A), service)
    assert outcome["action"] == "offer_started" and outcome["thread_id"] == thread(env)
    assert outcome["awaiting_step"] == "recruiter"
    # The same event again (or a duplicate): no second offer, nothing written.
    again = handle_event(event(2, WORKFLOW_A), service)
    assert again["action"] == "none" and "already" in again["reason"]
    listed = env.client("rec_a").get("/approvals", params={"graph": "offer"}).json()
    assert [a["id"] for a in listed] == [thread(env)]
    assert (
        handle_event(SimpleNamespace(id=3, payload={"eventType": "AssessmentEvent"}), service)["action"]
        == "none"
    )
    # A job without an occupation code has no pay band: a permanent refusal, not a retry.
    # (Both made after the mirror sync: read from iCIMS.)
    job = tenant.add("jobs", {"jobtitle": "Greeter", "joblocation": {"value": "Austin, TX"}})
    workflow = tenant.add(
        "applicantworkflows", {"baseprofile": job, "associatedprofile": 33, "status": OFFER}
    )
    refused = handle_event(event(4, workflow), service)
    assert refused["action"] == "none" and "no occupation code" in refused["reason"]
    assert not env.writelog
