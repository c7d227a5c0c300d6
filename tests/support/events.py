"""Shared by the event, queue and worker tests (no tests here): tenants for every auth scheme, a
service app on 127.0.0.1, and a client that sends events the way iCIMS does (gzip'd, signed)."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from sandbox.server import ServerThread
from tools.events.models import SANDBOX_EVENTS_TENANT
from tools.icims.auth import HMACAuth
from tools.logs import configure_logging

TENANTS: dict[str, dict[str, Any]] = {
    "1000": SANDBOX_EVENTS_TENANT,
    "2000": {"auth": "basic", "username": "icims-2000", "password": "basic-secret"},
    "3000": {"auth": "bearer", "client_id": "icims-3000", "client_secret": "bearer-secret"},
    "4000": {"auth": "hmac", "hmac_user": "icims-4000", "hmac_secret": "s4000", "duplicate_reply": "ok"},
}
HMAC_1000 = HMACAuth(SANDBOX_EVENTS_TENANT["hmac_user"], SANDBOX_EVENTS_TENANT["hmac_secret"])
HMAC_4000 = HMACAuth("icims-4000", "s4000")
BASIC_2000 = {"Authorization": "Basic " + base64.b64encode(b"icims-2000:basic-secret").decode()}


@pytest.fixture(autouse=True)
def real_stderr_logging() -> Iterator[None]:
    """Log to the real stderr: a CLI test (CliRunner) leaves the loggers bound to its closed stream."""
    configure_logging()
    yield
    configure_logging()


def assessment(system_id: int, customer: str = "1000", **extra: Any) -> dict[str, Any]:
    return {
        "customerId": customer,
        "systemId": str(system_id),
        "eventType": "AssessmentEvent",
        "personId": "12",
        "jobId": "1001",
        "returnUrl": f"https://portal.example/return/{system_id}",
        **extra,
    }


def gz(payload: Any) -> bytes:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return gzip.compress(raw, mtime=0)


@dataclass
class Service:
    url: str
    app: Any
    settings: Any

    @property
    def queue(self) -> Any:
        from server.events import intake_queue

        return intake_queue(self.app)

    def post(
        self, body: bytes, *, auth: Any = HMAC_1000, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        merged = {"content-type": "application/json", "content-encoding": "gzip", **(headers or {})}
        with httpx.Client(base_url=self.url, timeout=30) as client:
            return client.post("/events/icims", content=body, headers=merged, auth=auth)


def service_settings(tmp_path: Any, **overrides: Any) -> Any:
    from tools.settings import Settings

    values: dict[str, Any] = {"data_dir": tmp_path / "state", "events_tenants": TENANTS}
    values.update(overrides)
    return Settings(_env_file=None, **values)


@contextmanager
def running_service(settings: Any) -> Iterator[Service]:
    from server.app import create_app
    from tools.embeddings import HashEmbeddings

    app = create_app(settings, embeddings=HashEmbeddings())
    with ServerThread(app) as server:
        yield Service(server.url, app, settings)
