"""The local mirror of iCIMS: SQLAlchemy 2 tables plus typed query helpers.

SQLite (WAL) by default, any SQLAlchemy URL (e.g. `postgresql+psycopg://...`) for scale: the same
syncs leave the same mirror on both (tests/test_mirror_postgres.py). The sync (`tools.mirror.sync`)
is the only writer of records; everything else reads through `MirrorStore`.

Records are kept as iCIMS served them (the `fields=` projection), minus `links`: those carry the
tenant's base URL and say nothing about the record, so they would only make hashes unstable.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    String,
    Text,
    delete,
    func,
    select,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from tools.icims.formats import parse_datetime
from tools.sqlengine import make_engine

MirrorKind = Literal["people", "jobs", "applicantworkflows", "talentpools", "sourceworkflows"]
MIRROR_KINDS: tuple[MirrorKind, ...] = (
    "people",
    "jobs",
    "applicantworkflows",
    "talentpools",
    "sourceworkflows",
)
WORKFLOW_KINDS: tuple[MirrorKind, ...] = ("applicantworkflows", "sourceworkflows")

# Sortable minute-precision UTC text for the `updateddate` column; iCIMS' own `hh:mm AM` form does not
# sort, and the original text stays in `data["updateddate"]`.
_UPDATED_FORMAT = "%Y-%m-%d %H:%M"


def utcnow() -> datetime:
    return datetime.now(UTC)


def content_hash(data: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of a record without `links` (sorted keys, no whitespace)."""
    body = {k: v for k, v in data.items() if k != "links"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalize_record(data: Mapping[str, Any]) -> dict[str, Any]:
    """What the mirror stores of a served record: no `links`, and profile links (`{profile, id,
    value}`: workflow base/associated profiles, job recruiter and hiring manager, pool owner) without
    their display `value`. iCIMS renders that name from the linked record when serving, without
    touching this record's `updateddate`, so an incremental mirror could never keep it current (a job
    retitled would leave every workflow on it stale) and erasing a person would have to hunt their
    name through other records. Readers join on the id; the linked profiles are mirrored too."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == "links":
            continue
        if isinstance(value, Mapping) and "profile" in value:
            value = {k: v for k, v in value.items() if k != "value"}
        out[key] = value
    return out


def text_hash(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalize_updateddate(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_datetime(value).strftime(_UPDATED_FORMAT)
    except ValueError:
        return None


def node_id(value: Any) -> str | None:
    """The code of a list node (`{"id": "D31001", "value": ...}`: folders, statuses), else None."""
    code = value.get("id") if isinstance(value, Mapping) else None
    return str(code) if code not in (None, "") else None


def link_id(value: Any) -> int | None:
    """The id in a profile link: workflows store bare ints and serve `{profile, id, value}`."""
    if isinstance(value, Mapping):
        value = value.get("id")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


# --- Tables ---------------------------------------------------------------------------------------


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite drops the zone, so store naive UTC there)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class NulSafeText(TypeDecorator[str]):
    """Text that also stores NUL characters on Postgres, whose text type refuses them (SQLite keeps
    them). There a NUL is stored as U+FFFD, the replacement character: resume text extracted from
    files can hold stray NULs, and one must not stop the sync. The row's hash is of the served
    text, so mirrors on both backends compare equal."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is not None and dialect.name == "postgresql" and "\x00" in value:
            return value.replace("\x00", "\ufffd")
        return value


# Plain `json` on Postgres, not `jsonb`: jsonb cannot hold `\u0000` in any string (a field value with
# a NUL would stop the sync on that record for good) and reorders keys, while `json` keeps the text
# as sent, so records read back exactly as on SQLite. Nothing queries inside the JSON (the columns
# the queries need are pulled out of it), so jsonb's operators and indexes are not missed.
JSONType = JSON()
# Record ids: SQLite's INTEGER is 64-bit, Postgres' is 32-bit.
IdType = Integer().with_variant(BigInteger(), "postgresql")


class Base(DeclarativeBase):
    pass


class RecordRow(Base):
    __tablename__ = "records"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    content_hash: Mapped[str] = mapped_column(String(64))
    updateddate: Mapped[str | None] = mapped_column(String(16))
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Workflow links pulled out of `data` so "workflows of person X / job Y" (and erasure) need no
    # JSON queries, which differ between SQLite and Postgres. Null for profiles.
    person_id: Mapped[int | None] = mapped_column(IdType)
    base_id: Mapped[int | None] = mapped_column(IdType)

    __table_args__ = (
        # With `id`: "workflows of person X / job Y, in id order" is an index range scan, no sort.
        Index("ix_records_kind_person_id", "kind", "person_id", "id"),
        Index("ix_records_kind_base_id", "kind", "base_id", "id"),
        # `state_key` asks for the latest write on every rediscovery run: an index makes it a lookup.
        Index("ix_records_synced_at", "synced_at"),
    )


# Indexes added after the first schema: `create_all` only creates missing tables, so a database made
# before them gets them on open.
_ADDED_INDEXES = (
    "CREATE INDEX IF NOT EXISTS ix_records_kind_person_id ON records (kind, person_id, id)",
    "CREATE INDEX IF NOT EXISTS ix_records_kind_base_id ON records (kind, base_id, id)",
    "CREATE INDEX IF NOT EXISTS ix_records_synced_at ON records (synced_at)",
    "CREATE INDEX IF NOT EXISTS ix_resumes_fetched_at ON resumes (fetched_at)",
)


class ResumeRow(Base):
    __tablename__ = "resumes"

    person_id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=False)
    # Null text = fetched, but iCIMS had no extractable text; kept so it is not asked again.
    text: Mapped[str | None] = mapped_column(NulSafeText)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    # iCIMS server time at or before the fetch (see MirrorSync: decides whether the text is fresh).
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_resumes_fetched_at", "fetched_at"),)


