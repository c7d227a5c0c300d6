"""`icims-agents sandbox`, `sync` and `demo`: a local iCIMS, the mirror of it, and the end-to-end run."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from server.cli_reports import format_sync_summary, sync_summary
from server.cli_state import state
from tools.settings import Settings


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


async def _run_sync(settings: Settings, *, full: bool, progress: bool):
    from tools.icims.budget import RequestBudget
    from tools.icims.client import ICIMSClient
    from tools.mirror import MirrorStore, MirrorSync

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = MirrorStore(settings.mirror_database_url)
    async with ICIMSClient.from_settings(settings, budget=RequestBudget.from_settings(settings)) as client:
        return await MirrorSync(store, client, progress=progress).run(full=full)


def demo(
    people: Annotated[int, typer.Option(help="Candidates in the demo tenant.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed for the demo tenant.")] = 7,
) -> None:
    """Run the main job end to end on a local sandbox: full sync, changes in iCIMS, incremental sync."""
    from server.demo import run_demo

    run_demo(people=people, seed=seed)
