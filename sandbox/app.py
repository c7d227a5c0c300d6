"""A faithful local iCIMS: `create_app(config, tenant=None)` (docs/RECORDS.md, API_NOTES section 9).

Every customer API request passes, in this order: counting (`requests_total`), the daily quota,
injected latency and faults, token-expiry faults, authentication and the customer check; only then
does a handler run. Faults and refusals therefore happen before any effect. Every response carries
`Date` from the sandbox clock; customer API responses also carry the rate-limit headers,
`x-transaction` and HSTS, as the recorded iCIMS responses do.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from email.utils import format_datetime as http_date

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from sandbox import admin, api
from sandbox.auth import RequestFacts, authenticate
from sandbox.config import SandboxConfig
from sandbox.errors import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    RATE_LIMITED,
    RESOURCE_ACCESS_DENIED,
    RESOURCE_NOT_FOUND,
    ICIMSError,
    error_response,
)
from sandbox.quota import QuotaStatus
from sandbox.state import SandboxState
from sandbox.store import Tenant

__all__ = ["SandboxState", "create_app"]

HSTS = "max-age=7776000"


def create_app(config: SandboxConfig, tenant: Tenant | None = None) -> FastAPI:
    if tenant is not None and tenant.customer_id != config.customer_id:
        raise ValueError(f"tenant is customer {tenant.customer_id}, config says {config.customer_id}")
    state = SandboxState(config, tenant)
    if tenant is None:
        _seed(state)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await state.webhooks.close()

    app = FastAPI(title="iCIMS sandbox", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.sandbox = state
    app.add_api_route("/oauth/token", _token, methods=["POST"])
    app.include_router(admin.router)
    app.include_router(api.router)
    _install_error_handlers(app)

    @app.middleware("http")
    async def icims_behaviour(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        path = request.url.path
        if path.startswith("/customers/"):
            response = await _customer_request(state, request, call_next)
        else:
            response = await call_next(request)
        response.headers["Date"] = http_date(state.now(), usegmt=True)
        response.headers["x-transaction"] = "{" + str(uuid.uuid4()).upper() + "}"
        response.headers["strict-transport-security"] = HSTS
        return response

    return app


def _seed(state: SandboxState) -> None:
    # Imported here: the seeding modules pull in reference data the rest of the sandbox never needs.
    from sandbox.seed import seed_tenant

    config = state.config
    seed_tenant(state.tenant, people=config.people, seed=config.seed, now=state.now())
    if config.eval_data is not None and config.eval_data.exists():
        from sandbox.eval_loader import load_eval_split

        load_eval_split(state.tenant, config.eval_data, seed=config.seed, now=state.now())


async def _customer_request(
    state: SandboxState, request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    state.count_request(request.method)
    response = await _guarded(state, request, call_next)
    state.requests_by_status[response.status_code] += 1
    return response


async def _guarded(
    state: SandboxState, request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    segment = request.url.path.split("/")[2]
    customer_id = int(segment) if segment.isdigit() else None
    if customer_id is None:
        return error_response(404, RESOURCE_NOT_FOUND, f"Customer {segment} not found.")
    quota = state.quota.consume(customer_id)
    if not quota.allowed:
        retry = {"Retry-After": str(quota.reset_seconds)}
        message = "The daily request limit for this customer has been reached."
        response = error_response(state.config.quota_status, RATE_LIMITED, message, retry)
        return _rate_headers(response, quota)
    faults = state.faults
    if faults.latency_ms:
        await asyncio.sleep(faults.latency_ms / 1000)
    fault = state.fault_injector.draw()
    if fault is not None:
        return _rate_headers(error_response(fault.status, fault.code, fault.message, fault.headers), quota)
    if faults.expire_tokens:
        faults.expire_tokens = False
        state.tokens.expire_all()
    facts = RequestFacts(
        method=request.method,
        raw_path=request.scope.get("raw_path", request.url.path.encode()).decode("latin-1"),
        query=request.scope.get("query_string", b"").decode("latin-1"),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=await request.body(),
    )
    try:
        principal = authenticate(state.config, state.tokens, facts)
    except ICIMSError as exc:
        return _rate_headers(error_response(exc.status, exc.code, exc.message, exc.headers), quota)
    if principal.customer_id != customer_id:
        # iCIMS reports another customer's resources as not found (code 3, HTTP 404).
        response = error_response(404, RESOURCE_ACCESS_DENIED, "Access denied to the requested resource.")
        return _rate_headers(response, quota)
    request.state.principal = principal
    return _rate_headers(await call_next(request), quota)


def _rate_headers(response: Response, quota: QuotaStatus) -> Response:
    response.headers["x-ratelimit-limit"] = str(quota.limit)
    response.headers["x-ratelimit-remaining"] = str(quota.remaining)
    response.headers["x-ratelimit-reset"] = str(quota.reset_seconds)
    return response


async def _token(request: Request) -> Response:
    """OAuth 2.0 client credentials (API_NOTES 1.1); errors in the OAuth shape, not iCIMS's."""
    state: SandboxState = request.app.state.sandbox
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        try:
            raw = await request.json()
        except ValueError:
            raw = {}
        params = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    else:
        form = await request.form()
        params = {k: v for k, v in form.items() if isinstance(v, str)}
    if params.get("grant_type") != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "Only client_credentials is supported.")
    client_id = params.get("client_id", "")
    secret = state.config.oauth_clients.get(client_id)
    if secret is None or secret != params.get("client_secret"):
        return _oauth_error(401, "access_denied", "Unauthorized")
    token = state.tokens.issue(
        client_id, state.config.customer_id, state.config.token_ttl_seconds, state.config.token_throttle
    )
    if token is None:
        return _oauth_error(
            429, "too_many_requests", "Too many access tokens requested; cache and reuse them."
        )
    body = {"access_token": token, "token_type": "Bearer", "expires_in": state.config.token_ttl_seconds}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def _oauth_error(status: int, error: str, description: str) -> Response:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    async def icims_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ICIMSError)
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            return error_response(404, RESOURCE_NOT_FOUND, "The requested resource was not found.")
        if exc.status_code == 405:
            return error_response(
                405, INVALID_REQUEST, f"{request.method} is not supported on this resource."
            )
        return error_response(exc.status_code, INVALID_REQUEST, str(exc.detail))

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return error_response(400, INVALID_REQUEST, f"Invalid request: {where}: {first.get('msg', '')}")

    async def unexpected(request: Request, exc: Exception) -> Response:
        # A sandbox bug should still look like iCIMS's INTERNAL_ERROR to the client under test.
        return error_response(500, INTERNAL_ERROR, "An internal error occurred.")

    app.add_exception_handler(Exception, unexpected)
    app.add_exception_handler(ICIMSError, icims_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
