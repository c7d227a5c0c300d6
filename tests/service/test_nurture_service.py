"""Nurture in the service, over real HTTP (uvicorn on 127.0.0.1) against the sandbox: campaigns by
API, a run approved through the approvals API, the unsubscribe link from a sent message reaching
iCIMS and stopping every campaign, replies, the event handler's applied/hired stop, and the
scheduler's tick."""

from __future__ import annotations

import email
from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from support.nurture import (
    AS_OF,
    CAMPAIGN_ID,
    ELIGIBLE,
    F,
    campaign,
    contacted_by_other_campaign,
    node,
    scenario,
)

from graphs.nurture import start_run
from graphs.nurture.events import handle_event
from graphs.nurture.scheduler import tick
from sandbox.server import ServerThread
from server.app import create_app
from server.approvals import Decision
from server.auth import KeyStore, Principal
from server.state import open_service
from tools.embeddings import HashEmbeddings

pytestmark = pytest.mark.integration

ALWAYS_OPEN = {
    "start": "00:00",
    "end": "00:00",
    "working_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
}


def campaign_body(pools: tuple[int, int], **changes: Any) -> dict[str, Any]:
    body = campaign(pools, quiet_hours=ALWAYS_OPEN, **changes).model_dump(mode="json")
    body.pop("id")
    return body


@pytest.fixture
def served(sandbox_factory, tmp_path) -> Iterator[SimpleNamespace]:
    with scenario(sandbox_factory, tmp_path) as sc:
        keys = KeyStore.for_data_dir(sc.settings.data_dir)
        admin = keys.create("admin", name="admin")[1]
        recruiter = keys.create("recruiter", name="rec", recruiter_id=1)[1]
        keys.close()
        app = create_app(sc.settings, embeddings=HashEmbeddings())
        with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=60) as http:
            yield SimpleNamespace(
                sc=sc,
                http=http,
                admin={"X-API-Key": admin},
                recruiter={"X-API-Key": recruiter},
                deps=lambda: app.state.service.deps["nurture"],
            )


