"""`RediscoveryDeps`: everything rediscovery's nodes touch.

`open(resources)` builds them from the shared `graphs.kit.resources.Resources` (the service's one
mirror, audit log, ledger, encoder override and iCIMS client factory; `resources.overrides
["rediscovery"]` replaces single members, as tests do). `from_settings(settings, ...)` opens its own
`Resources` for callers that run the graph alone (the CLI, the demo, `LazyDeps` for langgraph.json)
and closes them with the deps.

Settings pick the backends: `make_extractor(settings)` enriches profiles (deterministic unless
`llm_base_url` is set), `make_embeddings(settings)` encodes (once per deps: loading the ONNX model
costs seconds), `vector_backend` holds a run's vectors (`graphs.rediscovery.vectors`). The deps also
hold the process's candidate pool (`graphs.rediscovery.pool`) and register `forget_person` as a
mirror erasure hook, so an erasure found by a sync removes the person's cached and indexed vectors.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from graphs.kit.resources import Resources, open_alone
from graphs.kit.write import StepHook
from graphs.rediscovery import vectors
from graphs.rediscovery.pool import CandidatePool, current_pool

if TYPE_CHECKING:
    from tools.audit import AuditLog, IdempotencyLedger
    from tools.mirror import MirrorStore
    from tools.settings import Settings

NAME = "rediscovery"


@dataclass
class RediscoveryDeps:
    """Everything the nodes touch. Build with `open` / `from_settings`; tests override single members."""

    settings: Settings
    mirror: MirrorStore
    ledger: IdempotencyLedger
    audit: AuditLog
    # A fresh ICIMSClient per call (each node run has its own event loop); None = offline: no
    # requisition refresh, and the write node refuses to run.
    client_factory: Callable[[], Any] | None
    ranker_factory: Callable[[], Any]
    enrich: Callable[..., Any]
    requisition_from_job: Callable[..., Any]
    score_candidate: Callable[..., Any]
    history_from_workflows: Callable[..., Any]
    rubric_version: str
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # Called after each write step ("workflow_created", "workflow_found", "patched", "done"): tests
    # inject crashes there to prove a resumed write node repeats nothing.
    on_write_step: StepHook | None = None
    # Embedding vectors shared by this process's runs, keyed by content hash and aged out by TTL:
    # the warm path (unchanged resumes are not re-embedded). None = each ranker keeps its own.
    vector_cache: Any = None
    # Clear the shared cache at the end of every run too (DESIGN: "purged on run end where configured").
    purge_cache_on_run_end: bool = False
    # The run's vector index: `index_factory(namespace=...)` -> a `tools.vectors.VectorIndex` (None:
    # in-process). `open` picks it by `settings.vector_backend`.
    index_factory: Callable[..., Any] | None = None
    index_backend: str = "memory"
    # Rankers (their per-run index) of runs not yet purged, by trace id.
    _runs: dict[str, Any] = field(default_factory=dict)
    # Run vector indexes not yet dropped, by trace id: (index, {person id: vector ids}).
    _run_indexes: dict[str, tuple[Any, dict[str, list[str]]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # The shared candidate pool (`graphs.rediscovery.pool`), rebuilt only when the mirror changed;
    # `index_builds` counts the rebuilds.
    _pool: Any = None
    _pool_lock: threading.Lock = field(default_factory=threading.Lock)
    index_builds: int = 0
    _unregister_erasure: Callable[[], None] | None = None
    # The resources `from_settings` opened for these deps alone (closed with them).
    _resources: Resources | None = None

    @classmethod
    def open(
        cls, resources: Resources, *, chat_model: Any = None, register_erasure: bool = True
    ) -> RediscoveryDeps:
        """The deps over shared resources (closed by whoever opened those). `chat_model` overrides
        the LLM the settings select (tests); `register_erasure` registers `forget_person` as a
        process-wide mirror erasure hook (unregistered by `close`)."""
        settings = resources.settings
        overrides = dict(resources.overrides.get(NAME, {}))
        chat_model = overrides.pop("chat_model", chat_model)
        register_erasure = overrides.pop("register_erasure", register_erasure)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        cache = overrides.pop("vector_cache", None) or _embedding_cache()
        # Checked before anything is opened: a misconfigured backend fails here, leaking nothing.
        index_factory = vectors.index_factory(settings, default_ttl_seconds=cache.ttl_seconds)
        values: dict[str, Any] = {
            "ranker_factory": _ranker_factory(settings, resources.embeddings, cache),
            "vector_cache": cache,
            "index_factory": index_factory,
            "index_backend": settings.vector_backend,
            # The shared ones: one mirror, ledger, audit chain and request budget per process.
            "settings": settings,
            "mirror": resources.mirror,
            "ledger": resources.ledger,
            "audit": resources.audit,
            "client_factory": resources.client_factory,
        }
        # The agents are imported only when not overridden (tests may swap one in isolation).
        if not {"enrich", "requisition_from_job"} <= overrides.keys():
            values.update(_enrichment(settings, chat_model))
        if not {"score_candidate", "history_from_workflows", "rubric_version"} <= overrides.keys():
            from agents.scoring import RUBRIC_VERSION, history_from_workflows, score_candidate

            values.update(
                score_candidate=score_candidate,
                history_from_workflows=history_from_workflows,
                rubric_version=RUBRIC_VERSION,
            )
        values.update(overrides)
        deps = cls(**values)
        if register_erasure:
            from tools.mirror.sync import register_erasure_hook

            # Weak: a deps object nobody holds any more is not kept alive by the registry.
            deps._unregister_erasure = register_erasure_hook(deps.forget_person, weak=True)
        return deps

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        embeddings: Any = None,
        offline: bool = False,
        mirror: MirrorStore | None = None,
        chat_model: Any = None,
        register_erasure: bool = True,
        **overrides: Any,
    ) -> RediscoveryDeps:
        """The deps on resources of their own, closed by `close`. A `mirror` handed in is closed
        with them too (callers hand over the connection, as nurture does for its ranking deps)."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        deps, resources = open_alone(
            partial(cls.open, chat_model=chat_model, register_erasure=register_erasure),
            settings,
            mirror=mirror,
            embeddings=embeddings,
            offline=offline,
            overrides={NAME: overrides},
        )
        if mirror is not None:
            resources.own(mirror)
        deps._resources = resources
        return deps

    # -- a run's vectors (graphs.rediscovery.vectors) ------------------------------------------------
    def make_run_index(self, trace_id: str) -> Any:
        """A vector index for one run: in-process, or the run's own Pinecone namespace."""
        return vectors.make_run_index(self, trace_id)

    def hold_run(
        self,
        trace_id: str,
        ranker: Any,
        index: Any = None,
        vector_ids: dict[str, list[str]] | None = None,
    ) -> None:
        """Keep a run's ranker (and its vector index, with the vector ids of each person) until
        `release_run`."""
        with self._lock:
            self._runs[trace_id] = ranker
            if index is not None:
                self._run_indexes[trace_id] = (index, dict(vector_ids or {}))

    def forget_person(self, person_id: int | str) -> dict[str, int]:
        """Erasure: drop a person's cached embeddings and their vectors in every live run index.
        Registered as a mirror erasure hook, so an erased person's vectors go with the erasure."""
        return vectors.forget_person(self, person_id)

    def release_run(self, trace_id: str, vector_index: dict[str, Any] | None = None) -> dict[str, Any]:
        """End of run: drop the run's index and any vectors only it held, and purge expired shared
        vectors. Rankers live in the process that ran `retrieve`: a run resumed in another process
        finds none here (they went with their process), and shared vectors age out by TTL anyway.
        A remote run index (`vector_index`, as recorded in the run's state) is dropped from any
        process."""
        return vectors.release_run(self, trace_id, vector_index)

    # -- the candidate pool (graphs.rediscovery.pool) ------------------------------------------------
    def candidate_pool(self) -> CandidatePool:
        """The shared index of the mirror's candidates, rebuilt only when the mirror changed."""
        return current_pool(self)

    def prepare_pool(self) -> dict[str, Any]:
        """Build the shared candidate index now, if the mirror changed since the last build: the
        service calls this at start and after each sync (`PoolWarmer`), so runs find it ready instead
        of reading and indexing every resume on the request path (~30 s at 100k people)."""
        started = time.perf_counter()
        builds = self.index_builds
        pool = self.candidate_pool()
        return {
            "documents": len(pool.docs),
            "rebuilt": self.index_builds > builds,
            "seconds": round(time.perf_counter() - started, 3),
        }

    def close(self) -> None:
        """Drop the pool and the erasure hook; close the resources `from_settings` opened (shared
        resources are closed by whoever opened them)."""
        self._pool = None
        if self._unregister_erasure is not None:
            self._unregister_erasure()
            self._unregister_erasure = None
        resources, self._resources = self._resources, None
        if resources is not None:
            resources.close()


