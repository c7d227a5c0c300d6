"""Event payloads as iCIMS sends them, the per-tenant intake settings and the vendor error body."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

# What `server/demo_triage.py` and the tests register as the sandbox's webhook credentials.
SANDBOX_EVENTS_TENANT: dict[str, Any] = {
    "auth": "hmac",
    "hmac_user": "sandbox-events",
    "hmac_secret": "sandbox-events-secret",
}

# Every iCIMS event carries these (API_NOTES 5); the integration review checks that a payload missing
# one is refused with a 400 naming it.
REQUIRED_FIELDS = ("customerId", "eventType", "systemId")


class EventTenant(BaseModel):
    """How one iCIMS customer authenticates its event notifications to us."""

    model_config = ConfigDict(extra="forbid")

    auth: Literal["hmac", "basic", "bearer"]
    hmac_user: str | None = None
    hmac_secret: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    # Bearer: iCIMS fetches a token from `POST /events/oauth/token` with these (client credentials).
    client_id: str | None = None
    client_secret: SecretStr | None = None
    duplicate_reply: Literal["error", "ok"] = "error"

    @model_validator(mode="after")
    def _credentials(self) -> EventTenant:
        needed = {
            "hmac": ("hmac_user", "hmac_secret"),
            "basic": ("username", "password"),
            "bearer": ("client_id", "client_secret"),
        }[self.auth]
        missing = [name for name in needed if not getattr(self, name)]
        if missing:
            raise ValueError(f"auth {self.auth!r} needs {', '.join(missing)}")
        return self


class ICIMSEvent(BaseModel):
    """One notification (all values strings in iCIMS's payloads; unknown keys are kept, not used)."""

    model_config = ConfigDict(extra="allow")

    customerId: str
    eventType: str
    systemId: str
    userId: str | None = None
    personId: str | None = None
    jobId: str | None = None
    oldStatus: str | None = None
    newStatus: str | None = None
    returnUrl: str | None = None
    portalUrl: str | None = None
    links: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def workflow_id(self) -> int | None:
        """`systemId` is the applicant workflow for workflow and assessment events."""
        if self.eventType in ("AssessmentEvent", "WorkFlowStatusChangeEvent"):
            return _int(self.systemId)
        return None

    @property
    def person_id(self) -> int | None:
        return _int(self.personId)

    @property
    def job_id(self) -> int | None:
        if self.jobId is not None:
            return _int(self.jobId)
        # Job posting events name the job in systemId.
        return _int(self.systemId) if self.eventType.startswith("Job") else None

    def dedupe_key(self) -> str:
        """The same action fired again yields the same key: every scalar field, sorted. `links` only
        repeats the ids as URLs, and a re-send may order them differently."""
        scalars = {
            k: v
            for k, v in self.model_dump(exclude={"links"}).items()
            if v is not None and not isinstance(v, dict | list)
        }
        canonical = json.dumps(scalars, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    text = str(value).strip()
    return int(text) if text.isdigit() else None


def vendor_error(user_message: str, debug_message: str) -> dict[str, Any]:
    """The body iCIMS shows (userMessage) and logs (debugErrorMessage) for a partner error."""
    return {"error": {"userMessage": user_message, "debugErrorMessage": debug_message}}
