"""`make eval`: retrieval baselines on the dev split of the resume-ranking benchmark.

Needs ../shared/data/eval (public resumes and postings, internal evaluation only: read at run time,
never copied into the repo); without it the eval says so and exits 0. Ranks the pool for every
posting with BM25 (bm25s) over title + description, and with a seeded random ranking as the floor,
then scores both with the benchmark's own scorer (`score.py --json`). The rediscovery ranker will be
measured against these numbers in the same run.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import bm25s

from evals.results import Measurement, print_results, write_results

EVAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "eval"
RESULTS = Path("results/eval.json")
TOP_K = 100


def _read_jsonl(path: Path) -> list[dict]:
    with path.open() as fh:
        return [json.loads(line) for line in fh if line.strip()]


def bm25_run(pool: list[dict], queries: list[dict]) -> list[dict]:
    retriever = bm25s.BM25()
    retriever.index(
        bm25s.tokenize([doc["text"] for doc in pool], stopwords="en", show_progress=False),
        show_progress=False,
    )
    texts = [f"{q['title']}\n{q['description']}" for q in queries]
    docs, scores = retriever.retrieve(
        bm25s.tokenize(texts, stopwords="en", show_progress=False), k=TOP_K, show_progress=False
    )
    return [
        {"query_id": q["query_id"], "candidate_id": pool[int(d)]["candidate_id"], "score": float(s)}
        for q, row, srow in zip(queries, docs, scores, strict=True)
        for d, s in zip(row, srow, strict=True)
    ]


def random_run(pool: list[dict], queries: list[dict], seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    run = []
    for q in queries:
        for rank, doc in enumerate(rng.sample(pool, min(TOP_K, len(pool)))):
            run.append({"query_id": q["query_id"], "candidate_id": doc["candidate_id"], "score": -rank})
    return run


def score(run: list[dict], qrels: Path) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
        fh.writelines(json.dumps(row) + "\n" for row in run)
    out = subprocess.run(
        [sys.executable, str(EVAL_DIR / "score.py"), fh.name, str(qrels), "--by", "none", "--json"],
        check=True,
        capture_output=True,
        text=True,
    )
    Path(fh.name).unlink()
    overall = json.loads(out.stdout)["overall"]
    return {metric: values["mean"] for metric, values in overall.items() if values["mean"] is not None}


def main() -> None:
    if not (EVAL_DIR / "pool.jsonl").exists():
        print(f"eval skipped: {EVAL_DIR} not found (the evaluation split lives outside the repo)")
        return
    pool = _read_jsonl(EVAL_DIR / "pool.jsonl")
    queries = _read_jsonl(EVAL_DIR / "queries.jsonl")
    qrels = EVAL_DIR / "qrels.tsv"
    floor = score(random_run(pool, queries), qrels)
    bm25 = score(bm25_run(pool, queries), qrels)
    results = []
    for metric in ("ndcg@10", "p@10", "recall@50", "mrr", "map"):
        results.append(
            Measurement(
                name=f"random_{metric}", value=floor[metric], unit="score", note="seeded random ranking"
            )
        )
        results.append(
            Measurement(
                name=f"bm25_{metric}",
                value=bm25[metric],
                unit="score",
                baseline=f"random_{metric}",
                baseline_value=floor[metric],
                ratio=bm25[metric] / floor[metric] if floor[metric] else None,
            )
        )
    print_results(
        f"Dev split: {len(queries)} postings x {len(pool):,} resumes (graded silver qrels)", results
    )
    write_results(RESULTS, results)
    print(f"\nwritten to {RESULTS}")


if __name__ == "__main__":
    main()
