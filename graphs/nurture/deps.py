"""The nurture graph's dependencies: the shared mirror, ledger, audit log and iCIMS client factory
from `Resources`, rediscovery's ranking deps (its candidate index, enrichment and scoring), and what
only nurture opens: its store (campaigns, contacts, stops) and the email transport."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from agents.nurture.campaigns import get_campaign
from agents.nurture.models import Campaign
from agents.nurture.selection import GlobalCaps
from agents.nurture.tokens import UnsubscribeClaim, sign, unsubscribe_url
from graphs.kit.resources import Resources, open_alone
from graphs.rediscovery import RediscoveryDeps
from tools.email import EmailTransport, make_transport
from tools.llm import make_chat_model
from tools.nurture.secret import secret_for
from tools.nurture.store import NurtureStore

if TYPE_CHECKING:
    from tools.audit import AuditLog, IdempotencyLedger
    from tools.mirror import MirrorStore
    from tools.settings import Settings

NAME = "nurture"


@dataclass
class NurtureDeps:
    settings: Settings
    mirror: MirrorStore
    store: NurtureStore
    ledger: IdempotencyLedger
    audit: AuditLog
    ranking: RediscoveryDeps  # the candidate index, enrichment and scoring
    client_factory: Callable[[], Any] | None
    transport: EmailTransport
    chat_model: Any = None  # for campaigns with llm_rewrite (None: no LLM configured)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # Called after each send step ("sent", "recorded"): tests inject crashes to prove re-runs resend nothing.
    on_send_step: Callable[[str, dict[str, Any]], None] | None = None
    # Set when these deps opened their own resources (`from_settings`): closed with them.
    _resources: Resources | None = None

    @classmethod
    def open(cls, resources: Resources, **overrides: Any) -> NurtureDeps:
        """From the shared resources (their owner closes them, and what is opened here with them);
        `resources.overrides["nurture"]` and `overrides` replace single dependencies."""
        settings = resources.settings
        values: dict[str, Any] = {**resources.overrides.get(NAME, {}), **overrides}
        if values.get("ranking") is None:
            values["ranking"] = resources.shared.get("rediscovery") or _open_ranking(resources)
        if "store" not in values:
            values["store"] = resources.own(NurtureStore.from_settings(settings))
        if "transport" not in values:
            values["transport"] = make_transport(settings)
            if hasattr(values["transport"], "close"):
                resources.own(values["transport"])
        if values.get("chat_model") is None:
            values["chat_model"] = make_chat_model(settings)
        values.setdefault("mirror", resources.mirror)
        values.setdefault("ledger", resources.ledger)
        values.setdefault("audit", resources.audit)
        values.setdefault("client_factory", resources.client_factory)
        return cls(settings=settings, **values)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        mirror: MirrorStore | None = None,
        embeddings: Any = None,
        **overrides: Any,
    ) -> NurtureDeps:
        """For a graph run alone (CLI, demo, tests, langgraph.json): its own resources, closed by
        `close()`. A `mirror` passed in is shared (the caller closes it)."""
        deps, resources = open_alone(
            partial(cls.open, **overrides), settings, mirror=mirror, embeddings=embeddings
        )
        deps._resources = resources
        return deps

    def campaign(self, campaign_id: str) -> Campaign:
        return get_campaign(self.store, campaign_id, self.settings.nurture_campaign_dir)

    def global_caps(self) -> GlobalCaps:
        return GlobalCaps(
            min_days_between=self.settings.nurture_global_min_days_between,
            max_per_30_days=self.settings.nurture_global_max_per_30_days,
        )

    def unsubscribe_link(self, campaign_id: str, person_id: int, step: int) -> str:
        token = sign(UnsubscribeClaim(person_id, campaign_id, step), secret_for(self.settings))
        return unsubscribe_url(self.settings.nurture_public_base_url, token)

    def close(self) -> None:
        resources, self._resources = self._resources, None
        if resources is not None:
            resources.close()


def _open_ranking(resources: Resources) -> RediscoveryDeps:
    """Rediscovery's deps, on the same resources, when the service did not open rediscovery first."""
    return resources.own(RediscoveryDeps.open(resources))


def graph_and_deps(state: Any) -> tuple[Any, NurtureDeps]:
    """The nurture graph and deps from the service's state (every graph's, by name) or from this
    kind opened alone (`graphs.kit.kind.OpenGraph`): event handlers and periodic jobs get either."""
    if isinstance(getattr(state, "deps", None), dict):
        return state.graphs[NAME], state.deps[NAME]
    return state.graph, state.deps
