"""Wall-clock budget for parsing.

Parsers are pure Python over untrusted input; a pathological file can make one spin for minutes. Threads
cannot be killed, so the budget is enforced twice:
- the caller waits for the worker thread at most `timeout` seconds and then raises ExtractionTimeout,
  so the caller never hangs whatever the parser does;
- the worker checks the same deadline at safe points (between PDF pages, between DOCX blocks) and
  stops itself, so an abandoned worker does not keep burning CPU and holding the GIL for long.
A daemon thread is used rather than a ThreadPoolExecutor because executor threads are joined at
interpreter exit, so one stuck parse would block shutdown.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from tools.documents.errors import ExtractionTimeout

T = TypeVar("T")


class Deadline:
    def __init__(self, seconds: float, *, format: str | None = None) -> None:
        self.seconds = seconds
        self.format = format
        self._expires = time.monotonic() + seconds
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        self._cancelled.set()

    @property
    def expired(self) -> bool:
        return self._cancelled.is_set() or time.monotonic() >= self._expires

    def remaining(self) -> float:
        return max(0.0, self._expires - time.monotonic())

    def check(self) -> None:
        if self.expired:
            raise ExtractionTimeout(f"extraction exceeded {self.seconds:g} s", format=self.format)


def run_with_deadline(fn: Callable[[Deadline], T], deadline: Deadline) -> T:
    """Run `fn(deadline)` in a daemon thread; return its result or raise its error or ExtractionTimeout."""
    outcome: dict[str, object] = {}
    done = threading.Event()

    def target() -> None:
        try:
            outcome["result"] = fn(deadline)
        except BaseException as exc:  # handed to the caller's thread, which decides what to do
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, name="document-extract", daemon=True).start()
    if not done.wait(deadline.remaining()):
        deadline.cancel()  # tells the worker to stop at its next check
        raise ExtractionTimeout(f"extraction exceeded {deadline.seconds:g} s", format=deadline.format)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["result"]  # type: ignore[return-value]
