"""Everything one running sandbox holds: tenant, clock, tokens, quota, faults, write log, events."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.auth import TokenStore
from sandbox.config import FaultConfig, SandboxConfig
from sandbox.faults import FaultInjector
from sandbox.quota import Quota
from sandbox.serialize import DEFAULT_LIST_NODES, Serializer, node
from sandbox.store import Tenant
from sandbox.webhooks import Webhooks
from sandbox.writelog import WriteLog, WriteLogEntry
from tools.icims import codes

PURGED_FOLDER = codes.PURGED_FOLDER
# Person fields that identify or contact someone; erasure removes them (collections included).
ERASED_FIELDS = (
    "firstname",
    "middlename",
    "lastname",
    "email",
    "alternateemail",
    "addresses",
    "phones",
    "workexperience",
    "education",
    "externalid",
    "linkedin",
    "website",
)


class SandboxState:
    """`app.state.sandbox` (docs/RECORDS.md)."""

    def __init__(self, config: SandboxConfig, tenant: Tenant | None = None):
        self.config = config
        self._clock_offset = timedelta()
        self._lock = threading.Lock()
        if tenant is None:
            tenant = Tenant(config.customer_id, clock=self.now)
        else:
            # Writes through the API must carry the sandbox clock, whoever built the tenant.
            tenant.clock = self.now
        self.tenant = tenant
        self.faults: FaultConfig = config.faults.model_copy()
        self.fault_injector = FaultInjector(self.faults)
        self.writelog: list[WriteLogEntry] = []
        self.log = WriteLog(self.writelog)
        self.requests_total = 0
        self.requests_by_method: Counter[str] = Counter()
        self.requests_by_status: Counter[int] = Counter()
        self.tokens = TokenStore(clock=self.now)
        self.quota = Quota(clock=self.now, limit=lambda: self.config.daily_limit)
        self.webhooks = Webhooks(clock=self.now)
        self.serializer = Serializer(tenant, config.customer_id)

    # --- clock ------------------------------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.now(UTC) + self._clock_offset

    def advance_clock(self, seconds: float) -> datetime:
        with self._lock:
            self._clock_offset += timedelta(seconds=seconds)
        return self.now()

    # --- accounting ---------------------------------------------------------------------------------

    def count_request(self, method: str) -> None:
        with self._lock:
            self.requests_total += 1
            self.requests_by_method[method] += 1

    def log_write(self, method: str, path: str, body: Any) -> WriteLogEntry:
        return self.log.append(method, path, body, self.now())

    # --- admin operations -----------------------------------------------------------------------

    def erase_person(self, person_id: int) -> bool:
        """Anonymise a person as an erasure request would: PII gone, folder Purged, updateddate bumped."""
        tenant = self.tenant
        with tenant.lock:
            record = tenant.get("people", person_id)
            if record is None:
                return False
            cleared = [key for key in ERASED_FIELDS if key in record.data]
            changes: dict[str, Any] = dict.fromkeys(cleared)
            changes["folder"] = node(PURGED_FOLDER, DEFAULT_LIST_NODES[PURGED_FOLDER])
            tenant.patch("people", person_id, changes)
            for key in [k for k in tenant.binaries if k[0] == "people" and k[1] == person_id]:
                del tenant.binaries[key]
            for key in [k for k in tenant.texts if k[0] == "people" and k[1] == person_id]:
                del tenant.texts[key]
            tenant.demographics.pop(person_id, None)
        self.log_write(
            "POST",
            f"/_sandbox/people/{person_id}/erase",
            {"cleared": [*cleared, "resume"], "folder": {"id": PURGED_FOLDER}},
        )
        return True

    def stats(self) -> dict[str, Any]:
        quota = self.quota.status(self.config.customer_id)
        return {
            "customer_id": self.config.customer_id,
            "now": self.now().isoformat(),
            "requests_total": self.requests_total,
            "requests_by_method": dict(self.requests_by_method),
            "requests_by_status": {str(k): v for k, v in self.requests_by_status.items()},
            "faults_injected": {str(k): v for k, v in self.fault_injector.injected.items()},
            "tokens_issued": self.tokens.issued_total,
            "quota": {
                "limit": quota.limit,
                "used": self.quota.used_today(self.config.customer_id),
                "remaining": quota.remaining,
                "reset_seconds": quota.reset_seconds,
            },
            "records": {kind: self.tenant.count(kind) for kind in self.tenant.records},
            "writes": len(self.writelog),
            "events": len(self.webhooks.events),
        }
