"""`POST /events/icims` over real HTTP: what iCIMS sends is verified, capped, stored with a dedupe
key and queued before the answer; everything else is refused in the vendor error format."""

from __future__ import annotations

import gzip
import json
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from support.events import (
    BASIC_2000,
    HMAC_1000,
    HMAC_4000,
    Service,
    assessment,
    gz,
    real_stderr_logging,  # noqa: F401 - autouse fixture
    running_service,
    service_settings,
)

from tools.icims.auth import HMACAuth

pytestmark = pytest.mark.integration


@pytest.fixture
def svc(tmp_path) -> Iterator[Service]:
    with running_service(service_settings(tmp_path)) as service:
        yield service


def vendor(reply: httpx.Response) -> dict[str, str]:
    body = reply.json()
    assert set(body) == {"error"} and set(body["error"]) == {"userMessage", "debugErrorMessage"}, body
    return body["error"]


def stored(svc: Service) -> int:
    return sum(svc.queue.store.counts().values())


def test_accepts_gzip_hmac_event_stores_and_queues_it_then_refuses_the_duplicate(svc):
    first = svc.post(gz(assessment(10001)))
    # Application complete: iCIMS expects a 303 sending the candidate back to the portal.
    assert first.status_code == 303, first.text
    assert first.headers["location"] == "https://portal.example/return/10001"
    event_id = first.json()["id"]
    row = svc.queue.store.get(event_id)
    assert row.status == "queued" and row.payload["systemId"] == "10001"
    assert row.event.workflow_id == 10001 and row.event.person_id == 12
    assert svc.queue.huey.pending_count() == 1
    # The backlog is a detail of /health for a key holder (anonymous callers get the status only).
    _, key = svc.app.state.service.keys.create("auditor", name="ops")
    health = httpx.get(f"{svc.url}/health", headers={"X-API-Key": key}).json()
    assert health["queue"]["queued"] == 1 and health["queue"]["oldest_age_seconds"] >= 0

    again = svc.post(gz(assessment(10001)))
    assert again.status_code == 400
    assert vendor(again)["userMessage"] == "Already received; no action taken."
    assert f"duplicate of event {event_id}" in vendor(again)["debugErrorMessage"]
    assert stored(svc) == 1 and svc.queue.huey.pending_count() == 1

    # A status change is answered 200; uncompressed JSON is accepted too.
    status = {
        "customerId": "1000",
        "systemId": "10002",
        "eventType": "WorkFlowStatusChangeEvent",
        "oldStatus": "10100",
        "newStatus": "51218",
    }
    plain = svc.post(json.dumps(status).encode(), headers={"content-encoding": ""})
    assert plain.status_code == 200 and plain.json()["status"] == "accepted"


def test_duplicate_reply_is_configurable_per_tenant(svc):
    first = svc.post(gz(assessment(10001, customer="4000")), auth=HMAC_4000)
    again = svc.post(gz(assessment(10001, customer="4000")), auth=HMAC_4000)
    assert first.status_code == again.status_code == 303
    assert again.json() == {"status": "accepted", "id": first.json()["id"], "duplicate": True}
    assert stored(svc) == 1


def test_bad_signatures_are_401_and_store_nothing(svc):
    body = gz(assessment(10001))
    wrong_secret = svc.post(body, auth=HMACAuth("sandbox-events", "not-the-secret"))
    unknown_user = svc.post(body, auth=HMACAuth("someone", "sandbox-events-secret"))
    no_auth = svc.post(body, auth=None)
    bad_basic = svc.post(body, auth=None, headers={"Authorization": "Basic bm9wZTpub3Bl"})
    bad_bearer = svc.post(body, auth=None, headers={"Authorization": "Bearer 3000.9999999999.abc"})
    for reply in (wrong_secret, unknown_user, no_auth, bad_basic, bad_bearer):
        assert reply.status_code == 401, reply.text
        assert vendor(reply)["userMessage"] == "The notification could not be authenticated."

    # A body changed after signing: the content hash no longer matches.
    request = httpx.Request(
        "POST", f"{svc.url}/events/icims", content=body, headers={"content-encoding": "gzip"}
    )
    HMAC_1000.sign(request)
    tampered = httpx.post(
        f"{svc.url}/events/icims", content=gz(assessment(10002)), headers=dict(request.headers)
    )
    assert tampered.status_code == 401
    assert "x-icims-content-sha256" in vendor(tampered)["debugErrorMessage"]

    # A replayed signature from an hour ago is outside the allowed clock skew.
    old = HMACAuth(
        "sandbox-events", "sandbox-events-secret", now=lambda: datetime.now(UTC) - timedelta(hours=1)
    )
    assert svc.post(body, auth=old).status_code == 401
    assert stored(svc) == 0


