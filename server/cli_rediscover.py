"""`icims-agents rediscover`: one requisition's shortlist from the mirror, and its approval."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from server.cli_reports import format_rediscover_report, rediscover_report
from server.cli_state import state


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

    Exits 3 when the API, the worker or another command is resolving the same requisition's run
    (nothing done), and 4 when the approval is recorded but its writes failed (the worker's
    reconciler finishes them; no second approval).
    """
    from graphs.rediscovery import RediscoveryDeps, build_graph, rediscovery_thread_id, resume_run, start_run
    from server.cli_resume import resolve_pending, thread_lease
    from tools.checkpoint import open_checkpointer

    settings = state.settings()
    deps = RediscoveryDeps.from_settings(settings)
    thread_id = rediscovery_thread_id(settings.icims_customer_id, job)
    try:
        # The whole command holds the thread's lease: starting, finishing or approving it never
        # overlaps the API or the worker doing the same in another process.
        with open_checkpointer(settings) as saver, thread_lease(settings, thread_id):
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
                accept = {"type": "accept", "args": None}
                values = resolve_pending(
                    settings, deps.audit, graph, "rediscovery", run.thread_id, accept, resume_run, job_id=job
                )
                if values is not None:
                    report["writes"] = values.get("writes") or []
                    report["audit"] = values.get("audit_record") or {}
                    report["pending"] = False
    finally:
        deps.close()
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False))
    else:
        typer.echo(format_rediscover_report(report))
