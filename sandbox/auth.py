"""Authentication: OAuth client-credentials tokens, Basic users and iCIMS HMAC (API_NOTES 1.1-1.3).

The HMAC helpers are shared: the sandbox verifies inbound requests with them and signs its outbound
event notifications with them (API_NOTES 5: "exactly like inbound HMAC").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sandbox.config import SandboxConfig
from sandbox.errors import (
    AUTH_INVALID,
    CREDENTIALS_MESSAGE,
    HMAC_MESSAGE,
    INVALID_CREDENTIALS,
    ICIMSError,
)

HMAC_ALGORITHM = "x-icims-v1-hmac-sha256"
HMAC_SIGNED_HEADERS = ("content-type", "host", "x-icims-content-sha256", "x-icims-date")
TOKEN_WINDOW = timedelta(minutes=10)
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


# --- HMAC -------------------------------------------------------------------------------------


def canonical_request(method: str, path: str, query: str, headers: Mapping[str, str]) -> str:
    """`METHOD\\nPATH\\nQUERY\\n` + sorted `name:value` lines + `\\n\\n` + sorted names joined by `;`.

    Sorting the joined `name:value` strings (not just the names) matches the reference client.
    """
    lines = sorted(f"{name.lower()}:{value}" for name, value in headers.items())
    names = ";".join(sorted(name.lower() for name in headers))
    return "\n".join([method.upper(), path, query, *lines, "", names])


def string_to_sign(icims_date: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"{HMAC_ALGORITHM}\n{icims_date}\n{digest}"


def hmac_signature(secret: str, method: str, path: str, query: str, headers: Mapping[str, str]) -> str:
    canonical = canonical_request(method, path, query, headers)
    sts = string_to_sign(headers.get("x-icims-date", ""), canonical)
    return hmac.new(secret.encode(), sts.encode(), hashlib.sha256).hexdigest()


def sign_headers(
    *, user: str, secret: str, method: str, path: str, query: str, host: str, body: bytes, icims_date: str
) -> dict[str, str]:
    """The headers a signed request carries (used for event notifications and in tests)."""
    signed = {
        "content-type": "application/json",
        "host": host,
        "x-icims-content-sha256": hashlib.sha256(body).hexdigest(),
        "x-icims-date": icims_date,
    }
    signature = hmac_signature(secret, method, path, query, signed)
    names = ";".join(sorted(signed))
    return {
        **signed,
        "authorization": f"{HMAC_ALGORITHM} user={user},signedheaders={names},signature={signature}",
    }


def parse_hmac_authorization(value: str) -> dict[str, str] | None:
    """Split `x-icims-v1-hmac-sha256 user=..,signedheaders=..,signature=..` (`,` or `, ` separators)."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != HMAC_ALGORITHM:
        return None
    parts: dict[str, str] = {}
    for item in re.split(r"\s*,\s*", rest.strip()):
        key, sep, val = item.partition("=")
        if not sep:
            return None
        parts[key.strip().lower()] = val.strip()
    if not {"user", "signedheaders", "signature"} <= parts.keys():
        return None
    return parts


# --- tokens -----------------------------------------------------------------------------------


@dataclass
class Token:
    client_id: str
    customer_id: int
    expires: datetime


@dataclass
class TokenStore:
    """Opaque bearer tokens bound to one customer; expiry follows the sandbox clock."""

    clock: Callable[[], datetime]
    tokens: dict[str, Token] = field(default_factory=dict)
    issued: dict[str, deque[datetime]] = field(default_factory=dict)
    issued_total: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self, client_id: str, customer_id: int, ttl_seconds: int, throttle: int) -> str | None:
        """A new token, or None when the client asked for more than `throttle` in ten minutes."""
        now = self.clock()
        with self.lock:
            recent = self.issued.setdefault(client_id, deque())
            while recent and now - recent[0] >= TOKEN_WINDOW:
                recent.popleft()
            if len(recent) >= throttle:
                return None
            recent.append(now)
            token = secrets.token_urlsafe(32)
            self.tokens[token] = Token(client_id, customer_id, now + timedelta(seconds=ttl_seconds))
            self.issued_total += 1
            return token

    def lookup(self, token: str) -> Token | None:
        with self.lock:
            found = self.tokens.get(token)
            if found is None:
                return None
            if found.expires <= self.clock():
                del self.tokens[token]
                return None
            return found

    def expire_all(self) -> int:
        with self.lock:
            count = len(self.tokens)
            self.tokens.clear()
            return count


