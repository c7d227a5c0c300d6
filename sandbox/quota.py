"""The daily request quota per customer, reset at 00:00 UTC on the sandbox clock (API_NOTES 6.1)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta


def seconds_to_reset(now: datetime) -> int:
    """Seconds until the next 00:00 UTC (what `x-ratelimit-reset` carries)."""
    midnight = datetime.combine(now.date() + timedelta(days=1), time(), tzinfo=now.tzinfo)
    return max(1, int((midnight - now).total_seconds()))


@dataclass
class QuotaStatus:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int


@dataclass
class Quota:
    clock: Callable[[], datetime]
    limit: Callable[[], int]  # read live so `POST /_sandbox/quota` and the config stay one value
    used: dict[int, tuple[date, int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def consume(self, customer_id: int) -> QuotaStatus:
        """Count one request, or refuse it (without counting) when the day's quota is spent."""
        now = self.clock()
        limit = self.limit()
        with self.lock:
            used = self._used_today(customer_id, now.date())
            allowed = used < limit
            if allowed:
                used += 1
                self.used[customer_id] = (now.date(), used)
        return QuotaStatus(allowed, limit, max(0, limit - used), seconds_to_reset(now))

    def status(self, customer_id: int) -> QuotaStatus:
        now = self.clock()
        limit = self.limit()
        with self.lock:
            used = self._used_today(customer_id, now.date())
        return QuotaStatus(used < limit, limit, max(0, limit - used), seconds_to_reset(now))

    def set_used(self, customer_id: int, used: int) -> None:
        with self.lock:
            self.used[customer_id] = (self.clock().date(), max(0, used))

    def used_today(self, customer_id: int) -> int:
        with self.lock:
            return self._used_today(customer_id, self.clock().date())

    def _used_today(self, customer_id: int, today: date) -> int:
        day, used = self.used.get(customer_id, (today, 0))
        return used if day == today else 0
