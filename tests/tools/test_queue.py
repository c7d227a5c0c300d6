"""The queue in this process: retries with backoff, dead letters with reasons and operator retries,
unavailable handlers, ignored event types, partial progress across handlers, and events waiting for
a spent iCIMS quota that complete once the sandbox's day rolls over."""

from __future__ import annotations

import json
import threading
import time
from types import SimpleNamespace

import httpx
import pytest
from support import queue_handlers
from support.events import assessment, real_stderr_logging  # noqa: F401 - autouse fixture
from typer.testing import CliRunner

from server.cli import app as cli
from tools.events.models import ICIMSEvent
from tools.events.routing import EventRoutes
from tools.icims.errors import BudgetExhausted, QuotaExhausted
from tools.queue import build_queue
from tools.queue.runner import backoff, quota_wait
from tools.settings import Settings


@pytest.fixture(autouse=True)
def handler_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("QUEUE_TEST_DIR", str(tmp_path))
    return tmp_path


# The service's routes by name (tests/service runs the real kinds' handlers); each test points the
# names at its own handlers through `settings.events_handlers`.
ROUTES = EventRoutes.of(
    [
        ("AssessmentEvent", "triage", None),
        ("WorkFlowStatusChangeEvent", "offer", None),
        ("WorkFlowStatusChangeEvent", "nurture", None),
    ]
)


def make_queue(tmp_path, handlers: dict[str, str], **overrides):
    values = {
        "data_dir": tmp_path / "state",
        "events_handlers": handlers,
        "queue_retry_base_seconds": 0.05,
        "queue_max_attempts": 3,
        "queue_sweep_seconds": 0.05,
        **overrides,
    }
    settings = overrides.pop("settings", None) or Settings(_env_file=None, **values)
    queue = build_queue(settings)
    return queue.bind(SimpleNamespace(settings=settings), ROUTES)


def add(queue, payload) -> int:
    added = queue.store.add(ICIMSEvent.model_validate(payload), payload)
    queue.enqueue_event(added.event.id)
    return added.event.id


def test_backoff_doubles_and_is_capped():
    s = Settings(_env_file=None, queue_retry_base_seconds=2, queue_retry_max_seconds=10)
    assert [backoff(n, s) for n in (1, 2, 3, 4, 5)] == [2, 4, 8, 10, 10]


def test_retries_then_success_and_dead_letters_with_reasons_then_operator_retry(
    tmp_path, handler_dir, monkeypatch
):
    queue = make_queue(tmp_path, {"triage": "support.queue_handlers:flaky"})
    flaky = add(queue, assessment(10001))
    assert queue.work(until_idle=True, timeout=30) == 3  # two failures, then success
    row = queue.store.get(flaky)
    assert row.status == "done" and row.attempts == 2
    assert row.outcome == {"triage": {"action": "noted", "after_failures": 2}}

    queue.settings.events_handlers["triage"] = "support.queue_handlers:broken_until_fixed"
    broken = add(queue, assessment(10002))
    queue.work(until_idle=True, timeout=30)
    row = queue.store.get(broken)
    assert row.status == "dead" and row.attempts == 3
    assert row.reason == "ValueError: cannot score: rubric missing"
    assert [d.id for d in queue.dead_letters()] == [broken]
    backlog = queue.backlog()
    assert backlog["dead"] == 1 and backlog["done"] == 1 and backlog["queued"] == 0

    # Operators see dead letters and send them round again from the CLI (same data_dir).
    monkeypatch.setenv("ICIMS_AGENTS_DATA_DIR", str(tmp_path / "state"))
    runner = CliRunner()
    listed = runner.invoke(cli, ["events", "dead"])
    assert listed.exit_code == 0
    assert [json.loads(line)["reason"] for line in listed.stdout.splitlines()] == [row.reason]
    (handler_dir / "fixed").touch()
    assert runner.invoke(cli, ["events", "retry", str(flaky)]).exit_code == 1  # done: not retried
    assert runner.invoke(cli, ["events", "retry", str(broken)]).exit_code == 0
    queue.work(until_idle=True, timeout=30)
    row = queue.store.get(broken)
    assert row.status == "done" and row.attempts == 0 and queue.dead_letters() == []


