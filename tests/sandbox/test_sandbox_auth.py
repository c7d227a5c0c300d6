"""Sandbox authentication over real HTTP: OAuth tokens, Basic, HMAC, customer binding, expiry."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import httpx
import pytest

from sandbox.fixtures import tiny_tenant

pytestmark = pytest.mark.integration
# One pooled client: a new httpx client per call would rebuild its TLS context every time.
HTTP = httpx.Client(timeout=30)

TOKEN_FORM = {
    "grant_type": "client_credentials",
    "client_id": "sandbox-client",
    "client_secret": "sandbox-secret",
}


@pytest.fixture
def sb(sandbox_factory):
    return sandbox_factory(tenant=tiny_tenant())


def token(url: str, **overrides: str) -> httpx.Response:
    return HTTP.post(f"{url}/oauth/token", data={**TOKEN_FORM, **overrides})


def bearer(url: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(url).json()['access_token']}"}


def hmac_headers(
    secret: str, method: str, url: str, body: bytes = b"", *, user: str = "sandbox-hmac", sep: str = ","
) -> dict[str, str]:
    """An independent implementation of API_NOTES 1.3, to check the sandbox against."""
    parsed = httpx.URL(url)
    headers = {
        "content-type": "application/json",
        "host": parsed.netloc.decode(),
        "x-icims-date": "2025-01-01T09:00:00+0000",
        "x-icims-content-sha256": hashlib.sha256(body).hexdigest(),
    }
    lines = sorted(f"{k}:{v}" for k, v in headers.items())
    names = ";".join(sorted(headers))
    canonical = "\n".join([method, parsed.path, parsed.query.decode(), *lines, "", names])
    to_sign = "\n".join(
        ["x-icims-v1-hmac-sha256", headers["x-icims-date"], hashlib.sha256(canonical.encode()).hexdigest()]
    )
    signature = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    auth = sep.join(
        [f"x-icims-v1-hmac-sha256 user={user}", f"signedheaders={names}", f"signature={signature}"]
    )
    return {**headers, "authorization": auth}


def assert_icims_error(response: httpx.Response, status: int, code: int) -> str:
    assert response.status_code == status
    body = response.json()
    assert body["errors"][0]["errorCode"] == code
    message = body["errors"][0]["errorMessage"]
    assert response.headers["x-error"] == f"{code}:{message}"
    return message


def test_token_endpoint_issues_bearer_tokens(sb):
    reply = token(sb.url, audience="https://api.icims.com/v1/")
    assert reply.status_code == 200
    body = reply.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 86400 and body["access_token"]
    person = HTTP.get(
        f"{sb.url}/customers/1000/people/1", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert person.status_code == 200 and person.json()["firstname"] == "Shari"
    # Token requests are not customer API requests.
    assert sb.state.requests_total == 1


def test_token_endpoint_rejects_bad_credentials_and_grants(sb):
    bad = token(sb.url, client_secret="wrong")
    assert bad.status_code == 401 and bad.json()["error"] == "access_denied"
    assert token(sb.url, client_id="nobody").status_code == 401
    grant = token(sb.url, grant_type="password")
    assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"


def test_missing_or_unknown_bearer_is_401_code_6(sb):
    message = assert_icims_error(HTTP.get(f"{sb.url}/customers/1000/people/1"), 401, 6)
    assert message == "Invalid Username or Password credentials provided."
    reply = HTTP.get(f"{sb.url}/customers/1000/people/1", headers={"Authorization": "Bearer nope"})
    assert_icims_error(reply, 401, 6)
    # Refused requests still count as requests received.
    assert sb.state.requests_total == 2


def test_token_is_bound_to_its_customer(sb):
    reply = HTTP.get(f"{sb.url}/customers/2000/people/1", headers=bearer(sb.url))
    assert_icims_error(reply, 404, 3)


def test_token_expires_on_the_sandbox_clock(sb):
    headers = bearer(sb.url)
    assert HTTP.get(f"{sb.url}/customers/1000/people/1", headers=headers).status_code == 200
    sb.state.advance_clock(86_401)
    assert_icims_error(HTTP.get(f"{sb.url}/customers/1000/people/1", headers=headers), 401, 6)
    assert HTTP.get(f"{sb.url}/customers/1000/people/1", headers=bearer(sb.url)).status_code == 200


def test_admin_expire_invalidates_current_tokens(sb):
    headers = bearer(sb.url)
    assert HTTP.post(f"{sb.url}/_sandbox/tokens/expire").json() == {"expired": 1}
    assert HTTP.get(f"{sb.url}/customers/1000/people/1", headers=headers).status_code == 401
    assert HTTP.get(f"{sb.url}/customers/1000/people/1", headers=bearer(sb.url)).status_code == 200


def test_expire_tokens_fault_is_one_shot(sb):
    headers = bearer(sb.url)
    assert HTTP.put(f"{sb.url}/_sandbox/faults", json={"expire_tokens": True}).status_code == 200
    assert HTTP.get(f"{sb.url}/customers/1000/people/1", headers=headers).status_code == 401
    fresh = bearer(sb.url)
    assert HTTP.get(f"{sb.url}/customers/1000/people/1", headers=fresh).status_code == 200
    assert HTTP.get(f"{sb.url}/_sandbox/faults").json()["expire_tokens"] is False


def test_token_throttle_per_ten_minutes(sandbox_factory):
    sb = sandbox_factory(tenant=tiny_tenant(), token_throttle=3)
    assert [token(sb.url).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert token(sb.url).json()["error"] == "too_many_requests"
    sb.state.advance_clock(600)
    assert token(sb.url).status_code == 200


def test_basic_auth(sb):
    good = base64.b64encode(b"sandbox-user:sandbox-password").decode()
    reply = HTTP.get(f"{sb.url}/customers/1000/people/1", headers={"Authorization": f"Basic {good}"})
    assert reply.status_code == 200
    bad = base64.b64encode(b"sandbox-user:nope").decode()
    reply = HTTP.get(f"{sb.url}/customers/1000/people/1", headers={"Authorization": f"Basic {bad}"})
    assert_icims_error(reply, 401, 6)
    garbage = HTTP.get(f"{sb.url}/customers/1000/people/1", headers={"Authorization": "Basic %%%"})
    assert_icims_error(garbage, 401, 6)


@pytest.mark.parametrize("sep", [",", ", "])
def test_hmac_get_with_either_separator(sb, sep):
    url = f"{sb.url}/customers/1000/people/1?fields=firstname"
    reply = HTTP.get(url, headers=hmac_headers("sandbox-hmac-secret", "GET", url, sep=sep))
    assert reply.status_code == 200
    assert reply.json()["firstname"] == "Shari"


def test_hmac_patch_signs_the_body(sb):
    url = f"{sb.url}/customers/1000/people/2"
    body = json.dumps({"firstname": "Michael"}).encode()
    reply = HTTP.patch(url, content=body, headers=hmac_headers("sandbox-hmac-secret", "PATCH", url, body))
    assert reply.status_code == 204
    assert sb.state.tenant.get("people", 2).data["firstname"] == "Michael"


def test_hmac_failures_are_401_code_9(sb):
    url = f"{sb.url}/customers/1000/people/2"
    body = json.dumps({"firstname": "Eve"}).encode()
    wrong_secret = hmac_headers("not-the-secret", "PATCH", url, body)
    assert assert_icims_error(HTTP.patch(url, content=body, headers=wrong_secret), 401, 9) == (
        "Authentication credentials invalid"
    )
    # Signed for one body, sent with another: the content hash no longer matches.
    signed = hmac_headers("sandbox-hmac-secret", "PATCH", url, body)
    tampered = HTTP.patch(url, content=b'{"firstname": "Mallory"}', headers=signed)
    assert_icims_error(tampered, 401, 9)
    assert "does not match" in tampered.headers["x-sandbox-auth-detail"]
    unknown = hmac_headers("sandbox-hmac-secret", "PATCH", url, body, user="ghost")
    assert_icims_error(HTTP.patch(url, content=body, headers=unknown), 401, 9)
    # Signed for a different path.
    other = hmac_headers("sandbox-hmac-secret", "PATCH", f"{sb.url}/customers/1000/people/3", body)
    assert_icims_error(HTTP.patch(url, content=body, headers=other), 401, 9)
    # Nothing was written by any of them.
    assert sb.state.tenant.get("people", 2).data["firstname"] == "Mike"
    assert sb.state.writelog == []
