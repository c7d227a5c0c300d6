"""Audit log: append-only, hash-chained, idempotent on key, and tampering is detected; the
idempotency ledger keeps each write's progress."""

from __future__ import annotations

import itertools
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError

from tools.audit import GENESIS_HASH, AuditLog, IdempotencyLedger


def _log(tmp_path: Path) -> tuple[AuditLog, Path]:
    path = tmp_path / "audit.sqlite"
    return AuditLog(f"sqlite:///{path}"), path


def _fill(log: AuditLog, n: int = 4) -> None:
    for i in range(n):
        log.append(kind="test", key=f"k{i}", trace_id=f"t{i}", thread_id="th", body={"i": i, "note": "ü"})


def _raw(path: Path) -> sqlite3.Connection:
    """A connection that bypasses the log, as an attacker with file access would; the append-only
    triggers are dropped first, since those only stop honest mistakes."""
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    conn.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    return conn


def test_chain_links_every_record_and_verifies(tmp_path):
    log, _ = _log(tmp_path)
    assert log.verify().ok and log.verify().records == 0
    _fill(log)
    records = log.records()
    assert [r.seq for r in records] == [1, 2, 3, 4]
    assert records[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(records))
    assert log.head() == (4, records[-1].hash)
    report = log.verify()
    assert report.ok and report.records == 4
    assert records[1].body == {"i": 1, "note": "ü"}


def test_append_is_idempotent_on_key(tmp_path):
    log, _ = _log(tmp_path)
    first = log.append(kind="x", key="run-1:final", trace_id="run-1", body={"a": 1})
    again = log.append(kind="x", key="run-1:final", trace_id="run-1", body={"a": 2})
    assert again == first
    assert len(log.records()) == 1


def test_updates_and_deletes_are_refused_by_the_database(tmp_path):
    log, path = _log(tmp_path)
    _fill(log, 2)
    conn = sqlite3.connect(path, isolation_level=None)  # autocommit: no transaction left holding a lock
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE audit_log SET body = '{}' WHERE seq = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM audit_log WHERE seq = 2")
    conn.close()
    with pytest.raises(DBAPIError, match="append-only"), log.engine.begin() as sa:
        sa.exec_driver_sql("DELETE FROM audit_log")
    assert log.verify().ok and log.verify().records == 2


@pytest.mark.parametrize(
    ("statement", "bad_seq"),
    [
        ('UPDATE audit_log SET body = \'{"i":9,"note":"ü"}\' WHERE seq = 2', 2),
        ("UPDATE audit_log SET recorded_at = '2020-01-01T00:00:00+00:00' WHERE seq = 3", 3),
        ("UPDATE audit_log SET thread_id = 'other' WHERE seq = 1", 1),
        ("DELETE FROM audit_log WHERE seq = 2", 3),
    ],
)
def test_verify_reports_the_first_tampered_record(tmp_path, statement, bad_seq):
    log, path = _log(tmp_path)
    _fill(log)
    with _raw(path) as conn:
        conn.execute(statement)
    report = log.verify()
    assert not report.ok
    assert report.bad_seq == bad_seq
    assert report.problem


def test_verify_detects_a_rehashed_record_and_a_truncated_tail(tmp_path):
    log, path = _log(tmp_path)
    _fill(log)
    records = log.records()
    # Recomputing one record's own hash after editing it still breaks the next record's link.
    with _raw(path) as conn:
        conn.execute("UPDATE audit_log SET hash = ? WHERE seq = 2", ("f" * 64,))
    assert log.verify().bad_seq in (2, 3)

    log2, path2 = _log(tmp_path / "second")
    _fill(log2)
    with _raw(path2) as conn:
        conn.execute("DELETE FROM audit_log WHERE seq = 4")
    report = log2.verify()
    assert not report.ok and "tail" in (report.problem or "")
    assert records  # the first log is untouched by the second


def test_concurrent_appends_keep_one_chain(tmp_path):
    path = tmp_path / "audit.sqlite"
    logs = [AuditLog(f"sqlite:///{path}") for _ in range(4)]
    errors: list[BaseException] = []

    def work(log: AuditLog, worker: int) -> None:
        try:
            for i in range(10):
                log.append(kind="c", key=f"w{worker}-{i}", trace_id=f"w{worker}", body={"i": i})
        except BaseException as exc:  # surfaced below; a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(log, n)) for n, log in enumerate(logs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    report = logs[0].verify()
    assert report.ok and report.records == 40


def test_ledger_records_progress_and_keeps_unset_fields(tmp_path):
    ledger = IdempotencyLedger(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    assert ledger.get("th", "run1", "7", "submit") is None
    ledger.record(
        "th",
        "run1",
        "7",
        "submit",
        state="workflow",
        workflow_kind="applicantworkflows",
        workflow_id=10,
        created=True,
    )
    entry = ledger.record("th", "run1", "7", "submit", state="done")
    assert (entry.state, entry.workflow_id, entry.created) == ("done", 10, True)
    # Keyed by action and run too: another action, or a later run on the thread, starts fresh.
    assert ledger.get("th", "run1", "7", "add_to_pool") is None
    assert ledger.get("th", "run2", "7", "submit") is None
    ledger.record("th", "run1", "8", "add_to_pool", state="failed", detail={"reason": "Person not found."})
    assert [e.candidate_id for e in ledger.entries("th")] == ["7", "8"]
    assert ledger.get("th", "run1", "8", "add_to_pool").detail == {"reason": "Person not found."}
