"""Reading the sandbox's write log in tests."""

from __future__ import annotations

from collections import Counter
from typing import Any


def writes_by_target(entries: list[Any]) -> tuple[Counter, Counter]:
    """(workflow creates per (kind, base, person), PATCHes per (kind, id)) in write-log entries;
    any other write fails the test."""
    creates: Counter = Counter()
    patches: Counter = Counter()
    for e in entries:
        parts = e.path.strip("/").split("/")  # customers, cid, kind[, id]
        if e.method == "POST" and len(parts) == 3:
            creates[(parts[2], e.body["baseprofile"], e.body["associatedprofile"])] += 1
        elif e.method == "PATCH" and len(parts) == 4:
            patches[(parts[2], int(parts[3]))] += 1
        else:
            raise AssertionError(f"unexpected write {e.method} {e.path}")
    return creates, patches
