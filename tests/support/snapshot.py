"""One seeded, prepared and synced tenant per test run, copied per test instead of seeding and
syncing again: `synced(...)` builds it the first time (`prepare` edits the fresh sandbox's tenant,
then the mirror is synced), and every later call with the same name serves a copy of that tenant
from a new sandbox and copies the mirror database into the test's own data_dir."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.icims.client import ICIMSClient
from tools.mirror import MirrorStore, MirrorSync


@dataclass
class _Snapshot:
    tenant: Any  # sandbox.store.Tenant, never served itself
    mirror: Path  # the synced mirror database
    config: dict[str, Any]
    extra: Any


_SNAPSHOTS: dict[str, _Snapshot] = {}


def sync_mirror(settings: Any) -> None:
    async def run() -> None:
        store = MirrorStore(settings.mirror_database_url)
        try:
            async with ICIMSClient.from_settings(settings) as client:
                await MirrorSync(store, client, progress=False).run(full=True)
        finally:
            store.close()

    asyncio.run(run())


def _copy_database(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def synced(
    name: str,
    sandbox_factory: Any,
    tmp_path: Path,
    *,
    prepare: Callable[[Any], Any] = lambda box: None,
    settings: Callable[[Any], Any] | None = None,
    **config: Any,
) -> tuple[Any, Any, Any]:
    """(sandbox, settings, what `prepare` returned). `settings(box)` makes the test's settings
    (default: the sandbox's, with data_dir under tmp_path); the mirror must be SQLite there."""
    make_settings = settings or (lambda box: box.settings(data_dir=str(tmp_path / "state")))
    snap = _SNAPSHOTS.get(name)
    if snap is None:
        box = sandbox_factory(**config)
        extra = prepare(box)
        values = make_settings(box)
        sync_mirror(values)
        # Kept apart from every test's files: a copy of the mirror and of the prepared tenant.
        keep = Path(__import__("tempfile").mkdtemp(prefix=f"snapshot-{name}-")) / "mirror.sqlite"
        _copy_database(values.data_dir / "mirror.sqlite", keep)
        _SNAPSHOTS[name] = _Snapshot(box.state.tenant.copy(), keep, dict(config), extra)
        box.state.writelog.clear()
        return box, values, extra
    box = sandbox_factory(tenant=snap.tenant.copy(), **snap.config)
    values = make_settings(box)
    _copy_database(snap.mirror, values.data_dir / "mirror.sqlite")
    return box, values, snap.extra