def test_campaign_api_run_approve_unsubscribe_round_trip(served):
    http, sc = served.http, served.sc
    bad = {**campaign_body(sc.pools), "steps": [{"day": 3, "template": "intro.v1"}]}
    r = http.put(f"/nurture/campaigns/{CAMPAIGN_ID}", json=bad, headers=served.admin)
    assert r.status_code == 422 and "day 0" in r.json()["detail"]
    r = http.put(f"/nurture/campaigns/{CAMPAIGN_ID}", json=campaign_body(sc.pools), headers=served.recruiter)
    assert r.status_code == 403
    assert (
        http.put(
            f"/nurture/campaigns/{CAMPAIGN_ID}",
            json=campaign_body(sc.pools, owner_id=1),
            headers=served.admin,
        ).status_code
        == 200
    )
    listed = http.get("/nurture/campaigns", headers=served.recruiter).json()
    assert {c["id"] for c in listed} >= {CAMPAIGN_ID, "talent-community"}

    started = http.post(
        f"/nurture/campaigns/{CAMPAIGN_ID}/runs", json={"run_id": "h1"}, headers=served.recruiter
    ).json()
    approval_id = started["approval_id"]
    assert approval_id == started["thread_id"] and started["drafts"] >= len(ELIGIBLE)
    assert not sc.writelog  # nothing written or sent before approval
    summary = http.get("/approvals", params={"graph": "nurture"}, headers=served.admin).json()
    assert [a["id"] for a in summary] == [approval_id]
    resolved = http.post(f"/approvals/{approval_id}/resolve", json={"type": "accept"}, headers=served.admin)
    assert resolved.status_code == 200, resolved.text
    outbox = http.get("/nurture/outbox", headers=served.admin).json()
    assert len(outbox) == started["drafts"]

    # The unsubscribe link of one sent message, followed as the candidate would (no API key).
    target = sc.people["ok2"]
    row = next(r for r in outbox if r["person"] == str(target))
    message = email.message_from_bytes(served.deps().transport.read(row["message_id"]))
    link = message["List-Unsubscribe"].strip("<>")
    assert link in message.get_payload(decode=True).decode()
    path = urlsplit(link)
    confirm = http.get(f"{path.path}?{path.query}")
    assert confirm.status_code == 200 and "Unsubscribe me" in confirm.text
    before = len(sc.writelog)
    done = http.post(f"{path.path}?{path.query}")
    assert done.status_code == 200 and "unsubscribed" in done.text
    person = sc.box.state.tenant.records["people"][target].data
    assert person[F["opt_out"]] == "Yes"  # reached iCIMS
    [write] = sc.writelog[before:]
    assert (
        write.method == "PATCH"
        and write.path.endswith(f"/people/{target}")
        and write.body == {F["opt_out"]: "Yes"}
    )
    # Again (a second click): nothing more is written.
    assert http.post(f"{path.path}?{path.query}").status_code == 200
    assert len(sc.writelog) == before + 1
    # A forged token changes nothing.
    assert (
        http.post("/nurture/unsubscribe", params={"token": link.split("token=")[1][:-4] + "AAAA"}).status_code
        == 400
    )

    # Every campaign stops for that person: a second campaign on the same pools counts them opted out.
    other = campaign_body(sc.pools, name="Second campaign")
    assert http.put("/nurture/campaigns/second", json=other, headers=served.admin).status_code == 200
    second = http.post("/nurture/campaigns/second/runs", json={"run_id": "h2"}, headers=served.admin).json()
    # (Everyone else messaged an hour ago is held back by the global cap; the opt-out comes first.)
    assert second["selection"]["excluded"]["opted_out"] == 2  # the seeded opt-out and this one
    assert second["selection"]["excluded"]["global_cap"] >= len(ELIGIBLE) - 1

    # A reply stops the sequence too.
    replier = sc.people["ok3"]
    assert (
        http.post("/nurture/replies", json={"person_id": replier}, headers=served.recruiter).status_code
        == 200
    )
    assert served.deps().store.stop_map()[replier] == {"*": "replied"}


@pytest.fixture
def service(sandbox_factory, tmp_path) -> Iterator[SimpleNamespace]:
    with (
        scenario(sandbox_factory, tmp_path) as sc,
        open_service(sc.settings, embeddings=HashEmbeddings()) as state,
    ):
        deps = state.deps["nurture"]
        deps.store.save_campaign(campaign(sc.pools))
        contacted_by_other_campaign(deps.store, sc.people)
        yield SimpleNamespace(sc=sc, state=state, deps=deps)


def test_scheduler_fires_due_campaigns_once_and_the_run_waits_in_the_inbox(service):
    result = tick(service.state, AS_OF)
    fired = {f["campaign_id"]: f for f in result["fired"]}
    assert set(fired) == {CAMPAIGN_ID}  # "0 15 * * 2": Tuesdays 15:00 UTC
    assert result["skipped"]["talent-community"] == "not due"
    assert fired[CAMPAIGN_ID]["drafts"] == len(ELIGIBLE) and fired[CAMPAIGN_ID]["sends"] == 0
    again = tick(service.state, AS_OF + timedelta(seconds=30))
    assert again["fired"] == [] and again["skipped"][CAMPAIGN_ID] == "already fired this minute"
    assert tick(service.state, AS_OF + timedelta(minutes=1))["skipped"][CAMPAIGN_ID] == "not due"
    admin = Principal(key_id="k", name="admin", role="admin")
    pending = service.state.approvals.list(admin, graph="nurture")
    assert [p.thread_id for p in pending] == [fired[CAMPAIGN_ID]["thread_id"]]
    assert pending[0].action == "nurture_send" and pending[0].items == len(ELIGIBLE)
    # The drafts are the campaign owner's to approve (its `owner_id`, else its first pool's owner;
    # these pools have none, so until one is set only admins see them).
    owner = 7
    nobody = Principal(key_id="r0", name="r", role="recruiter", recruiter_id=owner)
    assert service.state.approvals.list(nobody, graph="nurture") == []
    service.deps.store.save_campaign(campaign(service.sc.pools).model_copy(update={"owner_id": owner}))
    mine = Principal(key_id="r1", name="owner", role="recruiter", recruiter_id=owner)
    other = Principal(key_id="r2", name="other", role="recruiter", recruiter_id=owner + 1)
    assert [p.thread_id for p in service.state.approvals.list(mine, graph="nurture")] == [
        fired[CAMPAIGN_ID]["thread_id"]
    ]
    assert service.state.approvals.list(mine, graph="nurture")[0].can_resolve
    assert service.state.approvals.list(other, graph="nurture") == []