class SyncStateRow(Base):
    __tablename__ = "sync_state"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    watermark: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pending_watermark: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cursor_id: Mapped[int | None] = mapped_column(IdType)
    # Whether the pass in progress lists all ids (full) or only updated ones; a resumed pass must
    # use the same filter it started with.
    pass_full: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ErasureRow(Base):
    __tablename__ = "erasures"

    # One row per person: it also tells the sync never to store (or fetch) that person again.
    person_id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=False)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(32))


class SyncRunRow(Base):
    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started: Mapped[datetime] = mapped_column(UTCDateTime)
    finished: Mapped[datetime] = mapped_column(UTCDateTime)
    full: Mapped[bool] = mapped_column(Boolean)
    records: Mapped[dict[str, int]] = mapped_column(JSONType)
    changed: Mapped[int] = mapped_column(Integer)
    requests: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)
    deleted: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)
    erased: Mapped[int] = mapped_column(Integer, default=0)
    stopped: Mapped[str | None] = mapped_column(String(64))


# --- Typed results --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MirrorRecord:
    kind: str
    id: int
    data: dict[str, Any]
    content_hash: str
    updateddate: str | None
    synced_at: datetime


@dataclass(frozen=True, slots=True)
class PersonWithResume:
    id: int
    data: dict[str, Any]
    resume_text: str
    resume_hash: str


@dataclass(frozen=True, slots=True)
class SyncState:
    kind: str
    watermark: datetime | None
    pending_watermark: datetime | None
    cursor_id: int | None
    pass_full: bool
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def in_progress(self) -> bool:
        return self.pending_watermark is not None


@dataclass(frozen=True, slots=True)
class Erasure:
    person_id: int
    erased_at: datetime
    reason: str


ResumeAction = Literal["keep", "set", "clear"]


@dataclass(frozen=True, slots=True)
class Upsert:
    """One fetched record. For people, `resume_action` says what to do with the stored text:
    `keep` (still fresh, not fetched), `set` (store `resume_text`, None = no text) or `clear`."""

    id: int
    data: dict[str, Any]
    resume_action: ResumeAction = "keep"
    resume_text: str | None = None


@dataclass
class ChunkOutcome:
    changed: int = 0
    stored: int = 0
    deleted: dict[str, int] = field(default_factory=dict)
    erased: int = 0

    def count_deleted(self, kind: str, n: int = 1) -> None:
        if n:
            self.deleted[kind] = self.deleted.get(kind, 0) + n


def _record(row: RecordRow) -> MirrorRecord:
    return MirrorRecord(
        kind=row.kind,
        id=row.id,
        data=dict(row.data),
        content_hash=row.content_hash,
        updateddate=row.updateddate,
        synced_at=row.synced_at,
    )


