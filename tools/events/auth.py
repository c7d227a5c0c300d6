"""Who sent an event: iCIMS authenticates its notifications with HMAC (signed exactly like its
inbound API calls, API_NOTES 1.3 and 5), Basic, or an OAuth bearer token it fetched from us by client
credentials. Each configured customer id names one scheme; the credentials identify the tenant
before the body is even inflated, and the payload's `customerId` must then be that tenant's.

Bearer tokens are stateless (`customer.expiry.signature`, HMAC-SHA256 under the tenant's client
secret), so every app process and restart accepts them without shared token storage.

Headers reach us as latin-1 text, so any byte may appear in them: every comparison is of UTF-8
bytes (`compare_digest` refuses non-ASCII text), numbers must be ASCII digits (`"²".isdigit()` is
true), and malformed credentials of any kind are an `AuthError` (a 401), never an exception.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from tools.events.models import EventTenant
from tools.icims.auth import (
    HMAC_ALGORITHM,
    HMAC_DATE_FORMAT,
    hmac_canonical_request,
    hmac_signature,
    hmac_string_to_sign,
)

REQUIRED_SIGNED = frozenset({"host", "x-icims-date", "x-icims-content-sha256"})


class AuthError(Exception):
    """401: the credentials are missing, unknown or wrong (the detail is logged, never shown)."""


def _same(expected: str, provided: str) -> bool:
    """Constant-time equality of two texts of any characters."""
    return hmac.compare_digest(expected.encode("utf-8"), provided.encode("utf-8", "surrogateescape"))


def _ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 12


@dataclass(frozen=True)
class Caller:
    customer_ids: frozenset[str]  # the tenants these credentials are valid for
    scheme: str


@dataclass(frozen=True)
class SignedRequest:
    method: str
    raw_path: str
    query: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes  # as sent (gzip'd): the content hash covers the wire bytes


def authenticate(
    tenants: Mapping[str, EventTenant],
    request: SignedRequest,
    *,
    max_skew_seconds: float | None,
    now: datetime | None = None,
) -> Caller:
    header = request.headers.get("authorization", "").strip()
    scheme, _, credentials = header.partition(" ")
    scheme = scheme.lower()
    if scheme == HMAC_ALGORITHM:
        return _hmac(tenants, request, header, max_skew_seconds, now or datetime.now(UTC))
    if scheme == "basic":
        return _basic(tenants, credentials.strip())
    if scheme == "bearer":
        return _bearer(tenants, credentials.strip(), now or datetime.now(UTC))
    raise AuthError("no supported Authorization header")


def _basic(tenants: Mapping[str, EventTenant], credentials: str) -> Caller:
    if not credentials.isascii():
        raise AuthError("malformed Basic credentials")
    try:
        pair = base64.b64decode(credentials.encode("ascii"), validate=True).decode("utf-8")
        user, _, password = pair.partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthError("malformed Basic credentials") from None
    ok = set()
    for cid, tenant in tenants.items():
        if tenant.auth != "basic" or tenant.username != user or tenant.password is None:
            continue
        if _same(tenant.password.get_secret_value(), password):
            ok.add(cid)
    if not ok:
        raise AuthError("unknown Basic user or wrong password")
    return Caller(frozenset(ok), "basic")


def _parse_hmac(header: str) -> dict[str, str]:
    _, _, rest = header.partition(" ")
    parts: dict[str, str] = {}
    for item in re.split(r"\s*,\s*", rest.strip()):  # `,` or `, ` (API_NOTES 1.3)
        key, sep, value = item.partition("=")
        if not sep:
            raise AuthError("malformed HMAC authorization header")
        parts[key.strip().lower()] = value.strip()
    if not {"user", "signedheaders", "signature"} <= parts.keys():
        raise AuthError("HMAC authorization header lacks user, signedheaders or signature")
    return parts


def _hmac(
    tenants: Mapping[str, EventTenant],
    request: SignedRequest,
    header: str,
    max_skew_seconds: float | None,
    now: datetime,
) -> Caller:
    parts = _parse_hmac(header)
    signed = [n.strip().lower() for n in parts["signedheaders"].split(";") if n.strip()]
    if not set(signed) >= REQUIRED_SIGNED:
        raise AuthError("signedheaders must cover host, x-icims-date and x-icims-content-sha256")
    if (
        request.headers.get("x-icims-content-sha256", "").strip().lower()
        != hashlib.sha256(request.body).hexdigest()
    ):
        raise AuthError("x-icims-content-sha256 does not match the body")
    icims_date = request.headers.get("x-icims-date", "").strip()
    if max_skew_seconds is not None:
        try:
            sent = datetime.strptime(icims_date, HMAC_DATE_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            raise AuthError("x-icims-date is not yyyy-mm-ddThh:mm:ss+0000") from None
        if abs((now - sent).total_seconds()) > max_skew_seconds:
            raise AuthError("x-icims-date is outside the allowed clock skew (replay?)")
    values = {name: request.headers.get(name, "").strip() for name in signed}
    # A signer may sign the host with or without its port.
    hosts = [values.get("host", "")]
    if ":" in hosts[0]:
        hosts.append(hosts[0].rsplit(":", 1)[0])
    provided = parts["signature"].lower()
    ok = set()
    for cid, tenant in tenants.items():
        if tenant.auth != "hmac" or tenant.hmac_user != parts["user"] or tenant.hmac_secret is None:
            continue
        secret = tenant.hmac_secret.get_secret_value()
        for host in hosts:
            headers = {**values, "host": host}
            canonical = hmac_canonical_request(request.method, request.raw_path, request.query, headers)
            expected = hmac_signature(secret, hmac_string_to_sign(icims_date, canonical))
            if _same(expected, provided):
                ok.add(cid)
                break
    if not ok:
        raise AuthError("HMAC signature mismatch or unknown user")
    return Caller(frozenset(ok), "hmac")


# --- bearer tokens ---------------------------------------------------------------------------------


def _token_signature(secret: str, customer_id: str, expiry: int) -> str:
    return hmac.new(secret.encode(), f"{customer_id}.{expiry}".encode(), hashlib.sha256).hexdigest()


def issue_token(
    tenants: Mapping[str, EventTenant], client_id: str, client_secret: str, ttl_seconds: int
) -> tuple[str, str] | None:
    """(token, customer id) for valid client credentials, else None."""
    for cid, tenant in tenants.items():
        if tenant.auth != "bearer" or tenant.client_id != client_id or tenant.client_secret is None:
            continue
        secret = tenant.client_secret.get_secret_value()
        if _same(secret, client_secret):
            expiry = int(time.time()) + ttl_seconds
            return f"{cid}.{expiry}.{_token_signature(secret, cid, expiry)}", cid
    return None


def _bearer(tenants: Mapping[str, EventTenant], token: str, now: datetime) -> Caller:
    cid, _, rest = token.partition(".")
    expiry_text, _, signature = rest.partition(".")
    tenant = tenants.get(cid)
    if (
        tenant is None
        or tenant.auth != "bearer"
        or tenant.client_secret is None
        or not _ascii_digits(expiry_text)
    ):
        raise AuthError("unknown or malformed bearer token")
    expected = _token_signature(tenant.client_secret.get_secret_value(), cid, int(expiry_text))
    if not _same(expected, signature):
        raise AuthError("bearer token signature mismatch")
    if int(expiry_text) < now.timestamp():
        raise AuthError("bearer token expired")
    return Caller(frozenset({cid}), "bearer")
