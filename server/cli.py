"""`icims-agents`: the command line for recruiters' integration engineers.

Every command reads one Settings object; `--env-file` picks a dotenv file (for example the one that
`icims-agents sandbox --env-file` writes), otherwise `.env` and `ICIMS_AGENTS_*` variables apply.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from server.cli_state import state
from tools.logs import configure_logging
from tools.settings import Settings

app = typer.Typer(
    help=(
        "icims-agents: an AI layer for iCIMS.\n\n"
        "Typical first run:\n\n"
        "  icims-agents sandbox --env-file .env.sandbox   # a local iCIMS on 127.0.0.1\n\n"
        "  icims-agents --env-file .env.sandbox sync      # mirror it (full, then incremental)\n\n"
        "Settings come from ICIMS_AGENTS_* variables, .env, or --env-file."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def main(
    env_file: Annotated[
        Path | None,
        typer.Option(
            "--env-file",
            help="Read settings from this dotenv file (ICIMS_AGENTS_* keys) instead of ./.env.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    state.env_file = env_file
    settings = state.settings()
    configure_logging(settings.log_level, settings.log_json)


@app.command()
def sandbox(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 to serve the simulated iCIMS on.")] = 8790,
    people: Annotated[int, typer.Option(help="Candidates to generate (100 to 100,000).")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed: the same seed always builds the same tenant.")] = 7,
    env_file: Annotated[
        Path | None,
        typer.Option(
            "--env-file",
            help="Write the settings a client needs to reach this sandbox to PATH (dotenv format).",
            dir_okay=False,
        ),
    ] = None,
    eval_data: Annotated[
        Path | None,
        typer.Option(help="Also load the public evaluation resumes and postings from this folder."),
    ] = None,
    daily_limit: Annotated[
        int, typer.Option(help="Requests per day before the sandbox answers 429.")
    ] = 10_000,
) -> None:
    """Serve a local iCIMS simulator seeded with a realistic tenant (no network needed)."""
    from sandbox.app import create_app
    from sandbox.config import SandboxConfig, client_env
    from sandbox.server import ServerThread

    config = SandboxConfig(people=people, seed=seed, eval_data=eval_data, daily_limit=daily_limit)
    typer.echo(f"Seeding a tenant with {people:,} people (seed {seed})...", err=True)
    api = create_app(config)
    server = ServerThread(api, port=port, date_header=False)
    if env_file is not None:
        lines = [f"{key}={value}" for key, value in client_env(config, server.url).items()]
        env_file.write_text("\n".join(lines) + "\n")
        typer.echo(f"Client settings written to {env_file}", err=True)
    typer.echo(f"iCIMS sandbox on {server.url} (customer {config.customer_id}); Ctrl+C stops it.", err=True)
    # Run in the foreground so Ctrl+C stops uvicorn cleanly.
    server.server.run(sockets=[server.sock])


@app.command()
def sync(
    full: Annotated[
        bool, typer.Option("--full", help="Fetch everything and reconcile deletions, not just changes.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line instead of a table.")] = False,
    progress: Annotated[bool, typer.Option(help="Show progress bars on stderr.")] = True,
) -> None:
    """Mirror people, jobs, workflows and talent pools from iCIMS into the local store.

    Incremental by default (records updated since the last run); stays within the request budget
    and resumes where it stopped after a crash or an exhausted budget.
    """
    settings = state.settings()
    report = asyncio.run(_run_sync(settings, full=full, progress=progress and not as_json))
    summary = sync_summary(report)
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        typer.echo(format_sync_summary(summary))


def sync_summary(report) -> dict:
    """The one-line JSON shape documented for `sync --json`."""
    return {
        "records": dict(report.records),
        "changed": report.changed,
        "requests": report.requests,
        "seconds": round(report.seconds, 2),
    }


def format_sync_summary(summary: dict) -> str:
    rows = [f"  {kind:<20} {count:>8,}" for kind, count in summary["records"].items()]
    return "\n".join(
        [
            "Synced records:",
            *rows,
            f"  {'changed':<20} {summary['changed']:>8,}",
            f"  {'iCIMS requests':<20} {summary['requests']:>8,}",
            f"  {'seconds':<20} {summary['seconds']:>8.2f}",
        ]
    )


async def _run_sync(settings: Settings, *, full: bool, progress: bool):
    from tools.icims.budget import RequestBudget
    from tools.icims.client import ICIMSClient
    from tools.mirror import MirrorStore, MirrorSync

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = MirrorStore(settings.mirror_database_url)
    async with ICIMSClient.from_settings(settings, budget=RequestBudget.from_settings(settings)) as client:
        return await MirrorSync(store, client, progress=progress).run(full=full)


@app.command()
def demo(
    people: Annotated[int, typer.Option(help="Candidates in the demo tenant.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed for the demo tenant.")] = 7,
) -> None:
    """Run the main job end to end on a local sandbox: full sync, changes in iCIMS, incremental sync."""
    from server.demo import run_demo

    run_demo(people=people, seed=seed)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo_keys: Annotated[
        bool,
        typer.Option(
            help="Print a ready-to-use demo key per role (issued anew at each start; off as soon as "
            "keys made with `icims-agents keys create` exist)."
        ),
    ] = True,
) -> None:
    """Run the icims-agents service: run and approvals API, web pages, copilot (docs at /docs)."""
    import uvicorn

    from server.app import create_app
    from server.auth import KeyStore, issue_demo_keys

    settings = state.settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = f"http://{host}:{port}"
    typer.echo(f"icims-agents service on {url}  (API docs: {url}/docs, inbox: {url}/ui)")
    if demo_keys:
        recruiter_id, manager_id = _busiest_owners(settings)
        keys = KeyStore.for_data_dir(settings.data_dir)
        try:
            issued = issue_demo_keys(keys, recruiter_id=recruiter_id, hiring_manager_id=manager_id)
            active = len(keys.list())
        finally:
            keys.close()
        if issued:
            typer.echo("Demo API keys (send as `X-API-Key: <key>`; new ones are issued at every start):")
            for principal, key in issued:
                who = f" (person {principal.recruiter_id})" if principal.recruiter_id is not None else ""
                typer.echo(f"  {principal.role:<15} {key}{who}")
        else:
            typer.echo(f"{active} API key(s) configured; no demo keys issued (icims-agents keys list).")
    uvicorn.run(create_app(settings), host=host, port=port)


def _busiest_owners(settings: Settings) -> tuple[int | None, int | None]:
    """The recruiter and hiring manager with the most mirrored requisitions (demo keys act as them)."""
    from collections import Counter

    from tools.mirror import MirrorStore

    recruiters: Counter[int] = Counter()
    managers: Counter[int] = Counter()
    try:
        with MirrorStore(settings.mirror_database_url) as store:
            for record in store.iter_records("jobs"):
                folder = record.data.get("folder")
                # Open requisitions are what a demo rediscovers: they outweigh every closed one.
                weight = 1_000_000 if isinstance(folder, dict) and folder.get("id") == "D31001" else 1
                for key, counter in (("recruiter", recruiters), ("hiringmanager", managers)):
                    link = record.data.get(key)
                    if isinstance(link, dict) and isinstance(link.get("id"), int):
                        counter[link["id"]] += weight
    except Exception:  # no mirror yet: demo keys without a requisition owner
        return None, None
    top = lambda c: c.most_common(1)[0][0] if c else None  # noqa: E731
    return top(recruiters), top(managers)


keys_app = typer.Typer(
    help="API keys for the service (stored hashed in data_dir; shown once).", no_args_is_help=True
)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option("--role", help="recruiter, hiring_manager, admin or auditor.")],
    name: Annotated[
        str | None, typer.Option("--name", help="Who holds the key (shown in audit records).")
    ] = None,
    recruiter_id: Annotated[
        int | None,
        typer.Option(
            "--recruiter-id",
            help="iCIMS person id of the recruiter (or hiring manager): the requisitions they may see.",
        ),
    ] = None,
) -> None:
    """Create an API key and print it once (only its hash is kept)."""
    from server.auth import ROLES, KeyStore

    if role not in ROLES:
        raise typer.BadParameter(f"choose one of {', '.join(ROLES)}", param_hint="--role")
    if role in ("recruiter", "hiring_manager") and recruiter_id is None:
        typer.echo(f"warning: a {role} key without --recruiter-id sees no requisitions", err=True)
    settings = state.settings()
    keys = KeyStore.for_data_dir(settings.data_dir)
    try:
        principal, key = keys.create(role, name=name, recruiter_id=recruiter_id)
    finally:
        keys.close()
    typer.echo(key)
    typer.echo(
        f"key id {principal.key_id}, role {principal.role}, name {principal.name}"
        + (f", recruiter id {principal.recruiter_id}" if principal.recruiter_id is not None else "")
        + ". Store it now: it cannot be shown again.",
        err=True,
    )


@keys_app.command("list")
def keys_list() -> None:
    """List API keys (ids, names, roles; never the keys)."""
    from server.auth import KeyStore

    keys = KeyStore.for_data_dir(state.settings().data_dir)
    try:
        rows = keys.list()
    finally:
        keys.close()
    for k in rows:
        rid = "" if k.recruiter_id is None else str(k.recruiter_id)
        typer.echo(
            f"{k.key_id}  {k.role:<15} {rid:>8}  {k.name}{'  (demo)' if k.demo else ''}  {k.created_at}"
        )


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key id (second part of the key).")]) -> None:
    """Revoke an API key."""
    from server.auth import KeyStore

    keys = KeyStore.for_data_dir(state.settings().data_dir)
    try:
        done = keys.revoke(key_id)
    finally:
        keys.close()
    if not done:
        typer.echo(f"no active key {key_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {key_id}")


@app.command()
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


# --- rediscover -------------------------------------------------------------------------------------


@app.command()
def rediscover(
    job: Annotated[int, typer.Option("--job", help="iCIMS job (requisition) id to rediscover for.")],
    top: Annotated[int, typer.Option("--top", min=1, max=100, help="Candidates on the shortlist.")] = 10,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of a table.")
    ] = False,
    approve: Annotated[
        bool, typer.Option("--approve", help="Accept the shortlist as proposed and apply the writes now.")
    ] = False,
    restart: Annotated[
        bool, typer.Option("--restart", help="Start a new run even if one is waiting for approval.")
    ] = False,
) -> None:
    """Rank past applicants and talent-pool members from the mirror against a requisition.

    Runs to the approval step and prints the shortlist with scores, reasons (with evidence quotes) and
    the proposed action per candidate, plus the thread id the approval waits on. Nothing is written to
    iCIMS unless `--approve` is given. Needs a synced mirror (`icims-agents sync`).
    """
    from graphs.rediscovery import RediscoveryDeps, build_graph, resume_run, start_run
    from tools.checkpoint import open_checkpointer

    settings = state.settings()
    deps = RediscoveryDeps.from_settings(settings)
    try:
        with open_checkpointer(settings) as saver:
            graph = build_graph(saver, deps=deps)
            try:
                run = start_run(
                    graph, job_id=job, customer_id=settings.icims_customer_id, top_k=top, restart=restart
                )
            except LookupError as exc:
                typer.echo(f"error: {exc}", err=True)
                raise typer.Exit(2) from None
            report = rediscover_report(run)
            if run.continued:
                report["writes"] = run.values.get("writes") or []
                report["audit"] = run.values.get("audit_record") or {}
            if approve and run.pending:
                values = resume_run(graph, run.thread_id, [{"type": "accept", "args": None}])
                report["writes"] = values.get("writes") or []
                report["audit"] = values.get("audit_record") or {}
                report["pending"] = False
    finally:
        deps.close()
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False))
    else:
        typer.echo(format_rediscover_report(report))


def rediscover_report(run) -> dict:
    """The JSON shape of `rediscover --json`: thread id, job, shortlist and (with --approve) writes."""
    values = run.values
    job = values.get("job") or {}
    return {
        "thread_id": run.thread_id,
        "job_id": job.get("id"),
        "job_title": job.get("title"),
        "pending": bool(run.pending),
        "resumed_existing": run.resumed_existing,
        "continued": run.continued,
        "shortlist": [
            {
                "rank": c["rank"],
                "person_id": c["person_id"],
                "name": c["name"],
                "score": c["score"],
                "proposed_action": c["proposed_action"],
                "pool_id": c["pool_id"],
                "reasons": [_reason_line(r) for r in c["reasons"]],
                "gaps": [g["text"] for g in c["gaps"]],
                "flags": c["flags"],
                "summary": c["summary"],
                "outreach_line": c["outreach_line"],
            }
            for c in run.shortlist
        ],
    }


def _reason_line(reason: dict) -> str:
    from graphs.rediscovery import reason_line

    return reason_line(reason)


def format_rediscover_report(report: dict, *, reasons: int = 3) -> str:
    lines = [f"Rediscovery for job {report['job_id']}: {report['job_title']}"]
    if report["continued"]:
        lines.append("  (an approved run for this requisition had stopped while writing; it is now finished)")
    elif report["resumed_existing"]:
        lines.append("  (a run for this requisition was already waiting for approval; showing it)")
    if not report["shortlist"]:
        lines.append("  no candidates found in the mirror")
    for c in report["shortlist"]:
        action = "submit to job" if c["proposed_action"] == "submit" else f"add to pool {c['pool_id']}"
        flags = f"  [{', '.join(c['flags'])}]" if c["flags"] else ""
        lines.append(
            f"{c['rank']:>3}. {c['score']:>3}  {c['name']} (person {c['person_id']}) -> {action}{flags}"
        )
        lines.extend(f"        {text}" for text in c["reasons"][:reasons])
        if c["gaps"]:
            lines.append(f"        gaps: {'; '.join(c['gaps'][:3])}")
    lines.append(f"thread: {report['thread_id']}")
    if "writes" in report:
        lines.append(format_writes(report["writes"]))
    elif report["pending"]:
        lines.append(
            "status: waiting for approval (nothing written to iCIMS); rerun with --approve to accept"
        )
    return "\n".join(lines)


def format_writes(writes: list[dict]) -> str:
    lines = [f"writes applied: {sum(1 for w in writes if w['status'] == 'done')} of {len(writes)}"]
    for w in writes:
        made = "created" if w["created"] else "existing"
        lines.append(
            f"  person {w['person_id']:>6} {w['action']:<12} {w['workflow_kind']}/{w['workflow_id']} "
            f"({made}{', fields patched' if w['patched'] else ''}) {w['status']}"
            + (f": {w['detail']}" if w.get("detail") else "")
        )
    return "\n".join(lines)


from server import cli_audit, cli_nurture, cli_offer, cli_worker  # noqa: E402 - after `app` exists

app.command()(cli_worker.worker)
app.add_typer(cli_worker.events_app, name="events")
app.add_typer(cli_offer.app, name="offer")
app.add_typer(cli_audit.app, name="audit")
app.add_typer(cli_nurture.app, name="nurture")

if __name__ == "__main__":
    app()
