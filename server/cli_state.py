"""What every `icims-agents` command shares: the `--env-file` the top-level callback was given.

Its own module so the sub-command modules (worker, events, audit, nurture, offer) can import it
without importing `server.cli`, which registers them (a cycle that breaks `python -m server.cli`).
"""

from __future__ import annotations

from pathlib import Path

import typer
from pydantic import ValidationError

from tools.settings import Settings


class CliState:
    env_file: Path | None = None

    def settings(self) -> Settings:
        """The settings, or exit 2 naming each refused setting (never echoing the values given)."""
        try:
            if self.env_file is not None:
                return Settings(_env_file=self.env_file)
            return Settings()
        except ValidationError as exc:
            for error in exc.errors(include_input=False, include_url=False):
                where = ".".join(str(part) for part in error["loc"])
                message = error["msg"].removeprefix("Value error, ")
                typer.echo(f"invalid settings: {where + ': ' if where else ''}{message}", err=True)
            raise typer.Exit(2) from None


state = CliState()
