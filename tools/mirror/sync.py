"""Quota-aware incremental sync of iCIMS into the mirror.

Per kind, one *pass*: list ids with the Search API (ids only, 1,000 a page, ascending), then GET each
record with a `fields=` projection (people also get their resume text, one request). A pass is
incremental (`{entity}.updateddate > watermark`) or full (`{entity}.id > 0`, then reconciliation:
mirrored ids the listing skipped are gone from iCIMS and are deleted; people are erased). Kinds run
people first, so an erasure found there keeps that person's workflows out of the mirror.

Watermarks. iCIMS stamps `updateddate` to the minute and compares whole minutes. When a pass starts,
the `Date` of its first search response gives the server time T; the pass's *pending* watermark is
floor_minute(T) - 1 min. Every record stamped at or before that minute had its stamp before the
search ran, so this search (or an earlier one) listed it; any later change is stamped in minute
floor(T) or after, which `> watermark` still matches. The pending watermark is saved when the pass
starts and promoted to `watermark` only when the pass completes. The price, by design: records
stamped in the minute a pass started are listed and fetched once more by the next pass (their hash
is unchanged, so they do not count as `changed`).

Cost. One search page per 1,000 listed ids, one GET per listed record, one resume-text GET per
person with a resume, skipped when the stored text is provably current (the profile's stamp is
unchanged and older than the minute the text was fetched in). Erased people are never fetched again.

Crash safety. Ids are processed in ascending order in chunks of `concurrency`; each chunk's records
and the pass cursor (`cursor_id`: every listed id <= it is done) commit in one transaction. A run
that finds a pass in progress continues it (same filter, same pending watermark, search
`after_id=cursor_id`), so nothing is stored twice and nothing is skipped. Any exception propagates
once state is saved. The request budget (`ICIMSClient.budget`) is checked before each chunk, and a
chunk it cannot finish is not started: `BudgetExhausted` ends the run cleanly with
`stopped="budget"`, and the next run resumes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field
from tqdm import tqdm

from tools.icims import codes
from tools.icims.budget import Priority, RequestBudget
from tools.icims.errors import BudgetExhausted, ICIMSNotFound
from tools.icims.formats import floor_minute, format_datetime, parse_datetime
from tools.icims.search import SearchFilter, SearchQuery
from tools.mirror.store import (
    MIRROR_KINDS,
    WORKFLOW_KINDS,
    MirrorStore,
    ResumeAction,
    Upsert,
    utcnow,
)
from tools.settings import DEFAULT_FIELD_MAP

logger = logging.getLogger(__name__)

ENTITY: dict[str, str] = {
    "people": "person",
    "jobs": "job",
    "applicantworkflows": "applicantworkflow",
    "talentpools": "talentpool",
    "sourceworkflows": "sourceworkflow",
}
PURGED_FOLDER = codes.PURGED_FOLDER
# Used when a response has no `Date`: a watermark this old makes the next pass list everything again,
# which costs requests but never misses a change.
_NO_SERVER_TIME = datetime(1970, 1, 1, tzinfo=UTC)

# --- erasure hooks ----------------------------------------------------------------------------------
# Called with the person id after the mirror has erased a person (committed), so derived data held
# elsewhere (cached embeddings, vector indexes) goes too. Hooks run after the chunk's transaction; one
# that raises is logged and counted in `SyncReport.erase_hook_errors`, and never stops the sync (the
# mirror's erasure stands, and vectors also age out by TTL).
ErasureHook = Callable[[int], object]
_registry_lock = threading.Lock()
_registry: list[Callable[[], ErasureHook | None]] = []


def register_erasure_hook(hook: ErasureHook, *, weak: bool = False) -> Callable[[], None]:
    """Run `hook(person_id)` for every person any `MirrorSync` in this process erases.

    `weak=True` holds a bound method weakly (its object may be garbage-collected; the hook then
    lapses). Returns a function that unregisters the hook."""
    ref: Callable[[], ErasureHook | None]
    if weak and hasattr(hook, "__self__") and hasattr(hook, "__func__"):
        ref = weakref.WeakMethod(hook)  # type: ignore[arg-type]
    else:

        def ref() -> ErasureHook | None:
            return hook

    with _registry_lock:
        _registry.append(ref)

    def unregister() -> None:
        with _registry_lock:
            if ref in _registry:
                _registry.remove(ref)

    return unregister


def registered_erasure_hooks() -> list[ErasureHook]:
    with _registry_lock:
        live = [(ref, ref()) for ref in _registry]
        _registry[:] = [ref for ref, hook in live if hook is not None]
    return [hook for _ref, hook in live if hook is not None]


def projections(field_map: Mapping[str, str] | None = None) -> dict[str, list[str]]:
    """`fields=` per profile kind: what the agents read, nothing more (a smaller body per GET).

    Workflows have no projection parameter in iCIMS and are fetched whole."""
    fm = {**DEFAULT_FIELD_MAP, **(field_map or {})}
    people_custom = [
        "consent_status",
        "consent_expires",
        "opt_out",
        "do_not_contact",
        "remote_preference",
        # Nurture selection reads these back to avoid contacting someone twice.
        "last_contacted",
        "nurture_campaign",
        "nurture_step",
    ]
    job_custom = [
        "job_must_have_skills",
        "job_nice_to_have_skills",
        "job_soc_code",
        "job_salary_min",
        "job_salary_max",
        "job_remote",
    ]
    stamps = ["createddate", "updateddate"]
    return {
        "people": [
            "firstname",
            "lastname",
            "email",
            "folder",
            "addresses",
            "phones",
            "workexperience",
            "education",
            "source",
            "resume",
            *(fm[name] for name in people_custom),
            *stamps,
        ],
        "jobs": [
            "jobid",
            "jobtitle",
            "folder",
            "recruiter",
            "hiringmanager",
            "joblocation",
            "numberofpositions",
            "overview",
            "responsibilities",
            "qualifications",
            "positiontype",
            *(fm[name] for name in job_custom),
            *stamps,
        ],
        "talentpools": ["title", "externalid", "folder", "overview", "owner", *stamps],
    }


PROJECTION: dict[str, list[str]] = projections()


class MirrorClient(Protocol):
    """The part of `tools.icims.client.ICIMSClient` the sync uses (tests wrap it)."""

    @property
    def requests_sent(self) -> int: ...

    @property
    def last_response_date(self) -> datetime | None: ...

    async def get_profile(
        self, kind: str, profile_id: int, *, fields: Sequence[str] | None = ..., priority: Priority = ...
    ) -> dict[str, Any]: ...

    async def get_workflow(
        self, kind: str, workflow_id: int, *, priority: Priority = ...
    ) -> dict[str, Any]: ...

    async def get_resume_text(self, person_id: int, *, priority: Priority = ...) -> str | None: ...

    def search_ids(
        self,
        kind: str,
        query: SearchQuery,
        *,
        after_id: int = ...,
        staleness: int | None = ...,
        priority: Priority = ...,
    ) -> AsyncIterator[list[int]]: ...


class SyncReport(BaseModel):
    """What one `MirrorSync.run` did. `records`: records fetched per kind; `changed`: records new or
    with a new content hash; `requests`: iCIMS requests sent (retries included)."""

    full: bool = False
    records: dict[str, int] = Field(default_factory=dict)
    changed: int = 0
    deleted: dict[str, int] = Field(default_factory=dict)
    erased: int = 0
    requests: int = 0
    seconds: float = 0.0
    stopped: Literal["budget", "error"] | None = None
    erase_hook_errors: int = Field(default=0, description="erasure hooks that raised (logged)")
    full_kinds: list[str] = Field(default_factory=list, description="kinds synced by a full pass")
    resumed: list[str] = Field(default_factory=list, description="kinds whose interrupted pass continued")
    completed: list[str] = Field(default_factory=list, description="kinds whose pass finished")


@dataclass(frozen=True, slots=True)
class _Fetched:
    id: int
    data: dict[str, Any]
    resume_action: ResumeAction = "keep"
    resume_text: str | None = None


@dataclass(frozen=True, slots=True)
class _Missing:
    id: int


@dataclass(frozen=True, slots=True)
class _Purged:
    id: int


_Outcome = _Fetched | _Missing | _Purged


@dataclass
class _Pass:
    kind: str
    full: bool
    cursor: int
    pending: datetime | None
    # Lower bound of the server time of every fetch in this pass (decides resume freshness).
    fetched_after: datetime | None = None


class MirrorSync:
    def __init__(
        self,
        store: MirrorStore,
        client: MirrorClient,
        *,
        progress: bool = True,
        concurrency: int = 8,
        projection: Mapping[str, Sequence[str]] | None = None,
        on_erase: ErasureHook | Iterable[ErasureHook] | None = None,
    ) -> None:
        """`on_erase`: hook(s) called with each person id this sync erases, besides the hooks
        registered process-wide with `register_erasure_hook`."""
        self.store = store
        self.client = client
        self.progress = progress
        self.concurrency = max(1, concurrency)
        self.projection: dict[str, list[str]] = {k: list(v) for k, v in (projection or PROJECTION).items()}
        if on_erase is None:
            self.on_erase: list[ErasureHook] = []
        elif callable(on_erase):
            self.on_erase = [on_erase]
        else:
            self.on_erase = list(on_erase)
        self._known_erased: set[int] | None = None

    async def run(self, full: bool = False, kinds: Sequence[str] = MIRROR_KINDS) -> SyncReport:
        unknown = [k for k in kinds if k not in ENTITY]
        if unknown:
            raise ValueError(f"cannot mirror {unknown}; kinds are {list(ENTITY)}")
        # People first: erasures found there decide which workflows may be stored afterwards.
        ordered = sorted(dict.fromkeys(kinds), key=list(MIRROR_KINDS).index)
        report = SyncReport(full=full, records=dict.fromkeys(ordered, 0))
        self._known_erased = None
        started, t0, sent0 = utcnow(), time.perf_counter(), self.client.requests_sent
        try:
            for kind in ordered:
                await self._sync_kind(kind, full, report)
        except BudgetExhausted:
            report.stopped = "budget"
            logger.info("mirror sync stopped: request budget exhausted; the next run resumes")
        except BaseException:
            report.stopped = "error"
            try:
                self._finish(report, started, t0, sent0)
            except Exception:
                # The crash itself matters more than its bookkeeping (the store may be what failed).
                logger.exception("mirror sync: could not record the failed run")
            raise
        self._finish(report, started, t0, sent0)
        return report

    def _finish(self, report: SyncReport, started: datetime, t0: float, sent0: int) -> None:
        report.requests = self.client.requests_sent - sent0
        report.seconds = time.perf_counter() - t0
        self.store.record_run(
            started=started,
            finished=utcnow(),
            full=report.full or bool(report.full_kinds),
            records=report.records,
            changed=report.changed,
            requests=report.requests,
            seconds=report.seconds,
            deleted=report.deleted,
            erased=report.erased,
            stopped=report.stopped,
        )
        logger.info(
            "mirror sync %s: %d fetched, %d changed, %d deleted, %d erased, %d requests, %.1fs",
            report.stopped or "done",
            sum(report.records.values()),
            report.changed,
            sum(report.deleted.values()),
            report.erased,
            report.requests,
            report.seconds,
        )

    # -- one kind ----------------------------------------------------------------------------------

    async def _sync_kind(self, kind: str, full: bool, report: SyncReport) -> None:
        state = self.store.sync_state(kind)
        entity = ENTITY[kind]
        # An interrupted pass is continued, unless a full pass is asked for and that one was not.
        if state is not None and state.in_progress and (state.pass_full or not full):
            current = _Pass(kind, state.pass_full, state.cursor_id or 0, state.pending_watermark)
            current.fetched_after = _fetched_after(state.pending_watermark)
            watermark = state.watermark
            report.resumed.append(kind)
        else:
            watermark = state.watermark if state is not None else None
            current = _Pass(kind, full or watermark is None, 0, None)
        if current.full:
            report.full_kinds.append(kind)
            query = SearchQuery(filters=[SearchFilter(name=f"{entity}.id", value=["0"], operator=">")])
        else:
            assert watermark is not None
            text = format_datetime(watermark)
            query = SearchQuery(
                filters=[SearchFilter(name=f"{entity}.updateddate", value=[text], operator=">")]
            )
        before = (report.records.get(kind, 0), report.changed, sum(report.deleted.values()), report.erased)
        start_cursor = current.cursor
        bar = tqdm(
            desc=f"mirror {kind}",
            unit="rec",
            file=sys.stderr,
            disable=not (self.progress and sys.stderr.isatty()),
            leave=False,
        )
        try:
            # staleness=0: a cached listing (iCIMS caches 15 minutes by default) could predate the
            # response's `Date`, and the watermark taken from that date would skip changes.
            pages = self.client.search_ids(
                kind, query, after_id=current.cursor, staleness=0, priority=Priority.BACKGROUND
            )
            async with _closing(pages):
                async for page in pages:
                    if current.pending is None:
                        self._begin(current, watermark)
                    ids = sorted(i for i in page if i > current.cursor)
                    bar.total = (bar.total or 0) + len(ids)
                    bar.refresh()
                    for start in range(0, len(ids), self.concurrency):
                        chunk = ids[start : start + self.concurrency]
                        await self._process_chunk(current, chunk, report)
                        bar.update(len(chunk))
            if current.pending is None:
                # The listing was empty (no page was yielded): its response still dates the pass.
                self._begin(current, watermark)
            if current.full:
                # Ids above the last one listed are gone too.
                if kind == "people":
                    self._remember_erased()
                outcome = self.store.apply_chunk(kind, reconcile=(current.cursor, None, ()))
                _add(report, kind, outcome.deleted, outcome.erased)
                if outcome.erased:
                    self._notify_erased(report)
            self.store.finish_pass(kind, finished_at=utcnow())
            report.completed.append(kind)
        finally:
            bar.close()
            fetched, changed, deleted, erased = before
            logger.info(
                "mirror %s %s pass%s: %d fetched, %d changed, %d deleted, %d erased",
                kind,
                "full" if current.full else "incremental",
                f" (resumed after id {start_cursor})" if kind in report.resumed else "",
                report.records.get(kind, 0) - fetched,
                report.changed - changed,
                sum(report.deleted.values()) - deleted,
                report.erased - erased,
            )

    def _begin(self, current: _Pass, watermark: datetime | None) -> None:
        server_time = self.client.last_response_date
        if server_time is None:
            logger.warning("mirror %s: no server Date header; the watermark does not advance", current.kind)
            pending = watermark or _NO_SERVER_TIME
        else:
            pending = floor_minute(server_time.astimezone(UTC)) - timedelta(minutes=1)
        current.pending = pending
        current.fetched_after = _fetched_after(pending) if server_time is not None else None
        self.store.begin_pass(
            current.kind,
            pending_watermark=pending,
            full=current.full,
            cursor_id=current.cursor,
            started_at=utcnow(),
        )

    def _check_budget(self, kind: str, requests: int) -> None:
        """Stop before a chunk the budget cannot finish: requests a chunk spends before the budget
        refuses one of its ids are wasted (the cursor cannot pass that id), so they are not spent."""
        budget = getattr(self.client, "budget", None)
        if not isinstance(budget, RequestBudget):
            return
        headroom = budget.remaining - budget.floor(Priority.BACKGROUND)
        if headroom < requests:
            raise BudgetExhausted(
                None,
                message=f"mirror {kind}: {headroom} background requests left, next chunk needs {requests}",
            )

    async def _process_chunk(self, current: _Pass, ids: list[int], report: SyncReport) -> None:
        kind = current.kind
        skip = self.store.erased_among(ids) if kind == "people" else set()
        fresh = self.store.resume_freshness(ids) if kind == "people" else {}
        todo = [i for i in ids if i not in skip]
        # Worst case: every person also needs a resume fetch.
        self._check_budget(kind, len(todo) * (2 if kind == "people" else 1))
        results = await asyncio.gather(
            *(self._fetch(kind, i, fresh.get(i), current.fetched_after) for i in todo),
            return_exceptions=True,
        )
        by_id: dict[int, _Outcome | BaseException] = dict(zip(todo, results, strict=True))
        # Only a prefix of the chunk (ascending ids) with no failure may advance the cursor;
        # successes after a failure are dropped and fetched again when the pass resumes.
        done: list[int] = []
        failure: BaseException | None = None
        for rid in ids:
            result = by_id.get(rid)
            if isinstance(result, BaseException):
                failure = result
                break
            done.append(rid)
        outcomes = [r for rid in done if isinstance(r := by_id.get(rid), _Fetched | _Missing | _Purged)]
        if done and kind == "people":
            self._remember_erased()
        if done:
            stored = self.store.apply_chunk(
                kind,
                upserts=[
                    Upsert(o.id, o.data, o.resume_action, o.resume_text)
                    for o in outcomes
                    if isinstance(o, _Fetched)
                ],
                missing=[o.id for o in outcomes if isinstance(o, _Missing)],
                erase=[(o.id, "purged") for o in outcomes if isinstance(o, _Purged)],
                reconcile=(current.cursor, done[-1], done) if current.full else None,
                cursor_id=done[-1],
                resume_fetched_at=current.fetched_after,
            )
            current.cursor = done[-1]
            report.records[kind] = report.records.get(kind, 0) + sum(
                1 for o in outcomes if isinstance(o, _Fetched | _Purged)
            )
            report.changed += stored.changed
            _add(report, kind, stored.deleted, stored.erased)
            if stored.erased:
                self._notify_erased(report)
        if failure is not None:
            raise failure

    # -- erasure hooks ------------------------------------------------------------------------------

    def _remember_erased(self) -> None:
        """Snapshot the erased ids once per run, so the ids a chunk erases are told apart afterwards."""
        if self._known_erased is None:
            self._known_erased = {e.person_id for e in self.store.erasures()}

    def _notify_erased(self, report: SyncReport) -> None:
        """Run the erasure hooks for people erased since the last snapshot (already committed)."""
        known = self._known_erased if self._known_erased is not None else set()
        now = {e.person_id for e in self.store.erasures()}
        fresh = sorted(now - known)
        self._known_erased = now
        hooks = [*self.on_erase, *registered_erasure_hooks()]
        for person_id in fresh:
            for hook in hooks:
                try:
                    hook(person_id)
                except Exception:
                    report.erase_hook_errors += 1
                    logger.exception("erasure hook %r failed for person %s", hook, person_id)

    async def _fetch(
        self,
        kind: str,
        rid: int,
        known: tuple[str | None, datetime | None] | None,
        fetched_after: datetime | None,
    ) -> _Outcome:
        background = Priority.BACKGROUND
        try:
            if kind in WORKFLOW_KINDS:
                data = await self.client.get_workflow(kind, rid, priority=background)
            else:
                data = await self.client.get_profile(
                    kind, rid, fields=self.projection.get(kind), priority=background
                )
        except ICIMSNotFound:
            return _Missing(rid)
        if kind != "people":
            return _Fetched(rid, data)
        if _is_purged(data):
            return _Purged(rid)
        if not data.get("resume"):
            return _Fetched(rid, data, "clear")
        if _resume_is_fresh(data, known):
            return _Fetched(rid, data, "keep")
        text = await self.client.get_resume_text(rid, priority=background)
        return _Fetched(rid, data, "set", text)


def _fetched_after(pending: datetime | None) -> datetime | None:
    # pending = floor_minute(pass start) - 1 min, so this is the start of the pass's first minute.
    return None if pending is None else pending + timedelta(minutes=1)


def _is_purged(data: Mapping[str, Any]) -> bool:
    folder = data.get("folder")
    if isinstance(folder, Mapping):
        return folder.get("id") == PURGED_FOLDER or folder.get("value") == "Purged"
    return False


def _resume_is_fresh(data: Mapping[str, Any], known: tuple[str | None, datetime | None] | None) -> bool:
    """Stored text is current when the profile's stamp is unchanged and the text was fetched in a
    later minute than that stamp: a resume replaced after the fetch would carry a newer stamp."""
    if known is None:
        return False
    stored_updated, fetched_at = known
    served = data.get("updateddate")
    if stored_updated is None or fetched_at is None or not isinstance(served, str):
        return False
    try:
        stamp = parse_datetime(served)
    except ValueError:
        return False
    return stamp.strftime("%Y-%m-%d %H:%M") == stored_updated and stamp < fetched_at


def _add(report: SyncReport, kind: str, deleted: Mapping[str, int], erased: int) -> None:
    for k, n in deleted.items():
        report.deleted[k] = report.deleted.get(k, 0) + n
    report.erased += erased


@contextlib.asynccontextmanager
async def _closing(pages: AsyncIterator[list[int]]) -> AsyncIterator[None]:
    """Close the search generator on the way out (a crash mid-listing must not leak it)."""
    try:
        yield
    finally:
        aclose = getattr(pages, "aclose", None)
        if aclose is not None:
            await aclose()
