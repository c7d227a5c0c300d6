"""Erasure everywhere: one path that forgets a person in every store the service keeps.

`erase_everywhere` is what an erasure request (`icims-agents erase PERSON_ID`, or the mirror sync
finding a person purged or gone in iCIMS, through its erasure hook) runs. It takes the identifying
strings (names, email, phones) from the mirror first, then purges:

- the mirror: record, resume text, workflows (an `erasures` row keeps the id, so nothing re-mirrors them);
- vectors: every registered erasure hook (rediscovery's cached embeddings and run indexes);
- checkpoints: every thread whose state names the person (by id or by one of those strings) is
  deleted, finished or pending (a pending run holding them has to be started again);
- the email outbox: their `.eml` files and index lines; offer letters: the folders of their workflows'
  offers, and any other file under the offers folder that holds one of the strings;
- the nurture store: contacts and stops, leaving an `erased` stop with a hashed tombstone;
- SQLite files under `data_dir` are then vacuumed, so deleted rows do not linger in free pages.

The erasure is audited (kind `erasure`): the person id, what was purged (counts) and a hash of the
identifying strings, never the strings themselves.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tools.audit import AuditLog, value_hash
from tools.checkpoint import open_checkpointer
from tools.email.outbox import LocalOutbox
from tools.mirror import MirrorStore
from tools.mirror.store import WORKFLOW_KINDS
from tools.mirror.sync import registered_erasure_hooks
from tools.nurture.store import NurtureStore
from tools.settings import Settings

logger = logging.getLogger(__name__)
_IDENTIFYING = ("name", "email", "phone", "address")
_MIN_NEEDLE = 4  # shorter strings (initials, "US") would match unrelated text


@dataclass
class ErasureReport:
    person_id: int
    mirror_records: int = 0
    vector_hooks: int = 0
    threads_deleted: list[str] = field(default_factory=list)
    outbox_messages: int = 0
    offer_files: int = 0
    nurture_rows: int = 0
    vacuumed: int = 0
    audit_seq: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def identifying_strings(person: dict[str, Any] | None) -> list[str]:
    """The person record's names, emails, phones and addresses (every nested string under such a key)."""
    found: set[str] = set()

    def walk(value: Any, hot: bool) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, hot or any(word in str(key).lower() for word in _IDENTIFYING))
        elif isinstance(value, list):
            for inner in value:
                walk(inner, hot)
        elif hot and isinstance(value, str) and len(value.strip()) >= _MIN_NEEDLE:
            found.add(value.strip())

    walk(person or {}, False)
    return sorted(found)


