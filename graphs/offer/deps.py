"""The offer graph's dependencies, opened from the shared `Resources` (mirror, audit log, ledger,
iCIMS client factory) plus what only offers use: the offer policy, the letters folder, the chat
model for the optional welcome paragraph."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agents.offer import Policy, load_policy
from graphs.kit.resources import Resources, open_alone
from graphs.kit.write import RecordWrite
from tools.llm import make_chat_model

if TYPE_CHECKING:
    from tools.audit import AuditLog, IdempotencyLedger
    from tools.mirror import MirrorStore
    from tools.settings import Settings

NAME = "offer"


@dataclass
class OfferDeps:
    settings: Settings
    mirror: MirrorStore
    ledger: IdempotencyLedger
    audit: AuditLog
    # A fresh ICIMSClient per call (each node run has its own event loop); None = offline: records
    # come from the mirror only and the write node refuses to run.
    client_factory: Callable[[], Any] | None
    policy: Policy
    files_dir: Path
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # Called after each write step ("letter_attached", "letter_recorded", "fields_patched"): tests
    # inject crashes there to prove a resumed write node repeats nothing.
    on_write_step: Callable[[str, RecordWrite], None] | None = None
    # Writes the letter's welcome paragraph when none is given (only with an LLM configured).
    chat_model: Any = None
    # Set when these deps opened their own resources (`from_settings`): closed with them.
    _resources: Resources | None = None

    @classmethod
    def open(cls, resources: Resources, **overrides: Any) -> OfferDeps:
        """From the shared resources (their owner closes them); `resources.overrides["offer"]` and
        `overrides` replace single dependencies."""
        settings = resources.settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        values: dict[str, Any] = {
            "settings": settings,
            "mirror": resources.mirror,
            "ledger": resources.ledger,
            "audit": resources.audit,
            "client_factory": resources.client_factory,
            "policy": load_policy(settings.offer_policy_dir),
            "files_dir": settings.offer_files_dir or settings.data_dir / "offers",
            "chat_model": make_chat_model(settings),
        }
        values.update(resources.overrides.get(NAME, {}))
        values.update(overrides)
        return cls(**values)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        mirror: MirrorStore | None = None,
        audit: AuditLog | None = None,
        offline: bool = False,
        **overrides: Any,
    ) -> OfferDeps:
        """For a graph run alone (CLI, demo, tests, langgraph.json): its own resources, closed by
        `close()`. `mirror` / `audit` passed in are shared (the caller closes them)."""
        deps, resources = open_alone(
            lambda own: cls.open(own, **overrides), settings, mirror=mirror, audit=audit, offline=offline
        )
        deps._resources = resources
        return deps

    def today(self) -> date:
        return self.clock().astimezone(UTC).date()

    def close(self) -> None:
        resources, self._resources = self._resources, None
        if resources is not None:
            resources.close()
