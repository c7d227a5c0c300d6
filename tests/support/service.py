"""Shared set-up for the service tests (no tests here): a sandbox tenant whose two open requisitions
belong to two recruiters, a synced mirror, API keys for every role, and the service served by
uvicorn on 127.0.0.1 so every test speaks real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from sandbox.server import ServerThread
from server.app import create_app
from server.auth import KeyStore
from support.snapshot import synced
from tools.embeddings import HashEmbeddings
from tools.icims.codes import JOB_APPROVED

JOB_A = 1004  # recruiter 1, hiring manager 3
JOB_B = 1005  # recruiter 2, hiring manager 4
RECRUITER_A, RECRUITER_B, MANAGER_A, MANAGER_B = 1, 2, 3, 4

# label -> (role, recruiter id)
PRINCIPALS: dict[str, tuple[str, int | None]] = {
    "admin": ("admin", None),
    "auditor": ("auditor", None),
    "rec_a": ("recruiter", RECRUITER_A),
    "rec_b": ("recruiter", RECRUITER_B),
    "hm_a": ("hiring_manager", MANAGER_A),
    "hm_other": ("hiring_manager", 999),
}


def _link(cid: int, person_id: int) -> dict[str, Any]:
    return {"profile": f"https://api.icims.com/customers/{cid}/people/{person_id}", "id": person_id}


@dataclass
class ServiceEnv:
    box: Any  # conftest.RunningSandbox
    settings: Any
    keys: dict[str, str]
    server: ServerThread | None = None
    clients: dict[str, httpx.Client] = field(default_factory=dict)

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    @property
    def writelog(self) -> list[Any]:
        return self.box.state.writelog

    def start(self) -> None:
        app = create_app(self.settings, embeddings=HashEmbeddings())
        self.server = ServerThread(app).start()
        self.app = app

    def stop(self) -> None:
        for client in self.clients.values():
            client.close()
        self.clients.clear()
        if self.server is not None:
            self.server.stop()
            self.server = None

    def restart(self) -> None:
        """A new app (new ServiceState, checkpointer, key store) on the same data_dir."""
        self.stop()
        self.start()

    def client(self, who: str | None) -> httpx.Client:
        label = who or "anonymous"
        if label not in self.clients:
            headers = {"X-API-Key": self.keys[who]} if who else {}
            self.clients[label] = httpx.Client(base_url=self.url, headers=headers, timeout=60)
        return self.clients[label]

    def run(self, who: str, job_id: int, top_k: int = 4, **body: Any) -> dict[str, Any]:
        r = self.client(who).post(
            "/runs/rediscovery", json={"input": {"job_id": job_id, "top_k": top_k}, **body}
        )
        assert r.status_code in (200, 202), r.text
        return r.json()


@contextmanager
def service_env(sandbox_factory: Any, tmp_path: Any) -> Iterator[ServiceEnv]:
    def prepare(box: Any) -> None:
        tenant = box.state.tenant
        cid = int(box.env["ICIMS_AGENTS_ICIMS_CUSTOMER_ID"])
        # Two requisitions of two recruiters (and two hiring managers).
        for job_id, recruiter, manager in ((JOB_A, RECRUITER_A, MANAGER_A), (JOB_B, RECRUITER_B, MANAGER_B)):
            data = tenant.records["jobs"][job_id].data
            data["recruiter"] = _link(cid, recruiter)
            data["hiringmanager"] = _link(cid, manager)
            assert data["folder"]["id"] == JOB_APPROVED  # open

    box, settings, _ = synced("service", sandbox_factory, tmp_path, prepare=prepare, people=40, seed=7)
    store = KeyStore.for_data_dir(settings.data_dir)
    keys = {
        label: store.create(role, name=label, recruiter_id=rid)[1]
        for label, (role, rid) in PRINCIPALS.items()
    }
    store.close()
    env = ServiceEnv(box=box, settings=settings, keys=keys)
    env.start()
    try:
        yield env
    finally:
        env.stop()


def candidates(detail: dict[str, Any]) -> list[dict[str, Any]]:
    return detail["args"]["candidates"]


def writes_made(env: ServiceEnv) -> list[tuple[str, str]]:
    return [(e.method, e.path) for e in env.writelog]
