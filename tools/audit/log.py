"""Append-only, hash-chained audit log.

Each record stores a hash of the previous record's hash plus its own canonical content, so editing,
deleting or reordering any stored record breaks every later link, and `verify()` says where. The hash
scheme is kept per record (`scheme`): 0 is plain sha256 (records written before the chain was keyed,
still verified as such), 1 is HMAC-SHA256 with a key kept outside the database (`tools.audit.anchor`),
so recomputing the hashes after an edit needs the key. A keyed chain never goes back to plain records:
an unkeyed record after a keyed one is reported as a downgrade. With an anchor file, every append also
writes `seq hash` there, and `verify(anchor=...)` notices a truncated tail with a rewritten head, or a
chain recomputed from scratch. A one-row
`audit_head` table holds the count and the latest hash: it serialises appends (its UPDATE takes the
write lock first, on SQLite and Postgres alike) and lets `verify()` notice a truncated tail.

Records are idempotent on `key`: a node that re-runs after a crash (LangGraph replays a node whose
result was not checkpointed) appends nothing new and gets the stored record back.

Bodies hold ids, hashes, versions, scores and decisions; never names, emails or resume text.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, func, inspect, select, text, update
from sqlalchemy.exc import IntegrityError

from tools.audit.anchor import AnchorEntry, AnchorFile, audit_anchor_path, audit_key_for, check_anchor
from tools.sqlengine import make_engine

if TYPE_CHECKING:
    from tools.settings import Settings

GENESIS_HASH = "0" * 64
PLAIN_SCHEME = 0  # sha256, no key: records written before the chain was keyed
KEYED_SCHEME = 1  # HMAC-SHA256 with the audit key

_metadata = MetaData()
audit_table = Table(
    "audit_log",
    _metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("key", String(200), nullable=False, unique=True),
    Column("kind", String(64), nullable=False),
    Column("trace_id", String(64), nullable=False, index=True),
    Column("thread_id", String(200), index=True),
    Column("recorded_at", String(40), nullable=False),
    # The canonical JSON text exactly as hashed: re-serialising a JSON column could reorder keys.
    Column("body", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # NULL (rows from before the column existed) reads as PLAIN_SCHEME.
    Column("scheme", Integer),
)
head_table = Table(
    "audit_head",
    _metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("last_hash", String(64), nullable=False),
)

_SQLITE_GUARDS = [
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
]
_POSTGRES_GUARDS = [
    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
]


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 kept: one text per value, so hashes are reproducible."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha256_text(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def value_hash(value: Any) -> str:
    """sha256 of a JSON-able value's canonical text: how audit records name inputs and edits they
    must not store (resume text, messages, a reviewer's notes)."""
    return sha256_text(canonical_json(value))


def _record_hash(
    *,
    seq: int,
    key: str,
    kind: str,
    trace_id: str,
    thread_id: str | None,
    recorded_at: str,
    body: str,
    prev_hash: str,
    scheme: int = PLAIN_SCHEME,
    secret: bytes | None = None,
) -> str:
    fields: dict[str, Any] = {
        "seq": seq,
        "key": key,
        "kind": kind,
        "trace_id": trace_id,
        "thread_id": thread_id,
        "recorded_at": recorded_at,
        "prev_hash": prev_hash,
    }
    if scheme != PLAIN_SCHEME:
        fields["scheme"] = scheme  # so a record cannot be relabelled to another scheme unnoticed
    # Body appended as stored text (not re-serialised) so any byte changed in it changes the hash.
    content = canonical_json(fields) + "\n" + body
    if scheme == PLAIN_SCHEME:
        return sha256_text(content)
    if secret is None:
        raise ValueError("a keyed audit record needs the audit key")
    return hmac.new(secret, content.encode("utf-8"), hashlib.sha256).hexdigest()


def audit_database_url(settings: Settings) -> str:
    explicit = getattr(settings, "audit_url", None)
    return explicit or f"sqlite:///{settings.data_dir / 'audit.sqlite'}"


@dataclass(frozen=True, slots=True)
class AuditRecord:
    seq: int
    key: str
    kind: str
    trace_id: str
    thread_id: str | None
    recorded_at: str
    body: dict[str, Any]
    prev_hash: str
    hash: str
    scheme: int = PLAIN_SCHEME


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    records: int
    bad_seq: int | None = None
    problem: str | None = None
    plain_records: int = 0  # records hashed without the key (from before the chain was keyed)
    anchored: int | None = None  # anchor lines checked; None: no anchor given


def _row_record(row: Any) -> AuditRecord:
    return AuditRecord(
        seq=row.seq,
        key=row.key,
        kind=row.kind,
        trace_id=row.trace_id,
        thread_id=row.thread_id,
        recorded_at=row.recorded_at,
        body=json.loads(row.body),
        prev_hash=row.prev_hash,
        hash=row.hash,
        scheme=row.scheme or PLAIN_SCHEME,
    )


class AuditLog:
    def __init__(
        self,
        url: str,
        *,
        clock: Callable[[], datetime] | None = None,
        secret: bytes | None = None,
        anchor: Path | str | None = None,
    ) -> None:
        """`secret`: the HMAC key new records are hashed with (without one they are plain sha256, as
        before the chain was keyed). `anchor`: the append-only file every append writes its head to."""
        self.url = url
        self.engine = make_engine(url, busy_timeout_ms=10_000)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._secret = secret
        self.anchor = AnchorFile(anchor) if anchor is not None else None
        _metadata.create_all(self.engine)
        self._add_scheme_column()
        with self.engine.begin() as conn:
            guards = {"sqlite": _SQLITE_GUARDS, "postgresql": _POSTGRES_GUARDS}.get(
                self.engine.dialect.name, []
            )
            for statement in guards:
                conn.execute(text(statement))
        try:
            with self.engine.begin() as conn:
                if conn.execute(select(head_table.c.id)).first() is None:
                    conn.execute(head_table.insert().values(id=1, seq=0, last_hash=GENESIS_HASH))
        except IntegrityError:
            pass  # another process created the head row first

    @classmethod
    def from_settings(cls, settings: Settings) -> AuditLog:
        return cls(
            audit_database_url(settings),
            secret=audit_key_for(settings),
            anchor=audit_anchor_path(settings),
        )

    def _add_scheme_column(self) -> None:
        """Chains created before records carried their scheme get the column (NULL = plain)."""
        if "scheme" in {c["name"] for c in inspect(self.engine).get_columns("audit_log")}:
            return
        try:
            with self.engine.begin() as conn:
                conn.execute(text("ALTER TABLE audit_log ADD COLUMN scheme INTEGER"))
        except Exception:
            # Another process added it first.
            if "scheme" not in {c["name"] for c in inspect(self.engine).get_columns("audit_log")}:
                raise

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writes ------------------------------------------------------------------------------------

    def append(
        self,
        *,
        kind: str,
        key: str,
        trace_id: str,
        body: Mapping[str, Any],
        thread_id: str | None = None,
    ) -> AuditRecord:
        """Append one record, or return the one already stored under `key` (unchanged)."""
        existing = self.get(key)
        if existing is not None:
            return existing
        body_text = canonical_json(dict(body))
        recorded_at = self._clock().astimezone(UTC).isoformat()
        try:
            with self.engine.begin() as conn:
                # Take the write lock before reading the head: two appenders never see the same tail.
                conn.execute(update(head_table).where(head_table.c.id == 1).values(seq=head_table.c.seq + 1))
                head = conn.execute(select(head_table).where(head_table.c.id == 1)).one()
                seq, prev_hash = head.seq, head.last_hash
                scheme = KEYED_SCHEME if self._secret is not None else PLAIN_SCHEME
                digest = _record_hash(
                    seq=seq,
                    key=key,
                    kind=kind,
                    trace_id=trace_id,
                    thread_id=thread_id,
                    recorded_at=recorded_at,
                    body=body_text,
                    prev_hash=prev_hash,
                    scheme=scheme,
                    secret=self._secret,
                )
                conn.execute(
                    audit_table.insert().values(
                        seq=seq,
                        key=key,
                        kind=kind,
                        trace_id=trace_id,
                        thread_id=thread_id,
                        recorded_at=recorded_at,
                        body=body_text,
                        prev_hash=prev_hash,
                        hash=digest,
                        scheme=scheme,
                    )
                )
                conn.execute(update(head_table).where(head_table.c.id == 1).values(last_hash=digest))
        except IntegrityError:
            # The same key was appended concurrently: the first one wins, and is what we return.
            again = self.get(key)
            if again is None:
                raise
            return again
        if self.anchor is not None:
            # After the commit: the anchor never names a record that was rolled back.
            self.anchor.append(seq, digest, recorded_at)
        return AuditRecord(
            seq=seq,
            key=key,
            kind=kind,
            trace_id=trace_id,
            thread_id=thread_id,
            recorded_at=recorded_at,
            body=json.loads(body_text),
            prev_hash=prev_hash,
            hash=digest,
            scheme=scheme,
        )

    # -- reads -------------------------------------------------------------------------------------

    def get(self, key: str) -> AuditRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(audit_table).where(audit_table.c.key == key)).first()
        return _row_record(row) if row is not None else None

    def records(self, *, trace_id: str | None = None, thread_id: str | None = None) -> list[AuditRecord]:
        query = select(audit_table).order_by(audit_table.c.seq)
        if trace_id is not None:
            query = query.where(audit_table.c.trace_id == trace_id)
        if thread_id is not None:
            query = query.where(audit_table.c.thread_id == thread_id)
        with self.engine.connect() as conn:
            return [_row_record(row) for row in conn.execute(query)]

    def iter_records(
        self, *, since: datetime | None = None, kind: str | None = None, batch_size: int = 1000
    ) -> Iterator[AuditRecord]:
        """Records in chain order, recorded at or after `since` (aware), of one `kind`, read in
        keyset batches so an export of months of triage stays flat in memory."""
        last = 0
        cutoff = since.astimezone(UTC).isoformat() if since is not None else None
        while True:
            query = select(audit_table).where(audit_table.c.seq > last).order_by(audit_table.c.seq)
            if cutoff is not None:
                # ISO-8601 UTC text with one offset sorts as time does.
                query = query.where(audit_table.c.recorded_at >= cutoff)
            if kind is not None:
                query = query.where(audit_table.c.kind == kind)
            with self.engine.connect() as conn:
                rows = conn.execute(query.limit(batch_size)).all()
            if not rows:
                return
            for row in rows:
                yield _row_record(row)
            last = rows[-1].seq

    def count_before(self, cutoff: datetime) -> int:
        query = select(func.count()).select_from(audit_table)
        query = query.where(audit_table.c.recorded_at < cutoff.astimezone(UTC).isoformat())
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar() or 0)

    def oldest(self) -> AuditRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(audit_table).order_by(audit_table.c.seq).limit(1)).first()
        return _row_record(row) if row is not None else None

    def head(self) -> tuple[int, str]:
        """(records appended, latest hash): worth anchoring outside the database now and then."""
        with self.engine.connect() as conn:
            row = conn.execute(select(head_table).where(head_table.c.id == 1)).one()
        return row.seq, row.last_hash

    def verify(self, *, anchor: Path | str | None = None) -> ChainReport:
        """Recompute every link; with `anchor` (an anchor file's path) also check that every record it
        names is in the chain with the hash it had then. Reports the first problem, if any."""
        expected_prev = GENESIS_HASH
        count = plain = 0
        keyed_seen = False
        hashes: dict[int, str] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(select(audit_table).order_by(audit_table.c.seq)):
                count += 1
                if row.seq != count:
                    return ChainReport(
                        False, count, row.seq, f"sequence gap: expected {count}, found {row.seq}"
                    )
                if row.prev_hash != expected_prev:
                    return ChainReport(False, count, row.seq, "prev_hash does not match the previous record")
                scheme = row.scheme or PLAIN_SCHEME
                if scheme == PLAIN_SCHEME:
                    if keyed_seen:
                        return ChainReport(
                            False, count, row.seq, "unkeyed record after keyed ones: hash scheme downgraded"
                        )
                    plain += 1
                elif scheme != KEYED_SCHEME:
                    return ChainReport(False, count, row.seq, f"unknown hash scheme {scheme}")
                elif self._secret is None:
                    return ChainReport(False, count, row.seq, "keyed record, and no audit key to check it")
                else:
                    keyed_seen = True
                digest = _record_hash(
                    seq=row.seq,
                    key=row.key,
                    kind=row.kind,
                    trace_id=row.trace_id,
                    thread_id=row.thread_id,
                    recorded_at=row.recorded_at,
                    body=row.body,
                    prev_hash=row.prev_hash,
                    scheme=scheme,
                    secret=self._secret,
                )
                if not hmac.compare_digest(digest, row.hash):
                    problem = "content does not match its hash"
                    if scheme == KEYED_SCHEME:
                        problem += " (edited, recomputed without the key, or a different audit key)"
                    return ChainReport(False, count, row.seq, problem)
                if anchor is not None:
                    hashes[row.seq] = row.hash
                expected_prev = row.hash
            head = conn.execute(select(head_table).where(head_table.c.id == 1)).one()
        anchored: int | None = None
        if anchor is not None:
            entries: list[AnchorEntry] = AnchorFile(anchor).entries()
            result = check_anchor(entries, hashes, count)
            if not result.ok:
                return ChainReport(False, count, result.bad_seq, result.problem, plain, result.anchored)
            anchored = result.anchored
        if head.seq != count or head.last_hash != expected_prev:
            return ChainReport(
                False,
                count,
                None,
                f"head says {head.seq} records ending {head.last_hash[:12]}: tail missing",
                plain,
                anchored,
            )
        return ChainReport(True, count, plain_records=plain, anchored=anchored)
