"""Eval plumbing: condensed judged scoring, the disk embedding store, and a smoke run on ../shared.

The full `make eval` is not part of the unit suite (it embeds the 1,323-resume pool on a cold cache);
the smoke test ranks a few postings over a slice of the pool and skips when the data folder is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals import retrieval
from evals.embedding_store import DiskCachedEmbeddings
from evals.scoring import Scored, condense, paired_difference, run_from_rows
from tools.embeddings import HashEmbeddings

EVAL_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "eval"


class CountingHash(HashEmbeddings):
    def __init__(self) -> None:
        super().__init__(32)
        self.texts = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.texts += len(texts)
        return super().embed_documents(texts)


def test_condense_keeps_judged_pairs_and_reports_judged_at_10() -> None:
    run = {
        "q1": {f"d{i}": float(100 - i) for i in range(12)},  # d0 best
        "q2": {"x": 1.0},
        "other": {"d0": 1.0},  # not a judged query: dropped
    }
    qrels = {"q1": {"d1": 3, "d5": 0, "d11": 2}, "q2": {"y": 1}}
    condensed, judged_at_10 = condense(run, qrels)
    assert condensed == {"q1": {"d1": 99.0, "d5": 95.0, "d11": 89.0}, "q2": {}}
    # q1: d1 and d5 are judged among its top 10; q2: 0 of its 1.
    assert judged_at_10 == pytest.approx(2 / 11)


def test_run_from_rows_keeps_the_best_score_per_pair() -> None:
    rows = [
        {"query_id": "q", "candidate_id": "a", "score": 1},
        {"query_id": "q", "candidate_id": "a", "score": 3},
        {"query_id": "q", "candidate_id": "b", "score": 2},
    ]
    assert run_from_rows(rows) == {"q": {"a": 3.0, "b": 2.0}}


def test_paired_difference_counts_wins_and_losses() -> None:
    a = Scored({}, {"q1": {"ndcg@10": 0.9}, "q2": {"ndcg@10": 0.5}, "q3": {"ndcg@10": 0.4}})
    b = Scored({}, {"q1": {"ndcg@10": 0.5}, "q2": {"ndcg@10": 0.5}, "q3": {"ndcg@10": 0.6}})
    mean, lo, hi, wins, losses = paired_difference(a, b)
    assert mean == pytest.approx((0.4 + 0.0 - 0.2) / 3)
    assert lo <= mean <= hi
    assert (wins, losses) == (1, 1)


def test_disk_store_embeds_each_text_once_across_processes(tmp_path: Path) -> None:
    inner = CountingHash()
    store = DiskCachedEmbeddings(inner, tmp_path, chunk=2)
    texts = ["alpha", "beta", "gamma", "alpha"]
    assert store.missing(texts) == 3
    first = store.encode(texts)
    assert inner.texts == 3 and store.embedded == 3
    store.flush()

    again = CountingHash()
    reloaded = DiskCachedEmbeddings(again, tmp_path)
    assert len(reloaded) == 3 and reloaded.missing(texts) == 0
    assert (reloaded.encode(texts) == first).all()
    assert again.texts == 0
    assert reloaded.embed_query("alpha") == pytest.approx(first[0].tolist())


def test_eval_skips_cleanly_without_the_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert retrieval.main(["--eval-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "e.json")]) == 0
    assert "eval skipped" in capsys.readouterr().out
    assert not (tmp_path / "e.json").exists()


@pytest.mark.skipif(not (EVAL_DIR / "pool.jsonl").exists(), reason="../shared/data/eval not present")
def test_smoke_on_a_slice_of_the_dev_split(tmp_path: Path) -> None:
    from agents.ranking import CandidateDoc, HybridRanker, RankQuery
    from evals.langsmith_eval import evaluate_runs
    from evals.scoring import read_qrels, score_run

    with (EVAL_DIR / "queries.jsonl").open() as fh:
        queries = [json.loads(line) for line in fh][:3]
    qrels = read_qrels(EVAL_DIR / "qrels.tsv")
    wanted = {d for q in queries for d in qrels[q["query_id"]]}
    pool = []
    with (EVAL_DIR / "pool.jsonl").open() as fh:
        for i, line in enumerate(fh):
            row = json.loads(line)
            if row["candidate_id"] in wanted or i < 40:
                pool.append(row)
    qrels = {q["query_id"]: qrels[q["query_id"]] for q in queries}

    ranker = HybridRanker(HashEmbeddings(64), prefilter=30)
    ranker.index([CandidateDoc(d["candidate_id"], d["text"], d["title"] or None) for d in pool])
    run = {
        q["query_id"]: {
            c.candidate_id: c.score
            for c in ranker.rank(RankQuery(q["query_id"], q["title"], q["description"]))
        }
        for q in queries
    }
    scored = score_run(run, qrels, EVAL_DIR)
    ndcg = scored.overall["ndcg@10"]["mean"]
    assert 0.0 < ndcg <= 1.0

    means = evaluate_runs({"ours": run}, {"silver": (qrels, False)}, EVAL_DIR, offline=True)
    assert means["ours"]["silver_ndcg@10"] == pytest.approx(ndcg)
