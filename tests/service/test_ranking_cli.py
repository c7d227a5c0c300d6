"""`icims-agents rank`: offline batch ranking from JSONL files, end to end with the hash encoder."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from server.cli import app

runner = CliRunner()

POOL = [
    {"candidate_id": "c-nurse", "title": "REGISTERED NURSE", "text": "Acute care nursing, patient charts."},
    {"candidate_id": "c-chef", "text": "EXECUTIVE CHEF\nMenus, kitchen staff, food cost control."},
    {"candidate_id": "c-dev", "title": "", "text": "Python developer: Django REST APIs, PostgreSQL, AWS."},
    # Extra fields are ignored (the held-out check passes only ids, titles and text anyway).
    {"candidate_id": "c-acct", "text": "Staff accountant, general ledger, reconciliations.", "category": "X"},
]
QUERIES = [
    {"query_id": "q-dev", "title": "Python Developer (Remote)", "description": "Django and PostgreSQL."},
    {"query_id": "q-rn", "title": "Registered Nurse", "description": "Patient care on a medical unit."},
]


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "\n")  # trailing blank line is fine
    return path


def test_rank_writes_one_line_per_query_and_candidate(tmp_path: Path) -> None:
    pool = _write_jsonl(tmp_path / "pool.jsonl", POOL)
    queries = _write_jsonl(tmp_path / "queries.jsonl", QUERIES)
    out = tmp_path / "out" / "run.jsonl"
    result = runner.invoke(
        app,
        [
            "rank",
            "--pool",
            str(pool),
            "--queries",
            str(queries),
            "--top",
            "3",
            "--out",
            str(out),
            "--embeddings",
            "hash",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(set(r) == {"query_id", "candidate_id", "score"} for r in rows)
    by_query: dict[str, list[dict]] = {}
    for r in rows:
        by_query.setdefault(r["query_id"], []).append(r)
    assert set(by_query) == {"q-dev", "q-rn"}
    assert all(len(v) == 3 for v in by_query.values())
    for ranked in by_query.values():
        scores = [r["score"] for r in ranked]
        assert scores == sorted(scores, reverse=True)
    assert by_query["q-dev"][0]["candidate_id"] == "c-dev"
    assert by_query["q-rn"][0]["candidate_id"] == "c-nurse"


def test_rank_embedding_backend_from_the_environment(tmp_path: Path) -> None:
    pool = _write_jsonl(tmp_path / "pool.jsonl", POOL)
    queries = _write_jsonl(tmp_path / "queries.jsonl", QUERIES[:1])
    out = tmp_path / "run.jsonl"
    args = ["rank", "--pool", str(pool), "--queries", str(queries), "--out", str(out), "--no-progress"]
    result = runner.invoke(app, args, env={"ICIMS_AGENTS_RANK_EMBEDDINGS": "hash"})
    assert result.exit_code == 0, result.output
    assert len(out.read_text().splitlines()) == len(POOL)  # --top 100 > pool: the whole pool


def test_rank_rejects_bad_input(tmp_path: Path) -> None:
    pool = tmp_path / "pool.jsonl"
    pool.write_text('{"candidate_id": "a"}\n')  # no text
    queries = _write_jsonl(tmp_path / "queries.jsonl", QUERIES)
    args = ["rank", "--pool", str(pool), "--queries", str(queries), "--out", str(tmp_path / "r.jsonl")]
    result = runner.invoke(app, [*args, "--embeddings", "hash"])
    assert result.exit_code != 0
    assert "missing text" in result.output

    _write_jsonl(pool, POOL)
    result = runner.invoke(app, [*args, "--embeddings", "openai"])
    assert result.exit_code != 0  # would need the network


def test_rank_help_teaches_the_formats() -> None:
    result = runner.invoke(app, ["rank", "--help"])
    assert result.exit_code == 0, result.output
    for text in ("--pool", "--queries", "--out", "--top", "candidate_id", "query_id", "score.py"):
        assert text in result.output