def test_unavailable_handler_is_dead_at_once_and_unrouted_types_are_ignored(tmp_path):
    queue = make_queue(tmp_path, {"triage": "no_such_agent.handler:handle_event"})
    missing = add(queue, assessment(10001))
    job = add(queue, {"customerId": "1000", "systemId": "1001", "eventType": "JobPostToWebEvent"})
    assert queue.work(until_idle=True, timeout=30) == 2
    row = queue.store.get(missing)
    assert row.status == "dead" and row.attempts == 0
    assert "no_such_agent.handler:handle_event is not installed" in row.reason
    assert queue.store.get(job).status == "ignored"


def test_a_retry_reruns_only_the_handlers_that_have_not_finished(tmp_path, handler_dir):
    queue = make_queue(
        tmp_path, {"offer": "support.queue_handlers:offer_ok", "nurture": "support.queue_handlers:flaky"}
    )
    status = {
        "customerId": "1000",
        "systemId": "10005",
        "eventType": "WorkFlowStatusChangeEvent",
        "oldStatus": "10100",
        "newStatus": "51221",
    }
    event_id = add(queue, status)
    queue.work(until_idle=True, timeout=30)
    row = queue.store.get(event_id)
    assert row.status == "done" and set(row.outcome) == {"offer", "nurture"}
    assert queue_handlers.lines("offer.log") == [str(event_id)]  # once, across three attempts
    assert queue_handlers.lines("flaky.log") == [str(event_id)] * 3


def test_quota_errors_become_waits_not_failures():
    now = 1_000_000.0
    quota = QuotaExhausted(429, retry_after=7200)
    quota.reset_seconds = 3600
    assert quota_wait(quota, now).not_before == now + 3600
    wrapped = RuntimeError("graph failed")
    wrapped.__cause__ = BudgetExhausted(None, message="refused")
    midnight = quota_wait(wrapped, now)
    assert midnight is not None and midnight.not_before > now
    assert quota_wait(ValueError("x"), now) is None


@pytest.mark.integration
def test_events_wait_for_a_spent_quota_and_complete_after_it_resets(tmp_path, sandbox_factory, handler_dir):
    box = sandbox_factory(people=20, seed=5)
    settings = box.settings(
        data_dir=str(tmp_path / "state"),
        events_handlers={"triage": "support.queue_handlers:fetch_workflow"},
        queue_quota_probe_seconds=0.2,
        queue_sweep_seconds=0.05,
        queue_max_attempts=2,
    )
    queue = build_queue(settings).bind(SimpleNamespace(settings=settings), ROUTES)
    workflows = sorted(box.state.tenant.records["applicantworkflows"])[:6]
    # The day's quota is spent before the events arrive.
    limit = box.state.config.daily_limit
    httpx.post(f"{box.url}/_sandbox/quota", json={"used": limit}).raise_for_status()
    ids = [add(queue, assessment(w)) for w in workflows]
    queue.work(until_idle=True, timeout=60)
    rows = [queue.store.get(i) for i in ids]
    reset = httpx.get(f"{box.url}/_sandbox/stats").json()["quota"]["reset_seconds"]
    for row in rows:
        assert row.status == "waiting" and row.attempts == 0, row
        assert row.reason.startswith("iCIMS quota exhausted (HTTP 429); resets in")
        assert abs(row.not_before - (time.time() + reset)) < 60
    assert queue.backlog()["waiting"] == len(ids)
    assert queue_handlers.lines("done.log") == []

    stop = threading.Event()
    worker = threading.Thread(target=queue.work, args=(stop,), daemon=True)
    worker.start()
    try:
        # The sandbox's day ends: its quota resets. One probe succeeds and releases the rest.
        httpx.post(f"{box.url}/_sandbox/clock", json={"advance_seconds": reset + 5}).raise_for_status()
        deadline = time.monotonic() + 30
        while queue.store.counts().get("done", 0) < len(ids):
            assert time.monotonic() < deadline, queue.store.counts()
            stop.wait(0.05)
    finally:
        stop.set()
        worker.join(timeout=30)
    assert sorted(map(int, queue_handlers.lines("done.log"))) == ids  # each exactly once, none lost
    assert all(queue.store.get(i).outcome["triage"]["action"] == "read" for i in ids)
