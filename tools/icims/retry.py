"""When and how long the client retries (tenacity), and how rate-limit headers are read.

Retried: 429, 500, 502, 503, 504, timeouts and transport errors, with exponential backoff and
jitter; `Retry-After` is the minimum wait. Never retried: other 4xx (the request itself is wrong),
a used-up daily quota (`QuotaExhausted`: waiting hours inside a call helps nobody) and a refused
local budget.

Creates (POST that adds a record) are special because iCIMS has no idempotency keys (API_NOTES
6.3): resending a create whose first attempt reached the server may create a duplicate workflow or
profile. So a create is retried only when the server provably did not act on it: a connect error
or pool timeout (nothing was sent), 429 (refused by the rate limiter) or 503 (refused as
unavailable). After a read timeout, a dropped connection or a 500/502/504 the outcome is unknown
and the caller gets the error at once.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from tools.icims.errors import (
    BudgetExhausted,
    ICIMSError,
    ICIMSRateLimited,
    ICIMSServerError,
    QuotaExhausted,
    error_from_response,
)

__all__ = ["RETRYABLE_STATUS", "RateLimit", "RetryPolicy", "error_for_response", "parse_rate_limit"]

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
# Statuses under which a used-up quota may be reported (the sandbox's quota status is configurable).
logger = logging.getLogger(__name__)

_QUOTA_STATUS = frozenset({403, 429, 503})

# Exceptions raised before any byte of the request reached the server.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class RateLimit:
    """`x-ratelimit-limit`, `-remaining`, `-reset` (seconds until the daily window resets)."""

    limit: int | None
    remaining: int | None
    reset_seconds: float | None
    observed_at: datetime | None = None


def _int_header(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(float(value.strip()))
    except ValueError:
        return None


def parse_rate_limit(headers: httpx.Headers, observed_at: datetime | None = None) -> RateLimit | None:
    limit = _int_header(headers, "x-ratelimit-limit")
    remaining = _int_header(headers, "x-ratelimit-remaining")
    reset = _int_header(headers, "x-ratelimit-reset")
    if limit is None and remaining is None and reset is None:
        return None
    return RateLimit(
        limit=limit,
        remaining=remaining,
        reset_seconds=float(reset) if reset is not None else None,
        observed_at=observed_at,
    )


def error_for_response(response: httpx.Response, *, wait_max: float) -> ICIMSError:
    """The exception for an error response, telling a short throttle from a used-up daily quota.

    A 429 is a throttle worth waiting for when its wait fits in `wait_max`. With
    `x-ratelimit-remaining: 0` the wait is until `x-ratelimit-reset`; when that (or `Retry-After`)
    is longer than `wait_max`, or unknown, the daily quota is gone and `QuotaExhausted` is raised.
    """
    status = response.status_code
    rate = parse_rate_limit(response.headers)
    error = error_from_response(response)
    if status not in _QUOTA_STATUS:
        return error
    retry_after = error.retry_after
    quota_gone = rate is not None and rate.remaining == 0
    if quota_gone:
        assert rate is not None
        waits = [w for w in (retry_after, rate.reset_seconds) if w is not None]
        wait = max(waits) if waits else None
    else:
        wait = retry_after
    if (quota_gone and (wait is None or wait > wait_max)) or (
        status == 429 and wait is not None and wait > wait_max
    ):
        quota = error_from_response(response, cls=QuotaExhausted)
        assert isinstance(quota, QuotaExhausted)
        quota.reset_seconds = rate.reset_seconds if rate and rate.reset_seconds is not None else wait
        return quota
    if wait is not None:
        error.retry_after = wait
    return error


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    wait = state.next_action.sleep if state.next_action else 0.0
    logger.warning("iCIMS attempt %d failed (%s); retrying in %.2f s", state.attempt_number, exc, wait)


@dataclass
class RetryPolicy:
    max_retries: int = 6
    wait_base: float = 0.5
    wait_max: float = 30.0
    rng: random.Random = field(default_factory=random.Random)

    def is_retryable(self, exc: BaseException, *, idempotent: bool = True) -> bool:
        if isinstance(exc, QuotaExhausted | BudgetExhausted):
            return False
        if isinstance(exc, ICIMSRateLimited):
            return True
        if isinstance(exc, ICIMSServerError):
            if not idempotent:
                return exc.status == 503
            return exc.status in RETRYABLE_STATUS
        if isinstance(exc, ICIMSError):
            return False
        if isinstance(exc, _NOT_SENT):
            return True
        if isinstance(exc, httpx.TimeoutException | httpx.TransportError):
            return idempotent
        return False

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with "equal jitter": between half and all of base * 2^(n-1), capped."""
        ceiling = min(self.wait_max, self.wait_base * (2 ** max(0, attempt - 1)))
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def wait(self, state: RetryCallState) -> float:
        wait = self.backoff(state.attempt_number)
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, ICIMSError) and exc.retry_after is not None:
            # The server's Retry-After is a minimum; it is at most wait_max here (longer ones are
            # QuotaExhausted and never retried).
            wait = max(wait, exc.retry_after)
        return wait

    def retrying(self, *, idempotent: bool, sleep: Callable[[float], Awaitable[None]]) -> AsyncRetrying:
        return AsyncRetrying(
            stop=stop_after_attempt(self.max_retries + 1),
            wait=self.wait,
            retry=retry_if_exception(lambda exc: self.is_retryable(exc, idempotent=idempotent)),
            sleep=sleep,
            reraise=True,
            before_sleep=_log_retry,
        )