def _state(row: SyncStateRow) -> SyncState:
    return SyncState(
        kind=row.kind,
        watermark=row.watermark,
        pending_watermark=row.pending_watermark,
        cursor_id=row.cursor_id,
        pass_full=bool(row.pass_full),
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


# --- Store ----------------------------------------------------------------------------------------


class MirrorStore:
    """Open (and create) the mirror database at `url`."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, busy_timeout_ms=5000, fast_sync=True, echo=echo)
        Base.metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            for statement in _ADDED_INDEXES:
                conn.execute(sql_text(statement))
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Session:
        return self._sessions()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> MirrorStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reads -------------------------------------------------------------------------------------

    def get(self, kind: str, record_id: int) -> MirrorRecord | None:
        with self.session() as s:
            row = s.get(RecordRow, (kind, record_id))
            return _record(row) if row is not None else None

    def get_data(self, kind: str, record_id: int) -> dict[str, Any] | None:
        record = self.get(kind, record_id)
        return record.data if record is not None else None

    def iter_records(self, kind: str, *, batch_size: int = 500) -> Iterator[MirrorRecord]:
        """All records of a kind in id order, read in keyset batches (memory stays flat at 100k)."""
        last = -1
        while True:
            with self.session() as s:
                rows = s.scalars(
                    select(RecordRow)
                    .where(RecordRow.kind == kind, RecordRow.id > last)
                    .order_by(RecordRow.id)
                    .limit(batch_size)
                ).all()
            if not rows:
                return
            for row in rows:
                yield _record(row)
            last = rows[-1].id

    def ids(self, kind: str) -> list[int]:
        with self.session() as s:
            return list(s.scalars(select(RecordRow.id).where(RecordRow.kind == kind).order_by(RecordRow.id)))

    def rows_where(self, kind: str, column: str, ids: Sequence[int], *, chunk: int = 500) -> Iterator[Any]:
        """(id, person_id, base_id, data) rows of `kind` whose `column` (id, person_id or base_id) is
        in `ids`: plain column rows in chunks (no ORM objects; a 10k pool is 20 queries)."""
        col = {"id": RecordRow.id, "person_id": RecordRow.person_id, "base_id": RecordRow.base_id}[column]
        fields = (RecordRow.id, RecordRow.person_id, RecordRow.base_id, RecordRow.data)
        for i in range(0, len(ids), chunk):
            with self.session() as s:
                yield from s.execute(
                    select(*fields).where(RecordRow.kind == kind, col.in_(ids[i : i + chunk]))
                )

    def workflows(
        self, kind: str, *, person_id: int | None = None, base_id: int | None = None
    ) -> list[MirrorRecord]:
        """Workflows of one kind, filtered by person (associatedprofile) and/or base profile."""
        query = select(RecordRow).where(RecordRow.kind == kind)
        if person_id is not None:
            query = query.where(RecordRow.person_id == person_id)
        if base_id is not None:
            query = query.where(RecordRow.base_id == base_id)
        with self.session() as s:
            return [_record(row) for row in s.scalars(query.order_by(RecordRow.id))]

    def counts(self) -> dict[str, int]:
        """Records per kind (every mirrored kind, zero included) plus `resumes` with text."""
        result: dict[str, int] = dict.fromkeys(MIRROR_KINDS, 0)
        with self.session() as s:
            for kind, n in s.execute(select(RecordRow.kind, func.count()).group_by(RecordRow.kind)):
                result[kind] = n
            result["resumes"] = (
                s.scalar(select(func.count()).select_from(ResumeRow).where(ResumeRow.text.is_not(None))) or 0
            )
        return result

    def resume_text(self, person_id: int) -> str | None:
        with self.session() as s:
            row = s.get(ResumeRow, person_id)
            return row.text if row is not None else None

    def people_with_resumes(self, *, batch_size: int = 200) -> Iterator[PersonWithResume]:
        """Mirrored people that have resume text, in id order, read in batches."""
        last = -1
        while True:
            with self.session() as s:
                rows = s.execute(
                    select(RecordRow, ResumeRow)
                    .join(ResumeRow, ResumeRow.person_id == RecordRow.id)
                    .where(RecordRow.kind == "people", ResumeRow.text.is_not(None), RecordRow.id > last)
                    .order_by(RecordRow.id)
                    .limit(batch_size)
                ).all()
            if not rows:
                return
            for record, resume in rows:
                yield PersonWithResume(
                    id=record.id,
                    data=dict(record.data),
                    resume_text=resume.text or "",
                    resume_hash=resume.content_hash or "",
                )
            last = rows[-1][0].id

    def resume_hashes(self) -> dict[int, str | None]:
        with self.session() as s:
            return {pid: h for pid, h in s.execute(select(ResumeRow.person_id, ResumeRow.content_hash))}

    def record_hashes(self, kind: str) -> dict[int, str]:
        with self.session() as s:
            rows = s.execute(select(RecordRow.id, RecordRow.content_hash).where(RecordRow.kind == kind))
            return {rid: h for rid, h in rows}

    def erasures(self) -> list[Erasure]:
        with self.session() as s:
            rows = s.scalars(select(ErasureRow).order_by(ErasureRow.person_id))
            return [Erasure(r.person_id, r.erased_at, r.reason) for r in rows]

    def is_erased(self, person_id: int) -> bool:
        with self.session() as s:
            return s.get(ErasureRow, person_id) is not None

    def erased_among(self, person_ids: Collection[int]) -> set[int]:
        if not person_ids:
            return set()
        with self.session() as s:
            query = select(ErasureRow.person_id).where(ErasureRow.person_id.in_(list(person_ids)))
            return set(s.scalars(query))

    def sync_state(self, kind: str) -> SyncState | None:
        with self.session() as s:
            row = s.get(SyncStateRow, kind)
            return _state(row) if row is not None else None

    def resume_freshness(self, person_ids: Collection[int]) -> dict[int, tuple[str | None, datetime | None]]:
        """person id -> (stored minute-precision updateddate, resume fetched_at), for mirrored
        people that have a resume row; the sync uses it to skip re-fetching unchanged resumes."""
        if not person_ids:
            return {}
        with self.session() as s:
            rows = s.execute(
                select(RecordRow.id, RecordRow.updateddate, ResumeRow.fetched_at)
                .join(ResumeRow, ResumeRow.person_id == RecordRow.id)
                .where(RecordRow.kind == "people", RecordRow.id.in_(list(person_ids)))
            )
            return {rid: (updated, fetched) for rid, updated, fetched in rows}

    def state_key(self) -> tuple[Any, ...]:
        """Cheap token that changes whenever the mirror's content may have: the last sync run, record
        and resume counts, erasures, and the latest record / resume write. Equal tokens = unchanged."""
        with self.session() as s:
            run = s.execute(
                select(SyncRunRow.id, SyncRunRow.finished).order_by(SyncRunRow.id.desc()).limit(1)
            ).first()
            latest_record = s.scalar(select(func.max(RecordRow.synced_at)))
            latest_resume = s.scalar(select(func.max(ResumeRow.fetched_at)))
            resumes = s.scalar(select(func.count()).select_from(ResumeRow)) or 0
            erasures = s.scalar(select(func.count()).select_from(ErasureRow)) or 0
            latest_erasure = s.scalar(select(func.max(ErasureRow.erased_at)))
            # Not `counts()`: its "resumes with text" filter reads every resume row (~0.2 s at 100k).
            counts = tuple(
                sorted(
                    (kind, n)
                    for kind, n in s.execute(select(RecordRow.kind, func.count()).group_by(RecordRow.kind))
                )
            )
        return (
            tuple(run) if run is not None else None,
            counts,
            resumes,
            erasures,
            str(latest_record),
            str(latest_resume),
            str(latest_erasure),
        )

    def last_run(self) -> dict[str, Any] | None:
        runs = self.runs(limit=1)
        return runs[0] if runs else None

    def runs(self, *, limit: int = 20) -> list[dict[str, Any]]:
        with self.session() as s:
            rows = s.scalars(select(SyncRunRow).order_by(SyncRunRow.id.desc()).limit(limit))
            return [
                {
                    "id": r.id,
                    "started": r.started.isoformat(),
                    "finished": r.finished.isoformat(),
                    "full": r.full,
                    "records": dict(r.records or {}),
                    "changed": r.changed,
                    "deleted": dict(r.deleted or {}),
                    "erased": r.erased,
                    "requests": r.requests,
                    "seconds": r.seconds,
                    "stopped": r.stopped,
                }
                for r in rows
            ]

    # -- writes (used by MirrorSync) ---------------------------------------------------------------

    def begin_pass(
        self, kind: str, *, pending_watermark: datetime, full: bool, cursor_id: int, started_at: datetime
    ) -> None:
        with self.session() as s, s.begin():
            row = s.get(SyncStateRow, kind)
            if row is None:
                row = SyncStateRow(kind=kind)
                s.add(row)
            row.pending_watermark = pending_watermark
            row.pass_full = full
            row.cursor_id = cursor_id
            row.started_at = started_at

    def finish_pass(self, kind: str, *, finished_at: datetime) -> None:
        """Promote the pending watermark: every id the pass listed has been processed."""
        with self.session() as s, s.begin():
            row = s.get(SyncStateRow, kind)
            if row is None or row.pending_watermark is None:
                return
            row.watermark = row.pending_watermark
            row.pending_watermark = None
            row.cursor_id = None
            row.pass_full = False
            row.finished_at = finished_at

    def apply_chunk(
        self,
        kind: str,
        *,
        upserts: Sequence[Upsert] = (),
        missing: Iterable[int] = (),
        erase: Iterable[tuple[int, str]] = (),
        reconcile: tuple[int, int | None, Collection[int]] | None = None,
        cursor_id: int | None = None,
        now: datetime | None = None,
        resume_fetched_at: datetime | None = None,
    ) -> ChunkOutcome:
        """Write one processed chunk and advance the cursor in one transaction, so a crash leaves
        either all of it or none of it and a resumed pass never double-counts.

        `missing`: ids iCIMS answered 404 for (people among them are erased). `erase`: (person id,
        reason). `reconcile=(lo, hi, listed)`: a full pass listed exactly `listed` in (lo, hi] (hi
        None = no upper bound), so mirrored ids in that range not listed are gone from iCIMS.
        """
        now = now or utcnow()
        outcome = ChunkOutcome()
        with self.session() as s, s.begin():
            erase_list = list(erase)
            for pid in missing:
                if kind == "people":
                    erase_list.append((pid, "not_found"))
                else:
                    outcome.count_deleted(kind, self._delete_record(s, kind, pid))
            if reconcile is not None:
                lo, hi, listed = reconcile
                query = select(RecordRow.id).where(RecordRow.kind == kind, RecordRow.id > lo)
                if hi is not None:
                    query = query.where(RecordRow.id <= hi)
                listed_set = set(listed)
                for gone in [rid for rid in s.scalars(query) if rid not in listed_set]:
                    if kind == "people":
                        erase_list.append((gone, "deleted"))
                    else:
                        outcome.count_deleted(kind, self._delete_record(s, kind, gone))
            for pid, reason in erase_list:
                self._erase(s, pid, reason, now, outcome)
            if upserts:
                self._upsert(s, kind, upserts, now, resume_fetched_at, outcome)
            if cursor_id is not None:
                row = s.get(SyncStateRow, kind)
                if row is not None:
                    row.cursor_id = cursor_id
        return outcome

    def write_through(
        self,
        kind: str,
        record_id: int,
        fields: Mapping[str, Any],
        *,
        person_id: int | None = None,
        base_id: int | None = None,
        now: datetime | None = None,
    ) -> bool:
        """Apply a write this service just made in iCIMS to the mirrored record, so the service
        never reads its own stale past before the next sync (a candidate submitted by an approval
        must not get a nurture email minutes later as if they had no application). A record the
        mirror lacks is created only for a new workflow (`person_id` and `base_id` given); the next
        sync replaces it with what iCIMS serves. Nothing is stored for an erased person. Returns
        whether a row changed."""
        now = now or utcnow()
        with self.session() as s, s.begin():
            row = s.get(RecordRow, (kind, int(record_id)))
            owner = person_id if kind in WORKFLOW_KINDS else (int(record_id) if kind == "people" else None)
            if owner is not None and s.get(ErasureRow, int(owner)) is not None:
                return False
            if row is None:
                if kind not in WORKFLOW_KINDS or person_id is None or base_id is None:
                    return False
                data = normalize_record(
                    {"associatedprofile": int(person_id), "baseprofile": int(base_id), **dict(fields)}
                )
                s.add(
                    RecordRow(
                        kind=kind,
                        id=int(record_id),
                        data=data,
                        content_hash=content_hash(data),
                        updateddate=None,
                        synced_at=now,
                        person_id=int(person_id),
                        base_id=int(base_id),
                    )
                )
                return True
            data = {**row.data, **normalize_record(dict(fields))}
            if data == row.data:
                return False
            row.data = data
            row.content_hash = content_hash(data)
            row.synced_at = now
            return True

    def erase_person(self, person_id: int, reason: str, *, now: datetime | None = None) -> ChunkOutcome:
        """Erase one person locally (record, resume text, workflows), e.g. on an erasure request."""
        outcome = ChunkOutcome()
        with self.session() as s, s.begin():
            self._erase(s, person_id, reason, now or utcnow(), outcome)
        return outcome

    def record_run(
        self,
        *,
        started: datetime,
        finished: datetime,
        full: bool,
        records: Mapping[str, int],
        changed: int,
        requests: int,
        seconds: float,
        deleted: Mapping[str, int],
        erased: int,
        stopped: str | None,
    ) -> int:
        with self.session() as s, s.begin():
            row = SyncRunRow(
                started=started,
                finished=finished,
                full=full,
                records=dict(records),
                changed=changed,
                requests=requests,
                seconds=seconds,
                deleted=dict(deleted),
                erased=erased,
                stopped=stopped,
            )
            s.add(row)
            s.flush()
            return row.id

    # -- internals ---------------------------------------------------------------------------------

    @staticmethod
    def _delete_record(s: Session, kind: str, record_id: int) -> int:
        result = s.execute(delete(RecordRow).where(RecordRow.kind == kind, RecordRow.id == record_id))
        return int(getattr(result, "rowcount", 0) or 0)

    def _erase(self, s: Session, person_id: int, reason: str, now: datetime, outcome: ChunkOutcome) -> None:
        outcome.count_deleted("people", self._delete_record(s, "people", person_id))
        s.execute(delete(ResumeRow).where(ResumeRow.person_id == person_id))
        for wf_kind in WORKFLOW_KINDS:
            result = s.execute(
                delete(RecordRow).where(RecordRow.kind == wf_kind, RecordRow.person_id == person_id)
            )
            outcome.count_deleted(wf_kind, int(getattr(result, "rowcount", 0) or 0))
        if s.get(ErasureRow, person_id) is None:
            s.add(ErasureRow(person_id=person_id, erased_at=now, reason=reason))
            s.flush()
            outcome.erased += 1

    def _upsert(
        self,
        s: Session,
        kind: str,
        upserts: Sequence[Upsert],
        now: datetime,
        resume_fetched_at: datetime | None,
        outcome: ChunkOutcome,
    ) -> None:
        ids = [u.id for u in upserts]
        existing = {
            row.id: row
            for row in s.scalars(select(RecordRow).where(RecordRow.kind == kind, RecordRow.id.in_(ids)))
        }
        erased: set[int] = set()
        if kind in WORKFLOW_KINDS:
            people = {pid for u in upserts if (pid := link_id(u.data.get("associatedprofile"))) is not None}
            if people:
                query = select(ErasureRow.person_id).where(ErasureRow.person_id.in_(people))
                erased = set(s.scalars(query))
        for item in upserts:
            data = normalize_record(item.data)
            person_id = base_id = None
            if kind in WORKFLOW_KINDS:
                person_id = link_id(data.get("associatedprofile"))
                base_id = link_id(data.get("baseprofile"))
                if person_id in erased:
                    # The person was erased here: keep none of their rows, even if iCIMS still
                    # serves the workflow (it would re-import their name with it).
                    if item.id in existing:
                        s.delete(existing[item.id])
                        outcome.count_deleted(kind)
                    continue
            digest = content_hash(data)
            row = existing.get(item.id)
            if row is None:
                row = RecordRow(kind=kind, id=item.id)
                s.add(row)
                outcome.changed += 1
            elif row.content_hash != digest:
                outcome.changed += 1
            row.data = data
            row.content_hash = digest
            row.updateddate = normalize_updateddate(data.get("updateddate"))
            row.synced_at = now
            row.person_id = person_id
            row.base_id = base_id
            outcome.stored += 1
            if kind == "people":
                self._apply_resume(s, item, resume_fetched_at)

    @staticmethod
    def _apply_resume(s: Session, item: Upsert, fetched_at: datetime | None) -> None:
        if item.resume_action == "keep":
            return
        row = s.get(ResumeRow, item.id)
        if item.resume_action == "clear":
            if row is not None:
                s.delete(row)
            return
        if row is None:
            row = ResumeRow(person_id=item.id)
            s.add(row)
        row.text = item.resume_text
        row.content_hash = text_hash(item.resume_text)
        row.fetched_at = fetched_at


def mirror_fingerprint(store: MirrorStore) -> dict[str, Any]:
    """Everything that defines the mirror's content, for comparing two mirrors of the same tenant:
    record hashes per kind, resume text hashes, and erased person ids (timestamps left out)."""
    return {
        "records": {kind: store.record_hashes(kind) for kind in MIRROR_KINDS},
        "resumes": store.resume_hashes(),
        "erased": sorted(e.person_id for e in store.erasures()),
    }
