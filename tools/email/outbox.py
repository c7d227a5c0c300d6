"""The embedded default transport: each message is an `.eml` file in `data_dir/outbox`, listed in
`index.jsonl` (message id, file, ids, time; no addresses or text). `make demo` shows it.

Writes are atomic (temp file + rename) and keyed by message id, so a message is on disk once
however often it is sent.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tools.email.message import OutgoingEmail, SendReceipt, TransportError

_LOCK = threading.Lock()


class LocalOutbox:
    name = "outbox"

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.index_path = self.folder / "index.jsonl"

    def _file(self, message_id: str) -> Path:
        digest = hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:24]
        return self.folder / f"{digest}.eml"

    def has(self, message_id: str) -> bool:
        return self._file(message_id).exists()

    def send(self, email: OutgoingEmail) -> SendReceipt:
        path = self._file(email.message_id)
        with _LOCK:
            if path.exists():
                return SendReceipt(
                    message_id=email.message_id, transport=self.name, location=str(path), already_sent=True
                )
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp")
                tmp.write_bytes(bytes(email.to_mime()))
                os.replace(tmp, path)
                with self.index_path.open("a", encoding="utf-8") as fh:
                    fh.write(
                        json.dumps(
                            {
                                "message_id": email.message_id,
                                "file": path.name,
                                "sent_at": email.sent_at,
                                **email.tags,
                            },
                            sort_keys=True,
                        )
                        + "\n"
                    )
            except OSError as exc:
                raise TransportError(f"outbox write failed: {exc}") from exc
        return SendReceipt(message_id=email.message_id, transport=self.name, location=str(path))

    def index(self) -> list[dict[str, Any]]:
        if not self.index_path.exists():
            return []
        with self.index_path.open(encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]

    def read(self, message_id: str) -> bytes | None:
        path = self._file(message_id)
        return path.read_bytes() if path.exists() else None

    def erase(self, person_id: int, needles: Iterable[bytes] = ()) -> int:
        """Delete every message to a person (tagged with their id, or whose bytes hold one of
        `needles`, e.g. their address) and its index line. Returns the messages deleted."""
        marks = [n for n in needles if n]
        doomed: set[str] = set()
        kept: list[str] = []
        with _LOCK:
            lines = (
                self.index_path.read_text(encoding="utf-8").splitlines() if self.index_path.exists() else []
            )
            for line in lines:
                if not line.strip():
                    continue
                entry = json.loads(line)
                if str(entry.get("person_id")) == str(person_id):
                    doomed.add(str(entry.get("file")))
                else:
                    kept.append(line)
            for path in self.folder.glob("*.eml") if self.folder.exists() else ():
                if path.name in doomed or (marks and any(m in path.read_bytes() for m in marks)):
                    doomed.add(path.name)
            for name in doomed:
                (self.folder / name).unlink(missing_ok=True)
            kept = [line for line in kept if json.loads(line).get("file") not in doomed]
            if lines:
                tmp = self.index_path.with_suffix(".tmp")
                tmp.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
                os.replace(tmp, self.index_path)
        return len(doomed)