def test_applied_or_hired_event_stops_the_sequence(service):
    sc, deps = service.sc, service.deps
    graph = service.state.graphs["nurture"]
    deps.clock = lambda: AS_OF
    thread, _ = start_run(graph, customer_id=1000, campaign_id=CAMPAIGN_ID, run_id="e1", as_of=AS_OF)
    service.state.approvals.resolve(
        Principal(key_id="k", name="admin", role="admin"), thread, Decision(type="accept")
    )
    tenant = sc.box.state.tenant
    applied, outsider = sc.people["ok1"], sc.people["dnc"]
    job = next(j for j, r in tenant.records["jobs"].items() if r.data["folder"]["id"] == "D31001")
    wid = tenant.add(
        "applicantworkflows",
        {"baseprofile": job, "associatedprofile": applied, "status": node("D10100", "New Submissions")},
    )

    def event(workflow: int, person: int) -> SimpleNamespace:
        payload = {
            "customerId": "1000",
            "eventType": "WorkFlowStatusChangeEvent",
            "systemId": str(workflow),
            "personId": str(person),
        }
        return SimpleNamespace(payload=payload)

    outcome = handle_event(event(wid, applied), service.state)
    assert (
        outcome["action"] == "stopped"
        and outcome["reason"] == "applied"
        and outcome["status_source"] == "icims"
    )
    assert handle_event(event(wid, applied), service.state)["action"] == "already_stopped"  # replayed event
    other = tenant.add(
        "applicantworkflows",
        {"baseprofile": job, "associatedprofile": outsider, "status": node("D10105", "Hired")},
    )
    assert handle_event(event(other, outsider), service.state)["action"] == "none"  # never messaged
    assert (
        handle_event(
            SimpleNamespace(payload={"customerId": "1000", "eventType": "AssessmentEvent", "systemId": "1"}),
            service.state,
        )["action"]
        == "none"
    )
    # The next step (two weeks later) is not drafted for them.
    _, values = start_run(
        graph, customer_id=1000, campaign_id=CAMPAIGN_ID, run_id="e2", as_of=AS_OF + timedelta(days=14)
    )
    assert applied not in {d["person_id"] for d in values["drafts"]}
    assert values["selection"]["excluded"]["applied"] == 1


def test_demo_step_approves_one_draft_sends_it_and_prints_the_write_log(sandbox_factory, tmp_path, capsys):
    from support.snapshot import sync_mirror

    from server.demo import DemoContext
    from server.demo_nurture import demo_step
    from tools.mirror import MirrorStore

    box = sandbox_factory(people=200, seed=7)
    settings = box.settings(data_dir=str(tmp_path / "demo"))
    sync_mirror(settings)
    store = MirrorStore(settings.mirror_database_url)
    ctx = DemoContext(settings=settings, store=store, sandbox=box.state, sandbox_url=box.url, step=9)
    demo_step(ctx, embeddings=HashEmbeddings())
    out = capsys.readouterr().out
    assert ctx.step == 9 and "9. Nurture: campaign 'talent-community'" in out
    assert "drafts wait for approval" in out and "| Unsubscribe: " in out
    assert out.count("   outbox: ") == 1 and "sent: person" in out
    patches = [e for e in box.state.writelog if e.method == "PATCH"]
    assert {e.path.split("/")[3] for e in patches} == {"people", "sourceworkflows"} and len(patches) == 2
    assert store.counts()["people"] == 200  # the demo's mirror is still open and usable
    store.close()


