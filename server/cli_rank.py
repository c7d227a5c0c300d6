"""`icims-agents rank`: rediscovery's retrieval stage in batch, offline, for evaluation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def rank(
    pool: Annotated[
        Path,
        typer.Option(
            "--pool",
            help='Candidates, JSON Lines: {"candidate_id", "text", "title"?} per line.',
            exists=True,
            dir_okay=False,
        ),
    ],
    queries: Annotated[
        Path,
        typer.Option(
            "--queries",
            help='Requisitions, JSON Lines: {"query_id", "title", "description"} per line.',
            exists=True,
            dir_okay=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out", help='Run file to write: {"query_id", "candidate_id", "score"} per line.', dir_okay=False
        ),
    ],
    top: Annotated[int, typer.Option("--top", min=1, help="Candidates kept per query, best first.")] = 100,
    prefilter: Annotated[
        int,
        typer.Option(
            min=1,
            help="Candidates BM25 passes to the encoder per query (headline matches add up to half "
            "as many again). Larger finds more, costs more embedding on a cold run.",
        ),
    ] = 300,
    embeddings: Annotated[
        str,
        typer.Option(
            envvar="ICIMS_AGENTS_RANK_EMBEDDINGS",
            help="Encoder: 'minilm' (packaged all-MiniLM-L6-v2, the real one) or 'hash' (word-hash "
            "vectors: instant, for tests and smoke runs, much weaker).",
        ),
    ] = "minilm",
    progress: Annotated[bool, typer.Option(help="Show a progress bar on stderr.")] = True,
) -> None:
    """Rank a pool of candidates for each query, offline: no network, no iCIMS, no sandbox.

    This is the batch form of rediscovery's retrieval stage, used for evaluation. Per query: BM25 over
    the candidates' text plus headline and occupation matches pick a candidate set, the MiniLM encoder
    scores only that set (vectors reused across queries by content hash), and reciprocal-rank fusion
    orders it. Only ids, titles and text are read; any other fields in the files are ignored.

    Example, then score with the benchmark's scorer:

      icims-agents rank --pool pool.jsonl --queries queries.jsonl --top 100 --out run.jsonl

      python score.py run.jsonl qrels.tsv
    """
    import sys

    from tqdm import tqdm

    from agents.ranking import CandidateDoc, HybridRanker, RankQuery
    from tools.embeddings import make_embeddings

    backend = embeddings.strip().lower()
    if backend not in ("minilm", "hash"):
        # "openai" exists in the factory but would need the network, which this command promises not to use.
        raise typer.BadParameter("choose 'minilm' or 'hash'", param_hint="--embeddings")

    def read_jsonl(path: Path, required: tuple[str, ...]) -> list[dict]:
        rows = []
        with path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise typer.BadParameter(f"{path}:{number}: not JSON ({exc.msg})") from exc
                missing = [key for key in required if key not in row]
                if missing:
                    raise typer.BadParameter(f"{path}:{number}: missing {', '.join(missing)}")
                rows.append(row)
        return rows

    docs = [
        CandidateDoc(
            str(r["candidate_id"]), str(r["text"] or ""), str(r["title"]) if r.get("title") else None
        )
        for r in read_jsonl(pool, ("candidate_id", "text"))
    ]
    asks = [
        RankQuery(str(r["query_id"]), str(r["title"] or ""), str(r.get("description") or ""))
        for r in read_jsonl(queries, ("query_id", "title"))
    ]
    ranker = HybridRanker(make_embeddings(backend), prefilter=prefilter)
    ranker.index(docs)
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with out.open("w", encoding="utf-8") as fh:
        for query in tqdm(asks, desc="ranking", unit="query", disable=not progress, file=sys.stderr):
            for candidate in ranker.rank(query, top):
                row = {"query_id": query.query_id, "candidate_id": candidate.candidate_id}
                fh.write(json.dumps({**row, "score": candidate.score}) + "\n")
                written += 1
    typer.echo(f"{len(asks)} queries x {len(docs):,} candidates -> {written:,} lines in {out}", err=True)
