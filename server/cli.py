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


class _State:
    env_file: Path | None = None

    def settings(self) -> Settings:
        if self.env_file is not None:
            return Settings(_env_file=self.env_file)
        return Settings()


state = _State()


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
) -> None:
    """Run the icims-agents service (OpenAPI docs at /docs)."""
    import uvicorn

    from server.app import create_app

    uvicorn.run(create_app(state.settings()), host=host, port=port)


if __name__ == "__main__":
    app()
