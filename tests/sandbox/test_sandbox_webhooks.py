"""Event notifications: gzip'd JSON to a partner receiver, signed per auth mode, recorded, re-sendable.

The receiver is a tiny app on its own loopback server; tests await deliveries through the sandbox's
`?wait=true` admin endpoints instead of sleeping.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from sandbox.fixtures import tiny_tenant
from sandbox.server import ServerThread

pytestmark = pytest.mark.integration

HTTP = httpx.Client(timeout=30)
BASIC = {"Authorization": "Basic " + base64.b64encode(b"sandbox-user:sandbox-password").decode()}
PARTNER_SECRET = "partner-hmac-secret"


@dataclass
class Receiver:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)


def receiver_app(receiver: Receiver) -> FastAPI:
    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        raw = await request.body()
        payload = json.loads(gzip.decompress(raw))
        receiver.requests.append({"headers": dict(request.headers), "raw": raw, "payload": payload})
        if payload["eventType"] in ("AssessmentEvent", "JobPostToWebEvent"):
            return Response(status_code=303, headers={"Location": "https://partner.example/continue"})
        return JSONResponse({"received": payload["systemId"]})

    @app.post("/token")
    async def token(request: Request) -> Response:
        form = await request.form()
        receiver.token_requests.append({k: str(v) for k, v in form.items()})
        if form.get("client_secret") != "partner-secret":
            return JSONResponse({"error": "access_denied"}, status_code=401)
        return JSONResponse({"access_token": "partner-token", "token_type": "Bearer", "expires_in": 86400})

    return app


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    holder = Receiver(url="")
    server = ServerThread(receiver_app(holder))
    holder.url = server.url
    with server:
        yield holder


@pytest.fixture
def sb(sandbox_factory):
    return sandbox_factory(tenant=tiny_tenant())


def register(sb, receiver: Receiver, **auth: str) -> None:
    reply = HTTP.put(f"{sb.url}/_sandbox/webhook", json={"url": f"{receiver.url}/hook", **auth})
    assert reply.status_code == 200, reply.text


def verify_hmac(request: dict[str, Any], path: str = "/hook") -> bool:
    """An independent check of API_NOTES 1.3 over the gzip'd body."""
    headers = request["headers"]
    match = re.fullmatch(
        r"x-icims-v1-hmac-sha256 user=([^,]+),\s*signedheaders=([^,]+),\s*signature=([0-9a-f]{64})",
        headers["authorization"],
    )
    assert match, headers["authorization"]
    user, signed, signature = match.groups()
    assert user == "icims" and signed == "content-type;host;x-icims-content-sha256;x-icims-date"
    assert headers["x-icims-content-sha256"] == hashlib.sha256(request["raw"]).hexdigest()
    lines = [f"{name}:{headers[name]}" for name in signed.split(";")]
    canonical = "\n".join(["POST", path, "", *sorted(lines), "", signed])
    to_sign = "\n".join(
        ["x-icims-v1-hmac-sha256", headers["x-icims-date"], hashlib.sha256(canonical.encode()).hexdigest()]
    )
    expected = hmac.new(PARTNER_SECRET.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def events(sb) -> list[dict[str, Any]]:
    return HTTP.get(f"{sb.url}/_sandbox/events", params={"wait": "true"}).json()["events"]


def test_status_change_sends_a_signed_gzip_event(sb, receiver):
    register(sb, receiver, auth="hmac", hmac_user="icims", hmac_secret=PARTNER_SECRET)
    reply = HTTP.patch(
        f"{sb.url}/customers/1000/applicantworkflows/10001", headers=BASIC, json={"status": {"id": "C51219"}}
    )
    assert reply.status_code == 204
    recorded = events(sb)
    assert len(recorded) == 1 and recorded[0]["deliveries"][0]["status_code"] == 200
    assert recorded[0]["deliveries"][0]["reply_body"] == '{"received":"10001"}'

    [request] = receiver.requests
    assert request["headers"]["content-encoding"] == "gzip"
    assert request["headers"]["content-type"] == "application/json"
    assert verify_hmac(request)
    payload = request["payload"]
    api = f"{sb.url}/customers/1000"
    assert payload == {
        "customerId": "1000",
        "systemId": "10001",
        "eventType": "WorkFlowStatusChangeEvent",
        "userId": "3",
        "personId": "1",
        "jobId": "1001",
        "oldStatus": "10100",
        "newStatus": "51219",
        "links": [
            {
                "rel": "applicantWorkflow",
                "title": "Applicant Workflow",
                "url": f"{api}/applicantworkflows/10001",
            },
            {"rel": "job", "title": "Job Profile", "url": f"{api}/jobs/1001"},
            {"rel": "person", "title": "Person Profile", "url": f"{api}/people/1"},
            {"rel": "user", "title": "Posting User", "url": f"{api}/people/3"},
        ],
    }
    assert all(isinstance(v, str) for k, v in payload.items() if k != "links")
    assert f'<{api}/jobs/1001>; rel="job"' in request["headers"]["link"]
    # No status change, no event.
    HTTP.patch(
        f"{sb.url}/customers/1000/applicantworkflows/10001", headers=BASIC, json={"source": "Referral"}
    )
    assert len(events(sb)) == 1


def test_fire_again_resends_identical_bytes(sb, receiver):
    register(sb, receiver, auth="basic", username="partner", password="pw")
    first = HTTP.post(
        f"{sb.url}/_sandbox/events",
        params={"wait": "true"},
        json={"eventType": "WorkFlowStatusChangeEvent", "systemId": 10002},
    ).json()
    n = first["event"]["n"]
    assert first["delivery"]["status_code"] == 200
    again = HTTP.post(f"{sb.url}/_sandbox/events/{n}/fire", params={"wait": "true"}).json()
    assert again["delivery"]["attempt"] == 2
    assert len(receiver.requests) == 2
    assert receiver.requests[0]["raw"] == receiver.requests[1]["raw"]
    expected = "Basic " + base64.b64encode(b"partner:pw").decode()
    assert all(r["headers"]["authorization"] == expected for r in receiver.requests)
    assert [len(e["deliveries"]) for e in events(sb)] == [2]
    assert HTTP.post(f"{sb.url}/_sandbox/events/99/fire").status_code == 404


def test_assessment_event_records_the_redirect(sb, receiver):
    register(sb, receiver, auth="hmac", hmac_user="icims", hmac_secret=PARTNER_SECRET)
    reply = HTTP.post(
        f"{sb.url}/_sandbox/events",
        params={"wait": "true"},
        json={"eventType": "AssessmentEvent", "systemId": 10001},
    ).json()
    assert reply["delivery"]["status_code"] == 303
    assert reply["delivery"]["reply_headers"]["location"] == "https://partner.example/continue"
    payload = receiver.requests[0]["payload"]
    assert payload["eventType"] == "AssessmentEvent" and payload["returnUrl"].endswith("/10001")
    assert payload["personId"] == "1" and payload["jobId"] == "1001"
    assert verify_hmac(receiver.requests[0])


def test_job_events_and_oauth_callback_auth(sb, receiver):
    register(
        sb,
        receiver,
        auth="oauth",
        token_url=f"{receiver.url}/token",
        client_id="icims",
        client_secret="partner-secret",
    )
    for event_type in ("JobPostToWebEvent", "JobUnpostToWebEvent"):
        reply = HTTP.post(
            f"{sb.url}/_sandbox/events",
            params={"wait": "true"},
            json={"eventType": event_type, "systemId": 1002},
        )
        assert reply.status_code == 200
    posted, unposted = (r["payload"] for r in receiver.requests)
    assert posted["systemId"] == "1002" and "portalUrl" in posted
    assert unposted["eventType"] == "JobUnpostToWebEvent" and "portalUrl" not in unposted
    assert posted["links"][0] == {
        "rel": "job",
        "title": "Job Profile",
        "url": f"{sb.url}/customers/1000/jobs/1002",
    }
    assert all(r["headers"]["authorization"] == "Bearer partner-token" for r in receiver.requests)
    # The token is fetched once and reused.
    assert receiver.token_requests == [
        {"grant_type": "client_credentials", "client_id": "icims", "client_secret": "partner-secret"}
    ]


def test_failed_delivery_is_recorded(sb, receiver):
    register(
        sb,
        receiver,
        auth="oauth",
        token_url=f"{receiver.url}/token",
        client_id="icims",
        client_secret="wrong",
    )
    reply = HTTP.post(
        f"{sb.url}/_sandbox/events",
        params={"wait": "true"},
        json={"eventType": "JobUnpostToWebEvent", "systemId": 1001},
    ).json()
    assert reply["delivery"]["status_code"] is None and "401" in reply["delivery"]["error"]
    assert receiver.requests == []


def test_events_without_a_webhook_are_kept(sb):
    reply = HTTP.post(f"{sb.url}/_sandbox/events", json={"eventType": "JobPostToWebEvent", "systemId": 1001})
    assert reply.status_code == 200 and reply.json()["delivery"] is None
    assert events(sb)[0]["deliveries"] == []
    bad = HTTP.post(f"{sb.url}/_sandbox/events", json={"eventType": "Nope", "systemId": 1001})
    assert bad.status_code == 400
    assert (
        HTTP.post(
            f"{sb.url}/_sandbox/events", json={"eventType": "AssessmentEvent", "systemId": 5}
        ).status_code
        == 404
    )
    assert HTTP.put(f"{sb.url}/_sandbox/webhook", json={"url": "http://x", "auth": "hmac"}).status_code == 400
