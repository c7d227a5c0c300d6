"""API keys, roles and the pages' sessions (DESIGN.md "Trust").

A key looks like `ica_<key id>_<secret>`. Only the key id, a random salt and sha256(salt + secret) are
stored (SQLite `keys.sqlite` in `data_dir`), so the key is shown once, when it is created, and never
again. Each key carries one role:

- `recruiter`: sees and resolves approvals of the requisitions whose `recruiter.id` is theirs;
- `hiring_manager`: reads the shortlists of the requisitions whose `hiringmanager.id` is theirs;
- `admin`: sees and resolves everything, starts any run;
- `auditor`: reads everything, changes nothing.

Demo keys (`icims-agents serve` against the local sandbox) expire after `DEMO_KEY_TTL_SECONDS` and
stop working as soon as a real admin key exists.

The pages' sign-in form trades a key for a server-side session: a random id in the `COOKIE_NAME`
cookie (HttpOnly, SameSite=Strict, Secure over https), its sha256 in the same database, bound to the
key (revoking the key ends its sessions), expiring after `SESSION_TTL_SECONDS` or
`SESSION_IDLE_SECONDS` unused. The cookie never holds the key.

`current_principal` is the FastAPI dependency: `X-API-Key: <key>`, `Authorization: Bearer <key>`, or
the session cookie. No valid credential: 401; too many wrong keys from one client: 429 with
Retry-After (`server.security.FailureThrottle`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal, get_args

from fastapi import Depends, HTTPException, Request, status

from server.security import COOKIE_NAME as COOKIE_NAME  # the pages and tests import it from here
from server.security import check_key, header_key, session_cookie

Role = Literal["recruiter", "hiring_manager", "admin", "auditor"]
ROLES: tuple[Role, ...] = get_args(Role)
KEY_PREFIX = "ica"
KEYS_FILE = "keys.sqlite"
DEMO_KEY_TTL_SECONDS = 12 * 3600
SESSION_TTL_SECONDS = 12 * 3600
SESSION_IDLE_SECONDS = 2 * 3600
# A session's last use is written at most this often (a page view is not a database write).
_TOUCH_SECONDS = 60


@dataclass(frozen=True)
class Principal:
    """Who is calling. `recruiter_id` is the iCIMS person id matched against a job's `recruiter.id`
    (recruiters) or `hiringmanager.id` (hiring managers)."""

    key_id: str
    name: str
    role: Role
    recruiter_id: int | None = None

    @property
    def label(self) -> str:
        """How decisions name the approver: role, name and key id (never the key)."""
        return f"{self.role}:{self.name}#{self.key_id}"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def reads_everything(self) -> bool:
        return self.role in ("admin", "auditor")


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    name: str
    role: Role
    recruiter_id: int | None
    created_at: str
    demo: bool
    revoked_at: str | None
    expires_at: float | None = None  # epoch seconds; demo keys only


def _digest(salt: str, secret: str) -> str:
    return hashlib.sha256((salt + secret).encode("utf-8")).hexdigest()


def _session_hash(session_id: str) -> str:
    # Session ids are 256 random bits: an unsalted hash suffices, and a copied database yields none.
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def split_key(raw: str) -> tuple[str, str] | None:
    """(key id, secret) of a well-formed key, else None."""
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def _principal(row: sqlite3.Row) -> Principal:
    return Principal(
        key_id=row["key_id"], name=row["name"], role=row["role"], recruiter_id=row["recruiter_id"]
    )


class KeyStore:
    """Hashed API keys and page sessions in SQLite. Thread-safe; every method opens a short
    transaction. `clock` (epoch seconds) is what expiries are measured against."""

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.clock = clock
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        self._conn.row_factory = sqlite3.Row
        with self._tx() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS api_keys ("
                " key_id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL,"
                " recruiter_id INTEGER, salt TEXT NOT NULL, hash TEXT NOT NULL,"
                " created_at TEXT NOT NULL, demo INTEGER NOT NULL DEFAULT 0, revoked_at TEXT,"
                " expires_at REAL)"
            )
            columns = {r["name"] for r in conn.execute("PRAGMA table_info(api_keys)")}
            if "expires_at" not in columns:  # a key store from before keys could expire
                conn.execute("ALTER TABLE api_keys ADD COLUMN expires_at REAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS ui_sessions ("
                " id_hash TEXT PRIMARY KEY, key_id TEXT NOT NULL, created_at REAL NOT NULL,"
                " last_seen REAL NOT NULL, expires_at REAL NOT NULL)"
            )
            conn.execute("CREATE INDEX IF NOT EXISTS ui_sessions_key ON ui_sessions (key_id)")

    @classmethod
    def for_data_dir(cls, data_dir: str | Path) -> KeyStore:
        return cls(Path(data_dir) / KEYS_FILE)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._conn:
            yield self._conn

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def create(
        self,
        role: str,
        *,
        name: str | None = None,
        recruiter_id: int | None = None,
        demo: bool = False,
        expires_in: float | None = None,
    ) -> tuple[Principal, str]:
        """A new key: (its principal, the key itself). The key is not stored and cannot be shown again.
        A real (non-demo) admin key revokes every demo key."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(24)
        salt = secrets.token_hex(16)
        name = (name or f"{role}-{key_id}").strip()
        expires_at = None if expires_in is None else self.clock() + expires_in
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO api_keys (key_id, name, role, recruiter_id, salt, hash, created_at, demo,"
                " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key_id,
                    name,
                    role,
                    recruiter_id,
                    salt,
                    _digest(salt, secret),
                    datetime.now(UTC).isoformat(),
                    int(demo),
                    expires_at,
                ),
            )
            if role == "admin" and not demo:
                self._revoke_demo(conn)
        principal = Principal(key_id=key_id, name=name, role=role, recruiter_id=recruiter_id)  # type: ignore[arg-type]
        return principal, f"{KEY_PREFIX}_{key_id}_{secret}"

    def _usable(self, conn: sqlite3.Connection, row: sqlite3.Row | None) -> bool:
        """Not revoked, not expired, and not a demo key once a real admin key exists."""
        if row is None or row["revoked_at"] is not None:
            return False
        if row["expires_at"] is not None and row["expires_at"] <= self.clock():
            return False
        if row["demo"]:
            real_admin = conn.execute(
                "SELECT 1 FROM api_keys WHERE role = 'admin' AND demo = 0 AND revoked_at IS NULL LIMIT 1"
            ).fetchone()
            return real_admin is None
        return True

    def authenticate(self, raw: str | None) -> Principal | None:
        if not raw:
            return None
        parts = split_key(raw)
        if parts is None:
            return None
        key_id, secret = parts
        with self._tx() as conn:
            row = conn.execute("SELECT * FROM api_keys WHERE key_id = ?", (key_id,)).fetchone()
            if not self._usable(conn, row):
                return None
        if not hmac.compare_digest(row["hash"], _digest(row["salt"], secret)):
            return None
        return _principal(row)

    def list(self, *, include_revoked: bool = False) -> list[KeyInfo]:
        """Keys in use (or every key ever made, with `include_revoked`)."""
        query = "SELECT * FROM api_keys"
        if not include_revoked:
            query += " WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)"
        with self._tx() as conn:
            rows = conn.execute(query + " ORDER BY created_at", () if include_revoked else (self.clock(),))
            rows = rows.fetchall()
        return [
            KeyInfo(
                key_id=r["key_id"],
                name=r["name"],
                role=r["role"],
                recruiter_id=r["recruiter_id"],
                created_at=r["created_at"],
                demo=bool(r["demo"]),
                revoked_at=r["revoked_at"],
                expires_at=r["expires_at"],
            )
            for r in rows
        ]

    def revoke(self, key_id: str) -> bool:
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
                (datetime.now(UTC).isoformat(), key_id),
            )
            conn.execute("DELETE FROM ui_sessions WHERE key_id = ?", (key_id,))
        return cur.rowcount > 0

    def revoke_demo_keys(self) -> int:
        """Revoke every demo key (and end its sessions); how many were active."""
        with self._tx() as conn:
            return self._revoke_demo(conn)

    def _revoke_demo(self, conn: sqlite3.Connection) -> int:
        cur = conn.execute(
            "UPDATE api_keys SET revoked_at = ? WHERE demo = 1 AND revoked_at IS NULL",
            (datetime.now(UTC).isoformat(),),
        )
        conn.execute("DELETE FROM ui_sessions WHERE key_id IN (SELECT key_id FROM api_keys WHERE demo = 1)")
        return cur.rowcount

    # --- page sessions ---------------------------------------------------------------------------

    def open_session(self, principal: Principal, *, ttl: float = SESSION_TTL_SECONDS) -> str:
        """A new session for a key's holder: its id (for the cookie; only its hash is stored)."""
        session_id = secrets.token_urlsafe(32)
        now = self.clock()
        with self._tx() as conn:
            conn.execute(
                "DELETE FROM ui_sessions WHERE expires_at <= ? OR last_seen <= ?",
                (now, now - SESSION_IDLE_SECONDS),
            )
            conn.execute(
                "INSERT INTO ui_sessions (id_hash, key_id, created_at, last_seen, expires_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (_session_hash(session_id), principal.key_id, now, now, now + ttl),
            )
        return session_id

    def session(self, session_id: str | None) -> Principal | None:
        """The principal of a live session, or None (unknown, expired, idle too long, key revoked)."""
        if not session_id:
            return None
        id_hash = _session_hash(session_id)
        now = self.clock()
        with self._tx() as conn:
            found = conn.execute("SELECT * FROM ui_sessions WHERE id_hash = ?", (id_hash,)).fetchone()
            if found is None:
                return None
            if found["expires_at"] <= now or found["last_seen"] <= now - SESSION_IDLE_SECONDS:
                conn.execute("DELETE FROM ui_sessions WHERE id_hash = ?", (id_hash,))
                return None
            row = conn.execute("SELECT * FROM api_keys WHERE key_id = ?", (found["key_id"],)).fetchone()
            if not self._usable(conn, row):
                conn.execute("DELETE FROM ui_sessions WHERE id_hash = ?", (id_hash,))
                return None
            if now - found["last_seen"] >= _TOUCH_SECONDS:
                conn.execute("UPDATE ui_sessions SET last_seen = ? WHERE id_hash = ?", (now, id_hash))
        return _principal(row)

    def close_session(self, session_id: str | None) -> None:
        if session_id:
            with self._tx() as conn:
                conn.execute("DELETE FROM ui_sessions WHERE id_hash = ?", (_session_hash(session_id),))


