"""The sandbox tenant: iCIMS records held in memory, in the shapes the real API returns.

Records are stored as the field dicts a full `GET` would return (no top-level id, no `links`, empty
fields omitted); the app adds `links` and applies `fields=` projections when serving them. Record
timestamps live beside the data so search can filter on `createddate`/`updateddate`.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

RecordKind = Literal["people", "jobs", "companies", "talentpools", "applicantworkflows", "sourceworkflows"]
RECORD_KINDS: tuple[RecordKind, ...] = (
    "people",
    "jobs",
    "companies",
    "talentpools",
    "applicantworkflows",
    "sourceworkflows",
)


@dataclass
class Binary:
    content: bytes
    content_type: str
    filename: str


@dataclass
class Record:
    data: dict[str, Any]
    created: datetime
    updated: datetime


@dataclass
class Tenant:
    """One customer's data. All mutation goes through the methods so timestamps stay right."""

    customer_id: int
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    records: dict[str, dict[int, Record]] = field(default_factory=lambda: {kind: {} for kind in RECORD_KINDS})
    # (kind, id, field id) -> file, or a zero-argument factory that renders it on first use (seeding
    # 100k people must not render 100k PDFs up front); people resumes are ("people", id, "resume").
    binaries: dict[tuple[str, int, str], Binary | Callable[[], Binary]] = field(default_factory=dict)
    # (kind, id, field id) -> extracted text (or a factory for it) served by `/fields/{id}/text`.
    texts: dict[tuple[str, int, str], str | Callable[[], str]] = field(default_factory=dict)
    # Self-reported demographics (for bias audits); kept apart and never served in profiles.
    demographics: dict[int, dict[str, str]] = field(default_factory=dict)
    # Status list nodes: id -> display value (applicant and source workflow statuses, folders).
    list_nodes: dict[str, str] = field(default_factory=dict)
    next_id: dict[str, int] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def copy(self) -> Tenant:
        """An independent copy (records and their data copied; rendered-on-demand files shared, as
        they never change): tests seed and prepare a tenant once and serve a fresh copy each."""
        with self.lock:
            return Tenant(
                customer_id=self.customer_id,
                clock=self.clock,
                records={
                    kind: {
                        rid: Record(copy.deepcopy(r.data), r.created, r.updated) for rid, r in rows.items()
                    }
                    for kind, rows in self.records.items()
                },
                binaries=dict(self.binaries),
                texts=dict(self.texts),
                demographics=copy.deepcopy(self.demographics),
                list_nodes=dict(self.list_nodes),
                next_id=dict(self.next_id),
            )

    def allocate_id(self, kind: str) -> int:
        with self.lock:
            start = {"people": 1, "jobs": 1001, "companies": 501, "talentpools": 301}.get(kind, 10_001)
            value = self.next_id.get(kind, start)
            self.next_id[kind] = value + 1
            return value

    def add(
        self,
        kind: str,
        data: dict[str, Any],
        *,
        record_id: int | None = None,
        created: datetime | None = None,
        updated: datetime | None = None,
    ) -> int:
        """Insert a record; seeding passes historic timestamps, API creates use the clock."""
        with self.lock:
            if record_id is None:
                record_id = self.allocate_id(kind)
            else:
                self.next_id[kind] = max(self.next_id.get(kind, 0), record_id + 1)
            now = self.clock()
            created = created or now
            self.records[kind][record_id] = Record(
                data=_drop_empty(data), created=created, updated=updated or created
            )
            return record_id

    def get(self, kind: str, record_id: int) -> Record | None:
        return self.records.get(kind, {}).get(record_id)

    def patch(self, kind: str, record_id: int, changes: dict[str, Any]) -> Record:
        """Apply a partial update: `None` or `""` clears a field (API_NOTES section 4)."""
        with self.lock:
            record = self.records[kind][record_id]
            merged = dict(record.data)
            for key, value in changes.items():
                if value is None or value == "" or value == []:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            record.data = merged
            record.updated = self.clock()
            return record

    def touch(self, kind: str, record_id: int) -> None:
        with self.lock:
            self.records[kind][record_id].updated = self.clock()

    def delete(self, kind: str, record_id: int) -> None:
        with self.lock:
            self.records[kind].pop(record_id, None)
            for key in [k for k in self.binaries if k[0] == kind and k[1] == record_id]:
                del self.binaries[key]
            for key in [k for k in self.texts if k[0] == kind and k[1] == record_id]:
                del self.texts[key]

    def get_binary(self, kind: str, record_id: int, field_id: str) -> Binary | None:
        key = (kind, record_id, field_id)
        with self.lock:
            value = self.binaries.get(key)
            if callable(value):
                value = self.binaries[key] = value()
            return value

    def get_text(self, kind: str, record_id: int, field_id: str) -> str | None:
        key = (kind, record_id, field_id)
        with self.lock:
            value = self.texts.get(key)
            if callable(value):
                value = self.texts[key] = value()
            return value

    def count(self, kind: str) -> int:
        return len(self.records[kind])


def _drop_empty(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None and v != "" and v != []}


def _copied(record: Record) -> Record:
    return Record(copy.deepcopy(record.data), record.created, record.updated)
