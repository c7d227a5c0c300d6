"""Thread keys: which checkpointer thread a workflow's run lives on.

A thread id is `{prefix}:{customer}:{key...}` (e.g. `rediscovery:1000:1001`). The prefix says which
graph owns the thread (the inbox and the service find a thread's graph by it); the rest makes a
second start for the same subject land on the same thread, so it resumes instead of running twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class ThreadKey:
    prefix: str

    def __call__(self, customer_id: int | str, *key: int | str) -> str:
        return ":".join([self.prefix, str(customer_id), *(str(k) for k in key)])

    @property
    def thread_prefix(self) -> str:
        return f"{self.prefix}:"

    def owns(self, thread_id: str) -> bool:
        return thread_id.startswith(self.thread_prefix)

    def parts(self, thread_id: str) -> list[str]:
        """The key parts after the customer id (`rediscovery:1000:1001` -> ["1001"])."""
        if not self.owns(thread_id):
            raise ValueError(f"{thread_id!r} is not a {self.prefix} thread")
        return thread_id.split(":")[2:]

    def last_int(self, thread_id: str) -> int | None:
        """The thread's last key part as an int (a requisition id), None when it is not one."""
        tail = thread_id.rsplit(":", 1)[-1]
        return int(tail) if tail.isdigit() else None


def trace_id_for(*parts: int | str) -> str:
    """A stable 32-hex trace id from the parts (the same event always gets the same trace)."""
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()[:32]
