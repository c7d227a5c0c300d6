"""Audit exports for reviews (JSONL or CSV) and the retention report.

An export carries each record as stored, hashes included, so a reviewer can re-check the chain
(`prev_hash` -> `hash`) offline: plain records (`scheme` 0) with sha256 alone, keyed ones (`scheme` 1)
with the audit key (HMAC-SHA256). The service never deletes audit records; `retention_report` says
how far back they reach and whether that meets the configured minimum (six months by default).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, Literal

from tools.audit.log import AuditLog, AuditRecord, canonical_json

ExportFormat = Literal["jsonl", "csv"]
CSV_COLUMNS = (
    "seq",
    "recorded_at",
    "kind",
    "key",
    "trace_id",
    "thread_id",
    "prev_hash",
    "hash",
    "body",
    "scheme",
)


def record_json(record: AuditRecord) -> dict[str, object]:
    return {
        "seq": record.seq,
        "recorded_at": record.recorded_at,
        "kind": record.kind,
        "key": record.key,
        "trace_id": record.trace_id,
        "thread_id": record.thread_id,
        "prev_hash": record.prev_hash,
        "hash": record.hash,
        "body": record.body,
        "scheme": record.scheme,
    }


def write_export(records: Iterable[AuditRecord], out: IO[str], fmt: ExportFormat = "jsonl") -> int:
    """Write `records` to `out`; returns how many were written."""
    n = 0
    if fmt == "jsonl":
        for record in records:
            out.write(json.dumps(record_json(record), ensure_ascii=False, sort_keys=True) + "\n")
            n += 1
        return n
    if fmt != "csv":
        raise ValueError(f"unknown export format {fmt!r}; use jsonl or csv")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for record in records:
        row = record_json(record)
        # The body as canonical JSON: the exact text the record's hash covers.
        row["body"] = canonical_json(record.body)
        writer.writerow([row[c] if row[c] is not None else "" for c in CSV_COLUMNS])
        n += 1
    return n


@dataclass(frozen=True)
class RetentionReport:
    retention_days: int
    records: int
    oldest_recorded_at: str | None
    covered_days: float
    # Records older than the retention period: kept (nothing is deleted), and free to archive.
    past_retention: int

    def to_json(self) -> dict[str, object]:
        return {
            "retention_days": self.retention_days,
            "records": self.records,
            "oldest_recorded_at": self.oldest_recorded_at,
            "covered_days": self.covered_days,
            "past_retention": self.past_retention,
        }


def retention_report(log: AuditLog, retention_days: int, *, now: datetime | None = None) -> RetentionReport:
    now = now or datetime.now(UTC)
    count, _ = log.head()
    oldest = log.oldest()
    covered = 0.0
    past = 0
    if oldest is not None:
        covered = round((now - datetime.fromisoformat(oldest.recorded_at)).total_seconds() / 86400, 2)
        past = log.count_before(now - timedelta(days=retention_days))
    return RetentionReport(
        retention_days=retention_days,
        records=count,
        oldest_recorded_at=oldest.recorded_at if oldest is not None else None,
        covered_days=covered,
        past_retention=past,
    )
