"""Leases: one holder at a time for a named piece of work, across threads and processes.

A lease is a row keyed by name in a SQL database (the audit/ledger database: SQLite or Postgres
through SQLAlchemy). Taking it is an INSERT that the primary key lets exactly one caller win, or
an UPDATE of a row whose expiry has passed (its holder died without releasing it); releasing
deletes the row if it is still the caller's. A holder keeps a lease by renewing it before it
expires (`hold` renews from a thread), so a long piece of work is never taken over while it runs,
and the work of a killed process is taken over `ttl` seconds after its last renewal.

The service uses one lease per graph thread around every resume, so a decision is applied by one
process once, whoever asks (the HTTP API, a command line, the worker's reconciler).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Column, Engine, Float, MetaData, String, Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from tools.logs import get_logger
from tools.sqlengine import make_engine

if TYPE_CHECKING:
    from tools.settings import Settings

log = get_logger("tools.leases")

DEFAULT_TTL_SECONDS = 120.0

_metadata = MetaData()
lease_table = Table(
    "leases",
    _metadata,
    Column("key", String(255), primary_key=True),
    Column("owner", String(200), nullable=False),
    Column("acquired_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)


@dataclass(frozen=True)
class Lease:
    key: str
    owner: str
    acquired_at: float  # epoch seconds
    expires_at: float


class LeaseHeld(Exception):
    """Someone else holds the lease (`holder`, when it could be read)."""

    def __init__(self, key: str, holder: Lease | None) -> None:
        super().__init__(f"{key} is held by {holder.owner if holder else 'another holder'}")
        self.key = key
        self.holder = holder


def default_owner() -> str:
    """Host, process and a random tag: two holders in one process are still two owners."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Leases:
    def __init__(
        self,
        database: Engine | str,
        *,
        clock: Callable[[], float] = time.time,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
    ) -> None:
        self._owns_engine = isinstance(database, str)
        self.engine = make_engine(database, busy_timeout_ms=10_000) if isinstance(database, str) else database
        self.clock = clock
        self.ttl_seconds = ttl_seconds
        _metadata.create_all(self.engine)

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: object) -> Leases:
        from tools.audit import audit_database_url

        return cls(audit_database_url(settings), **kwargs)  # type: ignore[arg-type]

    def close(self) -> None:
        if self._owns_engine:
            self.engine.dispose()

    # -- one call each --------------------------------------------------------------------------
    def acquire(self, key: str, owner: str | None = None, ttl: float | None = None) -> Lease | None:
        """The lease, or None while someone else holds it."""
        now = self.clock()
        lease = Lease(key, owner or default_owner(), now, now + (ttl or self.ttl_seconds))
        row = {"owner": lease.owner, "acquired_at": lease.acquired_at, "expires_at": lease.expires_at}
        try:
            # Its own transaction: on Postgres a failed INSERT spoils the transaction it is in.
            with self.engine.begin() as conn:
                conn.execute(insert(lease_table).values(key=key, **row))
            return lease
        except IntegrityError:
            pass
        with self.engine.begin() as conn:
            taken = conn.execute(
                update(lease_table)
                .where(lease_table.c.key == key, lease_table.c.expires_at < now)
                .values(**row)
            ).rowcount
        if taken:
            log.info("lease.taken_over", key=key)
            return lease
        return None

    def renew(self, lease: Lease, ttl: float | None = None) -> Lease | None:
        """The renewed lease, or None when it is no longer ours (it expired and was taken)."""
        expires = self.clock() + (ttl or self.ttl_seconds)
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(lease_table)
                .where(lease_table.c.key == lease.key, lease_table.c.owner == lease.owner)
                .values(expires_at=expires)
            ).rowcount
        return Lease(lease.key, lease.owner, lease.acquired_at, expires) if changed else None

    def release(self, lease: Lease) -> bool:
        with self.engine.begin() as conn:
            gone = conn.execute(
                delete(lease_table).where(lease_table.c.key == lease.key, lease_table.c.owner == lease.owner)
            ).rowcount
        return bool(gone)

    def get(self, key: str) -> Lease | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(lease_table).where(lease_table.c.key == key)).first()
        return Lease(row.key, row.owner, row.acquired_at, row.expires_at) if row is not None else None

    def expired(self, prefix: str = "") -> list[Lease]:
        """Leases whose holder stopped renewing them (a killed process): work that may be unfinished."""
        query = select(lease_table).where(lease_table.c.expires_at < self.clock())
        if prefix:
            query = query.where(lease_table.c.key.startswith(prefix, autoescape=True))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(lease_table.c.key)).all()
        return [Lease(r.key, r.owner, r.acquired_at, r.expires_at) for r in rows]

    # -- held for a block -----------------------------------------------------------------------
    @contextlib.contextmanager
    def hold(self, key: str, owner: str | None = None, ttl: float | None = None) -> Iterator[Lease]:
        """Hold `key` for the block, renewed every third of `ttl`; raises `LeaseHeld` when taken."""
        ttl = ttl or self.ttl_seconds
        lease = self.acquire(key, owner, ttl)
        if lease is None:
            raise LeaseHeld(key, self.get(key))
        stop = threading.Event()

        def keep() -> None:
            current = lease
            while not stop.wait(ttl / 3):
                try:
                    renewed = self.renew(current, ttl)
                except Exception as exc:  # a locked database: the next round tries again
                    log.warning("lease.renew_failed", key=key, error=type(exc).__name__)
                    continue
                if renewed is None:
                    log.warning("lease.lost", key=key)
                    return
                current = renewed

        keeper = threading.Thread(target=keep, name=f"lease:{key}", daemon=True)
        keeper.start()
        try:
            yield lease
        finally:
            stop.set()
            keeper.join(timeout=5)
            try:
                self.release(lease)
            except Exception as exc:  # it expires on its own
                log.warning("lease.release_failed", key=key, error=type(exc).__name__)
