"""Event handlers for the queue and worker tests (no tests here), importable by a worker subprocess
(PYTHONPATH=tests). Side effects go to files under $QUEUE_TEST_DIR, so a test can see what ran in
another process."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any


def _dir() -> Path:
    return Path(os.environ["QUEUE_TEST_DIR"])


def _note(name: str, line: str) -> None:
    with (_dir() / name).open("a") as fh:
        fh.write(line + "\n")


def lines(name: str) -> list[str]:
    path = _dir() / name
    return path.read_text().split() if path.exists() else []


def ok(event: Any, state: Any) -> dict[str, Any]:
    _note("done.log", str(event.id))
    return {"action": "noted", "workflow_id": event.event.workflow_id}


def offer_ok(event: Any, state: Any) -> dict[str, Any]:
    _note("offer.log", str(event.id))
    return {"action": "none"}


def flaky(event: Any, state: Any) -> dict[str, Any]:
    """Fails the first two times it sees an event."""
    seen = len([x for x in lines("flaky.log") if x == str(event.id)])
    _note("flaky.log", str(event.id))
    if seen < 2:
        raise RuntimeError(f"flaky failure {seen + 1}")
    return {"action": "noted", "after_failures": seen}


def broken_until_fixed(event: Any, state: Any) -> dict[str, Any]:
    if not (_dir() / "fixed").exists():
        raise ValueError("cannot score: rubric missing")
    return {"action": "noted"}


def blocking(event: Any, state: Any) -> dict[str, Any]:
    """The event named by $QUEUE_TEST_BLOCK_ID announces itself and holds until `release` exists
    (the worker is killed meanwhile); every other event completes at once."""
    _note("started.log", f"{event.id}:{os.getpid()}")
    if str(event.id) == os.environ.get("QUEUE_TEST_BLOCK_ID"):
        deadline = time.monotonic() + 120
        while not (_dir() / "release").exists():
            if time.monotonic() > deadline:
                raise TimeoutError("never released")
            time.sleep(0.05)  # the handler's own work stand-in, not test synchronisation
    _note("done.log", str(event.id))
    return {"action": "noted"}


def fetch_workflow(event: Any, state: Any) -> dict[str, Any]:
    """One real iCIMS read (the sandbox): a spent quota surfaces as the client's QuotaExhausted."""
    from tools.icims.client import ICIMSClient

    async def fetch() -> dict[str, Any]:
        async with ICIMSClient.from_settings(state.settings) as client:
            return await client.get_workflow("applicantworkflows", event.event.workflow_id)

    workflow = asyncio.run(fetch())
    _note("done.log", str(event.id))
    return {"action": "read", "status": (workflow.get("status") or {}).get("id")}
