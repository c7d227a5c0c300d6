"""The mirror on PostgreSQL: a throwaway cluster (initdb + pg_ctl into a temp dir, stopped at the end
of the session), then the same full and incremental syncs of one sandbox into Postgres and into
SQLite must leave identical mirrors for the same number of iCIMS requests.

The cluster is the session fixture `postgres_url` (tests/pg_support.py, registered by conftest.py),
skipped when no PostgreSQL server binaries are installed or the cluster cannot be run."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from tools.icims.client import ICIMSClient
from tools.mirror import MirrorStore, MirrorSync, SyncReport, mirror_fingerprint
from tools.mirror.store import MIRROR_KINDS, Base, Upsert

pytestmark = pytest.mark.integration

SandboxFactory = Callable[..., Any]


# --- the store on the throwaway cluster (`postgres_url`: tests/pg_support.py, via conftest) ----


@pytest.fixture
def pg_store(postgres_url: str) -> Iterator[MirrorStore]:
    store = MirrorStore(postgres_url)
    try:
        yield store
    finally:
        Base.metadata.drop_all(store.engine)  # the cluster is shared by the session
        store.close()


# --- helpers -------------------------------------------------------------------------------------


def admin(sb: Any, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    response = httpx.request(method, f"{sb.url}/_sandbox{path}", json=body, timeout=10)
    response.raise_for_status()
    return response.json() if response.content else None


def sandbox_requests(sb: Any) -> int:
    return int(admin(sb, "GET", "/stats")["requests_total"])


async def _run(sb: Any, store: MirrorStore, *, full: bool) -> SyncReport:
    async with ICIMSClient.from_settings(sb.settings()) as client:
        return await MirrorSync(store, client, progress=False).run(full=full)


def sync(sb: Any, store: MirrorStore, *, full: bool) -> tuple[SyncReport, int]:
    before = sandbox_requests(sb)
    report = asyncio.run(_run(sb, store, full=full))
    spent = sandbox_requests(sb) - before
    assert report.requests == spent and report.stopped is None
    return report, spent


def comparable(report: SyncReport) -> dict[str, Any]:
    return report.model_dump(exclude={"seconds"})


# --- tests ---------------------------------------------------------------------------------------


def test_postgres_store_keeps_what_sqlite_keeps(tmp_path: Path, pg_store: MirrorStore) -> None:
    """Values Postgres' types refuse or change but SQLite keeps: NULs in JSON strings and in resume
    text, ids past 32 bits, key order, non-ASCII text, and aware datetimes in any zone."""
    lite = MirrorStore(f"sqlite:///{tmp_path / 'store.sqlite'}")
    big = 3_000_000_000
    person = {"lastname": "Nul\x00l", "firstname": "Zoë", "updateddate": "2025-03-04 09:00 AM", "resume": {}}
    workflow = {
        "status": {"id": "D10100", "value": "New"},
        "associatedprofile": {"profile": "http://x/customers/1/people/1", "id": big},
        "baseprofile": {"profile": "http://x/customers/1/jobs/1001", "id": 1001},
    }
    fetched = datetime(2025, 3, 4, 5, 0, tzinfo=timezone(timedelta(hours=-5)))
    for store in (pg_store, lite):
        store.apply_chunk(
            "people", upserts=[Upsert(big, person, "set", "page 1\x00page 2")], resume_fetched_at=fetched
        )
        store.apply_chunk("applicantworkflows", upserts=[Upsert(big + 1, workflow)])
    assert mirror_fingerprint(pg_store) == mirror_fingerprint(lite)
    for kind, rid in (("people", big), ("applicantworkflows", big + 1)):
        data = pg_store.get_data(kind, rid)
        assert data == lite.get_data(kind, rid) and data is not None
        assert list(data) == list(lite.get_data(kind, rid) or {})  # key order kept, as on SQLite
    assert pg_store.get_data("people", big)["lastname"] == "Nul\x00l"  # type: ignore[index]
    assert [w.id for w in pg_store.workflows("applicantworkflows", person_id=big)] == [big + 1]
    # Postgres text cannot hold NUL: stored as U+FFFD there; the hash is of the served text on both.
    assert pg_store.resume_text(big) == "page 1\ufffdpage 2" and lite.resume_text(big) == "page 1\x00page 2"
    assert (
        pg_store.resume_freshness([big])
        == lite.resume_freshness([big])
        == {big: ("2025-03-04 09:00", fetched.astimezone(UTC))}
    )
    lite.close()


def test_postgres_mirror_matches_sqlite_for_full_and_incremental_sync(
    sandbox_factory: SandboxFactory, tmp_path: Path, pg_store: MirrorStore
) -> None:
    sb = sandbox_factory(people=40, seed=31)
    tenant = sb.state.tenant
    lite = MirrorStore(f"sqlite:///{tmp_path / 'mirror.sqlite'}")
    assert pg_store.engine.dialect.name == "postgresql"

    full_pg, spent_pg = sync(sb, pg_store, full=True)
    full_lite, spent_lite = sync(sb, lite, full=True)
    assert spent_pg == spent_lite
    assert comparable(full_pg) == comparable(full_lite)
    assert full_pg.changed == sum(full_pg.records.values()) > 0
    assert mirror_fingerprint(pg_store) == mirror_fingerprint(lite)
    assert pg_store.counts() == lite.counts() and pg_store.counts()["resumes"] > 0

    # Changes for the incremental pass: edits (two with a resume), a new person, an erasure.
    with_resume = sorted(pid for kind, pid, _ in tenant.binaries if kind == "people")
    for pid in with_resume[:2]:
        tenant.patch("people", pid, {"field51238": "Remote"})
    tenant.patch("jobs", min(tenant.records["jobs"]), {"jobtitle": "Staff Data Engineer"})
    new_person = tenant.add("people", {"firstname": "Nova", "lastname": "Ödegaard"})
    erased = next(pid for pid in with_resume[2:] if pg_store.workflows("applicantworkflows", person_id=pid))
    admin(sb, "POST", f"/people/{erased}/erase")
    admin(sb, "POST", "/clock", {"advance_seconds": 120})

    inc_pg, spent_pg = sync(sb, pg_store, full=False)
    inc_lite, spent_lite = sync(sb, lite, full=False)
    assert spent_pg == spent_lite
    assert comparable(inc_pg) == comparable(inc_lite)
    assert not inc_pg.full_kinds and inc_pg.completed == list(MIRROR_KINDS)
    assert inc_pg.changed >= 4 and inc_pg.erased == 1
    assert mirror_fingerprint(pg_store) == mirror_fingerprint(lite)
    assert pg_store.counts() == lite.counts()

    # Reads that go through the Postgres types: JSONB records, aware UTC datetimes, JSON run rows.
    person = pg_store.get("people", new_person)
    assert person is not None and person.data["lastname"] == "Ödegaard"
    assert person.data == lite.get_data("people", new_person)
    assert person.synced_at.utcoffset() is not None and person.synced_at.utcoffset().total_seconds() == 0
    assert pg_store.get("people", erased) is None and pg_store.resume_text(erased) is None
    assert [(e.person_id, e.reason) for e in pg_store.erasures()] == [(erased, "purged")]
    for kind in MIRROR_KINDS:
        state_pg, state_lite = pg_store.sync_state(kind), lite.sync_state(kind)
        assert state_pg is not None and state_lite is not None
        assert state_pg.watermark == state_lite.watermark and not state_pg.in_progress
        assert state_pg.watermark is not None and state_pg.watermark.utcoffset().total_seconds() == 0
    strip = ("id", "started", "finished", "seconds")
    runs_pg = [{k: v for k, v in r.items() if k not in strip} for r in pg_store.runs()]
    runs_lite = [{k: v for k, v in r.items() if k not in strip} for r in lite.runs()]
    assert runs_pg == runs_lite and len(runs_pg) == 2
    assert pg_store.runs()[0]["requests"] == spent_pg
    lite.close()
