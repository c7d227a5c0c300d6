"""What keeps the audit chain honest from outside its database: the HMAC key and the head anchor.

- The key (settings' `audit_key`, else a random one created once as `data_dir/audit.key`, mode 0600)
  keys every record hash, so someone who can write the database but not read the key cannot recompute
  the hashes after an edit.
- The anchor is an append-only text file (settings' `audit_anchor_path`, default `data_dir/audit.anchor`)
  with one `seq hash recorded_at` line per appended record. Truncating the table's tail and rewriting
  `audit_head`, or rewriting the whole chain (even with the key), leaves the anchor naming records the
  chain no longer has: `check_anchor` says which. Copy the file elsewhere (or ship it to a log host) and
  `icims-agents audit verify --anchor COPY` checks against the copy.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tools.settings import Settings


def audit_key_for(settings: Settings) -> bytes:
    configured = getattr(settings, "audit_key", None)
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value().encode("utf-8")
    path = Path(settings.data_dir) / "audit.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Exclusive create with 0600 from the start: two processes starting together keep the first.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secrets.token_hex(32))
    return path.read_text(encoding="ascii").strip().encode("ascii")


def audit_anchor_path(settings: Settings) -> Path:
    configured = getattr(settings, "audit_anchor_path", None)
    return Path(configured) if configured else Path(settings.data_dir) / "audit.anchor"


@dataclass(frozen=True, slots=True)
class AnchorEntry:
    seq: int
    hash: str


class AnchorFile:
    """Append-only `seq hash` lines. Each line is one small `O_APPEND` write, so lines from several
    processes never interleave (their order may: readers go by seq, not by position)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def append(self, seq: int, digest: str, recorded_at: str = "") -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = f"{seq} {digest} {recorded_at}".rstrip() + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line.encode("ascii"))
        finally:
            os.close(fd)

    def entries(self) -> list[AnchorEntry]:
        """Every well-formed line (a torn last line from a crash is skipped)."""
        if not self.path.exists():
            return []
        out: list[AnchorEntry] = []
        for line in self.path.read_text(encoding="ascii", errors="replace").splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0].isascii() and parts[0].isdigit() and len(parts[1]) == 64:
                out.append(AnchorEntry(int(parts[0]), parts[1]))
        return out


@dataclass(frozen=True, slots=True)
class AnchorReport:
    ok: bool
    anchored: int  # anchor lines checked
    bad_seq: int | None = None
    problem: str | None = None


def check_anchor(entries: Iterable[AnchorEntry], chain: dict[int, str], chain_length: int) -> AnchorReport:
    """Every anchored (seq, hash) must be in the chain as is. `chain` maps seq -> stored hash."""
    items = sorted(set(entries), key=lambda e: e.seq)
    for entry in items:
        if entry.seq > chain_length:
            return AnchorReport(
                False,
                len(items),
                entry.seq,
                f"tail truncated: the anchor names record {entry.seq} but the chain ends at {chain_length}",
            )
        stored = chain.get(entry.seq)
        if stored != entry.hash:
            return AnchorReport(
                False,
                len(items),
                entry.seq,
                f"record {entry.seq} differs from the anchor (anchored {entry.hash[:12]}, stored "
                f"{(stored or '-')[:12]}): rewritten or recomputed",
            )
    return AnchorReport(True, len(items))
