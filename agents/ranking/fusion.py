"""Reciprocal-rank fusion (Cormack, Clarke and Buettcher, SIGIR 2009).

RRF combines rankings whose scores live on incomparable scales (BM25 is unbounded, cosine is in
[-1, 1]) using ranks only, which is why it is the standard hybrid baseline: no score calibration to tune.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

DEFAULT_K = 60


def ranks_of(scores: Mapping[str, float]) -> dict[str, int]:
    """1-based ranks by descending score; ties broken by id so the result is deterministic."""
    ordered = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    return {doc_id: rank for rank, (doc_id, _) in enumerate(ordered, 1)}


def rrf(
    rankings: Sequence[Sequence[str]],
    *,
    k: int = DEFAULT_K,
    weights: Sequence[float] | None = None,
) -> dict[str, float]:
    """sum_r w_r / (k + rank_r(d)) over the rankings that contain d (a missing document adds nothing)."""
    if weights is not None and len(weights) != len(rankings):
        raise ValueError("weights must be as long as rankings")
    fused: dict[str, float] = {}
    for i, ranking in enumerate(rankings):
        weight = 1.0 if weights is None else weights[i]
        for rank, doc_id in enumerate(ranking, 1):
            fused[doc_id] = fused.get(doc_id, 0.0) + weight / (k + rank)
    return fused
