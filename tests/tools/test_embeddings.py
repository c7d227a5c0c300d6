"""Embeddings: the packaged MiniLM loads offline and behaves like a sentence encoder; hash and factory."""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from langchain_core.embeddings import Embeddings

from tools.embeddings import (
    DIMENSION,
    HashEmbeddings,
    MiniLMEmbeddings,
    ModelIntegrityError,
    make_embeddings,
    shared_minilm,
)
from tools.embeddings import minilm as minilm_module


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / math.sqrt(
        sum(x * x for x in a) * sum(y * y for y in b)
    )


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbeddings:
    return shared_minilm()


def assert_float_vectors(vectors: list[list[float]], dim: int) -> None:
    assert isinstance(vectors, list)
    for v in vectors:
        assert isinstance(v, list) and len(v) == dim
        assert all(type(x) is float for x in v)  # not numpy.float32/float64


# --- MiniLM ----------------------------------------------------------------------------------------


def test_minilm_is_a_langchain_embeddings_with_python_floats(minilm):
    assert isinstance(minilm, Embeddings)
    assert minilm.dimension == DIMENSION == 384
    docs = minilm.embed_documents(["Registered nurse, intensive care unit", "Forklift operator"])
    assert_float_vectors(docs, 384)
    assert_float_vectors([minilm.embed_query("nurse")], 384)
    assert minilm.embed_documents([]) == []


def test_minilm_unit_length_and_self_similarity(minilm):
    v = minilm.embed_query("Senior Python developer building ETL pipelines")
    assert math.isclose(math.sqrt(sum(x * x for x in v)), 1.0, abs_tol=1e-5)
    assert math.isclose(cosine(v, v), 1.0, abs_tol=1e-6)


def test_minilm_similar_sentences_score_higher(minilm):
    query, similar, unrelated = minilm.embed_documents(
        [
            "Backend software engineer writing Python services",
            "Python developer building web APIs and data pipelines",
            "Registered nurse caring for patients in a hospital ward",
        ]
    )
    assert cosine(query, similar) > cosine(query, unrelated) + 0.2
    nurse = minilm.embed_query("ICU nurse with critical care experience")
    assert cosine(nurse, unrelated) > cosine(nurse, similar)


def test_minilm_batch_equals_single(minilm):
    # Texts of very different lengths land in different padded widths; padding must not leak in.
    texts = [
        "Python",
        "Warehouse associate, forklift certified, night shifts " * 3,
        "Accountant preparing monthly close and audit schedules for a retail group",
        "",
        "Long " * 400,  # beyond 256 tokens: truncated, not an error
    ]
    batched = minilm.embed_documents(texts)
    for text, vector in zip(texts, batched, strict=True):
        single = minilm.embed_query(text)
        assert max(abs(a - b) for a, b in zip(single, vector, strict=True)) < 1e-4


def test_minilm_order_preserved_across_batches():
    model = MiniLMEmbeddings(batch_size=2)
    texts = [f"{word} specialist" for word in ("payroll", "welding", "kotlin", "oncology", "tax")]
    vectors = model.embed_documents(texts)
    reference = shared_minilm().embed_documents(texts)
    for a, b in zip(vectors, reference, strict=True):
        assert cosine(a, b) > 0.9999


def test_minilm_thread_safe_lazy_load():
    model = MiniLMEmbeddings()
    barrier = threading.Barrier(4)

    def work(i: int) -> list[float]:
        barrier.wait()  # all threads race into the first (loading) call together
        return model.embed_query("data engineer")

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(work, range(4)))
    assert all(r == results[0] for r in results)


def test_minilm_refuses_a_file_that_is_not_the_pinned_model(tmp_path: Path, monkeypatch):
    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not a model")
    monkeypatch.setattr(minilm_module, "default_model_path", lambda: fake)
    with pytest.raises(ModelIntegrityError, match="bytes, expected"):
        MiniLMEmbeddings().embed_query("x")
    monkeypatch.setattr(minilm_module, "MODEL_SIZE_BYTES", len(b"not a model"))
    with pytest.raises(ModelIntegrityError, match="sha256"):
        MiniLMEmbeddings().embed_query("x")


def test_minilm_argument_checks():
    with pytest.raises(ValueError):
        MiniLMEmbeddings(batch_size=0)
    with pytest.raises(ValueError):
        MiniLMEmbeddings(max_tokens=1024)


# --- Hash ------------------------------------------------------------------------------------------


def test_hash_embeddings_deterministic_unit_python_floats():
    emb = HashEmbeddings(64)
    a, b, c, empty = emb.embed_documents(["python data engineer", "python data engineer", "nurse", ""])
    assert_float_vectors([a, c, empty], 64)
    assert a == b == emb.embed_query("python data engineer")
    assert math.isclose(cosine(a, a), 1.0)
    assert math.isclose(math.sqrt(sum(x * x for x in empty)), 1.0)
    # A pinned value: the same in every process (Python's built-in hash() is salted per process).
    assert HashEmbeddings(8).embed_query("Python") == [0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0]


def test_hash_embeddings_word_overlap_scores_higher():
    emb = HashEmbeddings()
    q = emb.embed_query("senior python engineer")
    assert cosine(q, emb.embed_query("python engineer, senior level")) > cosine(
        q, emb.embed_query("registered nurse")
    )


# --- factory ---------------------------------------------------------------------------------------


class _Settings:
    embeddings_backend = "hash"
    llm_base_url = None
    llm_api_key = None


def test_factory_by_name_and_settings():
    assert make_embeddings("minilm") is shared_minilm()
    assert isinstance(make_embeddings("hash"), HashEmbeddings)
    assert isinstance(make_embeddings(_Settings()), HashEmbeddings)
    from tools.settings import Settings

    # The project settings have no embeddings field yet: the packaged model is the default.
    assert make_embeddings(Settings(_env_file=None)) is shared_minilm()
    with pytest.raises(ValueError, match="unknown embeddings backend"):
        make_embeddings("word2vec")


def test_factory_openai_against_loopback_stub():
    from langchain_openai import OpenAIEmbeddings

    from sandbox.server import ServerThread

    seen: list[dict] = []
    app = FastAPI()

    @app.post("/v1/embeddings")
    async def embeddings(request: Request) -> dict:
        body = await request.json()
        seen.append(body)
        return {
            "object": "list",
            "model": body["model"],
            "data": [
                {"object": "embedding", "index": i, "embedding": [float(len(text)), 1.0, 0.0]}
                for i, text in enumerate(body["input"])
            ],
            "usage": {"prompt_tokens": 1, "total_tokens": 1},
        }

    with ServerThread(app) as server:
        emb = make_embeddings("openai", base_url=f"{server.url}/v1", api_key="test-key")
        assert isinstance(emb, OpenAIEmbeddings)
        assert emb.check_embedding_ctx_length is False
        emb.max_retries = 0
        assert emb.embed_documents(["abc", "de"]) == [[3.0, 1.0, 0.0], [2.0, 1.0, 0.0]]
    # Plain strings went out, not tiktoken token ids (which would need a download).
    assert seen[0]["input"] == ["abc", "de"]
    assert seen[0]["model"] == "text-embedding-3-small"
