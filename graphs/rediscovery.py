"""Rediscovery: rank past applicants and talent-pool members from the mirror against a requisition,
explain every score, and after a recruiter approves, write the result back to iCIMS.

    load -> retrieve -> score -> summarise -> approve (Agent Inbox interrupt) -> write -> audit -> purge
                                                 |  respond / ignore / nothing approved  -> audit

Settings pick the backends: `make_extractor(settings)` enriches profiles (deterministic unless
`llm_base_url` is set), and `vector_backend` holds the run's dense vectors (with a TTL) in an
in-process index or in a Pinecone namespace of the run's own, dropped by `purge`. An erasure found
by the mirror sync removes the person's cached and indexed vectors (`RediscoveryDeps.forget_person`,
registered as a `tools.mirror.sync` erasure hook).

Nodes are thin: domain logic lives in `agents/` (enrichment, scoring, ranking), I/O in `tools/`, the
idempotent write-back in `graphs/kit/write.py`. State holds JSON-like values only (dicts, lists, str,
numbers), so a checkpoint written by one process resumes in another without pickled classes.

Side effects happen only after the interrupt returns: `approve` re-runs from its top on resume, so it
only builds the request from state; the iCIMS writes are in `write`, under an idempotency ledger, and
the audit record is keyed by the run's trace id. Nobody is ever rejected: candidates not approved are
left untouched.

    with open_checkpointer(settings) as saver:
        graph = build_graph(saver, deps=RediscoveryDeps.from_settings(settings))
        run = start_run(graph, job_id=1005, customer_id=settings.icims_customer_id)
        ... later, any process ...
        resume_run(graph, run.thread_id, {"type": "accept"}, approver="alice")
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Required, TypeVar

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command
from pydantic import BaseModel, ConfigDict, Field, field_validator
from typing_extensions import TypedDict

from graphs.kit.inbox import (
    PendingApproval,
    approver_of,
    ask,
    cli_approver,
    config_value,
    make_request,
    pending_approvals,
    unfinished,
)
from graphs.kit.nodes import LazyDeps, run_async
from graphs.kit.write import StepHook, WriteBack, WriteRequest
from prompts.templates import load_template
from tools.audit import AuditLog, IdempotencyLedger, value_hash
from tools.mirror.store import link_id, node_id

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver

    from tools.mirror import MirrorStore
    from tools.settings import Settings

GRAPH_VERSION = "rediscovery-1"
REQUEST_ACTION = "rediscovery_shortlist"
OUTREACH_TEMPLATE = ("outreach_line", "v1")
# Proposed action: a strong match is submitted to the requisition; others are kept warm in a talent
# pool. Only a proposal: the recruiter can change either in the edit, and nothing is ever rejected.
SUBMIT_THRESHOLD = 70
# Candidates retrieved per requested shortlist slot: scoring reorders, and filters may drop some.
RETRIEVE_FACTOR = 3
RETRIEVE_MIN = 30
REASONS_FIELD_LIMIT = 2000
TAGS_FIELD_LIMIT = 255
TAG_SKILLS = 5
EMPLOYEE_FOLDER = "D32010"
PURGED_FOLDER = "D32099"
OPEN_JOB_FOLDERS = frozenset({"D31001"})

Action = Literal["add_to_pool", "submit"]
T = TypeVar("T")


def rediscovery_thread_id(customer_id: int | str, job_id: int | str) -> str:
    """One thread per requisition: a second request for the same job finds the pending approval."""
    return f"rediscovery:{customer_id}:{job_id}"


# --- schemas --------------------------------------------------------------------------------------


class RediscoveryInput(TypedDict, total=False):
    """What a caller passes (LangGraph Studio renders this as the input form)."""

    job_id: Required[int | str]
    pool_ids: list[int]  # only consider members of these talent pools (default: everyone mirrored)
    target_pool_id: int  # the pool "add_to_pool" puts people in (default: best-matching active pool)
    filters: dict[str, Any]  # RediscoveryFilters
    top_k: int


class RediscoveryFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_score: int | None = Field(default=None, ge=0, le=100, description="leave out lower scores")
    states: list[str] = Field(default_factory=list, description="person address state abbreviations")
    include_employees: bool = True
    exclude_do_not_contact: bool = False


class RediscoveryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    job_id: int
    pool_ids: list[int] = Field(default_factory=list)
    target_pool_id: int | None = None
    filters: RediscoveryFilters = Field(default_factory=RediscoveryFilters)
    top_k: int = Field(default=10, ge=1, le=100)

    @field_validator("job_id", mode="before")
    @classmethod
    def _job_id(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value


class RediscoveryState(TypedDict, total=False):
    # input
    job_id: int | str
    pool_ids: list[int]
    target_pool_id: int
    filters: dict[str, Any]
    top_k: int
    # run
    run: dict[str, Any]
    requisition: dict[str, Any]
    job: dict[str, Any]
    target_pool: dict[str, Any] | None
    retrieved: list[dict[str, Any]]
    retrieval: dict[str, Any]
    scored: list[dict[str, Any]]
    shortlist: list[dict[str, Any]]
    versions: dict[str, Any]
    approval: dict[str, Any]
    approval_error: str | None
    writes: list[dict[str, Any]]
    audit_record: dict[str, Any]
    purge_report: dict[str, Any]


class RediscoveryOutput(TypedDict, total=False):
    run: dict[str, Any]
    job: dict[str, Any]
    shortlist: list[dict[str, Any]]
    approval: dict[str, Any]
    writes: list[dict[str, Any]]
    audit_record: dict[str, Any]
    purge_report: dict[str, Any]


class EvidenceOut(BaseModel):
    quote: str
    source: str = "resume"
    verified: bool = False


class ReasonOut(BaseModel):
    criterion: str
    points: float
    text: str
    evidence: EvidenceOut | None = None
    flagged: bool = False


class GapOut(BaseModel):
    criterion: str
    text: str


class ShortlistCandidate(BaseModel):
    """One candidate as the reviewer sees it in the approval request."""

    model_config = ConfigDict(extra="ignore")

    rank: int
    person_id: int
    name: str
    title: str | None = None
    score: int = Field(ge=0, le=100)
    reasons: list[ReasonOut] = Field(default_factory=list)
    gaps: list[GapOut] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list)
    summary: list[str] = Field(default_factory=list)
    outreach_line: str = ""
    # Written to the person's `enrichment_tags` field when approved (verified facts only).
    enrichment_tags: str = ""
    proposed_action: Action
    pool_id: int | None = None
    retrieval: dict[str, float] = Field(default_factory=dict)


class EditedCandidate(BaseModel):
    """What an edit may change: drop a candidate (leave it out), its action, and its pool."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    person_id: int
    proposed_action: Action = Field(alias="action")
    pool_id: int | None = None

    @field_validator("proposed_action", mode="before")
    @classmethod
    def _action(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value


class EditedShortlist(BaseModel):
    model_config = ConfigDict(extra="ignore")

    candidates: list[EditedCandidate]


class ApprovalError(ValueError):
    """An edit that cannot be applied as sent; the reviewer is asked again."""


# --- dependencies ---------------------------------------------------------------------------------


@dataclass
class RediscoveryDeps:
    """Everything the nodes touch. Build with `from_settings`; tests override single members."""

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
    # in-process). `from_settings` picks it by `settings.vector_backend`.
    index_factory: Callable[..., Any] | None = None
    index_backend: str = "memory"
    # Rankers (their per-run index) of runs not yet purged, by trace id.
    _runs: dict[str, Any] = field(default_factory=dict)
    # Run vector indexes not yet dropped, by trace id: (index, {person id: vector ids}).
    _run_indexes: dict[str, tuple[Any, dict[str, list[str]]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # One ranker index of every mirrored person with a resume, shared by this process's runs and
    # rebuilt only when the mirror changed (`MirrorStore.state_key`); runs apply their exclusions
    # as an `allowed` set at rank time. `index_builds` counts the rebuilds.
    _pool: Any = None
    _pool_lock: threading.Lock = field(default_factory=threading.Lock)
    index_builds: int = 0
    _unregister_erasure: Callable[[], None] | None = None

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
        """`chat_model` overrides the LLM the settings select (tests); `register_erasure` registers
        `forget_person` as a process-wide mirror erasure hook (unregistered by `close`)."""
        from functools import partial

        from tools.icims.budget import RequestBudget
        from tools.icims.client import ICIMSClient
        from tools.mirror import MirrorStore
        from tools.vectors import EmbeddingCache

        settings.data_dir.mkdir(parents=True, exist_ok=True)
        budget = RequestBudget.from_settings(settings)
        cache = overrides.pop("vector_cache", None) or EmbeddingCache()
        # Checked before anything is opened: a misconfigured backend fails here, leaking nothing.
        index_factory = _index_factory(settings, default_ttl_seconds=cache.ttl_seconds)
        shared: dict[str, Any] = {}

        def ranker_factory() -> Any:
            from agents.ranking import HybridRanker

            # One embeddings object per process: loading the ONNX model costs seconds.
            if "embeddings" not in shared:
                if embeddings is not None:
                    shared["embeddings"] = embeddings
                else:
                    from tools.embeddings import make_embeddings

                    shared["embeddings"] = make_embeddings(settings)
            return HybridRanker(embeddings=shared["embeddings"], cache=cache)

        values: dict[str, Any] = {
            "settings": settings,
            "mirror": mirror if mirror is not None else MirrorStore(settings.mirror_database_url),
            "ledger": IdempotencyLedger.from_settings(settings),
            "audit": AuditLog.from_settings(settings),
            "client_factory": None
            if offline
            else (lambda: ICIMSClient.from_settings(settings, budget=budget)),
            "ranker_factory": ranker_factory,
            "vector_cache": cache,
            "index_factory": index_factory,
            "index_backend": settings.vector_backend,
        }
        # The agents are imported only when not overridden (tests may swap one in isolation).
        if not {"enrich", "requisition_from_job"} <= overrides.keys():
            from agents.enrichment import (
                DeterministicExtractor,
                enrich,
                make_extractor,
                requisition_from_job,
            )

            # Deterministic unless the settings configure an LLM (`llm_base_url`).
            extractor = make_extractor(settings, chat_model=chat_model)
            values.update(
                # The tenant's field map decides which custom fields hold skills, consent, remote mode.
                enrich=partial(enrich, field_map=settings.field_map)
                if isinstance(extractor, DeterministicExtractor)
                else extractor.extract,
                requisition_from_job=partial(requisition_from_job, field_map=settings.field_map),
            )
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

    def make_run_index(self, trace_id: str) -> Any:
        """A vector index for one run: in-process, or the run's own Pinecone namespace."""
        if self.index_factory is not None:
            return self.index_factory(namespace=run_namespace(trace_id))
        from tools.vectors import InMemoryVectorIndex

        ttl = getattr(self.vector_cache, "ttl_seconds", None)
        return InMemoryVectorIndex(default_ttl_seconds=ttl)

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
        owner = str(person_id)
        report = {"cache_entries": 0, "index_vectors": 0}
        with self._pool_lock:
            pool, self._pool = self._pool, None  # it holds the person's resume text: rebuild later
        with self._lock:
            rankers = list(self._runs.values())
            if pool is not None and pool.ranker not in rankers:
                rankers.append(pool.ranker)
            indexes = [(index, ids.pop(owner, [])) for index, ids in self._run_indexes.values()]
        if self.vector_cache is not None:
            report["cache_entries"] += self.vector_cache.forget(owner).cache_entries
        for ranker in rankers:  # rankers with a private cache
            cache = getattr(ranker, "cache", None)
            if cache is not None and cache is not self.vector_cache and hasattr(cache, "forget"):
                report["cache_entries"] += cache.forget(owner).cache_entries
        for index, ids in indexes:
            if ids:
                index.delete(ids)
                report["index_vectors"] += len(ids)
        return report

    def release_run(self, trace_id: str, vector_index: dict[str, Any] | None = None) -> dict[str, Any]:
        """End of run: drop the run's index and any vectors only it held, and purge expired shared
        vectors. Rankers live in the process that ran `retrieve`: a run resumed in another process
        finds none here (they went with their process), and shared vectors age out by TTL anyway.
        A remote run index (`vector_index`, as recorded in the run's state) is dropped from any
        process."""
        with self._lock:
            ranker = self._runs.pop(trace_id, None)
            held = self._run_indexes.pop(trace_id, None)
        report: dict[str, Any] = {"run_index_dropped": ranker is not None, "run_vectors": 0}
        shared = ranker is not None and getattr(ranker, "_rediscovery_shared", False)
        if ranker is not None and not shared:  # the shared pool index outlives the run
            report["run_vectors"] = _drop_vectors(ranker, keep=self.vector_cache)
        info = vector_index or {}
        index = held[0] if held is not None else None
        if index is None and info.get("backend") == "pinecone" and info.get("namespace"):
            if self.index_factory is None:
                report["vector_index_error"] = "no Pinecone index configured to drop the run namespace"
            else:
                index = self.index_factory(namespace=info["namespace"])
        if index is not None:
            index.drop()
            close = getattr(index, "close", None)
            if callable(close):
                close()
            report["vector_index"] = {
                "backend": info.get("backend") or self.index_backend,
                "namespace": getattr(index, "namespace", None),
                "dropped": True,
            }
        if self.vector_cache is not None:
            if self.purge_cache_on_run_end:
                report["cache_cleared"] = len(self.vector_cache)
                self.vector_cache.clear()
            report["expired_purged"] = self.vector_cache.purge_expired()
            report["cached_vectors"] = len(self.vector_cache)
        return report

    def candidate_pool(self) -> _CandidatePool:
        """The shared index of the mirror's candidates, rebuilt only when the mirror changed."""
        key = self.mirror.state_key()
        with self._pool_lock:
            pool = self._pool
            if pool is not None and pool.key == key:
                return pool
            pool = _build_pool(self, key)
            self._pool = pool
            if pool.indexed:
                self.index_builds += 1
            return pool

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
        self._pool = None
        if self._unregister_erasure is not None:
            self._unregister_erasure()
            self._unregister_erasure = None
        self.mirror.close()
        self.ledger.close()
        self.audit.close()


# --- helpers --------------------------------------------------------------------------------------


def run_namespace(trace_id: str) -> str:
    """The run's vector namespace (Pinecone): derived from the trace id, so any process can drop it."""
    return f"rediscovery-{trace_id}"


def _index_factory(settings: Settings, *, default_ttl_seconds: float) -> Callable[..., Any] | None:
    """`settings.vector_backend`: None for "memory" (an in-process index per run), else a factory
    of Pinecone indexes on `pinecone_index_host`, one namespace per run."""
    if settings.vector_backend != "pinecone":
        return None
    host = getattr(settings, "pinecone_index_host", None)
    key = settings.pinecone_api_key
    if not host or key is None:
        raise ValueError(
            "vector_backend=pinecone needs ICIMS_AGENTS_PINECONE_INDEX_HOST and ICIMS_AGENTS_PINECONE_API_KEY"
        )

    def factory(*, namespace: str) -> Any:
        from tools.vectors import PineconeVectorIndex

        return PineconeVectorIndex(
            host=host,
            api_key=key.get_secret_value(),
            namespace=namespace,
            default_ttl_seconds=default_ttl_seconds,
        )

    return factory


def _index_run_vectors(
    d: RediscoveryDeps, trace_id: str, ranker: Any, docs: list[Any], hits: list[Any]
) -> tuple[Any, dict[str, list[str]], dict[str, Any]]:
    """Upsert the dense vectors the ranker computed for the retrieved candidates into the run's
    index (with the TTL). They come from the ranker's cache: nothing is embedded again."""
    from agents.ranking.text import word_windows
    from tools.vectors import VectorItem

    index = d.make_run_index(trace_id)
    info: dict[str, Any] = {"backend": d.index_backend, "namespace": getattr(index, "namespace", None)}
    cache = getattr(ranker, "cache", None)
    if cache is None or not hasattr(ranker, "embeddings"):
        info["vectors"] = 0
        return index, {}, info
    by_id = {doc.candidate_id: doc for doc in docs}
    owners: list[str] = []
    texts: list[str] = []
    for hit in hits:
        doc = by_id.get(hit.candidate_id)
        if doc is None or (hit.components or {}).get("prefiltered_out"):
            continue  # never embedded: the ranker left it out of the dense stage
        windows = word_windows(
            doc.text, getattr(ranker, "window_words", 160), getattr(ranker, "dense_windows", 1)
        )
        for window in windows:
            owners.append(doc.candidate_id)
            texts.append(window)
    vector_ids: dict[str, list[str]] = {}
    items = []
    if texts:
        vectors = cache.get_or_embed_array(texts, ranker.embeddings, owners=owners)
        for owner, vector in zip(owners, vectors, strict=True):
            ids = vector_ids.setdefault(owner, [])
            vid = f"{owner}:{len(ids)}"
            ids.append(vid)
            items.append(VectorItem(vid, vector, {"person_id": owner}))
        try:
            index.upsert(items)
        except BaseException:
            with contextlib.suppress(Exception):
                index.drop()  # whatever landed: the purge node will not run for this attempt
            raise
    info["vectors"] = len(items)
    return index, vector_ids, info


def _verified(evidence: Any) -> bool:
    return evidence is not None and bool(getattr(evidence, "verified", False))


def _years_band(years: float) -> str:
    for upper, band in ((2, "0-1"), (5, "2-4"), (10, "5-9"), (15, "10-14")):
        if years < upper:
            return band
    return "15+"


def enrichment_tags(profile: Any) -> str:
    """The `enrichment_tags` field: occupation code, seniority, years band and the first canonical
    skills, each only when its evidence was verified in the source. Short and deterministic:
    "soc=15-1252.00; tier=senior; yrs=5-9; skills=Python,SQL,AWS"."""
    parts: list[str] = []
    code = getattr(profile, "occupation_code", None)
    roles = getattr(profile, "roles", None) or []
    if code and (
        _verified(getattr(profile, "headline_evidence", None))
        or any(r.occupation_code == code and _verified(r.evidence) for r in roles)
    ):
        parts.append(f"soc={code}")
    seniority = getattr(profile, "seniority", None)
    if seniority and _verified(getattr(profile, "seniority_evidence", None)):
        parts.append(f"tier={seniority}")
    years = getattr(profile, "years_experience", None)
    if years is not None and any(_verified(e) for e in getattr(profile, "years_evidence", None) or []):
        parts.append(f"yrs={_years_band(float(years))}")
    skills: list[str] = []
    for mention in getattr(profile, "skills", None) or []:
        label = " ".join(str(mention.skill).replace(",", " ").replace(";", " ").split())
        if label and _verified(mention.evidence) and label not in skills:
            skills.append(label)
    skills = skills[:TAG_SKILLS]
    while skills:
        text = "; ".join([*parts, "skills=" + ",".join(skills)])
        if len(text) <= TAGS_FIELD_LIMIT:
            return text
        skills.pop()
    return "; ".join(parts)[:TAGS_FIELD_LIMIT]


def _drop_vectors(ranker: Any, *, keep: Any = None) -> int:
    """Drop what a ranker holds for its run: its own vector cache (not the shared one, `keep`),
    and its index. Returns how many vectors were dropped."""
    dropped = 0
    cache = getattr(ranker, "cache", None)
    if cache is not None and cache is not keep and hasattr(cache, "clear"):
        dropped = len(cache)
        cache.clear()
    for name in ("purge", "drop", "close"):
        method = getattr(ranker, name, None)
        if callable(method):
            result = method()
            if isinstance(result, int) and not isinstance(result, bool):
                dropped += result
            break
    if hasattr(ranker, "index"):
        # Releases the run's documents and BM25 matrices now rather than whenever the GC runs.
        ranker.index([])
    return dropped


def _current_title(person: dict[str, Any]) -> str | None:
    roles = [r for r in person.get("workexperience") or [] if isinstance(r, dict) and r.get("worktitle")]
    if not roles:
        return None
    # Current role (no end date) first, then the latest start date.
    roles.sort(key=lambda r: (r.get("workenddate") is None, str(r.get("workstartdate") or "")), reverse=True)
    return str(roles[0]["worktitle"])


def _display_name(person: dict[str, Any], person_id: int) -> str:
    name = " ".join(str(person.get(k) or "").strip() for k in ("firstname", "lastname")).strip()
    return name or f"Person {person_id}"


def _person_state(person: dict[str, Any]) -> str | None:
    for address in person.get("addresses") or []:
        state = address.get("addressstate") if isinstance(address, dict) else None
        if isinstance(state, dict) and state.get("abbrev"):
            return str(state["abbrev"]).upper()
    return None


def _words(text: str) -> set[str]:
    return {w for w in "".join(c.lower() if c.isalnum() else " " for c in text).split() if len(w) > 2}


def reason_line(reason: dict[str, Any]) -> str:
    """A reason as shown to people: its text with its evidence quote, marked when unverified.
    The rubric's texts already read "+12 must-have Python: 'quote'"; others get the quote added."""
    evidence = reason.get("evidence") or {}
    quote = " ".join(str(evidence.get("quote") or "").split())
    text = reason.get("text") or reason.get("criterion", "")
    if quote and ": '" not in text and ': "' not in text:
        text = f"{text}: '{quote if len(quote) <= 120 else quote[:117] + '...'}'"
    unverified = reason.get("flagged") or (quote and not evidence.get("verified"))
    if unverified and "unverified" not in text:
        text += " [unverified: quote not found in the source]"
    return text


# --- graph ----------------------------------------------------------------------------------------


def build_graph(
    checkpointer: BaseCheckpointSaver | None = None, *, deps: RediscoveryDeps | None = None
) -> Any:
    """Compile the rediscovery graph. `deps=None` builds them from the environment's settings on
    first use, so the module-level `graph` imports and compiles with nothing configured."""
    get_deps = LazyDeps(RediscoveryDeps.from_settings, deps).get

    def node(fn: Callable[..., Any], *, with_config: bool = False) -> Callable[..., Any]:
        # Bind the dependencies late: the module-level graph must compile before any are configured.
        if with_config:

            def run_with_config(state: RediscoveryState, config: RunnableConfig) -> Any:
                return fn(get_deps(), state, config)

            return run_with_config

        def run(state: RediscoveryState) -> Any:
            return fn(get_deps(), state)

        return run

    builder = StateGraph(RediscoveryState, input_schema=RediscoveryInput, output_schema=RediscoveryOutput)
    builder.add_node("load", node(_node_load, with_config=True))
    builder.add_node("retrieve", node(_node_retrieve))
    builder.add_node("score", node(_node_score))
    builder.add_node("summarise", node(_node_summarise))
    builder.add_node(
        "approve", node(_node_approve, with_config=True), destinations=("write", "audit", "approve")
    )
    builder.add_node("write", node(_node_write))
    builder.add_node("audit", node(_node_audit))
    builder.add_node("purge", node(_node_purge))
    builder.add_edge(START, "load")
    builder.add_edge("load", "retrieve")
    builder.add_edge("retrieve", "score")
    builder.add_edge("score", "summarise")
    # Nothing to approve (no candidates) goes straight to the audit record: no empty inbox items.
    builder.add_conditional_edges(
        "summarise", lambda state: "approve" if state.get("shortlist") else "audit", ["approve", "audit"]
    )
    builder.add_edge("write", "audit")
    builder.add_edge("audit", "purge")
    builder.add_edge("purge", END)
    return builder.compile(checkpointer=checkpointer, name="rediscovery")


# --- nodes ----------------------------------------------------------------------------------------


def _node_load(d: RediscoveryDeps, state: RediscoveryState, config: RunnableConfig) -> dict[str, Any]:
    request = RediscoveryRequest.model_validate(
        {k: state[k] for k in ("job_id", "pool_ids", "target_pool_id", "filters", "top_k") if k in state}
    )
    thread_id = config_value(config, "thread_id") or rediscovery_thread_id(
        d.settings.icims_customer_id, request.job_id
    )
    job, source, note = _load_job(d, request.job_id)
    requisition = d.requisition_from_job(str(request.job_id), job)
    target = _target_pool(d, request, f"{requisition.title} {requisition.description}")
    started = d.clock()
    run = {
        "trace_id": uuid.uuid4().hex,
        "thread_id": thread_id,
        "customer_id": d.settings.icims_customer_id,
        "started_at": started.isoformat(),
        "request": request.model_dump(mode="json"),
        "input_hash": value_hash({"request": request.model_dump(mode="json"), "job": job}),
        "job_source": source,
        "job_note": note,
    }
    folder = job.get("folder") if isinstance(job.get("folder"), dict) else {}
    # Every run-scoped key is reset: the thread is per requisition, so an earlier, finished run
    # on it left its shortlist, approval and writes in the checkpoint.
    return {
        "run": run,
        "requisition": requisition.model_dump(mode="json"),
        "job": {
            "id": request.job_id,
            "jobid": job.get("jobid"),
            "title": requisition.title,
            "folder": folder.get("value"),
            "open": folder.get("id") in OPEN_JOB_FOLDERS,
            "content_hash": value_hash(job),
        },
        "target_pool": target,
        "retrieved": [],
        "retrieval": {},
        "scored": [],
        "shortlist": [],
        "approval": {},
        "approval_error": None,
        "writes": [],
        "audit_record": {},
        "purge_report": {},
    }


def _node_retrieve(d: RediscoveryDeps, state: RediscoveryState) -> dict[str, Any]:
    from agents.ranking.models import RankQuery

    request = RediscoveryRequest.model_validate(state["run"]["request"])
    t0 = time.perf_counter()
    requisition = state["requisition"]
    pool = d.candidate_pool()
    docs, counts, allowed = _select_candidates(d, pool, request)
    shared = pool.ranker is not None
    # The shared index of the whole pool, or (a ranker without `allowed`) one of this run's documents.
    ranker = pool.ranker if shared else d.ranker_factory()
    retrieved: list[dict[str, Any]] = []
    if docs:
        query = RankQuery(
            query_id=str(request.job_id),
            title=requisition.get("title") or "",
            description=requisition.get("description") or "",
        )
        top = max(request.top_k * RETRIEVE_FACTOR, RETRIEVE_MIN)
        try:
            if shared:
                hits = ranker.rank(query, top, allowed=allowed)
            else:
                ranker.index(docs)
                hits = ranker.rank(query, top)
        except BaseException:
            if not shared:
                _drop_vectors(ranker, keep=d.vector_cache)  # a failed run never reaches the purge node
            raise
        trace_id = state["run"]["trace_id"]
        try:
            index, vector_ids, index_info = _index_run_vectors(d, trace_id, ranker, docs, hits)
        except BaseException:
            if not shared:
                _drop_vectors(ranker, keep=d.vector_cache)
            raise
        # Held until the purge node, which drops them once the run is over.
        d.hold_run(trace_id, ranker, index, vector_ids)
        for position, hit in enumerate(hits, start=1):
            retrieved.append(
                {
                    "person_id": int(hit.candidate_id),
                    "retrieval_rank": position,
                    "retrieval_score": float(hit.score),
                    "components": {str(name): float(v) for name, v in (hit.components or {}).items()},
                }
            )
    stats = {
        **counts,
        **({"vector_index": index_info} if docs else {}),
        "indexed": len(docs),
        "retrieved": len(retrieved),
        "seconds": round(time.perf_counter() - t0, 3),
        "ranker": getattr(ranker, "version", type(ranker).__name__),
        "embeddings": getattr(getattr(ranker, "embeddings", None), "model_id", None),
    }
    return {"retrieved": retrieved, "retrieval": stats}


def _node_score(d: RediscoveryDeps, state: RediscoveryState) -> dict[str, Any]:
    from agents.models import Requisition

    request = RediscoveryRequest.model_validate(state["run"]["request"])
    requisition = Requisition.model_validate(state["requisition"])
    wanted = [*requisition.starred, *requisition.must_have, *requisition.nice_to_have]
    scored: list[dict[str, Any]] = []
    extractor = None
    for hit in state.get("retrieved", []):
        pid = hit["person_id"]
        person = d.mirror.get_data("people", pid)
        if person is None or d.mirror.is_erased(pid):
            continue  # erased or deleted since retrieval
        text = d.mirror.resume_text(pid)
        profile = d.enrich(str(pid), text, person)
        extractor = getattr(profile, "extractor_version", extractor)
        workflows = [
            dict(wf.data, id=wf.id) for wf in d.mirror.workflows("applicantworkflows", person_id=pid)
        ]
        history = d.history_from_workflows(workflows)
        result = d.score_candidate(requisition, profile, text, history=history)
        skills = profile.skill_set() if hasattr(profile, "skill_set") else set()
        matched = [s for s in wanted if s.lower() in skills]
        entry = result.model_dump(mode="json")
        entry["retrieval"] = {
            "rank": hit["retrieval_rank"],
            "score": hit["retrieval_score"],
            **hit["components"],
        }
        scored.append(
            {
                "result": entry,
                "person": {
                    "name": _display_name(person, pid),
                    "first_name": str(person.get("firstname") or "").strip() or "there",
                    "title": _current_title(person),
                    "resume_hash": hashlib.sha256((text or "").encode("utf-8")).hexdigest(),
                    "do_not_contact": person.get(d.settings.field_map.get("do_not_contact", "")) == "Yes",
                },
                "matched_skills": list(dict.fromkeys(matched)),
                "enrichment_tags": enrichment_tags(profile),
                "history": [h.model_dump(mode="json") if hasattr(h, "model_dump") else h for h in history],
            }
        )
    scored.sort(key=lambda s: (-s["result"]["score"], s["result"]["retrieval"]["rank"]))
    if request.filters.min_score is not None:
        scored = [s for s in scored if s["result"]["score"] >= request.filters.min_score]
    versions = {
        "graph": GRAPH_VERSION,
        "rubric": d.rubric_version,
        "ranker": state.get("retrieval", {}).get("ranker"),
        "embeddings": state.get("retrieval", {}).get("embeddings"),
        "extractor": extractor,
        "outreach_template": load_template(*OUTREACH_TEMPLATE).id,
    }
    return {"scored": scored[: request.top_k], "versions": versions}


def _node_summarise(d: RediscoveryDeps, state: RediscoveryState) -> dict[str, Any]:
    template = load_template(*OUTREACH_TEMPLATE)
    target = state.get("target_pool")
    job_title = state["job"]["title"]
    jobs_cache: dict[int, str | None] = {}
    pool_members = (
        {
            link_id(wf.data.get("associatedprofile"))
            for wf in d.mirror.workflows("sourceworkflows", base_id=target["id"])
        }
        if target
        else set()
    )
    shortlist = []
    for rank, item in enumerate(state.get("scored", []), start=1):
        result, person = item["result"], item["person"]
        pid = int(result["person_id"])
        action: Action = "submit" if result["score"] >= SUBMIT_THRESHOLD or not target else "add_to_pool"
        flags = list(result.get("flags") or [])
        if person.get("do_not_contact") and "do_not_contact" not in flags:
            flags.append("do_not_contact")
        if action == "add_to_pool" and target and pid in pool_members:
            # Still proposed: the write then only records the new score on the existing membership.
            flags.append("already_in_pool")
        summary = [s for s in result.get("summary") or [] if s][:3]
        if len(summary) < 3:
            summary += _fallback_bullets(result, item)[: 3 - len(summary)]
        strength = (
            item["matched_skills"][0] if item["matched_skills"] else (person.get("title") or "your field")
        )
        line = template.render(
            first_name=person["first_name"],
            job_title=job_title,
            strength=strength,
            connection=_connection(d, pid, item.get("history") or [], jobs_cache),
        )
        candidate = ShortlistCandidate(
            rank=rank,
            person_id=pid,
            name=person["name"],
            title=person.get("title"),
            score=int(result["score"]),
            reasons=[ReasonOut.model_validate(r) for r in result.get("reasons") or []],
            gaps=[GapOut.model_validate(g) for g in result.get("gaps") or []],
            flags=flags,
            summary=summary,
            outreach_line=line,
            enrichment_tags=item.get("enrichment_tags") or "",
            proposed_action=action,
            pool_id=target["id"] if action == "add_to_pool" and target else None,
            retrieval=result.get("retrieval") or {},
        )
        shortlist.append(candidate.model_dump(mode="json"))
    return {"shortlist": shortlist}


def _node_approve(d: RediscoveryDeps, state: RediscoveryState, config: RunnableConfig) -> Command:
    # Re-runs from the top on resume: everything before interrupt() only reads state.
    request = build_approval_request(state)
    answer = ask(request, lambda response: _decide(d, state, response), again="approve")
    if isinstance(answer, Command):
        return answer
    response, (approved, edits) = answer
    decided_at = d.clock().astimezone(UTC).isoformat()
    approver = approver_of(config)
    approval = {
        "decision": response.type,
        "approver": approver,
        "decided_at": decided_at,
        "approved": approved,
        "edits": edits,
        "response": response.args if response.type == "respond" else None,
        "interrupt_args_hash": value_hash(request["action_request"]["args"]),
    }
    goto = "write" if approved else "audit"
    return Command(goto=goto, update={"approval": approval, "approval_error": None})


def _node_write(d: RediscoveryDeps, state: RediscoveryState) -> dict[str, Any]:
    if d.client_factory is None:
        raise RuntimeError("no iCIMS client configured: approved writes cannot be applied offline")
    approval = state["approval"]
    by_id = {c["person_id"]: c for c in state["shortlist"]}
    fields = d.settings.field_map
    processed_at = _icims_datetime(approval["decided_at"])
    tags_field = fields.get("enrichment_tags")
    requests: list[WriteRequest] = []
    for item in approval["approved"]:
        candidate = by_id[item["person_id"]]
        base_id = state["job"]["id"] if item["action"] == "submit" else item["pool_id"]
        requests.append(
            WriteRequest(
                person_id=item["person_id"],
                action=item["action"],
                base_id=int(base_id),
                fields={
                    fields["ai_score"]: int(candidate["score"]),
                    fields["ai_reasons"]: reasons_text(candidate),
                    fields["ai_model_version"]: d.rubric_version,
                    fields["ai_processed_at"]: processed_at,
                },
            )
        )

    async def apply_all() -> list[dict[str, Any]]:
        outcomes: list[dict[str, Any]] = []
        async with d.client_factory() as client:
            writer = WriteBack(
                client,
                d.ledger,
                state["run"]["thread_id"],
                state["run"]["trace_id"],
                mirror=d.mirror,
                on_step=d.on_write_step,
            )
            for req in requests:
                outcome = await writer.apply(req)
                tags = by_id[req.person_id].get("enrichment_tags")
                tag_write = None
                if tags_field and tags and outcome.status in ("done", "already_done"):
                    # Person-level facts, written once the approved workflow write has landed.
                    done = await writer.apply_person_fields(
                        req.person_id, {tags_field: tags}, name="enrichment_tags", outcome=outcome
                    )
                    tag_write = done.to_json()
                outcomes.append({**outcome.to_json(), "enrichment_tags": tag_write})
        return outcomes

    return {"writes": run_async(apply_all)}


def _node_audit(d: RediscoveryDeps, state: RediscoveryState) -> dict[str, Any]:
    run = state["run"]
    approval = state.get("approval") or {}
    body = {
        "graph": GRAPH_VERSION,
        "job_id": state["job"]["id"],
        "input_hash": run["input_hash"],
        "requisition_hash": state["job"]["content_hash"],
        "job_source": run.get("job_source"),
        "versions": state.get("versions") or {},
        "retrieval": state.get("retrieval") or {},
        # What each score was computed from (the texts themselves stay in the mirror).
        "inputs": [
            {"person_id": int(s["result"]["person_id"]), "resume_hash": s["person"]["resume_hash"]}
            for s in state.get("scored") or []
        ],
        "outputs": {
            "shortlist_hash": value_hash(state.get("shortlist") or []),
            "shortlist": [
                {
                    "person_id": c["person_id"],
                    "score": c["score"],
                    "proposed_action": c["proposed_action"],
                    "pool_id": c["pool_id"],
                    "reasons_hash": value_hash(c["reasons"]),
                    "unverified_reasons": sum(1 for r in c["reasons"] if r.get("flagged")),
                }
                for c in state.get("shortlist") or []
            ],
        },
        "request_hash": approval.get("interrupt_args_hash"),
        "approver": approval.get("approver"),
        "decision": approval.get("decision"),
        "decided_at": approval.get("decided_at"),
        "policy": None,  # no auto-approval policy applies to rediscovery
        "edits": approval.get("edits") or {},
        # The reviewer's free text may name people: keep its hash, not the text.
        "response_hash": value_hash(approval["response"]) if approval.get("response") is not None else None,
        "approved": approval.get("approved") or [],
        "writes": [
            {
                k: w[k]
                for k in (
                    "person_id",
                    "action",
                    "base_id",
                    "workflow_kind",
                    "workflow_id",
                    "created",
                    "patched",
                    "status",
                )
            }
            | {
                "enrichment_tags": {k: w["enrichment_tags"][k] for k in ("status", "patched")}
                if w.get("enrichment_tags")
                else None
            }
            for w in state.get("writes") or []
        ],
    }
    record = d.audit.append(
        kind="rediscovery",
        key=f"{run['trace_id']}:final",
        trace_id=run["trace_id"],
        thread_id=run["thread_id"],
        body=body,
    )
    return {"audit_record": {"seq": record.seq, "hash": record.hash, "key": record.key}}


def _node_purge(d: RediscoveryDeps, state: RediscoveryState) -> dict[str, Any]:
    vector_index = (state.get("retrieval") or {}).get("vector_index")
    return {"purge_report": d.release_run(state["run"]["trace_id"], vector_index)}


# --- node helpers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CandidatePool:
    """Every mirrored person with resume text (erased and purged people left out), as of `key`,
    with the fields the per-run filters read, and (when the ranker supports `allowed`) one ranker
    indexed over all of them."""

    key: Any
    docs: list[Any]  # CandidateDoc, in person id order
    people: list[tuple[int, str | None, str | None, Any]]  # (id, folder, state, do-not-contact)
    ranker: Any  # None: the ranker cannot rank with `allowed`; each run indexes its own documents
    purged: frozenset[int]

    @property
    def indexed(self) -> bool:
        return self.ranker is not None and bool(self.docs)


def _supports_allowed(ranker: Any) -> bool:
    import inspect

    try:
        params = inspect.signature(ranker.rank).parameters.values()
    except (AttributeError, TypeError, ValueError):
        return False
    # A wrapper passing **kwargs through (e.g. a timing proxy) is taken to support it too.
    return any(p.name == "allowed" or p.kind is p.VAR_KEYWORD for p in params)


def _build_pool(d: RediscoveryDeps, key: Any) -> _CandidatePool:
    from agents.ranking.models import CandidateDoc

    dnc_field = d.settings.field_map.get("do_not_contact")
    erased = {e.person_id for e in d.mirror.erasures()}
    docs, people, purged = [], [], set()
    for person in d.mirror.people_with_resumes():
        data = person.data
        folder = node_id(data.get("folder"))
        if person.id in erased or folder == PURGED_FOLDER:
            purged.add(person.id)  # never indexed
            continue
        docs.append(
            CandidateDoc(candidate_id=str(person.id), text=person.resume_text, title=_current_title(data))
        )
        people.append((person.id, folder, _person_state(data), data.get(dnc_field) if dnc_field else None))
    ranker = d.ranker_factory()
    if _supports_allowed(ranker):
        ranker._rediscovery_shared = True
        if docs:
            ranker.index(docs)
    else:
        ranker = None
    return _CandidatePool(key=key, docs=docs, people=people, ranker=ranker, purged=frozenset(purged))


def _select_candidates(
    d: RediscoveryDeps, pool: _CandidatePool, request: RediscoveryRequest
) -> tuple[list[Any], dict[str, int], set[str]]:
    """(documents, counts, allowed ids) of the pool who may be rediscovered for this job: not
    erased, not already applied to it, in the requested pools, passing the filters."""
    applied = {
        link_id(wf.data.get("associatedprofile"))
        for wf in d.mirror.workflows("applicantworkflows", base_id=request.job_id)
    }
    erased = {e.person_id for e in d.mirror.erasures()}
    members: set[int] | None = None
    if request.pool_ids:
        members = set()
        for pool_id in request.pool_ids:
            members |= {
                pid
                for wf in d.mirror.workflows("sourceworkflows", base_id=pool_id)
                if (pid := link_id(wf.data.get("associatedprofile"))) is not None
            }
    wanted_states = {s.upper() for s in request.filters.states}
    filters = request.filters
    docs = []
    counts = {
        "with_resume": len(pool.docs) + len(pool.purged),
        "applied": 0,
        "erased": len(pool.purged),
        "not_in_pools": 0,
        "filtered": 0,
    }
    for doc, (pid, folder, state, dnc) in zip(pool.docs, pool.people, strict=True):
        if pid in erased:
            counts["erased"] += 1
            continue
        if pid in applied:
            counts["applied"] += 1
            continue
        if members is not None and pid not in members:
            counts["not_in_pools"] += 1
            continue
        if (
            (wanted_states and state not in wanted_states)
            or (not filters.include_employees and folder == EMPLOYEE_FOLDER)
            or (filters.exclude_do_not_contact and dnc == "Yes")
        ):
            counts["filtered"] += 1
            continue
        docs.append(doc)
    return docs, counts, {doc.candidate_id for doc in docs}


def _candidate_docs(d: RediscoveryDeps, request: RediscoveryRequest) -> tuple[list[Any], dict[str, int]]:
    """Mirrored people with resume text who may be rediscovered for this job (see `_select_candidates`)."""
    docs, counts, _ = _select_candidates(d, d.candidate_pool(), request)
    return docs, counts


def _load_job(d: RediscoveryDeps, job_id: int) -> tuple[dict[str, Any], str, str | None]:
    """The job from the mirror, refreshed from iCIMS (one REALTIME request) when a client exists."""
    from tools.icims.budget import Priority
    from tools.icims.errors import ICIMSError, ICIMSNotFound
    from tools.mirror.store import normalize_record
    from tools.mirror.sync import PROJECTION

    mirrored = d.mirror.get_data("jobs", job_id)
    if d.client_factory is not None:

        async def fetch() -> dict[str, Any]:
            async with d.client_factory() as client:
                return await client.get_profile(
                    "jobs", job_id, fields=PROJECTION.get("jobs"), priority=Priority.REALTIME
                )

        try:
            return normalize_record(run_async(fetch)), "icims", None
        except ICIMSNotFound as exc:
            raise LookupError(f"job {job_id} does not exist in iCIMS (or is not visible)") from exc
        except ICIMSError as exc:
            if mirrored is None:
                raise
            # Quota or an outage should not stop a recruiter from seeing the mirror's answer.
            return mirrored, "mirror", f"refresh failed: {type(exc).__name__}"
    if mirrored is None:
        raise LookupError(f"job {job_id} is not in the mirror; run `icims-agents sync` first")
    return mirrored, "mirror", None


def _target_pool(d: RediscoveryDeps, request: RediscoveryRequest, job_text: str) -> dict[str, Any] | None:
    """The pool "add_to_pool" proposes: the requested one, else the first requested search pool,
    else the active mirrored pool whose title and overview share most words with the job."""
    pools = {r.id: r.data for r in d.mirror.iter_records("talentpools")}
    wanted = request.target_pool_id or (request.pool_ids[0] if request.pool_ids else None)
    if wanted is not None:
        data = pools.get(wanted)
        if data is None:
            raise LookupError(f"talent pool {wanted} is not in the mirror")
        return {"id": wanted, "title": data.get("title"), "chosen": "requested"}
    job_words = _words(job_text)
    best: tuple[int, int] | None = None
    for pool_id, data in pools.items():
        folder = data.get("folder") if isinstance(data.get("folder"), dict) else {}
        if folder.get("value") not in (None, "Active"):
            continue
        overlap = len(job_words & _words(f"{data.get('title', '')} {data.get('overview', '')}"))
        if overlap and (best is None or overlap > best[0]):
            best = (overlap, pool_id)
    if best is None:
        return None
    data = pools[best[1]]
    return {"id": best[1], "title": data.get("title"), "chosen": "best word overlap with the job"}


def _connection(d: RediscoveryDeps, person_id: int, history: list[dict[str, Any]], cache: dict) -> str:
    if history:
        latest = max(history, key=lambda h: str(h.get("updated") or ""))
        job_id = link_id(latest.get("job_id"))
        if job_id is not None and job_id not in cache:
            cache[job_id] = (d.mirror.get_data("jobs", job_id) or {}).get("jobtitle")
        title = cache.get(job_id) if job_id is not None else None
        return f"you applied for our {title} role before" if title else "you applied with us before"
    for membership in d.mirror.workflows("sourceworkflows", person_id=person_id):
        pool = d.mirror.get_data("talentpools", link_id(membership.data.get("baseprofile")) or 0)
        if pool and pool.get("title"):
            return f"you joined our {pool['title']}"
    return "we kept your profile from an earlier conversation"


def _fallback_bullets(result: dict[str, Any], item: dict[str, Any]) -> list[str]:
    reasons = sorted(result.get("reasons") or [], key=lambda r: -float(r.get("points") or 0))
    bullets = [f"Score {result['score']}/100" + (f": {reasons[0]['text']}" if reasons else "")]
    if item["matched_skills"]:
        bullets.append("Matches " + ", ".join(item["matched_skills"][:4]))
    gaps = result.get("gaps") or []
    bullets.append("Gaps: " + "; ".join(g["text"] for g in gaps[:2]) if gaps else "No major gaps found")
    return bullets


def reasons_text(candidate: dict[str, Any]) -> str:
    """The `ai_reasons` field: itemised reasons with their quotes, then gaps, within the field size."""
    lines = [reason_line(r) for r in candidate.get("reasons") or []]
    gaps = [g["text"] for g in candidate.get("gaps") or []]
    if gaps:
        lines.append("Gaps: " + "; ".join(gaps))
    text = "\n".join(lines)
    return text if len(text) <= REASONS_FIELD_LIMIT else text[: REASONS_FIELD_LIMIT - 1] + "…"


def _icims_datetime(iso: str) -> str:
    from tools.icims.formats import format_datetime

    return format_datetime(datetime.fromisoformat(iso))


def build_approval_request(state: RediscoveryState) -> dict[str, Any]:
    """The Agent Inbox request for the shortlist (pure: the same state always gives the same request)."""
    run, job = state["run"], state["job"]
    target = state.get("target_pool")
    args = {
        "job_id": job["id"],
        "job_title": job["title"],
        "thread_id": run["thread_id"],
        "trace_id": run["trace_id"],
        "rubric_version": (state.get("versions") or {}).get("rubric"),
        "outreach_template": (state.get("versions") or {}).get("outreach_template"),
        "target_pool": target,
        "candidates": state.get("shortlist") or [],
    }
    return dict(make_request(REQUEST_ACTION, args, _description(state)))


def _description(state: RediscoveryState) -> str:
    job, target = state["job"], state.get("target_pool")
    shortlist = state.get("shortlist") or []
    lines = []
    if state.get("approval_error"):
        lines += [f"> **{state['approval_error']}**", ""]
    status = "open" if job.get("open") else f"not open ({job.get('folder')})"
    lines += [
        f"### Rediscovery for {job['title']} (job {job['id']}, {status})",
        "",
        f"{len(shortlist)} past applicants and talent-pool members ranked from the mirror. "
        "Nothing is written to iCIMS until you approve; nobody is rejected.",
        "",
        "| # | candidate | score | proposed action | top reasons |",
        "|---|---|---|---|---|",
    ]
    for c in shortlist:
        action = "submit to this job" if c["proposed_action"] == "submit" else f"add to pool {c['pool_id']}"
        top = sorted(c["reasons"], key=lambda r: -r["points"])[:2]
        reasons = "; ".join(reason_line(r) for r in top).replace("|", "/")
        lines.append(
            f"| {c['rank']} | {c['name']} ({c['person_id']}) | {c['score']} | {action} | {reasons} |"
        )
    lines += [
        "",
        "**Accept** applies every proposed action. **Edit** `candidates`: remove entries to drop them, "
        "or set `proposed_action` to `submit` or `add_to_pool` (with `pool_id`). **Respond** sends "
        "feedback without writing; **Ignore** closes the run without writing.",
    ]
    if target:
        lines.append(f"Default talent pool: {target.get('title')} ({target['id']}).")
    return "\n".join(lines)


def _decide(
    d: RediscoveryDeps, state: RediscoveryState, response: Any
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(approved writes, edits for the audit) from a parsed response; raises ApprovalError."""
    shortlist = {c["person_id"]: c for c in state.get("shortlist") or []}
    proposed = [
        {"person_id": c["person_id"], "action": c["proposed_action"], "pool_id": c["pool_id"]}
        for c in state.get("shortlist") or []
    ]
    if response.type in ("respond", "ignore"):
        return [], {}
    if response.type == "accept":
        return proposed, {}
    edited = EditedShortlist.model_validate(response.args)
    seen: set[int] = set()
    approved: list[dict[str, Any]] = []
    target = state.get("target_pool")
    pools = None
    for item in edited.candidates:
        if item.person_id not in shortlist:
            raise ApprovalError(
                f"person {item.person_id} is not on the shortlist (an edit can only drop or change)"
            )
        if item.person_id in seen:
            raise ApprovalError(f"person {item.person_id} appears twice")
        seen.add(item.person_id)
        pool_id = item.pool_id
        if item.proposed_action == "add_to_pool":
            pool_id = pool_id or shortlist[item.person_id]["pool_id"] or (target or {}).get("id")
            if pool_id is None:
                raise ApprovalError(f"person {item.person_id}: add_to_pool needs a pool_id")
            if pools is None:
                pools = set(d.mirror.ids("talentpools"))
            if pool_id not in pools:
                raise ApprovalError(f"talent pool {pool_id} is not known")
        else:
            pool_id = None
        approved.append({"person_id": item.person_id, "action": item.proposed_action, "pool_id": pool_id})
    before = {p["person_id"]: p for p in proposed}
    edits = {
        "dropped": [pid for pid in before if pid not in seen],
        "changed": [
            {
                "person_id": a["person_id"],
                "from": before[a["person_id"]]["action"],
                "to": a["action"],
                "pool_id": a["pool_id"],
            }
            for a in approved
            if (before[a["person_id"]]["action"], before[a["person_id"]]["pool_id"])
            != (a["action"], a["pool_id"])
        ],
    }
    return approved, edits


# --- running ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunResult:
    thread_id: str
    values: dict[str, Any]
    pending: list[PendingApproval]
    resumed_existing: bool = False
    continued: bool = False  # an approved run that had stopped mid-way was finished

    @property
    def shortlist(self) -> list[dict[str, Any]]:
        if self.pending:
            return self.pending[0].request["action_request"]["args"]["candidates"]
        return self.values.get("shortlist") or []


def _config(thread_id: str, approver: str | None = None) -> RunnableConfig:
    configurable: dict[str, Any] = {"thread_id": thread_id}
    if approver:
        configurable["approver"] = approver
    return {"configurable": configurable}


def start_run(
    graph: Any,
    *,
    job_id: int,
    customer_id: int | str,
    top_k: int = 10,
    pool_ids: Iterable[int] = (),
    target_pool_id: int | None = None,
    filters: dict[str, Any] | None = None,
    restart: bool = False,
) -> RunResult:
    """Run to the approval interrupt. Unless `restart`, a run already on this requisition's thread
    is not started again: one waiting for approval is returned as is, and one that stopped after its
    approval (a crash while writing) is finished first, since those writes were approved and are
    idempotent."""
    from graphs.kit.inbox import pending_for_thread

    thread_id = rediscovery_thread_id(customer_id, job_id)
    if not restart:
        waiting = pending_for_thread(graph, thread_id)
        state = graph.get_state(_config(thread_id))
        if waiting:
            return RunResult(thread_id, dict(state.values), waiting, resumed_existing=True)
        if unfinished(state) and (state.values.get("approval") or {}).get("decision"):
            continue_run(graph, thread_id)
            values = graph.get_state(_config(thread_id)).values
            return RunResult(thread_id, dict(values), [], resumed_existing=True, continued=True)
    payload: dict[str, Any] = {"job_id": job_id, "top_k": top_k, "pool_ids": list(pool_ids)}
    if target_pool_id is not None:
        payload["target_pool_id"] = target_pool_id
    if filters:
        payload["filters"] = filters
    graph.invoke(payload, _config(thread_id), version="v2")
    # The full state (not only the output schema): callers show retrieval stats and the job.
    values = graph.get_state(_config(thread_id)).values
    return RunResult(thread_id, dict(values), pending_for_thread(graph, thread_id))


def resume_run(graph: Any, thread_id: str, response: Any, *, approver: str | None = None) -> dict[str, Any]:
    """Answer the pending approval (an Agent Inbox response or a list of one). Resuming a finished
    thread does nothing (LangGraph has no pending interrupt to deliver it to)."""
    approver = approver or cli_approver()
    out = graph.invoke(Command(resume=response), _config(thread_id, approver), version="v2")
    return dict(out.value)


def continue_run(graph: Any, thread_id: str) -> dict[str, Any]:
    """Re-run from the last checkpoint after a crash (e.g. the write node failed mid-way)."""
    out = graph.invoke(None, _config(thread_id), version="v2")
    return dict(out.value)


def list_pending(graph: Any, checkpointer: BaseCheckpointSaver) -> list[PendingApproval]:
    return pending_approvals(graph, checkpointer, prefix="rediscovery:")


# The graph for `langgraph.json` / LangGraph Server (which supplies its own checkpointer). Dependencies
# are built from settings at the first node run, so importing this module needs nothing configured.
graph = build_graph()
