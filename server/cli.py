"""`icims-agents`: the command line for recruiters' integration engineers.

Every command reads one Settings object; `--env-file` picks a dotenv file (for example the one that
`icims-agents sandbox --env-file` writes), otherwise `.env` and `ICIMS_AGENTS_*` variables apply.

This module holds the app, that callback and the order the commands are listed in; each command
lives in a `server/cli_*` module and imports what it runs when it runs (so `--help` opens no graph).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from server import (
    cli_audit,
    cli_nurture,
    cli_offer,
    cli_rank,
    cli_rediscover,
    cli_serve,
    cli_sync,
    cli_worker,
)
from server.cli_state import state
from tools.logs import configure_logging

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


# Registration order is the order `icims-agents --help` lists them in.
app.command()(cli_sync.sandbox)
app.command()(cli_sync.sync)
app.command()(cli_sync.demo)
app.command()(cli_serve.serve)
app.add_typer(cli_serve.keys_app, name="keys")
app.command()(cli_rank.rank)
app.command()(cli_rediscover.rediscover)
app.command()(cli_worker.worker)
app.add_typer(cli_worker.events_app, name="events")
app.add_typer(cli_offer.app, name="offer")
app.add_typer(cli_audit.app, name="audit")
app.add_typer(cli_nurture.app, name="nurture")

if __name__ == "__main__":
    app()
