"""Nurture runs, replies and campaign edits are scoped like approvals, over real HTTP against the
sandbox: a recruiter acts on the campaigns and people of the pools and requisitions they own; a
recruiter who owns nothing starts no run, stops nobody's sequences and edits no campaign; admins
act tenant-wide."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from support.nurture import CAMPAIGN_ID, campaign, scenario
from support.snapshot import sync_mirror

from sandbox.server import ServerThread
from server.app import create_app
from server.auth import KeyStore
from tools.embeddings import HashEmbeddings
from tools.icims.codes import POOL_ACTIVE, list_node

pytestmark = pytest.mark.integration

OWNER = 880_001  # owns pool B of the scenario and, by `owner_id`, the test campaign
OUTSIDER = 880_002  # a recruiter who owns no requisition, pool or campaign
ALWAYS_OPEN = {
    "start": "00:00",
    "end": "00:00",
    "working_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
}


def body(pools: list[int], **changes: Any) -> dict[str, Any]:
    data = campaign((0, 0), quiet_hours=ALWAYS_OPEN, **changes).model_dump(mode="json")
    data.pop("id")
    data["target"]["pool_ids"] = pools
    return data


@pytest.fixture
def served(sandbox_factory, tmp_path) -> Iterator[SimpleNamespace]:
    with scenario(sandbox_factory, tmp_path) as sc:
        tenant = sc.box.state.tenant
        pool_a, pool_b = sc.pools
        tenant.patch("talentpools", pool_b, {"owner": {"id": OWNER, "value": "Owner Recruiter"}})
        foreign = tenant.add(
            "talentpools",
            {"title": "Someone else's", "folder": list_node(POOL_ACTIVE), "owner": {"id": OUTSIDER + 1}},
        )
        sync_mirror(sc.settings)
        sc.box.state.writelog.clear()
        # The requisition the "active" person applied to, and its recruiter.
        [application] = [
            r.data
            for r in tenant.records["applicantworkflows"].values()
            if r.data.get("associatedprofile") == sc.people["active"]
        ]
        job_recruiter = tenant.records["jobs"][application["baseprofile"]].data["recruiter"]["id"]
        keys = KeyStore.for_data_dir(sc.settings.data_dir)
        made = {
            "admin": keys.create("admin", name="admin")[1],
            "owner": keys.create("recruiter", name="owner", recruiter_id=OWNER)[1],
            "outsider": keys.create("recruiter", name="outsider", recruiter_id=OUTSIDER)[1],
            "job_recruiter": keys.create("recruiter", name="jr", recruiter_id=job_recruiter)[1],
            "auditor": keys.create("auditor", name="aud")[1],
        }
        keys.close()
        app = create_app(sc.settings, embeddings=HashEmbeddings())
        with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=60) as http:
            assert (
                http.put(
                    f"/nurture/campaigns/{CAMPAIGN_ID}",
                    json=body([pool_a, pool_b], owner_id=OWNER),
                    headers={"X-API-Key": made["admin"]},
                ).status_code
                == 200
            )
            yield SimpleNamespace(
                sc=sc,
                http=http,
                key={role: {"X-API-Key": key} for role, key in made.items()},
                foreign=foreign,
                stops=lambda: app.state.service.deps["nurture"].store.stop_map(),
            )


def test_runs_need_the_campaign_owner_or_an_admin(served):
    http, key = served.http, served.key
    # The shipped tenant-wide campaign belongs to no recruiter here: admin only.
    r = http.post("/nurture/campaigns/talent-community/runs", json={"run_id": "x1"}, headers=key["outsider"])
    assert r.status_code == 403, r.text
    r = http.post(f"/nurture/campaigns/{CAMPAIGN_ID}/runs", json={"run_id": "x2"}, headers=key["outsider"])
    assert r.status_code == 403 and "not yours" in r.json()["detail"]
    assert (
        http.post(
            f"/nurture/campaigns/{CAMPAIGN_ID}/runs", json={"run_id": "x3"}, headers=key["auditor"]
        ).status_code
        == 403
    )
    assert not served.sc.writelog
    started = http.post(f"/nurture/campaigns/{CAMPAIGN_ID}/runs", json={"run_id": "x4"}, headers=key["owner"])
    assert started.status_code == 200, started.text
    assert started.json()["drafts"] >= 1


def test_replies_stop_only_people_in_the_recruiters_scope(served):
    http, key, people = served.http, served.key, served.sc.people

    def reply(who: str, person: int, **extra: Any) -> int:
        return http.post(
            "/nurture/replies", json={"person_id": person, **extra}, headers=key[who]
        ).status_code

    assert reply("outsider", people["ok3"]) == 403
    assert reply("outsider", people["ok3"], campaign_id=CAMPAIGN_ID) == 403
    assert reply("job_recruiter", people["ok3"]) == 403  # not an applicant to their requisition
    assert people["ok3"] not in served.stops()
    assert reply("owner", people["ok3"]) == 200  # a member of their campaign's pools
    assert reply("owner", people["ok2"], campaign_id=CAMPAIGN_ID) == 200
    # An applicant to a requisition they recruit for is in their scope, and nobody else's.
    assert reply("owner", people["active"]) == 200
    assert reply("job_recruiter", people["active"]) == 200
    assert reply("outsider", people["ok1"]) == 403
    assert reply("admin", people["ok1"]) == 200
    assert {people[r] for r in ("ok1", "ok2", "ok3", "active")} <= set(served.stops())


def test_campaign_edits_stay_within_the_recruiters_pools(served):
    http, key = served.http, served.key
    pool_a, pool_b = served.sc.pools

    def put(who: str, campaign_id: str, data: dict[str, Any]) -> httpx.Response:
        return http.put(f"/nurture/campaigns/{campaign_id}", json=data, headers=key[who])

    # Someone else's campaign: neither replaced nor deleted.
    assert put("outsider", CAMPAIGN_ID, body([pool_a, pool_b], name="Hijacked")).status_code == 403
    assert http.delete(f"/nurture/campaigns/{CAMPAIGN_ID}", headers=key["outsider"]).status_code == 403
    assert http.get(f"/nurture/campaigns/{CAMPAIGN_ID}", headers=key["outsider"]).json()["name"] != "Hijacked"
    # A new campaign on pools the recruiter does not own, or handed to someone else.
    assert put("outsider", "mine", body([pool_b])).status_code == 403
    assert put("outsider", "mine", body([pool_b], owner_id=OUTSIDER)).status_code == 403
    assert put("owner", "gift", body([pool_b], owner_id=OUTSIDER)).status_code == 403
    assert put("auditor", "mine", body([pool_b])).status_code == 403

    # The owner edits their campaign (its pools kept), but adds no pool they do not own.
    assert (
        put("owner", CAMPAIGN_ID, body([pool_a, pool_b], owner_id=OWNER, name="Renamed")).status_code == 200
    )
    r = put("owner", CAMPAIGN_ID, body([pool_a, pool_b, served.foreign], owner_id=OWNER))
    assert r.status_code == 403 and str(served.foreign) in r.json()["detail"]
    # A campaign of their own on the pool they own; then deleted by them.
    assert put("owner", "own-pool", body([pool_b])).status_code == 200
    assert http.delete("/nurture/campaigns/own-pool", headers=key["owner"]).status_code == 200
    # Admins act tenant-wide.
    assert put("admin", "tenant", body([pool_a, served.foreign])).status_code == 200
    assert http.delete("/nurture/campaigns/tenant", headers=key["admin"]).status_code == 200