def _embedding_cache() -> Any:
    from tools.vectors import EmbeddingCache

    return EmbeddingCache()


def _ranker_factory(settings: Settings, embeddings: Any, cache: Any) -> Callable[[], Any]:
    shared: dict[str, Any] = {}

    def ranker_factory() -> Any:
        from agents.ranking import HybridRanker

        # One embeddings object per deps: loading the ONNX model costs seconds.
        if "embeddings" not in shared:
            if embeddings is not None:
                shared["embeddings"] = embeddings
            else:
                from tools.embeddings import make_embeddings

                shared["embeddings"] = make_embeddings(settings)
        return HybridRanker(embeddings=shared["embeddings"], cache=cache)

    return ranker_factory


def _enrichment(settings: Settings, chat_model: Any) -> dict[str, Any]:
    from agents.enrichment import DeterministicExtractor, enrich, make_extractor, requisition_from_job

    # Deterministic unless the settings configure an LLM (`llm_base_url`).
    extractor = make_extractor(settings, chat_model=chat_model)
    return {
        # The tenant's field map decides which custom fields hold skills, consent, remote mode.
        "enrich": partial(enrich, field_map=settings.field_map)
        if isinstance(extractor, DeterministicExtractor)
        else extractor.extract,
        "requisition_from_job": partial(requisition_from_job, field_map=settings.field_map),
    }
