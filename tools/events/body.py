"""Reading an event body within limits: the bytes as sent are capped while they stream in and must
all arrive before a deadline, gzip is inflated in bounded steps (a small gzip bomb costs at most
`max_json` bytes of output before it is refused, never its full expansion), and JSON nested deeper
than any iCIMS payload is refused before the parser recurses into it (a 300-byte gzip of 100k `[`
would otherwise end in a RecursionError)."""

from __future__ import annotations

import asyncio
import json
import re
import zlib
from collections.abc import AsyncIterator
from typing import Any

GZIP_MAGIC = b"\x1f\x8b"
_STEP = 16 * 1024
# iCIMS payloads nest three levels (`links` -> link -> fields); 32 leaves room for any future field.
MAX_JSON_DEPTH = 32
# The bytes that change the nesting depth or the string state; everything else is skipped by `re`.
_STRUCTURAL = re.compile(rb'[\[\]{}"\\]')
_OPEN, _CLOSE = frozenset(b"[{"), frozenset(b"]}")
_QUOTE, _BACKSLASH = ord('"'), ord("\\")


class BodyError(ValueError):
    """The body cannot be accepted; `user_message` is what iCIMS shows its user, `status` the HTTP
    status of the refusal."""

    status = 400

    def __init__(self, user_message: str, debug_message: str) -> None:
        super().__init__(debug_message)
        self.user_message = user_message
        self.debug_message = debug_message


class SlowBody(BodyError):
    """The body did not arrive within its deadline (a slow or stalled client holds a connection)."""

    status = 408


def too_large(what: str, limit: int) -> BodyError:
    return BodyError("The notification is too large to process.", f"{what} exceeds {limit} bytes")


async def read_capped(
    chunks: AsyncIterator[bytes], limit: int, declared: str | None, *, timeout: float | None = None
) -> bytes:
    """The request body, refusing as soon as it (or its declared Content-Length) passes `limit`, or
    (`SlowBody`) when it is not complete `timeout` seconds after reading starts."""
    declared = (declared or "").strip()
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise too_large("Content-Length", limit)
    buf = bytearray()
    try:
        async with asyncio.timeout(timeout):
            async for chunk in chunks:
                buf += chunk
                if len(buf) > limit:
                    raise too_large("body", limit)
    except TimeoutError:
        raise SlowBody(
            "The notification took too long to arrive; please retry.",
            f"body not received within {timeout:g} s ({len(buf)} bytes read)",
        ) from None
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


def nested_within(data: bytes, limit: int) -> bool:
    """Whether no array or object in the JSON text opens deeper than `limit` (brackets inside
    strings do not count). Linear in the structural bytes; stops at the first level too deep."""
    depth = 0
    in_string = False
    escaped = -1  # the position of the byte a backslash escapes
    for match in _STRUCTURAL.finditer(data):
        at = match.start()
        byte = data[at]
        if in_string:
            if at == escaped:
                continue
            if byte == _BACKSLASH:
                escaped = at + 1
            elif byte == _QUOTE:
                in_string = False
        elif byte == _QUOTE:
            in_string = True
        elif byte in _OPEN:
            depth += 1
            if depth > limit:
                return False
        elif byte in _CLOSE:
            depth -= 1
    return True


def parse_json(data: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> dict[str, Any]:
    if not nested_within(data, max_depth):
        raise BodyError("The notification is not valid JSON.", f"JSON nested deeper than {max_depth} levels")
    try:
        payload = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BodyError("The notification is not valid JSON.", f"malformed JSON: {exc}") from None
    except RecursionError:  # only if the scan above was fooled by malformed text
        raise BodyError(
            "The notification is not valid JSON.", f"JSON nested deeper than {max_depth} levels"
        ) from None
    if not isinstance(payload, dict):
        raise BodyError("The notification is not valid JSON.", "the body must be a JSON object")
    return payload
