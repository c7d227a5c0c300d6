"""Resources: what every graph's dependencies are opened from, closed by whoever opened them.

The service opens one `Resources` and every graph's deps take their mirror, audit log, idempotency
ledger, request budget and iCIMS client factory from it, so a process holds one of each (one budget
counts the whole process's quota, one audit chain). Anything a graph opens for itself it hands to
`own()`, and `close()` closes it all in reverse order, once. A graph run alone (langgraph.json, a
test) opens its own `Resources` from settings the same way.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from tools.logs import get_logger

if TYPE_CHECKING:
    from tools.audit import AuditLog, IdempotencyLedger
    from tools.icims.budget import RequestBudget
    from tools.mirror import MirrorStore
    from tools.settings import Settings

T = TypeVar("T")
log = get_logger("graphs.kit.resources")


class Resources:
    def __init__(
        self,
        settings: Settings,
        *,
        mirror: MirrorStore | None = None,
        audit: AuditLog | None = None,
        ledger: IdempotencyLedger | None = None,
        embeddings: Any = None,
        client_factory: Callable[[], Any] | None = None,
        offline: bool = False,
        overrides: dict[str, dict[str, Any]] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        self.embeddings = embeddings  # an encoder override (tests pass HashEmbeddings)
        self.offline = offline  # no iCIMS client: reads from the mirror only, writes refused
        # Per graph name: single dependencies replaced (tests inject clients, clocks, crash hooks).
        self.overrides: dict[str, dict[str, Any]] = overrides or {}
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self._mirror, self._audit, self._ledger = mirror, audit, ledger
        self._budget: RequestBudget | None = None
        self._client_factory = client_factory
        self._owned: list[Any] = []
        self._lock = threading.RLock()
        # Deps of the graphs opened so far, by graph name: a graph may use another's (nurture ranks
        # with rediscovery's candidate index).
        self.shared: dict[str, Any] = {}

    def own(self, item: T) -> T:
        """Close `item` with these resources (reverse order of `own`)."""
        with self._lock:
            self._owned.append(item)
        return item

    @property
    def mirror(self) -> MirrorStore:
        with self._lock:
            if self._mirror is None:
                from tools.mirror import MirrorStore

                self._mirror = self.own(MirrorStore(self.settings.mirror_database_url))
            return self._mirror

    @property
    def audit(self) -> AuditLog:
        with self._lock:
            if self._audit is None:
                from tools.audit import AuditLog

                self._audit = self.own(AuditLog.from_settings(self.settings))
            return self._audit

    @property
    def ledger(self) -> IdempotencyLedger:
        with self._lock:
            if self._ledger is None:
                from tools.audit import IdempotencyLedger

                self._ledger = self.own(IdempotencyLedger.from_settings(self.settings))
            return self._ledger

    @property
    def budget(self) -> RequestBudget:
        with self._lock:
            if self._budget is None:
                from tools.icims.budget import RequestBudget

                self._budget = RequestBudget.from_settings(self.settings)
            return self._budget

    @property
    def client_factory(self) -> Callable[[], Any] | None:
        """A new async iCIMS client per call, all on this process's one budget; None offline."""
        if self._client_factory is not None or self.offline:
            return self._client_factory
        from tools.icims.client import ICIMSClient

        settings, budget = self.settings, self.budget
        return lambda: ICIMSClient.from_settings(settings, budget=budget)

    def close(self) -> None:
        with self._lock:
            owned, self._owned = self._owned, []
        for item in reversed(owned):
            try:
                item.close()
            except Exception as exc:  # closing the rest matters more than one failure
                log.warning("resources.close_failed", item=type(item).__name__, error=type(exc).__name__)

    def __enter__(self) -> Resources:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def opened(settings: Settings, **kwargs: Any):  # type: ignore[no-untyped-def]
    with Resources(settings, **kwargs) as resources:
        yield resources


def open_alone(open_deps: Callable[[Resources], T], settings: Settings, **kwargs: Any) -> tuple[T, Resources]:
    """A graph's deps on resources of their own (a graph run alone: CLI, demo, langgraph.json):
    `(deps, resources)`, the resources for the deps to close with themselves. Closed at once when
    opening the deps fails."""
    resources = Resources(settings, **kwargs)
    try:
        return open_deps(resources), resources
    except BaseException:
        resources.close()
        raise
