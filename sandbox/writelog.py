"""Append-only log of every successful write the sandbox accepted (what reached "iCIMS")."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class WriteLogEntry:
    seq: int
    method: str
    path: str
    body: Any  # parsed JSON, a description of multipart parts, or None
    time: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "method": self.method,
            "path": self.path,
            "body": self.body,
            "time": self.time.isoformat(),
        }


class WriteLog:
    """Appends to the list the state exposes as `writelog`; sequence numbers start at 1."""

    def __init__(self, entries: list[WriteLogEntry]):
        self.entries = entries
        self._lock = threading.Lock()

    def append(self, method: str, path: str, body: Any, time: datetime) -> WriteLogEntry:
        with self._lock:
            entry = WriteLogEntry(len(self.entries) + 1, method, path, body, time)
            self.entries.append(entry)
            return entry

    def since(self, seq: int) -> list[WriteLogEntry]:
        with self._lock:
            # seq n sits at index n - 1 because the log is never truncated.
            return list(self.entries[max(0, seq) :])
