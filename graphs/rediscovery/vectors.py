"""A run's dense vectors: where they are held and how they go.

`settings.vector_backend` picks the run's vector index: in-process (`memory`), or a Pinecone
namespace of the run's own (`run_namespace`, derived from the trace id so any process can drop it).
The retrieve node upserts the vectors its ranker computed (with the TTL) and the deps hold them
until the purge node releases the run. An erasure (`forget_person`, a mirror erasure hook) drops
the person's cached embeddings and their vectors in every live run index at once.

The functions take the deps (`graphs.rediscovery.deps.RediscoveryDeps`), whose methods call them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graphs.rediscovery.deps import RediscoveryDeps
    from tools.settings import Settings


def run_namespace(trace_id: str) -> str:
    """The run's vector namespace (Pinecone): derived from the trace id, so any process can drop it."""
    return f"rediscovery-{trace_id}"


def index_factory(settings: Settings, *, default_ttl_seconds: float) -> Callable[..., Any] | None:
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


def make_run_index(d: RediscoveryDeps, trace_id: str) -> Any:
    """A vector index for one run: in-process, or the run's own Pinecone namespace."""
    if d.index_factory is not None:
        return d.index_factory(namespace=run_namespace(trace_id))
    from tools.vectors import InMemoryVectorIndex

    ttl = getattr(d.vector_cache, "ttl_seconds", None)
    return InMemoryVectorIndex(default_ttl_seconds=ttl)


def index_run_vectors(
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


def drop_vectors(ranker: Any, *, keep: Any = None) -> int:
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


def forget_person(d: RediscoveryDeps, person_id: int | str) -> dict[str, int]:
    owner = str(person_id)
    report = {"cache_entries": 0, "index_vectors": 0}
    with d._pool_lock:
        pool, d._pool = d._pool, None  # it holds the person's resume text: rebuild later
    with d._lock:
        rankers = list(d._runs.values())
        if pool is not None and pool.ranker not in rankers:
            rankers.append(pool.ranker)
        indexes = [(index, ids.pop(owner, [])) for index, ids in d._run_indexes.values()]
    if d.vector_cache is not None:
        report["cache_entries"] += d.vector_cache.forget(owner).cache_entries
    for ranker in rankers:  # rankers with a private cache
        cache = getattr(ranker, "cache", None)
        if cache is not None and cache is not d.vector_cache and hasattr(cache, "forget"):
            report["cache_entries"] += cache.forget(owner).cache_entries
    for index, ids in indexes:
        if ids:
            index.delete(ids)
            report["index_vectors"] += len(ids)
    return report


def release_run(d: RediscoveryDeps, trace_id: str, vector_index: dict[str, Any] | None) -> dict[str, Any]:
    with d._lock:
        ranker = d._runs.pop(trace_id, None)
        held = d._run_indexes.pop(trace_id, None)
    report: dict[str, Any] = {"run_index_dropped": ranker is not None, "run_vectors": 0}
    shared = ranker is not None and getattr(ranker, "_rediscovery_shared", False)
    if ranker is not None and not shared:  # the shared pool index outlives the run
        report["run_vectors"] = drop_vectors(ranker, keep=d.vector_cache)
    info = vector_index or {}
    index = held[0] if held is not None else None
    if index is None and info.get("backend") == "pinecone" and info.get("namespace"):
        if d.index_factory is None:
            report["vector_index_error"] = "no Pinecone index configured to drop the run namespace"
        else:
            index = d.index_factory(namespace=info["namespace"])
    if index is not None:
        index.drop()
        close = getattr(index, "close", None)
        if callable(close):
            close()
        report["vector_index"] = {
            "backend": info.get("backend") or d.index_backend,
            "namespace": getattr(index, "namespace", None),
            "dropped": True,
        }
    if d.vector_cache is not None:
        if d.purge_cache_on_run_end:
            report["cache_cleared"] = len(d.vector_cache)
            d.vector_cache.clear()
        report["expired_purged"] = d.vector_cache.purge_expired()
        report["cached_vectors"] = len(d.vector_cache)
    return report
