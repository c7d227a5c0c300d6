"""A throwaway PostgreSQL cluster for the tests that need a real server (the mirror on Postgres, the
Postgres checkpointer): initdb + pg_ctl into a temp dir, started once per session and stopped at its
end. conftest.py registers the `postgres_url` fixture; `scratch_database` gives a test its own database.

Skipped when no PostgreSQL server binaries are installed (`/usr/lib/postgresql/*/bin/initdb`) or
when the cluster cannot be run: initdb refuses root, so as root it runs as the `postgres` user."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

# --- a throwaway PostgreSQL cluster --------------------------------------------------------------


def _pg_bindir() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(v) if (v := Path(p).parts[-3]).isdigit() else 0,
    )
    return Path(found[-1]).parent if found else None


def _run_as() -> str | None:
    """The user the cluster runs as: `postgres` (from root, or being it), else None (cannot run)."""
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return None
    if os.geteuid() == 0:
        return "postgres"
    if pwd.getpwuid(os.geteuid()).pw_name == "postgres":
        return ""  # already that user: no switch
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb)")
    user = _run_as()
    if user is None:
        pytest.skip(
            "a throwaway PostgreSQL cluster needs root (to run it as `postgres`) or the postgres user"
        )

    # Not under pytest's tmp dir: its parents are private to root, and `postgres` must reach the dir.
    root = Path(tempfile.mkdtemp(prefix="icims-pg-"))
    data, log = root / "data", root / "pg.log"
    if user:
        shutil.chown(root, user=user)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}

    def pg(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(bindir / tool), *args],
            user=user or None,
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def fail(step: str, result: subprocess.CompletedProcess[str]) -> None:
        server_log = log.read_text(errors="replace") if log.exists() else ""
        pytest.fail(f"{step} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}\n{server_log}")

    port = _free_port()
    try:
        result = pg("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        if result.returncode != 0:
            fail("initdb", result)
        # A non-UTC session time zone: timestamps must come back as the same UTC instants anyway.
        options = (
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c timezone=America/New_York"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        # -w: pg_ctl returns once the server accepts connections (or fails after -t seconds).
        result = pg("pg_ctl", "-D", str(data), "-o", options, "-l", str(log), "-w", "-t", "30", "start")
        if result.returncode != 0:
            fail("pg_ctl start", result)
        result = pg("pg_isready", "-h", "127.0.0.1", "-p", str(port), "-t", "10")
        if result.returncode != 0:
            fail("pg_isready", result)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():  # also after a start that timed out
            pg("pg_ctl", "-D", str(data), "-m", "fast", "-w", "-t", "30", "stop")
        shutil.rmtree(root, ignore_errors=True)


def libpq_url(url: str) -> str:
    """The libpq spelling of a SQLAlchemy URL (`postgresql+psycopg://` -> `postgresql://`)."""
    scheme, _, rest = url.partition("://")
    return f"{scheme.split('+', 1)[0]}://{rest}"


@contextmanager
def scratch_database(postgres_url: str, prefix: str = "t") -> Iterator[str]:
    """A new, empty database on the session's cluster (same URL spelling), dropped on exit."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin_url = libpq_url(postgres_url)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
