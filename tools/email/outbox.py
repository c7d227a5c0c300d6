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