def _mentions(value: Any, person_id: int, needles: list[str]) -> bool:
    """Whether a checkpointed value names the person: a `person_id` (or `id` inside `person`) equal to
    theirs, or a string holding one of their identifying strings."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, key = stack.pop()
        if isinstance(item, dict):
            stack.extend((v, str(k)) for k, v in item.items())
        elif isinstance(item, list | tuple | set):
            stack.extend((v, key) for v in item)
        elif isinstance(item, str):
            if any(n in item for n in needles):
                return True
        elif isinstance(item, int) and not isinstance(item, bool):
            if key in ("person_id", "personid") and item == person_id:
                return True
        elif hasattr(item, "model_dump"):
            stack.append((item.model_dump(), key))
        elif hasattr(item, "__dict__"):
            stack.append((vars(item), key))
    return False


def _purge_checkpoints(settings: Settings, person_id: int, needles: list[str]) -> list[str]:
    doomed: set[str] = set()
    with open_checkpointer(settings) as saver:
        for item in saver.list(None):
            thread_id = str(item.config["configurable"]["thread_id"])
            if thread_id in doomed:
                continue
            writes = [w[2] for w in item.pending_writes or []]
            if _mentions([item.checkpoint.get("channel_values"), writes], person_id, needles):
                doomed.add(thread_id)
        for thread_id in sorted(doomed):
            saver.delete_thread(thread_id)
    return sorted(doomed)


def _purge_offer_files(folder: Path, cid: int, workflow_ids: Iterable[int], needles: list[bytes]) -> int:
    if not folder.exists():
        return 0
    removed = 0
    for wf in workflow_ids:
        run_folder = folder / f"offer_{cid}_{wf}"
        if run_folder.exists():
            removed += sum(1 for p in run_folder.rglob("*") if p.is_file())
            shutil.rmtree(run_folder)
    for path in [p for p in folder.rglob("*") if p.is_file()]:
        if needles and any(n in path.read_bytes() for n in needles):
            path.unlink()
            removed += 1
    return removed


def sqlite_files(data_dir: Path) -> Iterator[Path]:
    for path in sorted(Path(data_dir).rglob("*")):
        if path.is_file() and path.read_bytes()[:16] == b"SQLite format 3\x00":
            yield path


def _vacuum(data_dir: Path) -> int:
    """Rewrite every SQLite file so rows just deleted leave no bytes behind (free pages, WAL)."""
    done = 0
    for path in sqlite_files(data_dir):
        try:
            conn = sqlite3.connect(path, timeout=30)
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                conn.execute("VACUUM")
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                conn.close()
            done += 1
        except sqlite3.Error:
            logger.warning("erasure: could not vacuum %s", path.name, exc_info=True)
    return done


def erase_everywhere(
    settings: Settings,
    person_id: int,
    *,
    reason: str = "erasure_request",
    mirror: MirrorStore | None = None,
    audit: AuditLog | None = None,
    extra_strings: Iterable[str] = (),
) -> ErasureReport:
    """Forget `person_id` in every store under `settings` (see the module docstring). Idempotent:
    erasing again finds nothing more and appends no second audit record for the same reason."""
    pid = int(person_id)
    report = ErasureReport(person_id=pid)
    own_mirror = mirror is None
    store = mirror or MirrorStore(settings.mirror_database_url)
    try:
        record = store.get("people", pid)
        needles = sorted({*identifying_strings(record.data if record else None), *extra_strings})
        workflow_ids = [w.id for kind in WORKFLOW_KINDS for w in store.workflows(kind, person_id=pid)]
        outcome = store.erase_person(pid, reason)
        report.mirror_records = sum(outcome.deleted.values())
    finally:
        if own_mirror:
            store.close()
    for hook in registered_erasure_hooks():
        try:
            hook(pid)
            report.vector_hooks += 1
        except Exception:
            logger.exception("erasure hook %r failed for person %s", hook, pid)
    raw = [n.encode("utf-8") for n in needles]
    report.threads_deleted = _purge_checkpoints(settings, pid, needles)
    report.outbox_messages = LocalOutbox(Path(settings.data_dir) / "outbox").erase(pid, raw)
    offers = settings.offer_files_dir or Path(settings.data_dir) / "offers"
    report.offer_files = _purge_offer_files(Path(offers), settings.icims_customer_id, workflow_ids, raw)
    subject = value_hash({"person_id": pid, "strings": needles})
    nurture = NurtureStore.from_settings(settings)
    try:
        report.nurture_rows = nurture.erase(pid, tombstone=f"erased:{subject[:32]}")
    finally:
        nurture.close()
    report.vacuumed = _vacuum(Path(settings.data_dir))
    own_audit = audit is None
    log = audit or AuditLog.from_settings(settings)
    try:
        key = f"erasure:{pid}:{reason}"
        body = {**report.to_json(), "reason": reason, "subject_hash": subject, "strings": len(needles)}
        body["threads_deleted"] = len(report.threads_deleted)
        body["erased_at"] = datetime.now(UTC).isoformat()
        report.audit_seq = log.append(kind="erasure", key=key, trace_id=value_hash(key)[:32], body=body).seq
    finally:
        if own_audit:
            log.close()
    logger.info("erased person %s everywhere: %s", pid, report.to_json())
    return report
