"""In-process vector index and the embedding cache."""

from __future__ import annotations

import math

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from tools.embeddings import HashEmbeddings
from tools.vectors import (
    EmbeddingCache,
    InMemoryVectorIndex,
    PineconeVectorIndex,
    VectorIndex,
    VectorItem,
    content_hash,
)


class Clock:
    """A settable clock: TTL behaviour is tested by moving time, never by waiting."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def brute_force(matrix: np.ndarray, ids: list[str], query: np.ndarray, k: int) -> list[tuple[str, float]]:
    m = matrix.astype(np.float64)
    m = m / np.linalg.norm(m, axis=1, keepdims=True)
    q = query.astype(np.float64) / np.linalg.norm(query)
    scores = m @ q
    order = np.argsort(-scores)[:k]
    return [(ids[i], float(scores[i])) for i in order]


def random_items(n: int, dim: int, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, dim)), [f"p{i}" for i in range(n)]


# --- in-memory index -------------------------------------------------------------------------------


def test_both_backends_satisfy_the_protocol():
    assert isinstance(InMemoryVectorIndex(8), VectorIndex)
    assert isinstance(PineconeVectorIndex(index=object(), namespace="x"), VectorIndex)


def test_query_matches_brute_force():
    matrix, ids = random_items(700, 48)
    index = InMemoryVectorIndex(initial_capacity=16)  # forces several capacity doublings
    index.upsert([VectorItem(id=i, vector=v.tolist()) for i, v in zip(ids, matrix, strict=True)])
    assert len(index) == 700 and index.dimension == 48
    rng = np.random.default_rng(1)
    for _ in range(20):
        q = rng.normal(size=48)
        got = index.query(q.tolist(), top_k=10)
        want = brute_force(matrix, ids, q, 10)
        assert [m.id for m in got] == [i for i, _ in want]
        for match, (_, score) in zip(got, want, strict=True):
            assert type(match.score) is float
            assert math.isclose(match.score, score, abs_tol=1e-5)
    assert len(index.query(rng.normal(size=48).tolist(), top_k=1000)) == 700


def test_deletes_keep_the_matrix_consistent():
    matrix, ids = random_items(200, 16, seed=2)
    index = InMemoryVectorIndex(16)
    index.upsert([VectorItem(id=i, vector=v) for i, v in zip(ids, matrix, strict=True)])
    removed = set(ids[::3]) | {"p199", "not-there"}
    index.delete(sorted(removed))
    keep = [i for i, name in enumerate(ids) if name not in removed]
    assert len(index) == len(keep)
    q = np.random.default_rng(3).normal(size=16)
    got = [m.id for m in index.query(q, top_k=15)]
    assert got == [i for i, _ in brute_force(matrix[keep], [ids[i] for i in keep], q, 15)]


def test_upsert_overwrites_and_last_duplicate_wins():
    index = InMemoryVectorIndex(3)
    index.upsert([VectorItem("a", [1, 0, 0], {"v": 1}), VectorItem("b", [0, 1, 0])])
    index.upsert([VectorItem("a", [0, 0, 1], {"v": 2}), VectorItem("a", [0, 1, 0], {"v": 3})])
    assert len(index) == 2
    top = index.query([0, 1, 0], top_k=2)
    assert {m.id for m in top} == {"a", "b"} and all(math.isclose(m.score, 1.0) for m in top)
    assert index.query([0, 1, 0], top_k=1, filter={"v": 3})[0].id == "a"


def test_ttl_expiry_and_purge():
    clock = Clock()
    index = InMemoryVectorIndex(2, clock=clock, default_ttl_seconds=600)
    index.upsert(
        [
            VectorItem("short", [1, 0], expires_at=clock.now + 10),
            VectorItem("default", [1, 0.1]),  # now + 600
            VectorItem("forever", [1, 0.2], expires_at=math.inf),
        ]
    )
    assert [m.id for m in index.query([1, 0], top_k=5)] == ["short", "default", "forever"]
    clock.now += 10  # expiry is inclusive: at expires_at the item is gone
    assert [m.id for m in index.query([1, 0], top_k=5)] == ["default", "forever"]
    assert len(index) == 3  # still held until purged
    assert index.purge_expired() == 1 and len(index) == 2 and "short" not in index
    assert index.purge_expired(now=clock.now + 600) == 1
    assert [m.id for m in index.query([1, 0], top_k=5)] == ["forever"]


def test_metadata_filters():
    index = InMemoryVectorIndex(2)
    index.upsert(
        [
            VectorItem("a", [1, 0], {"pool": "eng", "skills": ["python", "sql"], "years": 5}),
            VectorItem("b", [1, 0.1], {"pool": "eng", "skills": ["java"], "years": 2}),
            VectorItem("c", [1, 0.2], {"pool": "ops", "years": 9}),
        ]
    )

    def ids(flt):
        return [m.id for m in index.query([1, 0], top_k=10, filter=flt)]

    assert ids({"pool": "eng"}) == ["a", "b"]
    assert ids({"skills": "python"}) == ["a"]  # list metadata: membership
    assert ids({"pool": {"$in": ["ops", "hr"]}}) == ["c"]
    assert ids({"years": {"$gte": 5}}) == ["a", "c"]
    assert ids({"skills": {"$ne": "java"}}) == ["a", "c"]  # missing field passes $ne
    assert ids({"$or": [{"pool": "ops"}, {"skills": "java"}]}) == ["b", "c"]
    assert ids({"pool": "eng", "years": {"$lt": 3}}) == ["b"]
    assert ids({"pool": "hr"}) == []
    assert index.query([1, 0], top_k=1, filter={"pool": "eng"})[0].metadata["skills"] == ["python", "sql"]
    with pytest.raises(ValueError, match="unsupported"):
        index.query([1, 0], filter={"pool": {"$regex": "e.*"}})


def test_drop_and_reuse():
    index = InMemoryVectorIndex()
    index.upsert([VectorItem("a", [1.0, 2.0, 3.0])])
    index.drop()
    assert len(index) == 0 and index.query([1.0, 2.0, 3.0]) == []
    assert index  # an empty index is still an index (`index or default` keeps it)
    index.upsert([VectorItem("b", [1.0, 0.0])])  # dimension is learned again after a drop
    assert index.query([1.0, 0.0])[0].id == "b"


def test_validation_errors():
    index = InMemoryVectorIndex(3)
    with pytest.raises(ValueError):
        index.upsert([VectorItem("a", [1.0, 2.0])])
    with pytest.raises(ValueError, match="reserved"):
        index.upsert([VectorItem("a", [1.0, 2.0, 3.0], {"_expires_at": 1})])
    index.upsert([VectorItem("z", [0.0, 0.0, 0.0])])  # a zero vector scores 0, never NaN
    assert index.query([1.0, 0.0, 0.0])[0].score == 0.0
    with pytest.raises(ValueError):
        index.query([1.0, 0.0])


# --- embedding cache -------------------------------------------------------------------------------


class CountingEmbeddings(Embeddings):
    def __init__(self, model_id: str = "hash-16") -> None:
        self.inner = HashEmbeddings(16)
        self.model_id = model_id
        self.embedded: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded.extend(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def test_cache_embeds_only_misses_and_counts():
    emb = CountingEmbeddings()
    cache = EmbeddingCache(ttl_seconds=3600, clock=Clock())
    first = cache.get_or_embed(["alpha", "beta", "alpha"], emb)
    assert emb.embedded == ["alpha", "beta"]  # a repeat within a call is embedded once
    assert (cache.hits, cache.misses) == (0, 2)
    second = cache.get_or_embed(["beta", "gamma", "alpha"], emb)
    assert emb.embedded == ["alpha", "beta", "gamma"]
    assert (cache.hits, cache.misses) == (2, 3)
    assert second[0] == first[1] and second[2] == first[0]
    assert all(type(x) is float for x in second[1])
    assert np.allclose(second[1], HashEmbeddings(16).embed_query("gamma"), atol=1e-6)
    assert cache.get_or_embed([], emb) == []


def test_cache_ttl_from_embed_time_not_extended_by_hits():
    clock = Clock()
    emb = CountingEmbeddings()
    cache = EmbeddingCache(ttl_seconds=100, clock=clock)
    cache.get_or_embed(["profile text"], emb)
    clock.now += 99
    cache.get_or_embed(["profile text"], emb)  # hit
    clock.now += 1
    cache.get_or_embed(["profile text"], emb)  # expired at embed time + 100: re-embedded
    assert emb.embedded == ["profile text", "profile text"]
    assert (cache.hits, cache.misses) == (1, 2)
    cache.get_or_embed(["other"], emb, now=clock.now + 1000)
    assert cache.purge_expired(now=clock.now + 1000) == 1 and len(cache) == 1


def test_cache_keys_include_the_model():
    cache = EmbeddingCache(clock=Clock())
    a, b = CountingEmbeddings("model-a"), CountingEmbeddings("model-b")
    cache.get_or_embed(["same text"], a)
    cache.get_or_embed(["same text"], b)
    assert a.embedded == ["same text"] and b.embedded == ["same text"]
    # Plain sha256 of the UTF-8 text, so other components (mirror, audit) can compute the same key.
    assert content_hash("same text") == "2e68a7bba11b90d1bae1daea2dd4951779cf45d5897c62539d01f44054bcb1e0"


def test_cache_forget_erases_a_person_from_cache_and_indexes():
    clock = Clock()
    emb = CountingEmbeddings()
    cache = EmbeddingCache(clock=clock)
    index = InMemoryVectorIndex(clock=clock)
    texts = ["resume of person one", "resume of person two"]
    vectors = cache.get_or_embed(texts, emb, owners=["person-1", "person-2"])
    index.upsert([VectorItem(f"person-{i + 1}", v) for i, v in enumerate(vectors)])
    cache.note_vectors("person-1", ["person-1"])

    report = cache.forget("person-1", indexes=[index])
    assert (report.cache_entries, report.vector_ids) == (1, 1)
    assert "person-1" not in index and "person-2" in index
    cache.get_or_embed(texts, emb)
    assert emb.embedded == [*texts, "resume of person one"]  # only the erased person is re-embedded
    assert cache.forget("person-1") == cache.forget("nobody")  # idempotent, nothing left


def test_cache_capacity_evicts_oldest():
    emb = CountingEmbeddings()
    cache = EmbeddingCache(clock=Clock(), max_entries=2)
    cache.get_or_embed(["one", "two", "three"], emb)
    assert len(cache) == 2
    cache.get_or_embed(["two", "three"], emb)
    assert cache.misses == 3 and cache.hits == 2
    with pytest.raises(ValueError):
        cache.get_or_embed(["a", "b"], emb, owners=["x"])
