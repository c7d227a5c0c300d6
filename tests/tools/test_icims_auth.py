"""Auth flows against httpx.MockTransport: HMAC vectors, OAuth caching, refresh, 401 retry, throttle."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from tools.icims.auth import (
    BasicAuth,
    HMACAuth,
    OAuth2ClientCredentials,
    auth_from_settings,
    hmac_canonical_request,
)
from tools.icims.client import ICIMSClient
from tools.icims.errors import ICIMSAuthError, TokenThrottled
from tools.settings import Settings

pytestmark = pytest.mark.anyio

BASE = "https://api.icims.com"
TOKEN_URL = "https://login.icims.com/oauth/token"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def client_for(auth: httpx.Auth, handler: Callable[[httpx.Request], httpx.Response]) -> ICIMSClient:
    return ICIMSClient(base_url=BASE, customer_id=1000, auth=auth, transport=httpx.MockTransport(handler))


# --- HMAC ------------------------------------------------------------------------------------------

# Computed by hand with sha256sum / `openssl dgst -sha256 -hmac` from the canonical texts below.
GET_CANONICAL = (
    "GET\n/customers/1000/people/1\nfields=firstname,lastname\n"
    "content-type:application/json\nhost:api.icims.com\n"
    f"x-icims-content-sha256:{EMPTY_SHA256}\nx-icims-date:2017-10-18T14:53:40+0000\n"
    "\ncontent-type;host;x-icims-content-sha256;x-icims-date"
)
GET_SIGNATURE = "d0394fcf4fea5f623328f0ffa08768d4e0dc33a35e17f2854aab7010a8cd08a2"
POST_BODY = b'{"baseprofile":1001,"associatedprofile":2}'
POST_BODY_SHA256 = "37d9c158fa49ee80251b699add882c92eeb23ab039246dde3ced721b44a27cb1"
POST_SIGNATURE = "d837e7b06336bfd1bb8889bb9fb972cb7880db14fd09ce1648a638748074135f"


def test_hmac_canonical_request_matches_hand_written_text() -> None:
    headers = {
        "x-icims-date": "2017-10-18T14:53:40+0000",
        "host": "api.icims.com",
        "content-type": "application/json",
        "x-icims-content-sha256": EMPTY_SHA256,
    }
    canonical = hmac_canonical_request(
        "get", "/customers/1000/people/1", "fields=firstname,lastname", headers
    )
    assert canonical == GET_CANONICAL


def test_hmac_signs_get_with_query() -> None:
    auth = HMACAuth(
        "sandbox-hmac", "sandbox-hmac-secret", now=lambda: datetime(2017, 10, 18, 14, 53, 40, tzinfo=UTC)
    )
    request = httpx.Request("GET", f"{BASE}/customers/1000/people/1?fields=firstname,lastname")
    signed = next(auth.auth_flow(request))
    assert signed.headers["x-icims-date"] == "2017-10-18T14:53:40+0000"
    assert signed.headers["x-icims-content-sha256"] == EMPTY_SHA256
    assert signed.headers["content-type"] == "application/json"
    assert signed.headers["authorization"] == (
        "x-icims-v1-hmac-sha256 user=sandbox-hmac,"
        "signedheaders=content-type;host;x-icims-content-sha256;x-icims-date,"
        f"signature={GET_SIGNATURE}"
    )


def test_hmac_signs_post_body_and_host_with_port() -> None:
    auth = HMACAuth(
        "sandbox-hmac", "sandbox-hmac-secret", now=lambda: datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
    )
    request = httpx.Request(
        "POST",
        "http://127.0.0.1:8790/customers/1000/applicantworkflows",
        content=POST_BODY,
        headers={"content-type": "application/json"},
    )
    signed = next(auth.auth_flow(request))
    assert signed.headers["x-icims-content-sha256"] == POST_BODY_SHA256
    assert signed.headers["authorization"].endswith(f"signature={POST_SIGNATURE}")


async def test_hmac_date_follows_clock_through_client() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"firstname": "A"})

    auth = HMACAuth("u", "s", now=lambda: datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC))
    async with client_for(auth, handler) as client:
        await client.get_profile("people", 1)
    assert seen[0].headers["x-icims-date"] == "2030-01-02T03:04:05+0000"
    assert seen[0].headers["authorization"].startswith("x-icims-v1-hmac-sha256 user=u,signedheaders=")


# --- Basic -----------------------------------------------------------------------------------------


async def test_basic_auth_header() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(200, json={})

    async with client_for(BasicAuth("user", "pw"), handler) as client:
        await client.get_profile("people", 1)
    assert seen == ["Basic " + base64.b64encode(b"user:pw").decode()]


def test_auth_from_settings_picks_mode() -> None:
    assert isinstance(auth_from_settings(Settings(_env_file=None, icims_auth_mode="basic")), BasicAuth)
    assert isinstance(auth_from_settings(Settings(_env_file=None, icims_auth_mode="hmac")), HMACAuth)
    oauth = auth_from_settings(
        Settings(_env_file=None, icims_auth_mode="oauth", icims_base_url="http://localhost:1")
    )
    assert isinstance(oauth, OAuth2ClientCredentials)
    assert oauth.token_url == "http://localhost:1/oauth/token"


# --- OAuth -----------------------------------------------------------------------------------------


class FakeOAuthServer:
    """Issues tokens t1, t2, ...; the API accepts only tokens in `valid` (all issued, by default)."""

    def __init__(self, expires_in: int = 3600) -> None:
        self.expires_in = expires_in
        self.issued: list[str] = []
        self.token_forms: list[dict[str, str]] = []
        self.api_auth: list[str] = []
        self.rejected: set[str] = set()
        self.reject_all = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            from urllib.parse import parse_qsl

            self.token_forms.append(dict(parse_qsl(request.content.decode())))
            token = f"t{len(self.issued) + 1}"
            self.issued.append(token)
            return httpx.Response(
                200, json={"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in}
            )
        header = request.headers.get("authorization", "")
        self.api_auth.append(header)
        token = header.removeprefix("Bearer ")
        if self.reject_all or token in self.rejected or token not in self.issued:
            return httpx.Response(
                401,
                json={
                    "errors": [
                        {"errorMessage": "Invalid Username or Password credentials provided.", "errorCode": 6}
                    ]
                },
                headers={"X-Error": "6:Invalid Username or Password credentials provided."},
            )
        return httpx.Response(200, json={"ok": True})


def oauth(clock: FakeClock | None = None, **kwargs: float) -> OAuth2ClientCredentials:
    return OAuth2ClientCredentials(
        TOKEN_URL,
        "cid",
        "secret",
        clock=clock or FakeClock(),
        **kwargs,
    )


async def test_oauth_token_request_form_and_caching() -> None:
    server = FakeOAuthServer()
    auth = oauth()
    async with client_for(auth, server) as client:
        for _ in range(3):
            await client.get_profile("people", 1)
        assert client.requests_sent == 3  # token requests are not API requests
    assert server.token_forms == [
        {
            "grant_type": "client_credentials",
            "client_id": "cid",
            "client_secret": "secret",
            "audience": "https://api.icims.com/v1/",
        }
    ]
    assert server.api_auth == ["Bearer t1"] * 3


async def test_oauth_refreshes_before_expiry() -> None:
    clock = FakeClock()
    server = FakeOAuthServer(expires_in=1000)
    auth = oauth(clock, refresh_margin=300)
    async with client_for(auth, server) as client:
        await client.get_profile("people", 1)
        clock.now = 699.0  # 301 s left: still fresh
        await client.get_profile("people", 1)
        clock.now = 700.0  # inside the 300 s margin: refresh before it can expire in flight
        await client.get_profile("people", 1)
    assert server.issued == ["t1", "t2"]
    assert server.api_auth == ["Bearer t1", "Bearer t1", "Bearer t2"]


async def test_oauth_short_lived_token_margin_is_capped_at_half_lifetime() -> None:
    clock = FakeClock()
    server = FakeOAuthServer(expires_in=10)
    auth = oauth(clock, refresh_margin=300)
    async with client_for(auth, server) as client:
        await client.get_profile("people", 1)
        clock.now = 4.9
        await client.get_profile("people", 1)
        clock.now = 5.0
        await client.get_profile("people", 1)
    assert server.issued == ["t1", "t2"]


async def test_oauth_refreshes_once_on_401_then_resends() -> None:
    server = FakeOAuthServer()
    server.rejected.add("t1")  # revoked server-side, still cached client-side
    async with client_for(oauth(), server) as client:
        assert await client.get_profile("people", 1) == {"ok": True}
        assert client.requests_sent == 2  # the rejected attempt and the resend
    assert server.issued == ["t1", "t2"]
    assert server.api_auth == ["Bearer t1", "Bearer t2"]


async def test_oauth_second_401_is_an_auth_error_without_more_refreshes() -> None:
    server = FakeOAuthServer()
    server.reject_all = True
    async with client_for(oauth(), server) as client:
        with pytest.raises(ICIMSAuthError) as info:
            await client.get_profile("people", 1)
    assert server.issued == ["t1", "t2"]
    assert info.value.status == 401
    assert info.value.code == 6
    assert str(info.value) == (
        "iCIMS 401 (code 6): Invalid Username or Password credentials provided."
        " [GET /customers/1000/people/1]"
    )


async def test_oauth_concurrent_requests_share_one_token_request() -> None:
    server = FakeOAuthServer()
    release = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            # Hold the token response until the other requests have queued on the auth lock:
            # call_soon runs after every task already scheduled has taken its first step.
            asyncio.get_running_loop().call_soon(release.set)
            await release.wait()
        return server(request)

    auth = oauth()
    async with ICIMSClient(
        base_url=BASE, customer_id=1000, auth=auth, transport=httpx.MockTransport(handler)
    ) as client:
        await asyncio.gather(*(client.get_profile("people", i) for i in range(1, 11)))
        assert client.requests_sent == 10
    assert server.issued == ["t1"]
    assert auth.tokens_requested == 1


async def test_oauth_concurrent_401s_share_one_refresh() -> None:
    server = FakeOAuthServer()
    auth = oauth()
    async with client_for(auth, server) as client:
        await client.get_profile("people", 1)  # caches t1
        server.rejected.add("t1")
        results = await asyncio.gather(*(client.get_profile("people", i) for i in range(5)))
    assert results == [{"ok": True}] * 5
    assert server.issued == ["t1", "t2"]


async def test_oauth_token_throttle_refuses_instead_of_exceeding() -> None:
    clock = FakeClock()
    server = FakeOAuthServer()
    auth = oauth(clock, max_token_requests=3, throttle_window=600)
    async with client_for(auth, server) as client:
        for _ in range(3):
            auth.invalidate()
            await client.get_profile("people", 1)
        auth.invalidate()
        clock.now = 599.0
        with pytest.raises(TokenThrottled) as info:
            await client.get_profile("people", 1)
        assert info.value.retry_after == pytest.approx(1.0)
        assert len(server.issued) == 3
        clock.now = 600.0  # the first token request left the window
        await client.get_profile("people", 1)
    assert len(server.issued) == 4


async def test_oauth_bad_credentials_raise_auth_error_with_oauth_body() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/oauth/token"
        return httpx.Response(401, json={"error": "access_denied", "error_description": "Unauthorized"})

    async with client_for(oauth(), handler) as client:
        with pytest.raises(ICIMSAuthError) as info:
            await client.get_profile("people", 1)
        assert client.requests_sent == 0
    assert info.value.code == "access_denied"
    assert "Unauthorized" in str(info.value)


async def test_oauth_without_expires_in_uses_default_lifetime() -> None:
    clock = FakeClock()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "x", "token_type": "Bearer"})
        return httpx.Response(200, json={})

    auth = oauth(clock, refresh_margin=0)
    async with client_for(auth, handler) as client:
        await client.get_profile("people", 1)
        clock.now = OAuth2ClientCredentials.DEFAULT_EXPIRES_IN - 1
        await client.get_profile("people", 1)
    assert auth.tokens_requested == 1