def test_web_inbox_renders_drafts_and_sends_only_the_ticked_edited_one(served):
    http, sc = served.http, served.sc
    assert (
        http.put(
            f"/nurture/campaigns/{CAMPAIGN_ID}", json=campaign_body(sc.pools), headers=served.admin
        ).status_code
        == 200
    )
    started = http.post(
        f"/nurture/campaigns/{CAMPAIGN_ID}/runs", json={"run_id": "w1"}, headers=served.admin
    ).json()
    approval_id = started["approval_id"]
    page = http.get(f"/ui/approvals/{approval_id}", headers=served.admin)
    assert page.status_code == 200 and "Send this message" in page.text and "Left out, by reason" in page.text
    drafts = http.get(f"/approvals/{approval_id}", headers=served.admin).json()["args"]["drafts"]
    for d in drafts:
        assert f'id="body_{d["person_id"]}"' in page.text
    first = drafts[0]
    pid = str(first["person_id"])
    form = {"decision": "approve", "keep": [pid], f"subject_{pid}": first["subject"]}
    refused = http.post(
        f"/ui/approvals/{approval_id}",
        data={**form, f"body_{pid}": first["body"] + "\nWe guarantee an offer.\n"},
        headers=served.admin,
    )
    assert refused.status_code == 422 and "unverifiable claim" in refused.text
    assert not http.get("/nurture/outbox", headers=served.admin).json()
    done = http.post(
        f"/ui/approvals/{approval_id}",
        data={**form, f"body_{pid}": first["body"].replace("just reply", "simply reply")},
        headers=served.admin,
        follow_redirects=False,
    )
    assert done.status_code == 303
    [row] = http.get("/nurture/outbox", headers=served.admin).json()
    assert row["person"] == pid and b"simply reply" in served.deps().transport.read(row["message_id"])


def test_cli_lists_runs_approves_and_reads_the_outbox(sandbox_factory, tmp_path, monkeypatch):
    import json

    import yaml
    from typer.testing import CliRunner

    import tools.embeddings.factory
    from server.cli import app

    # The CLI opens the service with the settings' encoder; the hashing one keeps this test fast.
    monkeypatch.setattr(tools.embeddings.factory, "shared_minilm", HashEmbeddings)
    with scenario(sandbox_factory, tmp_path) as sc:
        folder = tmp_path / "campaigns"
        folder.mkdir()
        body = {"id": "cli-campaign", **campaign_body(sc.pools)}
        (folder / "cli.yaml").write_text(yaml.safe_dump(body))
        env_file = tmp_path / "cli.env"
        lines = {
            **sc.box.env,
            "ICIMS_AGENTS_DATA_DIR": str(sc.settings.data_dir),
            "ICIMS_AGENTS_NURTURE_CAMPAIGN_DIR": str(folder),
        }
        env_file.write_text("".join(f"{k}={v}\n" for k, v in lines.items()))
        runner = CliRunner()
        base = ["--env-file", str(env_file), "nurture"]
        listed = runner.invoke(app, [*base, "list"])
        assert (
            listed.exit_code == 0
            and '"cli-campaign"' in listed.output
            and '"talent-community"' in listed.output
        )
        missing = runner.invoke(app, [*base, "run", "--campaign", "nope"])
        assert missing.exit_code != 0 and "no campaign 'nope'" in missing.output
        ran = runner.invoke(app, [*base, "run", "--campaign", "cli-campaign", "--approve", "--json"])
        assert ran.exit_code == 0, ran.output
        result = json.loads(ran.output.strip().splitlines()[-1])
        sent = [s for s in result["sends"] if s["status"] == "sent"]
        assert not result["pending"] and result["approval"]["approver"].startswith("cli:")
        assert len(sent) >= len(ELIGIBLE)
        box = runner.invoke(app, [*base, "outbox"])
        assert box.exit_code == 0 and len(box.output.strip().splitlines()) == len(sent)
