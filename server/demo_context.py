"""What each `make demo` step gets (`server.demo` runs them; `server.demo_triage`, `demo_nurture`
and `demo_offer` are the steps): its own module so the steps can name it without importing the
demo that imports them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tools.mirror import MirrorStore
from tools.settings import Settings


@dataclass
class DemoContext:
    """What each demo step gets: the settings pointing at the running
    sandbox, the synced mirror, the sandbox's state (write log, clock, tenant) and its URL."""

    settings: Settings
    store: MirrorStore
    sandbox: Any  # sandbox.state.SandboxState
    sandbox_url: str
    step: int
