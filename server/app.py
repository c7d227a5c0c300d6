"""The icims-agents HTTP service.

`create_app(settings)` builds one `ServiceState` at startup (`app.state.service`): the compiled
graphs on the configured checkpointer, the mirror, the audit log and the API keys. It serves the run
API, the approvals API, the audit log, health and readiness, and includes the web pages
(`server.pages.router`) and the copilot (`server.copilot.router`). OpenAPI docs at `/docs`.

`server.security.SecurityMiddleware` wraps it all (CSRF refusal for cookie-borne requests, security
headers), one `FailureThrottle` counts wrong keys, and credential query parameters are blanked in
every log line. `/health` answers its status to anyone, its details (mirror counts, last sync, event
backlog) to a valid key only.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, status
from fastapi.responses import JSONResponse, RedirectResponse, StreamingResponse
from pydantic import BaseModel, Field

from server import copilot, events, nurture, offers, pages
from server.approvals import ApprovalDetail, ApprovalSummary, Decision, ResolveResult
from server.auth import CurrentPrincipal, Principal, optional_principal, require_roles
from server.errors import ServiceError
from server.events import close_intake, intake_queue
from server.runs import RunInfo, RunStart
from server.security import FailureThrottle, SecurityMiddleware, install_log_redaction
from server.state import ServiceState, open_service
from tools.settings import Settings


class Health(BaseModel):
    status: str
    mirror: dict[str, int] | None = Field(default=None, description="record counts (with a key)")
    last_sync: dict[str, Any] | None = Field(default=None, description="the last sync run (with a key)")
    queue: dict[str, Any] | None = Field(
        default=None,
        description="event backlog (with a key): queued, running, waiting, dead, oldest_age_seconds",
    )


class Readiness(BaseModel):
    status: str = Field(description="ready | not_ready")
    checks: dict[str, str] = Field(description="per dependency: ok, or the error")


class BulkResolve(BaseModel):
    ids: list[str] = Field(min_length=1, max_length=500, description="approval ids (thread ids)")
    decision: Decision


class AuditEntry(BaseModel):
    seq: int
    kind: str
    thread_id: str | None
    trace_id: str
    recorded_at: str
    body: dict[str, Any]
    hash: str


def get_service(request: Request) -> ServiceState:
    return request.app.state.service


Service = Annotated[ServiceState, Depends(get_service)]
Writer = Annotated[Principal, Depends(require_roles("recruiter", "admin"))]


def _runs_router() -> APIRouter:
    router = APIRouter(prefix="/runs", tags=["runs"])

    @router.post(
        "/{graph}",
        response_model=RunInfo,
        summary="Start a run of a graph",
        description="Runs to the approval interrupt (or the end) and returns the thread's state; with "
        "`background` it returns 202 at once: follow `GET /runs/{thread_id}/stream`. A thread already "
        "waiting for approval is returned as is unless `restart`.",
        responses={202: {"model": RunInfo}, 403: {}, 404: {}, 409: {}, 422: {}},
    )
    async def start_run(graph: str, body: RunStart, principal: Writer, service: Service) -> Any:
        info = await service.runs.start(principal, graph, body)
        if info.status == "running":
            return JSONResponse(info.model_dump(mode="json"), status_code=status.HTTP_202_ACCEPTED)
        return info

    @router.get("/{thread_id}", response_model=RunInfo, summary="A thread's state and result")
    def read_run(thread_id: str, principal: CurrentPrincipal, service: Service) -> RunInfo:
        return service.runs.info(principal, thread_id)

    @router.get(
        "/{thread_id}/stream",
        summary="Stream a run's progress (Server-Sent Events)",
        description="Events: `start`, `update` (one per node: its name and updated keys), `interrupt` "
        "(waiting for approval), `error`, `end`. Replayed from the run's start; for a thread with no "
        "run in this process: one `state` event, then `end`.",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}}},
    )
    async def stream_run(thread_id: str, principal: CurrentPrincipal, service: Service) -> StreamingResponse:
        events = await service.runs.stream(principal, thread_id)
        return StreamingResponse(
            events,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return router


def _approvals_router() -> APIRouter:
    router = APIRouter(prefix="/approvals", tags=["approvals"])

    @router.get("", response_model=list[ApprovalSummary], summary="List pending approvals")
    def list_approvals(
        principal: CurrentPrincipal,
        service: Service,
        graph: Annotated[str | None, Query(description="only this graph's approvals")] = None,
        job_id: Annotated[int | None, Query(description="only this requisition")] = None,
        owner: Annotated[
            int | None, Query(description="only requisitions of this recruiter (person id)")
        ] = None,
        older_than_minutes: Annotated[
            float | None, Query(ge=0, description="waiting at least this long")
        ] = None,
    ) -> list[ApprovalSummary]:
        return service.approvals.list(
            principal, graph=graph, job_id=job_id, owner=owner, older_than_minutes=older_than_minutes
        )

    @router.post(
        "/bulk",
        response_model=list[ResolveResult],
        summary="Resolve several approvals with one decision",
        description="accept, respond or ignore; one result per id (status resolved, forbidden, "
        "not_found, conflict, invalid or error). Edits are made one approval at a time.",
    )
    def bulk_resolve(body: BulkResolve, principal: CurrentPrincipal, service: Service) -> list[ResolveResult]:
        return service.approvals.bulk_resolve(principal, body.ids, body.decision)

    @router.get("/{approval_id}", response_model=ApprovalDetail, summary="One approval with its full request")
    def read_approval(approval_id: str, principal: CurrentPrincipal, service: Service) -> ApprovalDetail:
        return service.approvals.get(principal, approval_id)

    @router.post(
        "/{approval_id}/resolve",
        response_model=ResolveResult,
        summary="Accept, edit, respond to or ignore an approval",
        description="An edit is re-validated with the graph's models before anything is written (422 "
        "when it is not valid). Auditors and hiring managers get 403.",
        responses={403: {}, 404: {}, 409: {}, 422: {}, 502: {}},
    )
    def resolve_approval(
        approval_id: str, decision: Decision, principal: CurrentPrincipal, service: Service
    ) -> ResolveResult:
        return service.approvals.resolve(principal, approval_id, decision)

    return router


def _audit_router() -> APIRouter:
    router = APIRouter(tags=["audit"])

    @router.get(
        "/audit",
        response_model=list[AuditEntry],
        summary="The audit log (newest first)",
        description="Admins and auditors read every record; recruiters and hiring managers the records "
        "of their own requisitions.",
    )
    def read_audit(
        principal: CurrentPrincipal,
        service: Service,
        thread_id: str | None = None,
        kind: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[AuditEntry]:
        records = service.audit.records(thread_id=thread_id)
        out: list[AuditEntry] = []
        owners_cache: dict[int | None, Any] = {}
        for record in reversed(records):
            if kind is not None and record.kind != kind:
                continue
            if not principal.reads_everything:
                job_id = record.body.get("job_id")
                job_id = int(job_id) if isinstance(job_id, int | str) and str(job_id).isdigit() else None
                if job_id not in owners_cache:
                    owners_cache[job_id] = service.job_owners(job_id)
                if not service.approvals.can_see(principal, owners_cache[job_id]):
                    continue
            out.append(
                AuditEntry(
                    seq=record.seq,
                    kind=record.kind,
                    thread_id=record.thread_id,
                    trace_id=record.trace_id,
                    recorded_at=record.recorded_at,
                    body=record.body,
                    hash=record.hash,
                )
            )
            if len(out) >= limit:
                break
        return out

    return router


def create_app(
    settings: Settings | None = None, *, embeddings: Any = None, deps_overrides: dict[str, Any] | None = None
) -> FastAPI:
    """The service. `embeddings` / `deps_overrides` replace what the settings select (tests)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        with open_service(
            settings, embeddings=embeddings, deps_overrides=deps_overrides, warm_rediscovery=True
        ) as service:
            api.state.service = service
            if not settings.sandbox_mode:
                # Demo keys are for the local sandbox; a data_dir reused against a tenant drops them.
                service.keys.revoke_demo_keys()
            try:
                yield
            finally:
                await service.runs.shutdown()
                close_intake(api)

    api = FastAPI(
        title="icims-agents",
        version="0.1.0",
        description="AI agents over iCIMS with human approval before every write. Authenticate with "
        "`X-API-Key: <key>` or `Authorization: Bearer <key>` (`icims-agents keys create --role R`).",
        lifespan=lifespan,
    )
    api.add_middleware(SecurityMiddleware)
    api.state.auth_throttle = FailureThrottle()
    install_log_redaction()

    @api.exception_handler(ServiceError)
    async def service_error(_request: Request, exc: ServiceError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    @api.get(
        "/health",
        response_model=Health,
        response_model_exclude_none=True,
        tags=["service"],
        summary="Liveness; with a key also mirror counts, last sync and event backlog",
    )
    def health(request: Request, service: Service) -> Health:
        if optional_principal(request) is None:
            return Health(status="ok")
        return Health(
            status="ok",
            mirror=service.mirror.counts(),
            last_sync=service.mirror.last_run(),
            queue=intake_queue(request.app).backlog(),
        )

    @api.get(
        "/ready",
        response_model=Readiness,
        tags=["service"],
        summary="Readiness: checkpointer and mirror reachable",
        responses={503: {"model": Readiness}},
    )
    async def ready(service: Service) -> Any:
        checks: dict[str, str] = {}

        async def check(name: str, fn: Any) -> None:
            try:
                await asyncio.wait_for(asyncio.to_thread(fn), timeout=5)
                checks[name] = "ok"
            except Exception as exc:  # any failure means not ready
                checks[name] = f"{type(exc).__name__}: {exc}"[:300]

        await check(
            "checkpointer",
            lambda: service.checkpointer.get_tuple({"configurable": {"thread_id": "__ready__"}}),
        )
        await check("mirror", service.mirror.counts)
        ok = all(v == "ok" for v in checks.values())
        body = Readiness(status="ready" if ok else "not_ready", checks=checks)
        return JSONResponse(body.model_dump(), status_code=200 if ok else 503)

    @api.get("/whoami", tags=["service"], summary="The caller's role and recruiter id")
    def whoami(principal: CurrentPrincipal) -> dict[str, Any]:
        return {
            "key_id": principal.key_id,
            "name": principal.name,
            "role": principal.role,
            "recruiter_id": principal.recruiter_id,
        }

    api.include_router(_runs_router())
    api.include_router(_approvals_router())
    api.include_router(_audit_router())

    api.include_router(pages.router)
    api.include_router(copilot.router)
    api.include_router(offers.router)
    api.include_router(events.router)
    api.include_router(nurture.router)

    @api.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        # People who open the bare address want the inbox, not a 404.
        return RedirectResponse("/ui", status_code=307)

    return api
