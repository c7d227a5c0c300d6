"""Exceptions raised by the iCIMS client (API_NOTES 6.2).

iCIMS reports a problem twice: `X-Error: <code>:<detail>` headers and a JSON body
`{"errors": [{"errorMessage", "errorCode"}]}`. Both are kept on the exception, the body being the
primary source and the headers the fallback (proxies and some error paths drop the body).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

__all__ = [
    "BudgetExhausted",
    "ErrorItem",
    "ICIMSAuthError",
    "ICIMSBadRequest",
    "ICIMSError",
    "ICIMSNotFound",
    "ICIMSRateLimited",
    "ICIMSServerError",
    "ICIMSUnavailable",
    "QuotaExhausted",
    "TokenThrottled",
    "error_from_response",
]

# Documented codes (API_NOTES 6.2); iCIMS sometimes sends them as strings.
INTERNAL_ERROR = 0
FIELD_REQUIRED = 1
RESOURCE_NOT_FOUND = 2
RESOURCE_ACCESS_DENIED = 3


@dataclass(frozen=True)
class ErrorItem:
    errorCode: int | str | None
    errorMessage: str

    @classmethod
    def parse(cls, raw: object) -> ErrorItem | None:
        if not isinstance(raw, dict):
            return None
        code = raw.get("errorCode")
        if isinstance(code, str) and code.strip().lstrip("-").isdigit():
            code = int(code)
        elif not isinstance(code, int | str):
            code = None
        message = raw.get("errorMessage")
        return cls(errorCode=code, errorMessage=str(message) if message is not None else "")


class ICIMSError(Exception):
    """An iCIMS request failed. `status` is the HTTP status, or None for failures raised locally
    (budget, transport) before any response existed."""

    def __init__(
        self,
        status: int | None,
        errors: Sequence[ErrorItem] = (),
        *,
        x_error: Sequence[str] = (),
        x_warning: Sequence[str] = (),
        transaction: str | None = None,
        method: str | None = None,
        path: str | None = None,
        retry_after: float | None = None,
        message: str | None = None,
    ) -> None:
        self.status = status
        self.errors: list[ErrorItem] = list(errors)
        self.x_error: list[str] = list(x_error)
        self.x_warning: list[str] = list(x_warning)
        self.transaction = transaction
        self.method = method
        self.path = path
        # Seconds the server asked us to wait (Retry-After), when it said so.
        self.retry_after = retry_after
        self._message = message
        super().__init__(self._render())

    @property
    def code(self) -> int | str | None:
        """The first error code (body first, then `X-Error`)."""
        if self.errors:
            return self.errors[0].errorCode
        return None

    @property
    def message(self) -> str:
        if self._message:
            return self._message
        if self.errors:
            return "; ".join(e.errorMessage for e in self.errors if e.errorMessage) or "(no message)"
        return "(no message)"

    def _render(self) -> str:
        head = "iCIMS" if self.status is None else f"iCIMS {self.status}"
        if self.code is not None:
            head += f" (code {self.code})"
        where = f" [{self.method} {self.path}]" if self.method and self.path else ""
        return f"{head}: {self.message}{where}"

    def __str__(self) -> str:
        return self._render()


class ICIMSBadRequest(ICIMSError):
    """400: invalid body, search filter, or a required field left empty (code 1)."""


class ICIMSAuthError(ICIMSError):
    """401 (or a token endpoint refusal): credentials invalid or token rejected after one refresh."""


class ICIMSNotFound(ICIMSError):
    """404. iCIMS also answers 404 when the record exists but the API user may not see it
    (RESOURCE_ACCESS_DENIED, code 3), so "not found" can mean "access denied"."""

    @property
    def access_denied(self) -> bool:
        return self.code == RESOURCE_ACCESS_DENIED


class ICIMSRateLimited(ICIMSError):
    """429 (a short-term throttle); retried with backoff by the client."""


class QuotaExhausted(ICIMSRateLimited):
    """The daily request quota is used up: a 429 whose wait is longer than the client's
    `retry_wait_max`, or `x-ratelimit-remaining: 0`. Not retried; `reset_seconds` says when it resets."""

    reset_seconds: float | None = None


class ICIMSServerError(ICIMSError):
    """5xx from iCIMS."""


class ICIMSUnavailable(ICIMSError):
    """No usable response: timeouts or transport errors, after retries (or at once for a create
    that may already have reached the server)."""


class BudgetExhausted(ICIMSError):
    """The local `RequestBudget` refused the request's priority; nothing was sent."""


class TokenThrottled(ICIMSAuthError):
    """Sending another token request would exceed the token-request limit (500 per 10 minutes,
    API_NOTES 1.1); iCIMS may disable a client that exceeds it, so we refuse locally."""


def _header_values(response: httpx.Response, name: str) -> list[str]:
    return [v for v in response.headers.get_list(name) if v.strip()]


def _items_from_x_error(values: Sequence[str]) -> list[ErrorItem]:
    """`X-Error: 2:Job not found.` (and `code:field:detail` for field-specific ones)."""
    items = []
    for value in values:
        code_text, sep, detail = value.partition(":")
        if sep and code_text.strip().lstrip("-").isdigit():
            items.append(ErrorItem(errorCode=int(code_text), errorMessage=detail.strip()))
        else:
            items.append(ErrorItem(errorCode=None, errorMessage=value.strip()))
    return items


def _body_items(response: httpx.Response) -> list[ErrorItem]:
    try:
        body = json.loads(response.content) if response.content else None
    except (ValueError, UnicodeDecodeError):
        return []
    if not isinstance(body, dict):
        return []
    raw = body.get("errors")
    if isinstance(raw, dict):  # one error object instead of a list (seen in doc examples)
        raw = [raw]
    if isinstance(raw, list):
        return [item for item in map(ErrorItem.parse, raw) if item is not None]
    # OAuth token endpoints (Auth0) answer `{"error": "...", "error_description": "..."}`.
    if isinstance(body.get("error"), str):
        return [ErrorItem(errorCode=body["error"], errorMessage=str(body.get("error_description", "")))]
    return []


def parse_retry_after(value: str | None) -> float | None:
    """`Retry-After` as delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


_STATUS_CLASSES: dict[int, type[ICIMSError]] = {
    400: ICIMSBadRequest,
    401: ICIMSAuthError,
    404: ICIMSNotFound,
    429: ICIMSRateLimited,
}


def error_from_response(response: httpx.Response, *, cls: type[ICIMSError] | None = None) -> ICIMSError:
    """Build the exception for a non-2xx response (the body must have been read)."""
    status = response.status_code
    if cls is None:
        cls = _STATUS_CLASSES.get(status) or (ICIMSServerError if status >= 500 else ICIMSError)
    x_error = _header_values(response, "x-error")
    items = _body_items(response) or _items_from_x_error(x_error)
    request = response.request
    message = None
    if not items:
        message = response.reason_phrase or "error"
    return cls(
        status,
        items,
        x_error=x_error,
        x_warning=_header_values(response, "x-warning"),
        transaction=response.headers.get("x-transaction"),
        method=request.method,
        path=request.url.path,
        retry_after=parse_retry_after(response.headers.get("retry-after")),
        message=message,
    )
