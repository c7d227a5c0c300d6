"""Headers, quota, faults, write log, erasure, admin controls and client settings of the sandbox."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
import pytest

from sandbox.config import SandboxConfig, client_env
from sandbox.fixtures import tiny_tenant
from tools.settings import Settings

pytestmark = pytest.mark.integration
# One pooled client: a new httpx client per call would rebuild its TLS context every time.
HTTP = httpx.Client(timeout=30)

BASIC = {"Authorization": "Basic " + base64.b64encode(b"sandbox-user:sandbox-password").decode()}


@pytest.fixture
def sb(sandbox_factory):
    return sandbox_factory(tenant=tiny_tenant())


def get(sb, path: str = "/people/1", **kw) -> httpx.Response:
    return HTTP.get(f"{sb.url}/customers/1000{path}", headers=BASIC, **kw)


def patch(sb, path: str, body: dict) -> httpx.Response:
    return HTTP.patch(f"{sb.url}/customers/1000{path}", headers=BASIC, json=body)


def test_every_api_response_has_icims_headers(sb):
    for reply in (get(sb), get(sb, "/people/999"), HTTP.get(f"{sb.url}/customers/1000/people/1")):
        assert reply.headers["x-ratelimit-limit"] == "10000"
        assert int(reply.headers["x-ratelimit-remaining"]) <= 9999
        assert reply.headers["x-transaction"].startswith("{") and reply.headers["x-transaction"].endswith("}")
        assert reply.headers["strict-transport-security"] == "max-age=7776000"
        assert "date" in reply.headers
    assert [get(sb).headers["x-ratelimit-remaining"] for _ in range(2)] == ["9996", "9995"]


def test_date_and_reset_follow_the_sandbox_clock(sb):
    sb.state.advance_clock(2 * 86_400 + 3600)
    reply = get(sb)
    served = parsedate_to_datetime(reply.headers["date"])
    assert abs((served - sb.state.now()).total_seconds()) < 5
    assert served - datetime.now(UTC) > timedelta(days=2)
    midnight = datetime.combine(served.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    assert abs(int(reply.headers["x-ratelimit-reset"]) - (midnight - served).total_seconds()) <= 2
    # Admin responses carry the clock too.
    assert parsedate_to_datetime(HTTP.get(f"{sb.url}/_sandbox/stats").headers["date"]) - served < timedelta(
        minutes=1
    )


def test_quota_exhaustion_and_daily_reset(sandbox_factory):
    sb = sandbox_factory(tenant=tiny_tenant(), daily_limit=3)
    assert [get(sb).status_code for _ in range(3)] == [200, 200, 200]
    refused = get(sb)
    assert refused.status_code == 429
    body = refused.json()["errors"][0]
    assert refused.headers["x-error"] == f"{body['errorCode']}:{body['errorMessage']}"
    assert refused.headers["retry-after"] == refused.headers["x-ratelimit-reset"]
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert sb.state.requests_total == 4
    # A new UTC day brings a fresh quota.
    now = sb.state.now()
    tomorrow = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    sb.state.advance_clock((tomorrow - now).total_seconds() + 1)
    assert get(sb).status_code == 200


def test_quota_status_and_admin_controls(sandbox_factory):
    sb = sandbox_factory(tenant=tiny_tenant(), quota_status=503)
    assert (
        HTTP.post(f"{sb.url}/_sandbox/quota", json={"daily_limit": 50, "used": 50}).json()["remaining"] == 0
    )
    assert get(sb).status_code == 503
    HTTP.post(f"{sb.url}/_sandbox/quota", json={"used": 10})
    reply = get(sb)
    assert reply.status_code == 200 and reply.headers["x-ratelimit-remaining"] == "39"


def test_injected_5xx_happen_before_any_effect(sb):
    HTTP.put(f"{sb.url}/_sandbox/faults", json={"rate_5xx": 1.0})
    reply = patch(sb, "/people/2", {"firstname": "Changed"})
    assert reply.status_code in (500, 503)
    assert reply.json()["errors"][0]["errorCode"] == 0
    assert reply.headers["x-error"].startswith("0:")
    assert sb.state.tenant.get("people", 2).data["firstname"] == "Mike"
    assert sb.state.writelog == []
    assert sb.state.requests_total == 1 and sb.state.requests_by_method["PATCH"] == 1
    HTTP.put(f"{sb.url}/_sandbox/faults", json={"rate_5xx": 0.0})
    assert patch(sb, "/people/2", {"firstname": "Changed"}).status_code == 204


def test_injected_429_uses_retry_after(sb):
    sb.state.fault_injector.update({"rate_429": 1.0, "retry_after_seconds": 0})
    reply = get(sb)
    assert reply.status_code == 429 and reply.headers["retry-after"] == "0"
    assert HTTP.get(f"{sb.url}/_sandbox/stats").json()["faults_injected"] == {"429": 1}


def test_faults_are_deterministic_per_seed(sandbox_factory):
    def statuses() -> list[int]:
        sb = sandbox_factory(tenant=tiny_tenant(), faults={"rate_429": 0.3, "rate_5xx": 0.3, "seed": 11})
        return [get(sb).status_code for _ in range(20)]

    first = statuses()
    assert first == statuses()
    assert {200, 429} <= set(first) and set(first) & {500, 503}


def test_latency_fault(sb):
    HTTP.put(f"{sb.url}/_sandbox/faults", json={"latency_ms": 200})
    started = time.perf_counter()
    assert get(sb).status_code == 200
    assert time.perf_counter() - started >= 0.2
    faults = HTTP.get(f"{sb.url}/_sandbox/faults").json()
    assert faults["latency_ms"] == 200 and faults["rate_5xx"] == 0.0
    assert HTTP.put(f"{sb.url}/_sandbox/faults", json={"rate_429": 2}).status_code == 400


def test_write_log(sb):
    assert patch(sb, "/people/2", {"firstname": "Michael"}).status_code == 204
    assert patch(sb, "/people/999", {"firstname": "Nobody"}).status_code == 404
    created = HTTP.post(
        f"{sb.url}/customers/1000/people/2/fields/phones", headers=BASIC, json={"phonenumber": "1"}
    )
    HTTP.delete(created.headers["location"], headers=BASIC)
    entries = HTTP.get(f"{sb.url}/_sandbox/writelog").json()["entries"]
    assert [(e["seq"], e["method"], e["path"]) for e in entries] == [
        (1, "PATCH", "/customers/1000/people/2"),
        (2, "POST", "/customers/1000/people/2/fields/phones"),
        (3, "DELETE", httpx.URL(created.headers["location"]).path),
    ]
    assert entries[0]["body"] == {"firstname": "Michael"}
    assert [
        e["seq"] for e in HTTP.get(f"{sb.url}/_sandbox/writelog", params={"since": 2}).json()["entries"]
    ] == [3]
    assert sb.state.writelog[0].method == "PATCH"


def test_erasure(sb):
    before = sb.state.tenant.get("people", 1).updated
    sb.state.advance_clock(120)
    assert HTTP.post(f"{sb.url}/_sandbox/people/1/erase").status_code == 204
    person = get(sb).json()
    assert person["folder"] == {"id": "D32099", "value": "Purged", "formattedvalue": "Purged"}
    for field in (
        "firstname",
        "lastname",
        "email",
        "addresses",
        "phones",
        "workexperience",
        "education",
        "resume",
    ):
        assert field not in person
    assert sb.state.tenant.get("people", 1).updated > before
    assert get(sb, "/people/1/fields/resume/binary").status_code == 404
    assert get(sb, "/people/1/fields/resume/text").status_code == 404
    entry = sb.state.writelog[-1]
    assert entry.path == "/_sandbox/people/1/erase" and entry.body["folder"] == {"id": "D32099"}
    assert HTTP.post(f"{sb.url}/_sandbox/people/999/erase").status_code == 404


def test_hard_delete_and_stats(sb):
    assert HTTP.delete(f"{sb.url}/_sandbox/people/4").status_code == 204
    assert get(sb, "/people/4").status_code == 404
    assert HTTP.delete(f"{sb.url}/_sandbox/people/4").status_code == 404
    stats = HTTP.get(f"{sb.url}/_sandbox/stats").json()
    assert stats["records"]["people"] == 3
    assert stats["requests_total"] == 1 and stats["requests_by_method"] == {"GET": 1}
    assert stats["quota"]["used"] == 1


def test_clock_endpoint(sb):
    before = sb.state.now()
    reply = HTTP.post(f"{sb.url}/_sandbox/clock", json={"advance_seconds": 7200})
    assert datetime.fromisoformat(reply.json()["now"]) - before >= timedelta(hours=2)


def test_client_env_matches_settings():
    env = client_env(SandboxConfig(daily_limit=1234), "http://127.0.0.1:9999/")
    settings = Settings(
        _env_file=None, **{k.removeprefix("ICIMS_AGENTS_").lower(): v for k, v in env.items()}
    )
    assert settings.icims_base_url == "http://127.0.0.1:9999"
    assert settings.token_url == "http://127.0.0.1:9999/oauth/token"
    assert settings.icims_auth_mode == "oauth" and settings.icims_customer_id == 1000
    assert settings.icims_client_secret.get_secret_value() == "sandbox-secret"
    assert settings.icims_password.get_secret_value() == "sandbox-password"
    assert settings.icims_hmac_secret.get_secret_value() == "sandbox-hmac-secret"
    assert settings.quota_daily_limit == 1234
    assert all(key.removeprefix("ICIMS_AGENTS_").lower() in Settings.model_fields for key in env)
