"""Run the retrieval evals through LangSmith's `evaluate`, offline unless a key is configured.

One LangSmith example per query: inputs carry only the query id (never posting text: the data is for
internal evaluation only), reference outputs carry the qrels. The target looks the system's ranking up
in a precomputed run, so LangSmith records exactly what `score.py` scores, and the evaluators call the
benchmark scorer's own per-query function. The scorer's aggregate numbers stay authoritative; the means
returned here are a cross-check that the two paths agree.

Offline (STACK_NOTES 6): `upload_results=False` with a client pointed at a closed local port makes no
network connections. With `LANGSMITH_API_KEY` set, the default client uploads the experiments.
"""

from __future__ import annotations

import contextlib
import io
import os
import uuid
import warnings
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evals.scoring import Qrels, Run, load_scorer


def _client_and_upload(offline: bool) -> tuple[Any, bool]:
    from langsmith import Client

    if not offline and os.environ.get("LANGSMITH_API_KEY"):
        return Client(), True
    offline = Client(api_url="http://127.0.0.1:9", api_key="offline", info={}, auto_batch_tracing=False)
    return offline, False


def evaluate_runs(
    runs: Mapping[str, Run],
    label_sets: Mapping[str, tuple[Qrels, bool]],
    eval_dir: Path,
    *,
    offline: bool = False,
) -> dict[str, dict[str, float]]:
    """Mean nDCG@10 per (system, label set) as LangSmith's evaluate computed it.

    `label_sets`: name -> (qrels, condensed). Condensed sets score judged documents only (JUDGED.md)
    and only on their own queries. `offline=True` never uploads, even with a key (tests).
    """
    from langsmith.evaluation import evaluate
    from langsmith.schemas import Example

    scorer = load_scorer(eval_dir)
    client, upload = _client_and_upload(offline)
    dataset_id = uuid.uuid5(uuid.NAMESPACE_URL, f"icims-agents/eval/{eval_dir.name}")
    now = datetime.now(UTC)
    query_ids = sorted({q for qrels, _ in label_sets.values() for q in qrels})
    examples = [
        Example(
            id=uuid.uuid5(dataset_id, q),
            dataset_id=dataset_id,
            inputs={"query_id": q},
            outputs={name: qrels.get(q) for name, (qrels, _) in label_sets.items()},
            created_at=now,
        )
        for q in query_ids
    ]
    params = {}
    for name, (qrels, _) in label_sets.items():
        max_grade = max((g for j in qrels.values() for g in j.values()), default=1)
        params[name] = (2 if max_grade >= 2 else 1, 3 if max_grade >= 3 else max_grade)

    def ndcg(outputs: dict, reference_outputs: dict) -> dict:
        results = []
        for name, (_, condensed) in label_sets.items():
            judged = reference_outputs.get(name)
            if not judged:
                continue
            ranking = outputs["ranking"]
            if condensed:
                ranking = [d for d in ranking if d in judged]
            rel, top = params[name]
            metrics = scorer.per_query(ranking, judged, rel, top)
            results.append({"key": f"{name}_ndcg@10", "score": metrics["ndcg@10"]})
        return {"results": results}

    data: Any = examples
    if upload:
        data = _remote_dataset(client, f"icims-agents-rediscovery-{eval_dir.name}", examples)

    means: dict[str, dict[str, float]] = {}
    for system, run in runs.items():

        def target(inputs: dict, run: Run = run) -> dict:
            return {"ranking": scorer.rank(run.get(inputs["query_id"], {}))}

        # evaluate() prints a banner and a progress bar per experiment; the eval prints its own summary.
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            results = evaluate(
                target,
                data=data,
                evaluators=[ndcg],
                client=client,
                upload_results=upload,
                experiment_prefix=f"rediscovery-{system}",
                metadata={"system": system, "split": eval_dir.name},
                max_concurrency=0,
            )
            totals: dict[str, list[float]] = {}
            for row in results:
                for result in row["evaluation_results"]["results"]:
                    if result.score is not None:
                        totals.setdefault(result.key, []).append(float(result.score))
        means[system] = {key: sum(v) / len(v) for key, v in totals.items()}
    return means


def _remote_dataset(client: Any, name: str, examples: list[Any]) -> str:
    """Upload mode: experiments must reference a dataset that exists on the server; create it once.

    Only query ids and qrels (ids and grades) are uploaded, never resume or posting text. Not exercised
    by the offline tests (no service here); the offline path above is.
    """
    if not client.has_dataset(dataset_name=name):
        dataset = client.create_dataset(name, description="Rediscovery retrieval eval: qrels per query id")
        client.create_examples(
            dataset_id=dataset.id,
            examples=[{"inputs": e.inputs, "outputs": e.outputs} for e in examples],
        )
    return name