def test_malformed_and_incomplete_payloads_are_400_naming_the_problem(svc):
    not_json = svc.post(gz(b"{not json"))
    assert not_json.status_code == 400 and "not valid JSON" in vendor(not_json)["userMessage"]
    array = svc.post(gz(b"[1, 2]"))
    assert array.status_code == 400
    broken_gzip = svc.post(gz(assessment(10001))[:-6])
    assert broken_gzip.status_code == 400
    missing = assessment(10001)
    del missing["systemId"]
    reply = svc.post(gz(missing))
    assert reply.status_code == 400
    assert vendor(reply)["userMessage"] == "Required field missing: systemId."
    both = svc.post(gz({"customerId": "1000"}))
    assert vendor(both)["userMessage"] == "Required field missing: eventType, systemId."
    wrong_type = svc.post(gz({**assessment(10001), "personId": {"id": 1}}))
    assert wrong_type.status_code == 400 and "personId" in vendor(wrong_type)["userMessage"]
    assert stored(svc) == 0


def test_gzip_bombs_and_oversized_bodies_are_refused_without_inflating_them(svc):
    # 10 MB of JSON-ish padding compresses to ~10 KB: under the 64 KiB wire cap, far over the JSON cap.
    bomb = gzip.compress(b'{"customerId": "1000", "pad": "' + b" " * 10_000_000 + b'"}', mtime=0)
    assert len(bomb) < 64 * 1024
    started = time.perf_counter()
    reply = svc.post(bomb)
    assert reply.status_code == 400, reply.text
    assert "decompressed body exceeds 262144 bytes" in vendor(reply)["debugErrorMessage"]
    assert time.perf_counter() - started < 2.0

    big = gzip.compress(os.urandom(70 * 1024))  # incompressible: over the wire cap
    too_big = svc.post(big)
    assert too_big.status_code == 400 and "Content-Length exceeds" in vendor(too_big)["debugErrorMessage"]

    # Without a Content-Length (chunked) the cap applies while the body streams in.
    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"x" * 8192

    request = httpx.Request(
        "POST", f"{svc.url}/events/icims", content=chunks(), headers={"content-encoding": "gzip"}
    )
    with httpx.Client() as client:
        streamed = client.send(request)
    assert streamed.status_code == 400 and "body exceeds" in vendor(streamed)["debugErrorMessage"]
    assert stored(svc) == 0


def test_unknown_customer_ids_and_credentials_for_another_customer(svc):
    unknown = svc.post(gz(assessment(10001, customer="9999")))
    assert unknown.status_code == 400
    assert "not configured for your iCIMS customer" in vendor(unknown)["userMessage"]
    # Valid credentials of customer 1000 cannot post customer 4000's events.
    other = svc.post(gz(assessment(10001, customer="4000")))
    assert other.status_code == 401
    assert "not valid for customer 4000" in vendor(other)["debugErrorMessage"]
    assert stored(svc) == 0


def test_basic_and_bearer_tenants(svc):
    basic = svc.post(gz(assessment(10001, customer="2000")), auth=None, headers=BASIC_2000)
    assert basic.status_code == 303, basic.text
    denied = httpx.post(
        f"{svc.url}/events/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "icims-3000", "client_secret": "wrong"},
    )
    assert denied.status_code == 401
    token = httpx.post(
        f"{svc.url}/events/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "icims-3000",
            "client_secret": "bearer-secret",
        },
    ).json()
    assert token["token_type"] == "Bearer" and token["expires_in"] == 86_400
    bearer = svc.post(
        gz(assessment(10001, customer="3000")),
        auth=None,
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert bearer.status_code == 303, bearer.text
    # The bearer token is bound to its customer.
    forged = svc.post(
        gz(assessment(10002, customer="2000")),
        auth=None,
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert forged.status_code == 401
    assert stored(svc) == 2


def test_duplicate_storm_stores_and_queues_exactly_one(svc):
    body = gz(assessment(10077))
    replies: list[httpx.Response] = []
    gate = threading.Barrier(24)

    def post() -> None:
        gate.wait()
        replies.append(svc.post(body))

    threads = [threading.Thread(target=post) for _ in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status_code for r in replies)
    assert statuses.count(303) == 1 and statuses.count(400) == 23, statuses
    assert all(
        vendor(r)["userMessage"] == "Already received; no action taken."
        for r in replies
        if r.status_code == 400
    )
    assert stored(svc) == 1 and svc.queue.huey.pending_count() == 1


def test_sandbox_delivers_signed_gzip_events_through_the_real_path(svc, sandbox_factory):
    box = sandbox_factory(people=20, seed=3)
    hook = {
        "url": f"{svc.url}/events/icims",
        "auth": "hmac",
        "hmac_user": "sandbox-events",
        "hmac_secret": "sandbox-events-secret",
    }
    assert httpx.put(f"{box.url}/_sandbox/webhook", json=hook).status_code == 200
    workflow = min(box.state.tenant.records["applicantworkflows"])
    sent = httpx.post(
        f"{box.url}/_sandbox/events?wait=true",
        json={"eventType": "AssessmentEvent", "systemId": workflow},
        timeout=30,
    ).json()
    assert sent["delivery"]["status_code"] == 303, sent
    fired = httpx.post(f"{box.url}/_sandbox/events/{sent['event']['n']}/fire?wait=true", timeout=30).json()
    assert fired["delivery"]["status_code"] == 400
    assert "Already received" in fired["delivery"]["reply_body"]
    rows = svc.queue.store.list()
    assert len(rows) == 1 and rows[0].event.workflow_id == workflow
