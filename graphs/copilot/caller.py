"""Who is asking: the principal from the run config as the tools see it.

The service puts its `server.auth.Principal` in `config["configurable"]["principal"]` (a dict of the
same fields works too); without one the caller is a read-only auditor."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from langchain_core.runnables import RunnableConfig

from tools.mirror.store import link_id

Role = Literal["recruiter", "hiring_manager", "admin", "auditor"]
ROLES: tuple[Role, ...] = ("recruiter", "hiring_manager", "admin", "auditor")


@dataclass(frozen=True)
class Caller:
    """The principal as the tools see it. `recruiter_id`: the caller's iCIMS person id, matched
    against a job's recruiter (recruiters) or hiring manager (hiring managers)."""

    name: str
    role: Role
    recruiter_id: int | None = None
    key_id: str | None = None

    @property
    def can_resolve(self) -> bool:
        return self.role in ("recruiter", "admin")

    def owns(self, job: Mapping[str, Any] | None) -> bool:
        """May this caller see the requisition's items (and, for recruiters, act on them)?"""
        if self.role in ("admin", "auditor"):
            return True
        if job is None or self.recruiter_id is None:
            return False
        link = job.get("hiringmanager" if self.role == "hiring_manager" else "recruiter")
        return link_id(link) == self.recruiter_id


ANONYMOUS = Caller(name="anonymous", role="auditor")


def caller_from(principal: Any) -> Caller:
    """A `Caller` from a `server.auth.Principal`, a dict of its fields, or None (read-only)."""
    if principal is None:
        return ANONYMOUS
    if isinstance(principal, Caller):
        return principal
    if isinstance(principal, Mapping):
        get = principal.get
    else:

        def get(name: str, default: Any = None) -> Any:
            return getattr(principal, name, default)

    role = str(get("role", "auditor"))
    if role not in ROLES:
        role = "auditor"
    rid = get("recruiter_id")
    return Caller(
        name=str(get("name") or get("key_id") or "unknown"),
        role=role,  # type: ignore[arg-type]
        recruiter_id=int(rid) if rid is not None and str(rid).strip().isdigit() else None,
        key_id=str(get("key_id")) if get("key_id") is not None else None,
    )


def principal_of(config: RunnableConfig | None) -> Any:
    """The principal the run config carries, as the caller passed it (None: read-only)."""
    return ((config or {}).get("configurable") or {}).get("principal")
