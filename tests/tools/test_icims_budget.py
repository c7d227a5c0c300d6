"""RequestBudget: priority floors, server sync, daily reset, thread safety."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from tools.icims.budget import Priority, RequestBudget
from tools.icims.errors import BudgetExhausted
from tools.settings import Settings


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def drain(budget: RequestBudget, priority: Priority) -> int:
    """Acquire until refused; returns how many were granted."""
    granted = 0
    while True:
        try:
            budget.acquire(priority)
        except BudgetExhausted:
            return granted
        granted += 1


def test_background_is_refused_before_writes_before_realtime() -> None:
    budget = RequestBudget(daily_limit=100, reserve_realtime=20, reserve_writes=10)
    assert drain(budget, Priority.BACKGROUND) == 70  # stops while remaining <= 30
    assert budget.remaining == 30
    assert not budget.allows(Priority.BACKGROUND)
    assert drain(budget, Priority.WRITE) == 10  # stops at remaining <= 20
    assert drain(budget, Priority.BACKGROUND) == 0
    assert drain(budget, Priority.REALTIME) == 20  # may use everything
    assert budget.remaining == 0
    assert budget.snapshot().refused == {Priority.REALTIME: 1, Priority.WRITE: 1, Priority.BACKGROUND: 2}


def test_refusal_message_names_priority_and_numbers() -> None:
    budget = RequestBudget(daily_limit=10, reserve_realtime=10, reserve_writes=0)
    with pytest.raises(BudgetExhausted) as info:
        budget.acquire(Priority.BACKGROUND)
    assert info.value.status is None
    assert "10 of 10 left, BACKGROUND requests stop at 10" in str(info.value)


def test_server_numbers_are_authoritative() -> None:
    budget = RequestBudget(daily_limit=10_000, reserve_realtime=1000, reserve_writes=500)
    for _ in range(5):
        budget.acquire(Priority.BACKGROUND)
    assert budget.remaining == 9995
    # Another integration shares the tenant's quota: the server has seen far more.
    budget.observe(limit=10_000, remaining=1600, reset_seconds=3600)
    assert budget.remaining == 1600
    budget.acquire(Priority.BACKGROUND)
    assert budget.remaining == 1599
    # An operator bought more quota: the server reports more than we thought was left.
    budget.observe(limit=20_000, remaining=15_000, reset_seconds=3590)
    assert budget.limit == 20_000
    assert budget.remaining == 15_000
    # Partial headers update only what they carry.
    budget.observe(limit=None, remaining=None, reset_seconds=None)
    assert budget.remaining == 15_000


def test_refund_gives_back_one_request() -> None:
    budget = RequestBudget(daily_limit=10, reserve_realtime=0, reserve_writes=0)
    budget.acquire(Priority.REALTIME)
    budget.refund()
    budget.refund()  # never above the limit
    assert budget.remaining == 10


def test_daily_reset_at_midnight_utc_and_at_server_reset() -> None:
    clock = Clock(datetime(2025, 5, 1, 23, 0, tzinfo=UTC))
    budget = RequestBudget(daily_limit=10, reserve_realtime=0, reserve_writes=0, clock=clock)
    assert drain(budget, Priority.REALTIME) == 10
    clock.now = datetime(2025, 5, 2, 0, 0, tzinfo=UTC)
    assert budget.remaining == 10
    # The server's reset wins over our midnight estimate.
    budget.observe(limit=10, remaining=0, reset_seconds=120)
    assert budget.remaining == 0
    clock.now += timedelta(seconds=119)
    assert not budget.allows(Priority.REALTIME)
    clock.now += timedelta(seconds=1)
    assert budget.allows(Priority.REALTIME)
    assert budget.snapshot().resets_at == datetime(2025, 5, 3, 0, 0, tzinfo=UTC)


def test_from_settings() -> None:
    settings = Settings(
        _env_file=None, quota_daily_limit=500, quota_reserve_realtime=50, quota_reserve_writes=25
    )
    budget = RequestBudget.from_settings(settings)
    assert (budget.limit, budget.reserve_realtime, budget.reserve_writes) == (500, 50, 25)
    assert budget.floor(Priority.BACKGROUND) == 75
    assert budget.floor(Priority.WRITE) == 50
    assert budget.floor(Priority.REALTIME) == 0


def test_thread_safe_acquire_never_overspends() -> None:
    budget = RequestBudget(daily_limit=1000, reserve_realtime=0, reserve_writes=0)
    granted: list[int] = []
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        granted.append(drain(budget, Priority.REALTIME))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(granted) == 1000
    assert budget.remaining == 0
