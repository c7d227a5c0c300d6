"""`make demo`: the main job end to end on embedded defaults.

Starts the local iCIMS sandbox on 127.0.0.1, mirrors it in full, lets "recruiters" change a few
records inside iCIMS, mirrors again incrementally, and prints what each pass synced and what it cost
in iCIMS requests (counted by the client and, independently, by the sandbox). Then rediscovers one
open requisition from the mirror, shows the shortlist and the pending approval, approves it with one
candidate dropped, applies the writes and prints what reached iCIMS (the sandbox's write log).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path

import typer

from graphs.kit.inbox import describe
from graphs.rediscovery import RediscoveryDeps, build_graph, list_pending, resume_run, start_run
from sandbox.app import create_app
from sandbox.config import SandboxConfig, client_env
from sandbox.server import ServerThread
from server import demo_nurture, demo_offer, demo_triage
from server.cli_reports import (
    format_rediscover_report,
    format_sync_summary,
    format_writes,
    rediscover_report,
    sync_summary,
)
from server.demo_context import DemoContext
from tools.checkpoint import open_checkpointer
from tools.icims.budget import RequestBudget
from tools.icims.client import ICIMSClient
from tools.icims.codes import APPLICANT_NEW_SUBMISSION, EMPLOYEE_FOLDER, JOB_APPROVED, list_node
from tools.logs import configure_logging
from tools.mirror import MirrorStore, MirrorSync
from tools.settings import Settings

__all__ = ["DemoContext", "run_demo"]


def run_demo(*, people: int, seed: int) -> None:
    config = SandboxConfig(people=people, seed=seed)
    typer.secho(f"1. Seeding a sandbox iCIMS tenant: {people:,} people, seed {seed}", bold=True)
    api = create_app(config)
    sandbox = api.state.sandbox
    with ServerThread(api, date_header=False) as server, tempfile.TemporaryDirectory() as tmp:
        env = {k.removeprefix("ICIMS_AGENTS_").lower(): v for k, v in client_env(config, server.url).items()}
        settings = Settings(_env_file=None, data_dir=Path(tmp), **env)
        store = MirrorStore(settings.mirror_database_url)
        counts = {kind: sandbox.tenant.count(kind) for kind in sandbox.tenant.records}
        typer.echo(f"   sandbox on {server.url}: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))

        typer.secho("2. Full sync into the local mirror", bold=True)
        _sync(settings, store, sandbox, full=True)

        typer.secho("3. Recruiters work in iCIMS: 5 edits, 1 new applicant, 1 erasure request", bold=True)
        changed = _simulate_recruiter_activity(sandbox)
        typer.echo(f"   changed ids: {changed}")
        # iCIMS stamps changes to the minute; moving the sandbox clock on replaces waiting for it.
        sandbox.advance_clock(120)

        typer.secho("4. Incremental sync", bold=True)
        _sync(settings, store, sandbox, full=False)

        typer.secho("5. Re-sync with nothing changed", bold=True)
        sandbox.advance_clock(120)
        _sync(settings, store, sandbox, full=False)
        typer.echo(f"   mirror now holds: {store.counts()}")
        remaining = sandbox.config.daily_limit - sandbox.requests_total
        typer.echo(f"   daily quota left (sandbox's count): {remaining:,} of {sandbox.config.daily_limit:,}")

        _rediscover(settings, store, sandbox)

        # The other agents, each as one numbered step.
        ctx = DemoContext(settings=settings, store=store, sandbox=sandbox, sandbox_url=server.url, step=10)
        # Per-event log lines (accepted, duplicate, done) are for operators; the steps print summaries.
        configure_logging("WARNING")
        try:
            for step in (demo_triage.demo_step, demo_nurture.demo_step, demo_offer.demo_step):
                step(ctx)
                ctx.step += 1
        finally:
            configure_logging(settings.log_level, settings.log_json)


def _sync(settings: Settings, store: MirrorStore, sandbox, *, full: bool) -> None:
    before = sandbox.requests_total

    async def run():
        budget = RequestBudget.from_settings(settings)
        async with ICIMSClient.from_settings(settings, budget=budget) as client:
            return await MirrorSync(store, client, progress=True).run(full=full)

    report = asyncio.run(run())
    summary = sync_summary(report)
    typer.echo(format_sync_summary(summary))
    typer.echo(f"  {'requests (sandbox)':<20} {sandbox.requests_total - before:>8,}")


def _simulate_recruiter_activity(sandbox) -> dict[str, list[int]]:
    tenant = sandbox.tenant
    candidates = [
        pid
        for pid, record in sorted(tenant.records["people"].items())
        if record.data.get("folder", {}).get("id") != EMPLOYEE_FOLDER
    ]
    edited = candidates[:5]
    for pid in edited:
        tenant.patch("people", pid, {"field51238": "Remote"})
    job_id = min(tenant.records["jobs"])
    new_person = tenant.add(
        "people", {"firstname": "Demo", "lastname": "Applicant", "email": "demo@example.com"}
    )
    workflow = tenant.add(
        "applicantworkflows",
        {
            "baseprofile": job_id,
            "associatedprofile": new_person,
            "status": list_node(APPLICANT_NEW_SUBMISSION),
            "source": "Career Site",
        },
    )
    erased = candidates[-1]
    sandbox.erase_person(erased)
    return {"edited": edited, "new_person": [new_person], "new_workflow": [workflow], "erased": [erased]}


def _rediscover(settings: Settings, store: MirrorStore, sandbox) -> None:
    job_id = _open_requisition(store)
    deps = RediscoveryDeps.from_settings(settings, mirror=store)
    with open_checkpointer(settings) as saver:
        graph = build_graph(saver, deps=deps)
        title = (store.get_data("jobs", job_id) or {}).get("jobtitle")
        typer.secho(
            f"6. Rediscovery for open requisition {job_id} ({title}): top 10 from the mirror", bold=True
        )
        started, before = time.perf_counter(), sandbox.requests_total
        run = start_run(graph, job_id=job_id, customer_id=settings.icims_customer_id, top_k=10)
        seconds = time.perf_counter() - started
        typer.echo(format_rediscover_report(rediscover_report(run)))
        if run.shortlist:
            top = run.shortlist[0]
            typer.echo(f"   #1 {top['name']}, in three bullets:")
            typer.echo("\n".join(f"     - {bullet}" for bullet in top["summary"]))
            typer.echo(f"   suggested outreach: {top['outreach_line']}")
        retrieval = run.values.get("retrieval") or {}
        typer.echo(
            f"   {retrieval.get('indexed', 0):,} people with resumes ranked in {seconds:.1f} s; "
            f"iCIMS requests: {sandbox.requests_total - before} (the requisition refresh)"
        )

        typer.secho("7. Pending approvals (read back from the checkpointer)", bold=True)
        pending = list_pending(graph, saver)
        for row in describe(pending):
            typer.echo(f"   {row['thread_id']}  action={row['action']}  interrupt={row['interrupt_id'][:12]}")
        request = pending[0].request
        typer.echo("   config: " + ", ".join(f"{k}={v}" for k, v in request["config"].items()))
        candidates = request["action_request"]["args"]["candidates"]

        typer.secho("8. Recruiter approves with one edit: the last candidate is dropped", bold=True)
        kept = candidates[:-1]
        dropped = candidates[-1]
        typer.echo(f"   dropped: {dropped['name']} (person {dropped['person_id']}); approving {len(kept)}")
        edit = {
            "type": "edit",
            "args": {
                "candidates": [
                    {
                        "person_id": c["person_id"],
                        "proposed_action": c["proposed_action"],
                        "pool_id": c["pool_id"],
                    }
                    for c in kept
                ]
            },
        }
        seq = len(sandbox.writelog)
        values = resume_run(graph, run.thread_id, [edit], approver="demo-recruiter")
        typer.echo(format_writes(values.get("writes") or []))

        typer.secho("9. What reached iCIMS (sandbox write log)", bold=True)
        entries = sandbox.writelog[seq:]
        for entry in entries[:12]:
            typer.echo(f"   #{entry.seq:<4} {entry.method:<5} {entry.path}  {_short(entry.body)}")
        if len(entries) > 12:
            typer.echo(f"   ... {len(entries) - 12} more")

        again = len(sandbox.writelog)
        resume_run(graph, run.thread_id, [{"type": "accept", "args": None}], approver="demo-recruiter")
        typer.echo(f"   resuming the finished run again wrote {len(sandbox.writelog) - again} more entries")
        report = deps.audit.verify()
        record = values.get("audit_record") or {}
        typer.echo(
            f"   audit record #{record.get('seq')} ({str(record.get('hash', ''))[:16]}...); "
            f"chain of {report.records} verifies: {report.ok}"
        )
    deps.ledger.close()
    deps.audit.close()


def _open_requisition(store: MirrorStore) -> int:
    """The open (Approved) job with the most mirrored people sharing words with its title: a
    requisition the demo tenant has real candidates for."""
    jobs = [r for r in store.iter_records("jobs") if (r.data.get("folder") or {}).get("id") == JOB_APPROVED]
    if not jobs:
        raise RuntimeError("the demo tenant has no open requisition")
    titles: dict[str, int] = {}
    for person in store.iter_records("people"):
        for role in person.data.get("workexperience") or []:
            title = str(role.get("worktitle") or "").lower()
            titles[title] = titles.get(title, 0) + 1
    return max(jobs, key=lambda r: (titles.get(str(r.data.get("jobtitle", "")).lower(), 0), -r.id)).id


def _short(body, limit: int = 110) -> str:
    text = json.dumps(body, ensure_ascii=False) if body is not None else ""
    return text if len(text) <= limit else text[: limit - 3] + "..."
