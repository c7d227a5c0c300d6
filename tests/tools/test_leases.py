"""`tools.leases` and `tools.applying` on SQLite and Postgres: one holder per key across
connections (two stores on one database stand for two processes), takeover only after expiry,
renewal keeps a lease, release only by its owner; applying rows count attempts with backoff."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from tools.applying import ApplyingStore
from tools.leases import LeaseHeld, Leases


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _exercise(url: str) -> None:
    clock = Clock()
    one, two = Leases(url, clock=clock, ttl_seconds=10), Leases(url, clock=clock, ttl_seconds=10)
    try:
        first = one.acquire("thread:a", "p1")
        assert first is not None and first.expires_at == 1_010.0
        assert two.acquire("thread:a", "p2") is None  # held
        assert two.get("thread:a").owner == "p1"  # type: ignore[union-attr]
        assert two.acquire("thread:b", "p2") is not None  # other keys are free
        clock.now = 1_009.0
        first = one.renew(first)
        assert first is not None and first.expires_at == 1_019.0
        clock.now = 1_015.0
        assert two.acquire("thread:a", "p2") is None  # renewed: still p1's
        assert not two.release(first.__class__("thread:a", "p2", 0, 0))  # not p2's to release
        clock.now = 1_020.0
        assert [lease.key for lease in two.expired("thread:")] == ["thread:a", "thread:b"]
        taken = two.acquire("thread:a", "p2")  # p1 stopped renewing: taken over
        assert taken is not None and taken.owner == "p2"
        assert one.renew(first) is None  # p1 learns it lost it
        assert two.release(taken) and one.get("thread:a") is None

        # Many threads race for one key: exactly one wins.
        clock.now = 2_000.0
        winners: list[str] = []
        barrier = threading.Barrier(8)

        def race(n: int) -> None:
            store = one if n % 2 else two
            barrier.wait()
            if store.acquire("thread:race", f"r{n}") is not None:
                winners.append(f"r{n}")

        threads = [threading.Thread(target=race, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(winners) == 1

        with one.hold("thread:held") as held:
            with pytest.raises(LeaseHeld) as refused, two.hold("thread:held"):
                pass
            assert refused.value.holder is not None and refused.value.holder.owner == held.owner
        assert one.get("thread:held") is None  # released at the end of the block

        rows = ApplyingStore(url, clock=clock)
        row = rows.failed("triage:1:7", "ICIMSServerError: 503", backoff=lambda n: 10.0 * n, graph="triage")
        assert (row.attempts, row.next_at, row.graph) == (1, 2_010.0, "triage")
        assert rows.due(2_005.0) == [] and [r.thread_id for r in rows.due(2_010.0)] == ["triage:1:7"]
        row = rows.failed("triage:1:7", "ICIMSRateLimited: 429", backoff=lambda n: 10.0 * n, graph="x")
        assert (row.attempts, row.next_at, row.graph, row.last_error) == (
            2,
            2_020.0,
            "triage",  # the summary is kept from the first record
            "ICIMSRateLimited: 429",
        )
        rows.clear("triage:1:7")
        assert rows.all() == []
        rows.close()
    finally:
        one.close()
        two.close()


def test_leases_on_sqlite(tmp_path) -> None:
    _exercise(f"sqlite:///{tmp_path / 'audit.sqlite'}")


@pytest.fixture
def lease_db(postgres_url: str) -> Iterator[str]:
    from support.pg import scratch_database

    with scratch_database(postgres_url, prefix="leases") as url:
        yield url


@pytest.mark.integration
def test_leases_on_postgres(lease_db: str) -> None:
    _exercise(lease_db)


def test_a_held_lease_is_renewed_while_its_block_runs(tmp_path) -> None:
    clock = Clock()
    leases = Leases(f"sqlite:///{tmp_path / 'a.sqlite'}", clock=clock)
    renewed = threading.Event()
    original = leases.renew

    def renew(lease, ttl=None):  # type: ignore[no-untyped-def]
        clock.now += 1
        out = original(lease, ttl)
        renewed.set()
        return out

    leases.renew = renew  # type: ignore[method-assign]
    with leases.hold("k", ttl=0.06) as lease:
        assert renewed.wait(5)
        current = leases.get("k")
        assert current is not None and current.owner == lease.owner and current.expires_at > lease.expires_at
    leases.close()
