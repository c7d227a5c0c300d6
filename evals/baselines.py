"""The reference retrievers the benchmark README describes, computed over the whole pool.

- BM25 (bm25s, English stop words) with the posting title + description as the query.
- Dense all-MiniLM-L6-v2: every resume split into 160-word windows, cosine against the posting (title +
  description, truncated by the encoder at 256 word pieces), max-pooled over windows.
- Hybrid: reciprocal-rank fusion of the two (k = 60).

They embed the full pool, which is fine for 1,323 resumes and is exactly what the product ranker avoids.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import bm25s
import numpy as np

from agents.ranking.fusion import DEFAULT_K, rrf
from agents.ranking.text import word_windows
from evals.embedding_store import DiskCachedEmbeddings

Rows = list[dict[str, object]]


def query_text(query: dict) -> str:
    return f"{query['title']}\n{query['description']}"


def bm25_matrix(pool: Sequence[dict], queries: Sequence[dict]) -> np.ndarray:
    """BM25 score of every (query, resume) pair, shape (queries, pool)."""
    retriever = bm25s.BM25()
    retriever.index(
        bm25s.tokenize([d["text"] for d in pool], stopwords="en", show_progress=False), show_progress=False
    )
    tokens = bm25s.tokenize([query_text(q) for q in queries], stopwords="en", show_progress=False)
    docs, scores = retriever.retrieve(tokens, k=len(pool), show_progress=False)
    out = np.zeros((len(queries), len(pool)), dtype=np.float32)
    for i in range(len(queries)):
        out[i, docs[i]] = scores[i]
    return out


def dense_matrix(
    pool: Sequence[dict],
    queries: Sequence[dict],
    store: DiskCachedEmbeddings,
    *,
    window_words: int = 160,
) -> np.ndarray:
    """Max-pooled window cosine of every (query, resume) pair, shape (queries, pool)."""
    windows = [word_windows(d["text"], window_words) for d in pool]
    owner = np.asarray([i for i, ws in enumerate(windows) for _ in ws], dtype=np.int64)
    doc_vectors = store.encode([w for ws in windows for w in ws])
    query_vectors = store.encode([query_text(q) for q in queries])
    sims = query_vectors @ doc_vectors.T
    out = np.full((len(queries), len(pool)), -1.0, dtype=np.float32)
    np.maximum.at(out.T, owner, sims.T)
    return out


def rrf_matrix(*matrices: np.ndarray, k: int = DEFAULT_K) -> np.ndarray:
    """RRF per query row, through the same `rrf` the product uses (ties broken by column index)."""
    out = np.zeros_like(matrices[0], dtype=np.float64)
    for i in range(matrices[0].shape[0]):
        rankings = [np.argsort(-m[i], kind="stable").tolist() for m in matrices]
        fused = rrf([[str(j) for j in r] for r in rankings], k=k)
        for j, score in fused.items():
            out[i, int(j)] = score
    return out


def run_rows(matrix: np.ndarray, pool: Sequence[dict], queries: Sequence[dict], top: int = 100) -> Rows:
    """The top `top` resumes per query as run rows (`{"query_id", "candidate_id", "score"}`)."""
    rows: Rows = []
    for i, q in enumerate(queries):
        best = np.argsort(-matrix[i], kind="stable")[:top]
        rows.extend(
            {"query_id": q["query_id"], "candidate_id": pool[j]["candidate_id"], "score": float(matrix[i, j])}
            for j in best
        )
    return rows


def progress_total(store: DiskCachedEmbeddings, pool: Sequence[dict], queries: Sequence[dict]) -> int:
    """How many texts the dense baseline will send to the encoder (0 when the disk cache is warm)."""
    texts = [w for d in pool for w in word_windows(d["text"])] + [query_text(q) for q in queries]
    return store.missing(texts)


ProgressHook = Callable[[int], None]
