"""API keys and roles (DESIGN.md "Trust").

A key looks like `ica_<key id>_<secret>`. Only the key id, a random salt and sha256(salt + secret) are
stored (SQLite `keys.sqlite` in `data_dir`), so the key is shown once, when it is created, and never
again. Each key carries one role:

- `recruiter`: sees and resolves approvals of the requisitions whose `recruiter.id` is theirs;
- `hiring_manager`: reads the shortlists of the requisitions whose `hiringmanager.id` is theirs;
- `admin`: sees and resolves everything, starts any run;
- `auditor`: reads everything, changes nothing.

`current_principal` is the FastAPI dependency: `X-API-Key: <key>`, `Authorization: Bearer <key>`, or
the `icims_agents_key` cookie (the pages' sign-in form). No valid key: 401.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal, get_args

from fastapi import Depends, HTTPException, Request, status

Role = Literal["recruiter", "hiring_manager", "admin", "auditor"]
ROLES: tuple[Role, ...] = get_args(Role)
COOKIE_NAME = "icims_agents_key"
KEY_PREFIX = "ica"
KEYS_FILE = "keys.sqlite"


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


def _digest(salt: str, secret: str) -> str:
    return hashlib.sha256((salt + secret).encode("utf-8")).hexdigest()


def split_key(raw: str) -> tuple[str, str] | None:
    """(key id, secret) of a well-formed key, else None."""
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


class KeyStore:
    """Hashed API keys in SQLite. Thread-safe; every method opens a short transaction."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        self._conn.row_factory = sqlite3.Row
        with self._tx() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS api_keys ("
                " key_id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL,"
                " recruiter_id INTEGER, salt TEXT NOT NULL, hash TEXT NOT NULL,"
                " created_at TEXT NOT NULL, demo INTEGER NOT NULL DEFAULT 0, revoked_at TEXT)"
            )

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
        self, role: str, *, name: str | None = None, recruiter_id: int | None = None, demo: bool = False
    ) -> tuple[Principal, str]:
        """A new key: (its principal, the key itself). The key is not stored and cannot be shown again."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(24)
        salt = secrets.token_hex(16)
        name = (name or f"{role}-{key_id}").strip()
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO api_keys (key_id, name, role, recruiter_id, salt, hash, created_at, demo)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key_id,
                    name,
                    role,
                    recruiter_id,
                    salt,
                    _digest(salt, secret),
                    datetime.now(UTC).isoformat(),
                    int(demo),
                ),
            )
        principal = Principal(key_id=key_id, name=name, role=role, recruiter_id=recruiter_id)  # type: ignore[arg-type]
        return principal, f"{KEY_PREFIX}_{key_id}_{secret}"

    def authenticate(self, raw: str | None) -> Principal | None:
        if not raw:
            return None
        parts = split_key(raw)
        if parts is None:
            return None
        key_id, secret = parts
        with self._tx() as conn:
            row = conn.execute(
                "SELECT * FROM api_keys WHERE key_id = ? AND revoked_at IS NULL", (key_id,)
            ).fetchone()
        if row is None or not hmac.compare_digest(row["hash"], _digest(row["salt"], secret)):
            return None
        return Principal(
            key_id=row["key_id"], name=row["name"], role=row["role"], recruiter_id=row["recruiter_id"]
        )

    def list(self, *, include_revoked: bool = False) -> list[KeyInfo]:
        query = "SELECT * FROM api_keys" + ("" if include_revoked else " WHERE revoked_at IS NULL")
        with self._tx() as conn:
            rows = conn.execute(query + " ORDER BY created_at").fetchall()
        return [
            KeyInfo(
                key_id=r["key_id"],
                name=r["name"],
                role=r["role"],
                recruiter_id=r["recruiter_id"],
                created_at=r["created_at"],
                demo=bool(r["demo"]),
                revoked_at=r["revoked_at"],
            )
            for r in rows
        ]

    def revoke(self, key_id: str) -> bool:
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
                (datetime.now(UTC).isoformat(), key_id),
            )
        return cur.rowcount > 0


def key_from_request(request: Request) -> str | None:
    header = request.headers.get("x-api-key")
    if header:
        return header.strip()
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.cookies.get(COOKIE_NAME) or None


def optional_principal(request: Request) -> Principal | None:
    """The caller, or None (pages use this to redirect to their sign-in form instead of a 401)."""
    service = getattr(request.app.state, "service", None)
    if service is None:
        return None
    return service.keys.authenticate(key_from_request(request))


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
    keys: KeyStore, *, recruiter_id: int | None = None, hiring_manager_id: int | None = None
) -> list[tuple[Principal, str]]:
    """One ready-to-use key per role for a local demo, or none when real keys exist.

    Keys are stored hashed, so earlier demo keys cannot be shown again: each call revokes them and
    issues new ones (keys made with `icims-agents keys create` are never touched, and their presence
    turns demo keys off)."""
    active = keys.list()
    if any(not k.demo for k in active):
        return []
    for info in active:
        keys.revoke(info.key_id)
    ids: dict[Role, int | None] = {
        "recruiter": recruiter_id,
        "hiring_manager": hiring_manager_id,
        "admin": None,
        "auditor": None,
    }
    return [keys.create(role, name=f"demo-{role}", recruiter_id=ids[role], demo=True) for role in ROLES]
