"""Local share-out of the daily iCIMS request quota (API_NOTES 6.1: 10,000 requests a day by default,
reset at 00:00 UTC, reported in `x-ratelimit-*` headers).

Background sync must never starve a recruiter's interactive request or an approved write, so each
priority stops at its own floor: background stops while the remaining estimate is at or below
`reserve_realtime + reserve_writes`, writes stop at `reserve_realtime`, realtime may use everything.
The estimate is local bookkeeping corrected by every response's headers (the server is
authoritative); between two responses it can be off by at most the number of requests in flight.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import TYPE_CHECKING

from tools.icims.errors import BudgetExhausted

if TYPE_CHECKING:
    from tools.settings import Settings

__all__ = ["BudgetSnapshot", "Priority", "RequestBudget"]


class Priority(IntEnum):
    """Lower value = more important."""

    REALTIME = 0
    WRITE = 1
    BACKGROUND = 2


@dataclass(frozen=True)
class BudgetSnapshot:
    limit: int
    remaining: int
    resets_at: datetime
    refused: dict[Priority, int]


def _next_midnight_utc(now: datetime) -> datetime:
    return (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


class RequestBudget:
    """Thread- and task-safe: the critical sections are short and never await, so one
    `threading.Lock` serves both threads and coroutines."""

    def __init__(
        self,
        daily_limit: int = 10_000,
        reserve_realtime: int = 1_000,
        reserve_writes: int = 500,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if daily_limit < 0 or reserve_realtime < 0 or reserve_writes < 0:
            raise ValueError("budget limits must be >= 0")
        self.reserve_realtime = reserve_realtime
        self.reserve_writes = reserve_writes
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._limit = daily_limit
        # Server-reported remaining at the last sync (None until a response carried headers, or after
        # a reset) and the requests acquired locally since then.
        self._server_remaining: int | None = None
        self._spent = 0
        self._resets_at = _next_midnight_utc(self._clock())
        self._refused: dict[Priority, int] = dict.fromkeys(Priority, 0)

    @classmethod
    def from_settings(cls, settings: Settings) -> RequestBudget:
        return cls(
            daily_limit=settings.quota_daily_limit,
            reserve_realtime=settings.quota_reserve_realtime,
            reserve_writes=settings.quota_reserve_writes,
        )

    def floor(self, priority: Priority) -> int:
        """Requests that must stay unused for this priority to proceed."""
        if priority >= Priority.BACKGROUND:
            return self.reserve_realtime + self.reserve_writes
        if priority == Priority.WRITE:
            return self.reserve_realtime
        return 0

    def _roll_window(self) -> None:
        now = self._clock()
        if now >= self._resets_at:
            self._server_remaining = None
            self._spent = 0
            self._resets_at = _next_midnight_utc(now)

    def _remaining(self) -> int:
        base = self._limit if self._server_remaining is None else self._server_remaining
        return max(0, base - self._spent)

    @property
    def remaining(self) -> int:
        with self._lock:
            self._roll_window()
            return self._remaining()

    @property
    def limit(self) -> int:
        return self._limit

    def allows(self, priority: Priority) -> bool:
        with self._lock:
            self._roll_window()
            return self._remaining() > self.floor(priority)

    def acquire(self, priority: Priority) -> None:
        """Count one request for `priority`, or raise `BudgetExhausted` without counting it."""
        priority = Priority(priority)
        with self._lock:
            self._roll_window()
            remaining = self._remaining()
            floor = self.floor(priority)
            if remaining <= floor:
                self._refused[priority] += 1
                raise BudgetExhausted(
                    None,
                    message=(
                        f"daily request budget: {remaining} of {self._limit} left, "
                        f"{priority.name} requests stop at {floor} "
                        f"(resets {self._resets_at:%Y-%m-%d %H:%M} UTC)"
                    ),
                )
            self._spent += 1

    def refund(self) -> None:
        """Give back one acquired request that provably never reached the server (connect error)."""
        with self._lock:
            self._spent = max(0, self._spent - 1)

    def observe(self, limit: int | None, remaining: int | None, reset_seconds: float | None) -> None:
        """Sync from `x-ratelimit-limit/-remaining/-reset`; the server's numbers win."""
        with self._lock:
            now = self._clock()
            if reset_seconds is not None and reset_seconds >= 0:
                self._resets_at = now + timedelta(seconds=reset_seconds)
            else:
                self._roll_window()
            if limit is not None and limit >= 0:
                self._limit = limit
            if remaining is not None and remaining >= 0:
                self._server_remaining = remaining
                self._spent = 0

    def snapshot(self) -> BudgetSnapshot:
        with self._lock:
            self._roll_window()
            return BudgetSnapshot(
                limit=self._limit,
                remaining=self._remaining(),
                resets_at=self._resets_at,
                refused=dict(self._refused),
            )