# --- request authentication ---------------------------------------------------------------------


@dataclass
class Principal:
    kind: str  # "oauth" | "basic" | "hmac"
    name: str
    customer_id: int


@dataclass
class RequestFacts:
    """What authentication needs from a request, independent of the web framework."""

    method: str
    raw_path: str
    query: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes


def authenticate(config: SandboxConfig, tokens: TokenStore, request: RequestFacts) -> Principal:
    """The caller, or an ICIMSError (401): code 6 for bad credentials, code 9 for bad HMAC."""
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.strip().partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer":
        token = tokens.lookup(credentials.strip())
        if token is None:
            raise _credentials_error()
        return Principal("oauth", token.client_id, token.customer_id)
    if scheme == "basic":
        try:
            user, _, password = base64.b64decode(credentials.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise _credentials_error() from None
        expected = config.basic_users.get(user)
        if expected is None or not hmac.compare_digest(expected.encode(), password.encode()):
            raise _credentials_error()
        return Principal("basic", user, config.customer_id)
    if scheme == HMAC_ALGORITHM:
        return _authenticate_hmac(config, request, header)
    raise _credentials_error()


def _authenticate_hmac(config: SandboxConfig, request: RequestFacts, header: str) -> Principal:
    parts = parse_hmac_authorization(header)
    if parts is None:
        raise _hmac_error("malformed authorization header")
    secret = config.hmac_users.get(parts["user"])
    if secret is None:
        raise _hmac_error("unknown user")
    signed = [name.strip().lower() for name in parts["signedheaders"].split(";") if name.strip()]
    if not {"host", "x-icims-date", "x-icims-content-sha256"} <= set(signed):
        raise _hmac_error("signedheaders must cover host, x-icims-date and x-icims-content-sha256")
    claimed_hash = request.headers.get("x-icims-content-sha256", "").strip().lower()
    actual_hash = hashlib.sha256(request.body).hexdigest()
    # An empty body may be declared as the hash of "" or, as one source words it, the empty string.
    if claimed_hash != actual_hash and not (not request.body and claimed_hash == ""):
        raise _hmac_error("x-icims-content-sha256 does not match the body")
    values = {name: request.headers.get(name, "").strip() for name in signed}
    provided = parts["signature"].lower()
    for candidate in _hmac_candidates(request, values):
        expected = hmac_signature(secret, request.method, candidate[0], request.query, candidate[1])
        if hmac.compare_digest(expected, provided):
            return Principal("hmac", parts["user"], config.customer_id)
    raise _hmac_error("signature mismatch")


def _hmac_candidates(request: RequestFacts, values: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
    """The path as sent; the host with and without its port (a signer may use either form)."""
    hosts = [values.get("host", "")]
    if ":" in hosts[0]:
        hosts.append(hosts[0].rsplit(":", 1)[0])
    out = []
    for host in hosts:
        headers = dict(values)
        if "host" in headers:
            headers["host"] = host
        out.append((request.raw_path, headers))
    return out


def _credentials_error() -> ICIMSError:
    return ICIMSError(401, INVALID_CREDENTIALS, CREDENTIALS_MESSAGE)


def _hmac_error(detail: str) -> ICIMSError:
    # The body keeps iCIMS's generic wording; the reason goes to a header to help client authors.
    return ICIMSError(401, AUTH_INVALID, HMAC_MESSAGE, headers={"X-Sandbox-Auth-Detail": detail})
