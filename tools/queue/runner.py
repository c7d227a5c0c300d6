"""Running one event: claim its row, call its handlers, and record what happened.

Outcomes: success -> `done` with each handler's outcome; the iCIMS quota
spent (`BudgetExhausted`, or a 429 `ICIMSRateLimited`/`QuotaExhausted`) -> `waiting` with the reason
and when the quota resets, not counted as a failure; a handler that cannot be imported -> `dead` at
once; any other exception -> retried with exponential backoff, then `dead` with the reason.
With several handlers (status changes go to offer and nurture) each finished handler's outcome is
saved as it completes, so a retry or a restarted worker only runs the ones left.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tools.events import routing
from tools.icims.errors import BudgetExhausted, ICIMSRateLimited
from tools.logs import get_logger

if TYPE_CHECKING:
    from tools.events.store import EventStore
    from tools.settings import Settings

log = get_logger("tools.queue")
MAX_REASON = 500

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class QuotaWait:
    reason: str
    not_before: float


def quota_wait(exc: BaseException, now: float) -> QuotaWait | None:
    """When `exc` (or what caused it) says the iCIMS quota is spent: why, and until when."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, BudgetExhausted):
            # The local budget resets with iCIMS's daily window, at 00:00 UTC.
            today = datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            midnight = (today + timedelta(days=1)).timestamp()
            return QuotaWait("the local iCIMS request budget for today is used up", midnight)
        if isinstance(current, ICIMSRateLimited):
            wait = getattr(current, "reset_seconds", None) or current.retry_after or 60.0
            return QuotaWait(
                f"iCIMS quota exhausted (HTTP {current.status}); resets in {int(wait)} s", now + float(wait)
            )
        current = current.__cause__ or current.__context__
    return None


def backoff(attempt: int, settings: Settings) -> float:
    """Seconds before retry `attempt` (1-based): base, 2 x base, 4 x base ... capped."""
    return min(settings.queue_retry_max_seconds, settings.queue_retry_base_seconds * 2 ** (attempt - 1))


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:MAX_REASON]


@dataclass
class RunResult:
    status: str  # done | waiting | queued (retry) | dead | ignored | skipped
    retry_in: float | None = None


def run_event(
    store: EventStore, settings: Settings, state: Any, event_id: int, routes: routing.EventRoutes
) -> RunResult:
    now = time.time()
    # A scheduled retry may be delivered a moment before its not_before: allow a second of slack.
    row = store.claim(event_id, WORKER_ID, now=now + 1.0)
    if row is None:
        return RunResult("skipped")
    names = routes.routes(row.event_type)
    if not names:
        store.ignore(row.id, f"no handler for {row.event_type}")
        return RunResult("ignored")
    outcome = dict(row.outcome)
    started = time.perf_counter()
    try:
        for name in names:
            if name in outcome:
                continue
            handler = routes.resolve(name, settings.events_handlers)
            result = handler(row, state)
            outcome[name] = result if isinstance(result, dict) else {"result": result}
            if len(names) > 1:
                store.save_outcome(row.id, outcome)
    except routing.HandlerUnavailable as exc:
        store.dead(row.id, _reason(exc), count_attempt=False)
        log.warning("event.dead", event_id=row.id, reason="handler unavailable")
        return RunResult("dead")
    except Exception as exc:  # every failure is recorded on the row; nothing escapes to huey
        waiting = quota_wait(exc, time.time())
        if waiting is not None:
            store.wait(row.id, waiting.reason, waiting.not_before)
            log.info("event.waiting", event_id=row.id, not_before=waiting.not_before)
            return RunResult("waiting")
        attempt = row.attempts + 1
        if attempt >= settings.queue_max_attempts:
            store.dead(row.id, _reason(exc))
            log.warning("event.dead", event_id=row.id, attempts=attempt, error=type(exc).__name__)
            return RunResult("dead")
        delay = backoff(attempt, settings)
        store.retry_later(row.id, _reason(exc), time.time() + delay)
        log.info("event.retry", event_id=row.id, attempt=attempt, delay=delay, error=type(exc).__name__)
        return RunResult("queued", retry_in=delay)
    store.finish(row.id, outcome)
    log.debug("event.done", event_id=row.id, seconds=round(time.perf_counter() - started, 3))
    return RunResult("done")
