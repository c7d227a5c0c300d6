"""Reading an event body within limits: the bytes as sent are capped while they stream in, and gzip
is inflated in bounded steps, so a small gzip bomb costs at most `max_json` bytes of output before it
is refused (never its full expansion)."""

from __future__ import annotations

import json
import zlib
from collections.abc import AsyncIterator
from typing import Any

GZIP_MAGIC = b"\x1f\x8b"
_STEP = 16 * 1024


class BodyError(ValueError):
    """The body cannot be accepted; `user_message` is what iCIMS shows its user."""

    def __init__(self, user_message: str, debug_message: str) -> None:
        super().__init__(debug_message)
        self.user_message = user_message
        self.debug_message = debug_message


def too_large(what: str, limit: int) -> BodyError:
    return BodyError("The notification is too large to process.", f"{what} exceeds {limit} bytes")


async def read_capped(chunks: AsyncIterator[bytes], limit: int, declared: str | None) -> bytes:
    """The request body, refusing as soon as it (or its declared Content-Length) passes `limit`."""
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise too_large("Content-Length", limit)
    buf = bytearray()
    async for chunk in chunks:
        buf += chunk
        if len(buf) > limit:
            raise too_large("body", limit)
    return bytes(buf)


def inflate(raw: bytes, encoding: str | None, limit: int) -> bytes:
    """The JSON bytes: gunzip'd when the body is gzip (by header or magic), never more than `limit`."""
    gzip_declared = (encoding or "").strip().lower() in ("gzip", "x-gzip")
    if not gzip_declared and not raw.startswith(GZIP_MAGIC):
        if (encoding or "identity").strip().lower() not in ("", "identity"):
            raise BodyError("The notification could not be read.", f"unsupported Content-Encoding {encoding}")
        if len(raw) > limit:
            raise too_large("decompressed body", limit)
        return raw
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    out = bytearray()
    data = raw
    try:
        while True:
            # max_length bounds each step's output; the rest of the input waits in unconsumed_tail.
            out += inflater.decompress(data, _STEP)
            if len(out) > limit:
                raise too_large("decompressed body", limit)
            data = inflater.unconsumed_tail
            if not data:
                break
        out += inflater.flush()
    except zlib.error as exc:
        raise BodyError("The notification could not be read.", f"invalid gzip data: {exc}") from None
    if len(out) > limit:
        raise too_large("decompressed body", limit)
    if not inflater.eof:
        raise BodyError("The notification could not be read.", "truncated gzip data")
    if inflater.unused_data.strip(b"\x00"):
        raise BodyError("The notification could not be read.", "trailing bytes after the gzip stream")
    return bytes(out)


def parse_json(data: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BodyError("The notification is not valid JSON.", f"malformed JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise BodyError("The notification is not valid JSON.", "the body must be a JSON object")
    return payload