def optional_principal(request: Request) -> Principal | None:
    """The caller, or None (pages use this to redirect to their sign-in form instead of a 401).
    A key header wins over the session cookie."""
    service = getattr(request.app.state, "service", None)
    if service is None:
        return None
    key = header_key(request)
    if key is not None:
        return check_key(request, service.keys, key)
    return service.keys.session(session_cookie(request))


def current_principal(request: Request) -> Principal:
    principal = optional_principal(request)
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="a valid API key is required (X-API-Key or Authorization: Bearer)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role):
    """A dependency that lets only these roles through (403 otherwise)."""

    def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"the {principal.role} role cannot do this")
        return principal

    return check


def issue_demo_keys(
    keys: KeyStore,
    *,
    recruiter_id: int | None = None,
    hiring_manager_id: int | None = None,
    ttl_seconds: float = DEMO_KEY_TTL_SECONDS,
) -> list[tuple[Principal, str]]:
    """One ready-to-use key per role for a local demo (valid `ttl_seconds`), or none when real keys
    exist. Callers issue them against the local sandbox only (`Settings.sandbox_mode`).

    Keys are stored hashed, so earlier demo keys cannot be shown again: each call revokes them and
    issues new ones (keys made with `icims-agents keys create` are never touched, and their presence
    turns demo keys off)."""
    keys.revoke_demo_keys()
    if keys.list():
        return []
    ids: dict[Role, int | None] = {
        "recruiter": recruiter_id,
        "hiring_manager": hiring_manager_id,
        "admin": None,
        "auditor": None,
    }
    return [
        keys.create(role, name=f"demo-{role}", recruiter_id=ids[role], demo=True, expires_in=ttl_seconds)
        for role in ROLES
    ]
