"""Signed unsubscribe tokens: `<payload>.<signature>`, both base64url, HMAC-SHA256 over the payload.

The payload names the person, campaign and step the message was for; nothing else (it travels in
links). The secret is passed in (`tools.nurture.secret.secret_for` reads or creates it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from urllib.parse import urlencode


class InvalidToken(ValueError):
    """The token is malformed or its signature does not match."""


@dataclass(frozen=True)
class UnsubscribeClaim:
    person_id: int
    campaign_id: str
    step: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(claim: UnsubscribeClaim, secret: bytes) -> str:
    payload = json.dumps(
        {"p": claim.person_id, "c": claim.campaign_id, "s": claim.step}, separators=(",", ":")
    ).encode("utf-8")
    mac = hmac.new(secret, payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(mac)}"


def verify(token: str, secret: bytes) -> UnsubscribeClaim:
    try:
        payload_text, mac_text = token.strip().split(".", 1)
        payload, mac = _unb64(payload_text), _unb64(mac_text)
    except ValueError:
        raise InvalidToken("malformed unsubscribe token") from None
    if not hmac.compare_digest(mac, hmac.new(secret, payload, hashlib.sha256).digest()):
        raise InvalidToken("unsubscribe token signature does not match")
    try:
        data = json.loads(payload)
        return UnsubscribeClaim(int(data["p"]), str(data["c"]), int(data["s"]))
    except (ValueError, KeyError, TypeError):
        raise InvalidToken("malformed unsubscribe token") from None


def unsubscribe_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/nurture/unsubscribe?{urlencode({'token': token})}"
