"""Scoring runs with the benchmark's own `score.py`, imported from ../shared at run time.

The scorer is third-party evaluation code that ships with the data, so it is loaded from the data folder
rather than copied: the numbers are then by construction the ones anyone gets with
`python score.py RUN QRELS`. The judged labels are scored "condensed" as JUDGED.md prescribes: unjudged
resumes are unknown, not irrelevant, so they are dropped from the run before scoring, and the share of
the top 10 that was judged (judged@10) is reported beside the scores.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

Run = dict[str, dict[str, float]]  # query_id -> candidate_id -> score
Qrels = dict[str, dict[str, int]]
METRICS = ("ndcg@10", "p@10", "recall@50", "mrr", "map")


@cache
def load_scorer(eval_dir: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("shared_eval_score", eval_dir / "score.py")
    if spec is None or spec.loader is None:
        raise FileNotFoundError(eval_dir / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_from_rows(rows: Iterable[Mapping[str, Any]]) -> Run:
    """Same reading rule as score.py: the best score per (query, candidate) wins."""
    run: Run = {}
    for row in rows:
        q, d, s = str(row["query_id"]), str(row["candidate_id"]), float(row["score"])
        bucket = run.setdefault(q, {})
        if d not in bucket or s > bucket[d]:
            bucket[d] = s
    return run


def condense(run: Run, qrels: Qrels) -> tuple[Run, float]:
    """Keep only judged pairs of judged queries; return the condensed run and judged@10 (JUDGED.md)."""
    out: Run = {}
    hit = total = 0
    for q, docs in run.items():
        judged = qrels.get(q)
        if judged is None:
            continue
        ranked = sorted(docs.items(), key=lambda kv: (-kv[1], kv[0]))  # score.py's order
        hit += sum(d in judged for d, _ in ranked[:10])
        total += min(10, len(ranked))
        out[q] = {d: s for d, s in ranked if d in judged}
    return out, hit / max(total, 1)


@dataclass(frozen=True)
class Scored:
    overall: dict[str, dict[str, Any]]  # metric -> {"mean", "ci95", "n"} as score.py's summarise
    per_query: dict[str, dict[str, float]]
    judged_at_10: float | None = None


def score_run(run: Run, qrels: Qrels, eval_dir: Path, *, condensed: bool = False) -> Scored:
    """Per-query metrics and bootstrap CIs exactly as `score.py` computes them."""
    scorer = load_scorer(eval_dir)
    judged_at_10: float | None = None
    if condensed:
        run, judged_at_10 = condense(run, qrels)
    max_grade = max((g for j in qrels.values() for g in j.values()), default=1)
    rel_thr = 2 if max_grade >= 2 else 1
    top_grade = 3 if max_grade >= 3 else max_grade
    qids = sorted(qrels)
    per_query = {q: scorer.per_query(scorer.rank(run.get(q, {})), qrels[q], rel_thr, top_grade) for q in qids}
    return Scored(scorer.summarise(per_query, qids), per_query, judged_at_10)


def read_qrels(path: Path) -> Qrels:
    return {q: dict(d) for q, d in load_scorer(path.parent).read_qrels(str(path)).items()}


def paired_difference(a: Scored, b: Scored, metric: str = "ndcg@10") -> tuple[float, float, float, int, int]:
    """Mean of a - b over queries both score, its 95% bootstrap CI, and wins / losses of a."""
    qids = [q for q in a.per_query if metric in a.per_query[q] and metric in b.per_query.get(q, {})]
    diffs = np.array([a.per_query[q][metric] - b.per_query[q][metric] for q in qids], dtype=float)
    if len(diffs) == 0:
        return (float("nan"), float("nan"), float("nan"), 0, 0)
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(diffs), size=(2000, len(diffs)))
    means = diffs[idx].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(diffs.mean()), float(lo), float(hi), int((diffs > 0).sum()), int((diffs < 0).sum())
