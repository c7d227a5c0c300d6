"""The icims-agents HTTP service. This foundation serves health and mirror status; the run,
approvals and copilot APIs mount here as the graphs land."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from tools.settings import Settings


class Health(BaseModel):
    status: str
    mirror: dict[str, int]
    last_sync: dict[str, Any] | None


def create_app(settings: Settings | None = None) -> FastAPI:
    from tools.mirror import MirrorStore

    settings = settings or Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = MirrorStore(settings.mirror_database_url)
    api = FastAPI(
        title="icims-agents",
        version="0.1.0",
        description="AI agents over iCIMS with human approval before every write.",
    )

    @api.get("/health", response_model=Health, summary="Liveness plus mirror counts")
    def health() -> Health:
        return Health(status="ok", mirror=store.counts(), last_sync=store.last_run())

    return api
