"""What every `icims-agents` command shares: the `--env-file` the top-level callback was given.

Its own module so the sub-command modules (worker, events, audit, nurture, offer) can import it
without importing `server.cli`, which registers them (a cycle that breaks `python -m server.cli`).
"""

from __future__ import annotations

from pathlib import Path

from tools.settings import Settings


class CliState:
    env_file: Path | None = None

    def settings(self) -> Settings:
        if self.env_file is not None:
            return Settings(_env_file=self.env_file)
        return Settings()


state = CliState()
