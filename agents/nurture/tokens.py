"""Signed unsubscribe tokens: `<payload>.<signature>`, both base64url, HMAC-SHA256 over the payload.

The payload names the person, campaign and step the message was for; nothing else (it travels in
links). The secret comes from settings (`nurture_unsubscribe_secret`) or, by default, a random one
created once in `data_dir`, so links keep working across restarts of the same installation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

if TYPE_CHECKING:
    from tools.settings import Settings


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


def secret_for(settings: Settings) -> bytes:
    configured = settings.nurture_unsubscribe_secret
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value().encode("utf-8")
    path = Path(settings.data_dir) / "nurture_unsubscribe.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Exclusive create: two processes starting together keep whichever wrote first.
        try:
            with open(path, "x", encoding="ascii") as fh:
                fh.write(secrets.token_hex(32))
            path.chmod(0o600)
        except FileExistsError:
            pass
    return path.read_text(encoding="ascii").strip().encode("ascii")


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
