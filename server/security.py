"""What guards every HTTP exchange besides the key check itself (DESIGN.md "Trust").

- `SecurityMiddleware` (pure ASGI, installed by `server.app.create_app`):
  - refuses a cross-site state-changing request that rides on the session cookie (CSRF). An unsafe
    request (POST, PUT, PATCH, DELETE) to the pages, or any unsafe request carrying the session
    cookie without an API-key header, must say it comes from this origin: `Sec-Fetch-Site` same-origin
    (or none: typed by the user) and, when sent, an `Origin` equal to the request's own. Neither
    header: refused too (fails closed). API-key headers cannot be sent cross-site without a CORS
    preflight, which this service never grants, so those requests need no check;
  - adds the security headers to every response: a Content-Security-Policy without inline script
    and with `frame-ancestors 'none'`, `X-Content-Type-Options: nosniff`, `Referrer-Policy`, and
    `Cache-Control: no-store` on the pages and on any response to a request with credentials.
- where a request's credentials are (`header_key`, `session_cookie`; never the URL) and
  `check_key`, which looks a key up through `FailureThrottle`: a per-client token bucket of failed
  authentications (429 with Retry-After once spent).
- `QueryKeyRedactor`: a logging filter that blanks credential-looking query parameters (`api_key=`)
  in log records, the uvicorn access log included.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request, status
from starlette.requests import cookie_parser

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE_NAME = "icims_agents_session"  # the pages' session id (server.auth)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PAGES_PREFIX = "/ui"
STATIC_PREFIX = "/ui/static/"
# Inline styles stay allowed: the offer letter preview (an `<iframe sandbox srcdoc>`, which inherits
# this policy) carries its own stylesheet. Scripts come from /ui/static only.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# FastAPI's /docs and /redoc load Swagger UI / ReDoc from jsDelivr with an inline bootstrap script;
# they hold no session data (the docs authenticate with a pasted header key).
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https:; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def _key_header(headers: dict[bytes, bytes]) -> bool:
    """An API key in a header: no page of another site can send one (it would need a CORS preflight),
    and unlike cookies or cached Basic credentials a browser never attaches one by itself."""
    return b"x-api-key" in headers or headers.get(b"authorization", b"")[:7].lower() == b"bearer "


def _origin(scheme: str, host: str) -> str:
    scheme, host = scheme.lower(), host.strip().lower()
    if host.endswith(f":{_DEFAULT_PORTS.get(scheme, '')}"):
        host = host.rsplit(":", 1)[0]
    return f"{scheme}://{host}"


def _own_origin(scope: Scope, headers: dict[bytes, bytes]) -> str:
    host = headers.get(b"host", b"").decode("latin-1")
    if not host and scope.get("server"):
        server_host, port = scope["server"]
        host = f"{server_host}:{port}"
    return _origin(str(scope.get("scheme", "http")), host)


def same_origin(scope: Scope, headers: dict[bytes, bytes]) -> bool:
    """Whether a browser says this request comes from a page of this very origin (scheme, host and
    port: another port of the same host is another origin)."""
    site = headers.get(b"sec-fetch-site")
    origin = headers.get(b"origin")
    if site is None and origin is None:
        return False
    if site is not None and site.decode("latin-1").lower() not in ("same-origin", "none"):
        return False
    if origin is not None:
        scheme, sep, host = origin.decode("latin-1").partition("://")
        if not sep or _origin(scheme, host) != _own_origin(scope, headers):
            return False
    return True


class SecurityMiddleware:
    """CSRF refusal and security headers (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, cookie_name: str = COOKIE_NAME) -> None:
        self.app = app
        self.cookie_name = cookie_name

    def _cookie_borne(self, headers: dict[bytes, bytes]) -> bool:
        raw = headers.get(b"cookie")
        return raw is not None and self.cookie_name in cookie_parser(raw.decode("latin-1"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        path: str = scope.get("path", "")
        has_key_header = _key_header(headers)
        cookie = self._cookie_borne(headers)
        if (
            scope.get("method") in UNSAFE_METHODS
            and not has_key_header
            and (path.startswith(PAGES_PREFIX) or cookie)
            and not same_origin(scope, headers)
        ):
            await _refuse_cross_site(send)
            return
        extra = _security_headers(scope, path, credentials=has_key_header or cookie)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers") or []}
                message["headers"] = [
                    *(message.get("headers") or []),
                    *((name, value) for name, value in extra if name not in present),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _security_headers(scope: Scope, path: str, *, credentials: bool) -> list[tuple[bytes, bytes]]:
    docs = path.startswith(DOCS_PATHS)
    out = [
        (b"content-security-policy", (DOCS_CSP if docs else PAGE_CSP).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if scope.get("scheme") == "https":
        out.append((b"strict-transport-security", b"max-age=31536000"))
    pages = path.startswith(PAGES_PREFIX) and not path.startswith(STATIC_PREFIX)
    if pages or credentials:
        # Signed-in pages and API answers hold candidate data: no cache may keep them.
        out.append((b"cache-control", b"no-store"))
    return out


async def _refuse_cross_site(send: Send) -> None:
    body = (
        b'{"detail":"cross-site request refused: a state-changing request signed in by the session '
        b"cookie must come from this site's own pages (Origin / Sec-Fetch-Site)\"}"
    )
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                (b"x-content-type-options", b"nosniff"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


@dataclass
class _Bucket:
    tokens: float
    updated: float


class FailureThrottle:
    """Failed authentications per client (IP address): a token bucket of `burst` failures refilled
    at `per_second`. While a client's bucket is empty every attempt it makes is refused (429), a
    right key included, so the throttle cannot be used as an oracle. In-process and thread-safe."""

    def __init__(
        self,
        *,
        burst: int = 10,
        per_second: float = 0.2,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst = burst
        self.per_second = per_second
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def _bucket(self, client: str, now: float) -> _Bucket:
        bucket = self._buckets.get(client)
        if bucket is None:
            return _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.per_second)
        bucket.updated = now
        return bucket

    def retry_after(self, client: str) -> int | None:
        """Seconds until this client may try again, or None when it may now."""
        with self._lock:
            now = self.clock()
            bucket = self._bucket(client, now)
            if bucket.tokens >= 1:
                return None
            return max(1, math.ceil((1 - bucket.tokens) / self.per_second))

    def failed(self, client: str) -> None:
        with self._lock:
            now = self.clock()
            bucket = self._bucket(client, now)
            bucket.tokens = max(0.0, bucket.tokens - 1)
            self._buckets[client] = bucket
            if len(self._buckets) > self.max_clients:
                # Full buckets carry no information: forget them first, then the oldest.
                for name in [
                    n for n, b in self._buckets.items() if self._bucket(n, now).tokens >= self.burst
                ]:
                    del self._buckets[name]
                while len(self._buckets) > self.max_clients:
                    del self._buckets[next(iter(self._buckets))]


# --- a request's credentials ---------------------------------------------------------------------


def header_key(request: Request) -> str | None:
    """The API key sent in `X-API-Key` or `Authorization: Bearer` (never read from the URL)."""
    header = request.headers.get("x-api-key")
    if header:
        return header.strip()
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def session_cookie(request: Request) -> str | None:
    return request.cookies.get(COOKIE_NAME) or None


def throttle_of(request: Request) -> FailureThrottle:
    """The app's throttle of failed authentications (one per app, made on first use)."""
    state = request.app.state
    throttle = getattr(state, "auth_throttle", None)
    if throttle is None:
        throttle = state.auth_throttle = FailureThrottle()
    return throttle


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class Throttled(HTTPException):
    """429: the client's failed-authentication budget is spent for `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"too many failed authentications from this client; retry in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )


def check_key(request: Request, keys: Any, key: str) -> Any:
    """The principal of a presented key. A wrong key counts against the client's throttle, and a
    throttled client is answered 429 (`Throttled`) before its key is even looked at."""
    throttle = throttle_of(request)
    client = client_of(request)
    wait = throttle.retry_after(client)
    if wait is not None:
        raise Throttled(wait)
    principal = keys.authenticate(key)
    if principal is None:
        throttle.failed(client)
    return principal


# Query parameters that carry credentials; their values never reach a log line.
_QUERY_SECRET = re.compile(
    r"(?P<name>[?&;](?:api[_-]?key|x-api-key|key|token|access_token|session|secret|password)=)[^&;\s\"']*",
    re.IGNORECASE,
)


def redact_query_secrets(text: str) -> str:
    return _QUERY_SECRET.sub(r"\g<name>[redacted]", text)


class QueryKeyRedactor(logging.Filter):
    """Blanks credential query parameters in a log record. Arguments are redacted one by one first,
    keeping their shape (uvicorn's access formatter unpacks `args` as a 5-tuple); a message that
    still shows one once formatted is replaced by its redacted text."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_query_secrets(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact_query_secrets(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the formatter's to report, not ours
            return True
        redacted = redact_query_secrets(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


# uvicorn's loggers get the filter themselves (their records are logged on them, and dictConfig
# keeps a logger's filters); the root handlers see every other logger's records.
REDACTED_LOGGERS = ("uvicorn", "uvicorn.access", "uvicorn.error", "")


def install_log_redaction() -> None:
    """Add `QueryKeyRedactor` to the uvicorn loggers and to the root logger's handlers (idempotent)."""
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        targets: list[logging.Filterer] = [logger, *logger.handlers]
        for target in targets:
            if not any(isinstance(f, QueryKeyRedactor) for f in target.filters):
                target.addFilter(QueryKeyRedactor())
