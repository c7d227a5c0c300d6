"""The audit chain is keyed and anchored outside its database: `icims-agents audit verify --anchor`
fails on a truncated tail with a rewritten head and on a chain recomputed after an edit, while chains
written before the key existed still verify."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
from pathlib import Path

from typer.testing import CliRunner

from server.cli import app
from tools.audit import AuditLog
from tools.audit.anchor import audit_key_for
from tools.audit.log import KEYED_SCHEME, PLAIN_SCHEME, _record_hash
from tools.settings import Settings


def _env_file(tmp_path: Path) -> Path:
    env = tmp_path / ".env.test"
    env.write_text(f"ICIMS_AGENTS_DATA_DIR={tmp_path / 'state'}\n")
    return env


def _settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=str(_env_file(tmp_path)))  # type: ignore[call-arg]


def _fill(tmp_path: Path, n: int = 6) -> Path:
    with AuditLog.from_settings(_settings(tmp_path)) as log:
        for i in range(n):
            log.append(kind="triage", key=f"k{i}", trace_id=f"t{i}", body={"score": 50 + i, "person_id": i})
    return tmp_path / "state" / "audit.sqlite"


def _verify(tmp_path: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--env-file", str(_env_file(tmp_path)), "audit", "verify", *extra])
    return result.exit_code, result.output


def _raw(db: Path) -> sqlite3.Connection:
    """A connection past the append-only guards (every AuditLog opened puts them back)."""
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    conn.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    return conn


def _rehash_from(db: Path, start: int, *, scheme: int, secret: bytes | None) -> None:
    """What someone with database write access does after an edit: recompute every later link."""
    conn = _raw(db)
    rows = conn.execute(
        "SELECT seq, key, kind, trace_id, thread_id, recorded_at, body, prev_hash FROM audit_log "
        "WHERE seq >= ? ORDER BY seq",
        (start,),
    ).fetchall()
    prev = rows[0][7]
    for seq, key, kind, trace_id, thread_id, recorded_at, body, _ in rows:
        digest = _record_hash(
            seq=seq,
            key=key,
            kind=kind,
            trace_id=trace_id,
            thread_id=thread_id,
            recorded_at=recorded_at,
            body=body,
            prev_hash=prev,
            scheme=scheme,
            secret=secret,
        )
        conn.execute(
            "UPDATE audit_log SET prev_hash = ?, hash = ?, scheme = ? WHERE seq = ?",
            (prev, digest, scheme, seq),
        )
        prev = digest
    conn.execute("UPDATE audit_head SET last_hash = ? WHERE id = 1", (prev,))
    conn.commit()
    conn.close()


def test_records_are_keyed_and_anchored_and_the_key_file_is_private(tmp_path: Path) -> None:
    db = _fill(tmp_path)
    key_file = tmp_path / "state" / "audit.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    schemes = {s for (s,) in sqlite3.connect(db).execute("SELECT scheme FROM audit_log")}
    assert schemes == {KEYED_SCHEME}
    anchor = (tmp_path / "state" / "audit.anchor").read_text().splitlines()
    assert [line.split()[0] for line in anchor] == [str(i) for i in range(1, 7)]
    code, out = _verify(tmp_path, "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report["ok"] and report["anchored"] == 6 and report["plain_records"] == 0


def test_tail_truncation_with_a_rewritten_head_fails_against_the_anchor(tmp_path: Path) -> None:
    db = _fill(tmp_path)
    copy = tmp_path / "auditor" / "audit.anchor"
    copy.parent.mkdir()
    shutil.copy(tmp_path / "state" / "audit.anchor", copy)
    conn = _raw(db)
    conn.execute("DELETE FROM audit_log WHERE seq > 4")
    (last,) = conn.execute("SELECT hash FROM audit_log WHERE seq = 4").fetchone()
    conn.execute("UPDATE audit_head SET seq = 4, last_hash = ? WHERE id = 1", (last,))
    conn.commit()
    conn.close()
    # The local anchor gone too: the chain alone looks whole ...
    (tmp_path / "state" / "audit.anchor").unlink()
    code, out = _verify(tmp_path)
    assert code == 0, out
    # ... and the auditor's copy of the anchor says where it was cut.
    code, out = _verify(tmp_path, "--anchor", str(copy))
    assert code == 1
    assert "BROKEN at record 5" in out and "tail truncated" in out and "chain ends at 4" in out


def test_recomputing_the_chain_after_an_edit_is_detected(tmp_path: Path) -> None:
    db = _fill(tmp_path)
    conn = _raw(db)
    conn.execute("UPDATE audit_log SET body = ? WHERE seq = 3", ('{"person_id":2,"score":99}',))
    conn.commit()
    conn.close()
    # Without the key: recomputed as plain sha256 (a downgrade) or as HMAC with a guessed key.
    _rehash_from(db, 3, scheme=PLAIN_SCHEME, secret=None)
    code, out = _verify(tmp_path)
    assert code == 1 and "BROKEN at record 3" in out and "downgraded" in out
    _rehash_from(db, 3, scheme=KEYED_SCHEME, secret=b"guessed")
    code, out = _verify(tmp_path)
    assert code == 1 and "BROKEN at record 3" in out and "content does not match its hash" in out
    # Even with the key (an insider), the anchor still names the old hashes.
    _rehash_from(db, 3, scheme=KEYED_SCHEME, secret=audit_key_for(_settings(tmp_path)))
    code, out = _verify(tmp_path, "--anchor", str(tmp_path / "state" / "audit.anchor"))
    assert code == 1
    assert "BROKEN at record 3" in out and "differs from the anchor" in out and "recomputed" in out


def test_a_chain_from_before_the_key_still_verifies_and_continues_keyed(tmp_path: Path) -> None:
    (tmp_path / "state").mkdir()
    db = tmp_path / "state" / "audit.sqlite"
    with AuditLog(f"sqlite:///{db}") as old:  # unkeyed, as every chain was before
        for i in range(3):
            old.append(kind="triage", key=f"old{i}", trace_id="t", body={"person_id": i})
    # The column did not exist then.
    conn = _raw(db)
    conn.execute("ALTER TABLE audit_log DROP COLUMN scheme")
    conn.commit()
    conn.close()
    with AuditLog.from_settings(_settings(tmp_path)) as log:
        log.append(kind="triage", key="new", trace_id="t", body={"person_id": 9})
        report = log.verify()
    assert report.ok and report.records == 4 and report.plain_records == 3
    code, out = _verify(tmp_path)
    assert code == 0 and "3 from before the chain was keyed" in out and "1 anchored" in out
