"""Benchmark fixture: a mirror of a generated tenant, written straight into a `MirrorStore`.

Syncing 100k people through the API takes far too long for `make bench` (about 3 requests per person
at a few hundred requests/s: see the sync figures), and the rediscovery benchmark measures ranking, not
the sync. So this writes what a completed full `MirrorSync` pass would have left, without HTTP:

- every record is serialised as the sandbox serves it (`Serializer.profile`, with the sync's `fields=`
  projection for profiles and whole records for workflows, `links` included) and stored as the sync's
  write path (`MirrorStore.apply_chunk`) stores it: `links` and profile-link display names dropped
  (`normalize_record`), content hash, minute-precision `updateddate`, workflow person/base ids;
- people with a resume file get their resume text row (the text the sandbox's `/fields/resume/text`
  serves, with its hash and `fetched_at`); people without one get none; purged people are erased and
  their workflows left out;
- each kind's sync state is a finished full pass (watermark one minute before `now`), so an
  incremental sync against the same tenant would carry on from here.

`bulk=True` (the default) writes the rows with executemany inserts built from the store's own
normalisation functions: `apply_chunk` loads each person's resume row with its own query (about 1 ms a
person), which made 100k people take ~110 s instead of ~25 s. `bulk=False` goes through `apply_chunk`;
`mirror_fingerprint` of both is identical (checked by the benchmark at 1k), and the `apply_chunk` path
was checked equal to a real `MirrorSync` over HTTP against the sandbox serving the same tenant.

Only for benchmarks and experiments: production mirrors are written by `tools.mirror.sync` alone.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select

from sandbox.serialize import Serializer
from sandbox.store import Tenant
from tools.icims.formats import floor_minute, format_datetime
from tools.mirror.store import (
    MIRROR_KINDS,
    WORKFLOW_KINDS,
    ErasureRow,
    MirrorStore,
    RecordRow,
    ResumeRow,
    Upsert,
    content_hash,
    link_id,
    normalize_record,
    normalize_updateddate,
    text_hash,
)
from tools.mirror.sync import PROJECTION, PURGED_FOLDER

# The links a served record carries point at the server it came from; the mirror drops `links`, but
# profile links inside fields (a pool's owner) keep their URL, so use the sandbox's usual address.
DEFAULT_BASE_URL = "http://127.0.0.1:8790"
CHUNK = 1_000


@dataclass
class FixtureReport:
    records: dict[str, int] = field(default_factory=dict)
    resumes: int = 0
    erased: int = 0
    seconds: float = 0.0


def _is_purged(data: dict[str, Any]) -> bool:
    folder = data.get("folder")
    return isinstance(folder, dict) and (folder.get("id") == PURGED_FOLDER or folder.get("value") == "Purged")


def _served_people(
    tenant: Tenant, serializer: Serializer, ids: Sequence[int], base_url: str
) -> tuple[list[Upsert], list[tuple[int, str]]]:
    """The sync's per-person outcome: (upserts with their resume action, erasures)."""
    upserts: list[Upsert] = []
    erase: list[tuple[int, str]] = []
    for pid in ids:
        record = tenant.get("people", pid)
        if record is None:
            continue
        data = serializer.profile("people", pid, record, base_url, PROJECTION["people"])
        if _is_purged(data):
            erase.append((pid, "purged"))
        elif not data.get("resume"):
            upserts.append(Upsert(pid, data, "clear"))
        else:
            # The sandbox answers 404 when it has no text, which the client returns as None.
            text = tenant.get_text("people", pid, "resume") or None
            upserts.append(Upsert(pid, data, "set", text))
    return upserts, erase


