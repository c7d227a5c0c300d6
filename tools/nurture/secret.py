"""The key unsubscribe links are signed with: settings' `nurture_unsubscribe_secret`, else a random
one created once in `data_dir`, so links keep working across restarts of the same installation."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tools.settings import Settings


def secret_for(settings: Settings) -> bytes:
    configured = settings.nurture_unsubscribe_secret
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value().encode("utf-8")
    path = Path(settings.data_dir) / "nurture_unsubscribe.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Exclusive create: two processes starting together keep whichever wrote first.
        try:
            with open(path, "x", encoding="ascii") as fh:
                fh.write(secrets.token_hex(32))
            path.chmod(0o600)
        except FileExistsError:
            pass
    return path.read_text(encoding="ascii").strip().encode("ascii")
