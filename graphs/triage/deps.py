"""Triage's dependencies, opened from the shared `Resources` (mirror, audit log, ledger, iCIMS
client factory), plus what triage opens itself: one long-lived iCIMS client on its own event loop,
the policy file and the requisition cache."""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agents.triage.policy import DEFAULT_POLICY_PATH, PolicyError, ResolvedPolicy, TriagePolicy, parse_policy
from graphs.kit.resources import Resources, open_alone
from tools.audit import value_hash

if TYPE_CHECKING:
    from tools.audit import AuditLog, IdempotencyLedger
    from tools.mirror import MirrorStore
    from tools.settings import Settings

REQUISITION_CACHE_SIZE = 512
# What `from_settings` passes to the resources it opens rather than to the deps.
RESOURCE_ARGS = ("mirror", "audit", "ledger", "offline", "client_factory")


@lru_cache(maxsize=8)
def _parsed(path: str, mtime_ns: int) -> TriagePolicy:
    del mtime_ns  # part of the cache key only: an edited file is read again
    return parse_policy(Path(path).read_text(encoding="utf-8"), source=path)


def load_policy(path: Path | str | None = None) -> TriagePolicy:
    """The policy file (the packaged default when `path` is None), parsed once per file version."""
    target = Path(path) if path is not None else DEFAULT_POLICY_PATH
    try:
        mtime = target.stat().st_mtime_ns
    except OSError as exc:
        raise PolicyError(f"triage policy {target}: {exc.strerror}") from None
    return _parsed(str(target), mtime)


class ClientLoop:
    """One event loop in a daemon thread with one long-lived ICIMSClient: connections and the OAuth
    token are reused across applications (a client per event would fetch a token per event and run
    into the token throttle at triage volume). Callable from any thread."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client: Any = None
        self._lock = threading.Lock()

    def _ensure(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="triage-icims", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    async def _call(self, fn: Callable[[Any], Coroutine[Any, Any, Any]]) -> Any:
        if self._client is None:
            self._client = self._factory()
        return await fn(self._client)

    def run(self, fn: Callable[[Any], Coroutine[Any, Any, Any]]) -> Any:
        loop = self._ensure()
        return asyncio.run_coroutine_threadsafe(self._call(fn), loop).result()

    @property
    def requests_sent(self) -> int:
        return int(getattr(self._client, "requests_sent", 0) or 0)

    def close(self) -> None:
        with self._lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None:
            return
        if self._client is not None:
            client, self._client = self._client, None
            asyncio.run_coroutine_threadsafe(client.aclose(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=10)
        loop.close()


@dataclass
class TriageDeps:
    settings: Settings
    mirror: MirrorStore
    ledger: IdempotencyLedger
    audit: AuditLog
    policy: TriagePolicy
    # None = offline: applications must be fully mirrored, and approved writes cannot run.
    icims: ClientLoop | None
    enrich: Callable[..., Any]
    requisition_from_job: Callable[..., Any]
    score_candidate: Callable[..., Any]
    history_from_workflows: Callable[..., Any]
    extractor_version: str
    prompt_version: str | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # Parsed requisitions by (job id, content hash): parsing a posting costs more than scoring a resume.
    _requisitions: OrderedDict[tuple[int, str], Any] = field(default_factory=OrderedDict)
    _req_lock: threading.Lock = field(default_factory=threading.Lock)
    # Set when these deps opened their own resources (`from_settings`): `close` closes them.
    _resources: Resources | None = None

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> TriageDeps:
        """Deps for a graph run alone (langgraph.json, a test) on resources of their own, closed by
        `close`. `mirror`, `audit`, `offline` and `client_factory` go to those resources (a mirror
        or audit log passed in stays open: its owner closes it); the rest replaces single deps."""
        shared = {k: overrides.pop(k) for k in RESOURCE_ARGS if k in overrides}
        deps, resources = open_alone(open, settings, overrides={"triage": overrides}, **shared)
        deps._resources = resources
        return deps

    def requisition(self, job_id: int, job: dict[str, Any]) -> tuple[Any, str]:
        key = (int(job_id), value_hash(job))
        with self._req_lock:
            cached = self._requisitions.get(key)
            if cached is not None:
                self._requisitions.move_to_end(key)
                return cached, key[1]
        parsed = self.requisition_from_job(str(job_id), job)
        with self._req_lock:
            self._requisitions[key] = parsed
            while len(self._requisitions) > REQUISITION_CACHE_SIZE:
                self._requisitions.popitem(last=False)
        return parsed, key[1]

    def policy_for(self, job_id: int) -> ResolvedPolicy:
        # Read again when the file changed (cached by mtime): an admin's edit applies without a restart.
        self.policy = load_policy(self.settings.triage_policy_path)
        return self.policy.for_job(job_id, default_mode=self.settings.triage_mode)

    def close(self) -> None:
        """Close what `from_settings` opened; deps opened from a service's resources close with them."""
        resources, self._resources = self._resources, None
        if resources is not None:
            resources.close()


def open(resources: Resources) -> TriageDeps:
    """Triage's deps from the shared resources; `resources.overrides["triage"]` replaces single
    dependencies (`chat_model` for the extractor, a clock, ...)."""
    from agents.enrichment import DeterministicExtractor, make_extractor, requisition_from_job
    from agents.enrichment import enrich as deterministic_enrich
    from agents.enrichment.llm import PROMPT_ID
    from agents.scoring import history_from_workflows, score_candidate

    settings = resources.settings
    overrides = dict(resources.overrides.get("triage") or {})
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    extractor = make_extractor(settings, chat_model=overrides.pop("chat_model", None))
    deterministic = isinstance(extractor, DeterministicExtractor)
    factory = None if resources.offline else resources.client_factory
    values: dict[str, Any] = {
        "settings": settings,
        "mirror": resources.mirror,
        "ledger": resources.ledger,
        "audit": resources.audit,
        "policy": load_policy(settings.triage_policy_path),
        "icims": None if factory is None else resources.own(ClientLoop(factory)),
        "enrich": partial(deterministic_enrich, field_map=settings.field_map)
        if deterministic
        else extractor.extract,
        "requisition_from_job": partial(requisition_from_job, field_map=settings.field_map),
        "score_candidate": score_candidate,
        "history_from_workflows": history_from_workflows,
        "extractor_version": getattr(extractor, "version", "deterministic-1"),
        "prompt_version": None if deterministic else PROMPT_ID,
    }
    values.update(overrides)
    return TriageDeps(**values)