def write_mirror(
    tenant: Tenant,
    store: MirrorStore,
    *,
    now: datetime | None = None,
    base_url: str = DEFAULT_BASE_URL,
    kinds: Iterable[str] = MIRROR_KINDS,
    chunk: int = CHUNK,
    bulk: bool = True,
) -> FixtureReport:
    """Write `tenant` into `store` as a full sync at `now` would (see the module docstring)."""
    now = (now or tenant.clock()).astimezone(UTC)
    watermark = floor_minute(now) - timedelta(minutes=1)
    fetched_at = watermark + timedelta(minutes=1)
    serializer = Serializer(tenant, tenant.customer_id)
    report = FixtureReport()
    started = time.perf_counter()
    for kind in sorted(dict.fromkeys(kinds), key=list(MIRROR_KINDS).index):  # people first, as the sync
        ids = sorted(tenant.records[kind])
        store.begin_pass(kind, pending_watermark=watermark, full=True, cursor_id=0, started_at=now)
        for start in range(0, len(ids), chunk):
            part = ids[start : start + chunk]
            erase: list[tuple[int, str]] = []
            if kind == "people":
                upserts, erase = _served_people(tenant, serializer, part, base_url)
                report.resumes += sum(1 for u in upserts if u.resume_action == "set" and u.resume_text)
            else:
                fields = PROJECTION.get(kind)  # workflows have no projection: served whole
                upserts = [
                    Upsert(rid, serializer.profile(kind, rid, tenant.records[kind][rid], base_url, fields))
                    for rid in part
                ]
            if bulk:
                stored = _bulk_upsert(store, kind, upserts, now, fetched_at)
                for pid, reason in erase:
                    report.erased += store.erase_person(pid, reason, now=now).erased
            else:
                outcome = store.apply_chunk(
                    kind, upserts=upserts, erase=erase, now=now, resume_fetched_at=fetched_at
                )
                stored, report.erased = outcome.stored, report.erased + outcome.erased
            report.records[kind] = report.records.get(kind, 0) + stored + len(erase)
        store.finish_pass(kind, finished_at=now)
    report.seconds = time.perf_counter() - started
    store.record_run(
        started=now,
        finished=now,
        full=True,
        records=report.records,
        changed=sum(report.records.values()),
        requests=0,
        seconds=report.seconds,
        deleted={},
        erased=report.erased,
        stopped=None,
    )
    return report


def _bulk_upsert(
    store: MirrorStore, kind: str, upserts: Sequence[Upsert], now: datetime, fetched_at: datetime
) -> int:
    """What `MirrorStore._upsert` leaves for these records, written with executemany (see module doc)."""
    rows: list[dict[str, Any]] = []
    resumes: list[dict[str, Any]] = []
    cleared: list[int] = []
    with store.session() as s, s.begin():
        erased: set[int] = set()
        if kind in WORKFLOW_KINDS:
            people = {pid for u in upserts if (pid := link_id(u.data.get("associatedprofile"))) is not None}
            erased = set(s.scalars(select(ErasureRow.person_id).where(ErasureRow.person_id.in_(people))))
        for item in upserts:
            data = normalize_record(item.data)
            person_id = base_id = None
            if kind in WORKFLOW_KINDS:
                person_id = link_id(data.get("associatedprofile"))
                base_id = link_id(data.get("baseprofile"))
                if person_id in erased:
                    continue
            rows.append(
                {
                    "kind": kind,
                    "id": item.id,
                    "data": data,
                    "content_hash": content_hash(data),
                    "updateddate": normalize_updateddate(data.get("updateddate")),
                    "synced_at": now,
                    "person_id": person_id,
                    "base_id": base_id,
                }
            )
            if item.resume_action == "set":
                resumes.append(
                    {
                        "person_id": item.id,
                        "text": item.resume_text,
                        "content_hash": text_hash(item.resume_text),
                        "fetched_at": fetched_at,
                    }
                )
            elif item.resume_action == "clear":
                cleared.append(item.id)
        ids = [r["id"] for r in rows]
        if ids:
            s.execute(delete(RecordRow).where(RecordRow.kind == kind, RecordRow.id.in_(ids)))
            s.execute(insert(RecordRow), rows)
        touched = cleared + [r["person_id"] for r in resumes]
        if touched:
            s.execute(delete(ResumeRow).where(ResumeRow.person_id.in_(touched)))
        if resumes:
            s.execute(insert(ResumeRow), resumes)
    return len(rows)


def edit_resumes(
    store: MirrorStore, person_ids: Iterable[int], edit: Any, *, now: datetime | None = None
) -> list[int]:
    """Apply `edit(text) -> text` to the mirrored resumes of `person_ids`, as an incremental sync
    would store a changed resume (new text and hash, the profile's `updateddate` bumped). Returns
    the ids whose text actually changed."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    stamp = format_datetime(floor_minute(now) - timedelta(minutes=1))
    upserts: list[Upsert] = []
    for pid in person_ids:
        data = store.get_data("people", pid)
        text = store.resume_text(pid)
        if data is None or text is None:
            continue
        new_text = edit(text)
        if new_text == text:
            continue
        upserts.append(Upsert(pid, {**data, "updateddate": stamp}, "set", new_text))
    if upserts:
        store.apply_chunk("people", upserts=upserts, now=now, resume_fetched_at=floor_minute(now))
    return [u.id for u in upserts]
