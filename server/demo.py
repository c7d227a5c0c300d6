"""`make demo`: the main job end to end on embedded defaults.

Starts the local iCIMS sandbox on 127.0.0.1, mirrors it in full, lets "recruiters" change a few
records inside iCIMS, mirrors again incrementally, and prints what each pass synced and what it cost
in iCIMS requests (counted by the client and, independently, by the sandbox).
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import typer

from sandbox.app import create_app
from sandbox.config import SandboxConfig, client_env
from sandbox.server import ServerThread
from server.cli import format_sync_summary, sync_summary
from tools.icims.budget import RequestBudget
from tools.icims.client import ICIMSClient
from tools.mirror import MirrorStore, MirrorSync
from tools.settings import Settings


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
        if record.data.get("folder", {}).get("id") != "D32010"
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
            "status": {"id": "D10100", "value": "New Submissions", "formattedvalue": "New Submissions"},
            "source": "Career Site",
        },
    )
    erased = candidates[-1]
    sandbox.erase_person(erased)
    return {"edited": edited, "new_person": [new_person], "new_workflow": [workflow], "erased": [erased]}
