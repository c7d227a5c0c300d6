"""The three iCIMS authentication schemes (API_NOTES 1.1-1.3) as `httpx.Auth` flows.

They work with any `httpx.AsyncClient`; `ICIMSClient` uses them the same way. Requests that an auth
flow sends for itself (token requests) carry `request.extensions["icims_token"] = True` so the
client can leave them out of its request count and quota budget.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx

from tools.icims.errors import ICIMSAuthError, ICIMSServerError, TokenThrottled, error_from_response

if TYPE_CHECKING:
    from tools.settings import Settings

__all__ = [
    "HMAC_ALGORITHM",
    "HMAC_SIGNED_HEADERS",
    "BasicAuth",
    "HMACAuth",
    "OAuth2ClientCredentials",
    "auth_from_settings",
    "hmac_canonical_request",
    "hmac_signature",
    "hmac_string_to_sign",
]

TOKEN_EXTENSION = "icims_token"


class BasicAuth(httpx.BasicAuth):
    """`Authorization: Basic base64(user:password)` of the integration user (API_NOTES 1.2)."""


# --- HMAC (API_NOTES 1.3) ------------------------------------------------------------------------

HMAC_ALGORITHM = "x-icims-v1-hmac-sha256"
HMAC_SIGNED_HEADERS = ("content-type", "host", "x-icims-content-sha256", "x-icims-date")
HMAC_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S+0000"


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def hmac_canonical_request(method: str, path: str, query: str, headers: Mapping[str, str]) -> str:
    """`METHOD\\nPATH\\nQUERY\\n` + sorted `name:value` lines + `\\n\\n` + sorted names joined by `;`.

    `headers` are the signed headers only (`host` as sent, with its port when not the default).
    Path and query are as sent on the wire (percent-encoded; the query without `?`, empty when there
    is none). Lines are sorted as joined `name:value` strings, as the reference client (K-macat) does.
    """
    lines = sorted(f"{name.lower()}:{value}" for name, value in headers.items())
    names = ";".join(sorted(name.lower() for name in headers))
    return "\n".join([method.upper(), path, query, *lines, "", names])


def hmac_string_to_sign(icims_date: str, canonical_request: str) -> str:
    return f"{HMAC_ALGORITHM}\n{icims_date}\n{_sha256_hex(canonical_request.encode())}"


def hmac_signature(secret: str, string_to_sign: str) -> str:
    return hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()


class HMACAuth(httpx.Auth):
    """Signs every request: `x-icims-date`, `x-icims-content-sha256` and
    `Authorization: x-icims-v1-hmac-sha256 user=...,signedheaders=...,signature=...`.

    The official pages separate the parts with a bare `,` (one client uses `, `); we follow the docs.
    """

    requires_request_body = True

    def __init__(self, user: str, secret: str, *, now: Callable[[], datetime] | None = None) -> None:
        self.user = user
        self._secret = secret
        self._now = now or (lambda: datetime.now(UTC))

    def sign(self, request: httpx.Request) -> None:
        # The signed content-type must be sent too; GETs have no body but iCIMS still signs it.
        request.headers.setdefault("content-type", "application/json")
        icims_date = self._now().astimezone(UTC).strftime(HMAC_DATE_FORMAT)
        request.headers["x-icims-date"] = icims_date
        request.headers["x-icims-content-sha256"] = _sha256_hex(request.content)
        signed = {name: request.headers[name] for name in HMAC_SIGNED_HEADERS}
        raw_path, _, raw_query = request.url.raw_path.decode("ascii").partition("?")
        canonical = hmac_canonical_request(request.method, raw_path, raw_query, signed)
        signature = hmac_signature(self._secret, hmac_string_to_sign(icims_date, canonical))
        request.headers["authorization"] = (
            f"{HMAC_ALGORITHM} user={self.user},signedheaders={';'.join(HMAC_SIGNED_HEADERS)},"
            f"signature={signature}"
        )

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.sign(request)
        yield request


# --- OAuth 2.0 client credentials (API_NOTES 1.1) ------------------------------------------------


@dataclass
class _Token:
    value: str
    expires_at: float  # on the auth's monotonic clock
    lifetime: float


class OAuth2ClientCredentials(httpx.Auth):
    """Bearer tokens from a client-credentials grant, shared by all requests of the auth object.

    - cached until `refresh_margin` seconds (at most half the lifetime) before `expires_in` runs out;
    - one refresh at a time: concurrent requests wait on an `asyncio.Lock` and reuse its token;
    - a 401 triggers one refresh (unless another request already replaced the rejected token) and
      one resend; a second 401 is returned to the caller;
    - never more than `max_token_requests` token requests per `throttle_window` seconds (iCIMS may
      disable clients that request more than 500 in 10 minutes): `TokenThrottled` is raised instead.
    """

    DEFAULT_EXPIRES_IN = 1800.0  # when the response omits expires_in (K-qs uses the same fallback)

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        audience: str | None = "https://api.icims.com/v1/",
        *,
        refresh_margin: float = 300.0,
        max_token_requests: int = 500,
        throttle_window: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret
        self.audience = audience
        self.refresh_margin = refresh_margin
        self.max_token_requests = max_token_requests
        self.throttle_window = throttle_window
        self._clock = clock
        self._token: _Token | None = None
        self._lock = asyncio.Lock()
        self._token_times: deque[float] = deque()
        self.tokens_requested = 0

    # Public helpers ---------------------------------------------------------------------------

    @property
    def token(self) -> str | None:
        return self._token.value if self._token else None

    def invalidate(self) -> None:
        """Forget the cached token; the next request fetches a new one."""
        self._token = None

    # Internals --------------------------------------------------------------------------------

    def _fresh(self) -> bool:
        token = self._token
        if token is None:
            return False
        margin = min(self.refresh_margin, token.lifetime / 2)
        return self._clock() < token.expires_at - margin

    def _check_throttle(self) -> None:
        now = self._clock()
        while self._token_times and now - self._token_times[0] >= self.throttle_window:
            self._token_times.popleft()
        if len(self._token_times) >= self.max_token_requests:
            wait = self.throttle_window - (now - self._token_times[0])
            raise TokenThrottled(
                None,
                retry_after=wait,
                message=(
                    f"refusing token request: {len(self._token_times)} sent in the last "
                    f"{self.throttle_window:.0f} s (limit {self.max_token_requests}); retry in {wait:.0f} s"
                ),
                method="POST",
                path=httpx.URL(self.token_url).path,
            )
        self._token_times.append(now)
        self.tokens_requested += 1

    def _token_request(self) -> httpx.Request:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self._client_secret,
        }
        if self.audience:
            form["audience"] = self.audience
        return httpx.Request(
            "POST",
            self.token_url,
            data=form,
            headers={"accept": "application/json"},
            extensions={TOKEN_EXTENSION: True},
        )

    def _store(self, response: httpx.Response, sent_at: float) -> None:
        status = response.status_code
        if status != 200:
            # 5xx stays a server error so the client's retry policy applies; 429 means the token
            # endpoint itself is throttling us.
            cls = TokenThrottled if status == 429 else ICIMSServerError if status >= 500 else ICIMSAuthError
            raise error_from_response(response, cls=cls)
        try:
            body = response.json()
            value = str(body["access_token"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ICIMSAuthError(
                response.status_code,
                message=f"token response without access_token: {response.text[:200]!r}",
                method="POST",
                path=response.request.url.path,
            ) from exc
        try:
            lifetime = float(body.get("expires_in", self.DEFAULT_EXPIRES_IN))
        except (TypeError, ValueError):
            lifetime = self.DEFAULT_EXPIRES_IN
        # Measured from when the request was sent, so a slow token response errs on the early side.
        self._token = _Token(value=value, expires_at=sent_at + lifetime, lifetime=lifetime)

    def _begin_refresh(self) -> tuple[httpx.Request, float]:
        self._check_throttle()
        return self._token_request(), self._clock()

    async def _end_refresh(self, response: httpx.Response, sent_at: float) -> None:
        await response.aread()
        self._store(response, sent_at)

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        # The lock is held across the token round trip (a yield): concurrent requests queue behind
        # it and then find the fresh token instead of fetching their own.
        async with self._lock:
            if not self._fresh():
                token_request, sent_at = self._begin_refresh()
                await self._end_refresh((yield token_request), sent_at)
            assert self._token is not None
            used = self._token.value
        request.headers["authorization"] = f"Bearer {used}"
        response = yield request
        if response.status_code != 401:
            return
        async with self._lock:
            # Another request may already have replaced the rejected token while we waited.
            if self._token is None or self._token.value == used:
                self._token = None
                token_request, sent_at = self._begin_refresh()
                await self._end_refresh((yield token_request), sent_at)
            assert self._token is not None
            request.headers["authorization"] = f"Bearer {self._token.value}"
        yield request

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("OAuth2ClientCredentials supports httpx.AsyncClient only")


def auth_from_settings(settings: Settings) -> httpx.Auth:
    mode = settings.icims_auth_mode
    if mode == "oauth":
        return OAuth2ClientCredentials(
            token_url=settings.token_url,
            client_id=settings.icims_client_id,
            client_secret=settings.icims_client_secret.get_secret_value(),
            audience=settings.icims_audience,
        )
    if mode == "basic":
        return BasicAuth(settings.icims_username, settings.icims_password.get_secret_value())
    if mode == "hmac":
        return HMACAuth(settings.icims_hmac_user, settings.icims_hmac_secret.get_secret_value())
    raise ValueError(f"unknown iCIMS auth mode {mode!r}")
