"""MirrorSync against the sandbox over real HTTP: counts, request costs (as the sandbox counts
them), incremental changes, erasure, reconciliation, crash/budget resume, and injected faults."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tools.icims.budget import RequestBudget
from tools.icims.client import ICIMSClient
from tools.icims.formats import floor_minute
from tools.icims.search import SearchQuery
from tools.mirror import MirrorStore, MirrorSync, SyncReport, mirror_fingerprint
from tools.mirror.store import MIRROR_KINDS

pytestmark = pytest.mark.integration

PURGED = "D32099"
# conftest.sandbox_factory: starts a sandbox, returns a conftest.RunningSandbox.
SandboxFactory = Callable[..., Any]


# --- helpers -------------------------------------------------------------------------------------


def admin(sb: Any, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    response = httpx.request(method, f"{sb.url}/_sandbox{path}", json=body, timeout=10)
    response.raise_for_status()
    return response.json() if response.content else None


def sandbox_requests(sb: Any) -> int:
    return int(admin(sb, "GET", "/stats")["requests_total"])


def advance(sb: Any, seconds: int = 120) -> None:
    """iCIMS stamps changes to the minute: moving the sandbox clock replaces waiting for it."""
    admin(sb, "POST", "/clock", {"advance_seconds": seconds})


def new_store(tmp_path: Path, name: str = "mirror") -> MirrorStore:
    return MirrorStore(f"sqlite:///{tmp_path / name}.sqlite")


async def _run(
    sb: Any,
    store: MirrorStore,
    *,
    full: bool,
    wrap: Any = None,
    budget: RequestBudget | None = None,
    **client_options: Any,
) -> SyncReport:
    async with ICIMSClient.from_settings(sb.settings(), budget=budget, **client_options) as client:
        return await MirrorSync(store, wrap(client) if wrap else client, progress=False).run(full=full)


def sync(sb: Any, store: MirrorStore, *, full: bool = False, **kwargs: Any) -> tuple[SyncReport, int]:
    """Run one sync; returns the report and the requests the sandbox received meanwhile."""
    before = sandbox_requests(sb)
    report = asyncio.run(_run(sb, store, full=full, **kwargs))
    spent = sandbox_requests(sb) - before
    assert report.requests == spent  # the client's count and the server's agree
    return report, spent


def expected(sb: Any) -> tuple[dict[str, int], int]:
    """What a complete mirror holds: records per kind (erased or deleted people's workflows left
    out) and the number of people with a resume."""
    tenant = sb.state.tenant
    purged = {
        pid for pid, rec in tenant.records["people"].items() if rec.data.get("folder", {}).get("id") == PURGED
    }
    counts = {}
    for kind in MIRROR_KINDS:
        records = tenant.records[kind]
        if kind == "people":
            counts[kind] = len(set(records) - purged)
        elif kind.endswith("workflows"):
            # A person erased or deleted takes their workflows out of the mirror with them.
            people = tenant.records["people"]
            counts[kind] = sum(
                1 for r in records.values() if r.data.get("associatedprofile") in set(people) - purged
            )
        else:
            counts[kind] = len(records)
    resumes = sum(1 for kind, pid, field in tenant.binaries if kind == "people" and field == "resume")
    return counts, resumes


def initial_cost_bound(sb: Any) -> int:
    """One GET per record + one resume fetch per person + one search page per 1,000 ids + 10."""
    tenant = sb.state.tenant
    counts = {kind: tenant.count(kind) for kind in MIRROR_KINDS}
    _, resumes = expected(sb)
    pages = sum(n // 1000 + 1 for n in counts.values())
    return sum(counts.values()) + resumes + pages + 10


def data(store: MirrorStore, kind: str, record_id: int) -> dict[str, Any]:
    found = store.get_data(kind, record_id)
    assert found is not None, f"{kind} {record_id} is not mirrored"
    return found


def assert_complete(sb: Any, store: MirrorStore) -> None:
    counts, resumes = expected(sb)
    assert {k: v for k, v in store.counts().items() if k != "resumes"} == counts
    assert store.counts()["resumes"] == resumes


class FailingClient:
    """Delegates to the real client; profile GETs after the first `ok` raise `exc` (a crash)."""

    def __init__(self, inner: ICIMSClient, ok: int, exc: BaseException) -> None:
        self.inner, self.ok, self.exc, self.calls = inner, ok, exc, 0

    @property
    def requests_sent(self) -> int:
        return self.inner.requests_sent

    @property
    def last_response_date(self) -> datetime | None:
        return self.inner.last_response_date

    async def get_profile(self, kind: str, profile_id: int, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        if self.calls > self.ok:
            raise self.exc
        return await self.inner.get_profile(kind, profile_id, **kwargs)

    async def get_workflow(self, kind: str, workflow_id: int, **kwargs: Any) -> dict[str, Any]:
        return await self.inner.get_workflow(kind, workflow_id, **kwargs)

    async def get_resume_text(self, person_id: int, **kwargs: Any) -> str | None:
        return await self.inner.get_resume_text(person_id, **kwargs)

    def search_ids(self, kind: str, query: SearchQuery, **kwargs: Any) -> AsyncIterator[list[int]]:
        return self.inner.search_ids(kind, query, **kwargs)


# --- tests ---------------------------------------------------------------------------------------


def test_initial_sync_mirrors_everything_within_cost_then_resync_is_nearly_free(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    sb = sandbox_factory(people=60, seed=11)
    store = new_store(tmp_path)
    server_now = datetime.fromisoformat(admin(sb, "GET", "/stats")["now"])

    report, spent = sync(sb, store)
    counts, resumes = expected(sb)
    assert report.records == counts and report.changed == sum(counts.values())
    assert report.full_kinds == list(MIRROR_KINDS) and report.completed == list(MIRROR_KINDS)
    assert_complete(sb, store)
    assert spent <= initial_cost_bound(sb)
    assert spent == sum(counts.values()) + resumes + len(MIRROR_KINDS)
    # Projection, resume text and watermark as documented.
    person = store.get("people", 1)
    assert person is not None and "links" not in person.data and "updateddate" in person.data
    with_text = next(store.people_with_resumes())
    assert with_text.resume_text == sb.state.tenant.get_text("people", with_text.id, "resume")
    state = store.sync_state("people")
    assert state is not None and not state.in_progress and state.watermark is not None
    assert floor_minute(server_now) - timedelta(minutes=1) <= state.watermark <= server_now
    assert store.last_run() is not None and store.last_run()["requests"] == spent

    advance(sb)
    report, spent = sync(sb, store)
    assert spent <= 10 and report.changed == 0 and sum(report.records.values()) == 0

    # A change in the very minute of the last pass (no clock move) is still caught...
    sb.state.tenant.patch("jobs", min(sb.state.tenant.records["jobs"]), {"jobtitle": "Same-minute edit"})
    report, spent = sync(sb, store)
    assert report.records["jobs"] == 1 and report.changed == 1 and spent <= 2 * 1 + 10
    # ...and, stamped in the minute that pass started in, may be listed once more (unchanged)...
    advance(sb)
    report, spent = sync(sb, store)
    assert report.records["jobs"] <= 1 and report.changed == 0 and spent <= 10
    # ...but not again.
    advance(sb)
    report, spent = sync(sb, store)
    assert sum(report.records.values()) == 0 and spent <= 10


def test_incremental_reflects_edits_new_records_and_erasure_full_sync_reconciles_deletes(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    sb = sandbox_factory(people=60, seed=12)
    tenant = sb.state.tenant
    store = new_store(tmp_path)
    sync(sb, store)
    advance(sb)

    with_resume = sorted(pid for kind, pid, _ in tenant.binaries if kind == "people")
    edited = with_resume[:2]
    for pid in edited:
        tenant.patch("people", pid, {"field51238": "Remote"})
    job_id = min(tenant.records["jobs"])

    async def recruiter_work() -> int:
        async with ICIMSClient.from_settings(sb.settings()) as client:
            await client.update_profile("jobs", job_id, {"jobtitle": "Staff Data Engineer"})
            person = await client.create_profile("people", {"firstname": "New", "lastname": "Applicant"})
            return person

    new_person = asyncio.run(recruiter_work())
    new_workflow = tenant.add(
        "applicantworkflows",
        {"baseprofile": job_id, "associatedprofile": new_person, "status": {"id": "D10100", "value": "New"}},
    )
    erased = next(
        pid
        for pid in with_resume[2:]
        if store.workflows("applicantworkflows", person_id=pid) and pid not in edited
    )
    assert store.resume_text(erased)
    admin(sb, "POST", f"/people/{erased}/erase")
    advance(sb)

    report, spent = sync(sb, store)
    k = len(edited) + 1 + 1 + 1 + 1  # edits, job, new person, new workflow, erased person
    assert spent <= 2 * k + 10
    assert report.changed == k - 1 and report.erased == 1
    assert report.records == {
        "people": len(edited) + 2,
        "jobs": 1,
        "applicantworkflows": 1,
        "talentpools": 0,
        "sourceworkflows": 0,
    }
    assert all(data(store, "people", pid)["field51238"] == "Remote" for pid in edited)
    assert data(store, "jobs", job_id)["jobtitle"] == "Staff Data Engineer"
    assert data(store, "people", new_person)["firstname"] == "New"
    workflow = store.get("applicantworkflows", new_workflow)
    assert workflow is not None and workflow.data["associatedprofile"]["id"] == new_person
    assert store.get("people", erased) is None and store.resume_text(erased) is None
    assert not store.workflows("applicantworkflows", person_id=erased)
    assert not store.workflows("sourceworkflows", person_id=erased)
    assert [(e.person_id, e.reason) for e in store.erasures()] == [(erased, "purged")]
    assert_complete(sb, store)

    # The incrementally updated mirror is exactly what a mirror built from scratch holds.
    fresh = new_store(tmp_path, "fresh")
    sync(sb, fresh, full=True)
    assert mirror_fingerprint(store) == mirror_fingerprint(fresh)

    # Hard deletes leave no trace in an incremental listing; a full pass reconciles them.
    gone_person = next(pid for pid in with_resume[2:] if pid != erased)
    gone_workflow = next(
        w.id
        for w in store.iter_records("sourceworkflows")
        if w.data["associatedprofile"]["id"] != gone_person
    )
    gone_job = max(tenant.records["jobs"])
    their_pools = len(store.workflows("sourceworkflows", person_id=gone_person))
    for kind, rid in (("people", gone_person), ("sourceworkflows", gone_workflow), ("jobs", gone_job)):
        admin(sb, "DELETE", f"/{kind}/{rid}")
    advance(sb)
    report, spent = sync(sb, store)
    assert spent <= 10 and store.get("jobs", gone_job) is not None

    report, spent = sync(sb, store, full=True)
    # Unchanged resumes are not fetched again: one GET per record plus the listings.
    records_in_sandbox = sum(tenant.count(kind) for kind in MIRROR_KINDS)
    assert spent <= records_in_sandbox + len(MIRROR_KINDS) + 10
    assert store.get("people", gone_person) is None and store.resume_text(gone_person) is None
    assert store.get("sourceworkflows", gone_workflow) is None and store.get("jobs", gone_job) is None
    assert report.deleted["jobs"] == 1 and report.deleted["sourceworkflows"] == 1 + their_pools
    assert report.changed == 0  # workflows whose job is gone keep their (id-only) links
    assert {e.person_id: e.reason for e in store.erasures()} == {erased: "purged", gone_person: "deleted"}
    assert_complete(sb, store)

    advance(sb)
    report, spent = sync(sb, store)
    assert spent <= 10 and report.changed == 0


@pytest.mark.parametrize("crash", [RuntimeError("boom"), KeyboardInterrupt()], ids=["error", "interrupt"])
def test_crash_mid_sync_resumes_without_duplicates(
    sandbox_factory: SandboxFactory, tmp_path: Path, crash: BaseException
) -> None:
    sb = sandbox_factory(people=40, seed=13)
    store = new_store(tmp_path)
    ok = 19  # inside a chunk of 8, so part of a chunk is done when the crash hits

    before = sandbox_requests(sb)
    with pytest.raises(type(crash)):
        asyncio.run(_run(sb, store, full=False, wrap=lambda c: FailingClient(c, ok, crash)))
    state = store.sync_state("people")
    assert state is not None and state.in_progress and state.pass_full
    people = sorted(sb.state.tenant.records["people"])
    done = people.index(state.cursor_id) + 1 if state.cursor_id else 0
    assert store.ids("people") == people[:done]
    if isinstance(crash, Exception):
        assert done == ok  # the chunk's ids before the failure were saved with the cursor
    else:
        # KeyboardInterrupt leaves the event loop at once: state is as of the last whole chunk.
        assert ok - 8 < done <= ok

    report, _ = sync(sb, store)
    total = sandbox_requests(sb) - before
    assert report.resumed == ["people"] and report.stopped is None
    assert report.records["people"] == len(people) - done  # nothing fetched twice
    assert_complete(sb, store)
    assert total <= initial_cost_bound(sb)
    state = store.sync_state("people")
    assert state is not None and not state.in_progress and state.watermark is not None

    advance(sb)
    report, spent = sync(sb, store)
    assert spent <= 10 and report.changed == 0


def test_budget_exhaustion_stops_cleanly_and_the_next_run_resumes(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    sb = sandbox_factory(people=40, seed=14)
    store = new_store(tmp_path)
    # 110 requests left today; background sync must leave 60 of them for realtime work and writes.
    admin(sb, "POST", "/quota", {"used": sb.state.config.daily_limit - 110})
    budget = RequestBudget(daily_limit=sb.state.config.daily_limit, reserve_realtime=40, reserve_writes=20)
    before = sandbox_requests(sb)
    report = asyncio.run(_run(sb, store, full=False, budget=budget))
    assert report.stopped == "budget" and "people" not in report.completed
    # It stopped before a chunk it could not finish: the reserve is intact and nothing was wasted.
    assert admin(sb, "GET", "/stats")["quota"]["remaining"] >= 60
    state = store.sync_state("people")
    assert state is not None and state.in_progress and state.cursor_id == max(store.ids("people"))
    assert store.last_run() is not None and store.last_run()["stopped"] == "budget"

    admin(sb, "POST", "/quota", {"used": 0})  # a new day
    report, _ = sync(sb, store)
    assert report.resumed == ["people"] and report.stopped is None
    assert_complete(sb, store)
    # Both runs together: one GET per record and resume, the listings, and one repeated listing.
    counts, resumes = expected(sb)
    assert sandbox_requests(sb) - before == sum(counts.values()) + resumes + len(MIRROR_KINDS) + 1
    assert sandbox_requests(sb) - before <= initial_cost_bound(sb)


def test_injected_429_and_5xx_leave_the_same_mirror_as_a_clean_run(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    sb = sandbox_factory(people=50, seed=15)
    clean = new_store(tmp_path, "clean")
    sync(sb, clean)

    admin(sb, "PUT", "/faults", {"rate_429": 0.1, "rate_5xx": 0.1, "retry_after_seconds": 0, "seed": 3})
    faulty = new_store(tmp_path, "faulty")
    # Short backoff keeps the test fast; more retries make 7 failures in a row implausible.
    report, spent = sync(sb, faulty, retry_wait_base=0.001, retry_wait_max=0.01, max_retries=12)
    injected = admin(sb, "GET", "/stats")["faults_injected"]
    assert sum(injected.values()) > 0 and report.stopped is None
    assert mirror_fingerprint(faulty) == mirror_fingerprint(clean)
    assert spent > sum(report.records.values())  # the retries were real requests
