"""`POST /events/icims`: iCIMS event notifications in (API_NOTES 5), acknowledged fast.

Order of work, cheapest refusal first: the Content-Length and the streamed body are capped; the
credentials (HMAC over the bytes as sent, Basic, or a bearer token from `POST /events/oauth/token`)
must name a configured tenant before anything is inflated; gzip is inflated within the JSON cap; the
payload must parse and carry the required fields; its `customerId` must be a tenant the credentials
are valid for. Then the event is stored (a dedupe key, unique; concurrent requests share one
commit, `tools/events/committer.py`) and enqueued, and only then answered. No iCIMS call happens here.

Replies: accepted -> 200 `{"status": "accepted", "id"}`, or for an `AssessmentEvent` (application
complete) 303 to its `returnUrl`, which iCIMS follows to send the candidate back to the portal. A
duplicate -> 400 "Already received; no action taken" in the vendor error format (what iCIMS's
integration review checks), or per tenant (`duplicate_reply: ok`) the first reply again. Errors use
the vendor format `{"error": {"userMessage", "debugErrorMessage"}}`: 401 bad or missing credentials
(also when they are valid only for another customer), 400 malformed, oversized, a missing field (named)
or an unknown customer id (credentials valid, but no tenant is configured for that id), 408 when the
body does not arrive within `BODY_READ_TIMEOUT`, 503 when the store is unavailable (iCIMS treats it
as temporary).

Hostile input stays bounded: credentials with any bytes are a 401, JSON nested past
`tools.events.body.MAX_JSON_DEPTH` a 400, and `IntakeRoute` answers anything else that goes wrong in
these routes with a 4xx in the same format (never a plain-text 500); a client that aborts its body
costs one log line. `uvicorn_limits` is how `serve` bounds every connection's head and body.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from starlette.requests import ClientDisconnect

from tools.events.auth import AuthError, SignedRequest, authenticate, issue_token
from tools.events.body import BodyError, inflate, parse_json, read_capped
from tools.events.committer import GroupCommitter
from tools.events.connections import bounded_protocol
from tools.events.models import REQUIRED_FIELDS, ICIMSEvent, vendor_error
from tools.logs import get_logger
from tools.queue import Queue, build_queue
from tools.settings import Settings

log = get_logger("server.events")
_lock = threading.Lock()

DUPLICATE_MESSAGE = "Already received; no action taken."
STORE_TIMEOUT = 20.0  # seconds; iCIMS gives up after about 30
BODY_READ_TIMEOUT = 10.0  # seconds for a body of at most `events_max_body_bytes` (64 KiB by default)
# Every connection of the service (`uvicorn_limits`): a request's head and body, and a head's size.
REQUEST_READ_TIMEOUT = 20.0
MAX_HEAD_BYTES = 16 * 1024
KEEP_ALIVE_TIMEOUT = 5


def _error(status: int, user: str, debug: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(vendor_error(user, debug), status_code=status, headers=headers)


class IntakeRoute(APIRoute):
    """Every failure in the intake routes answers in iCIMS's error format with a 4xx: a client that
    went away is logged in one line, a refused request keeps its status, and an unexpected error is
    logged (with its traceback, once) and refused as a 400 rather than a plain-text 500."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handle(request)
            except ClientDisconnect:
                log.info("events.client_disconnected", path=request.url.path)
                return _error(400, "The notification was not received completely.", "client disconnected")
            except RequestValidationError as exc:
                return _error(400, "The request could not be read.", f"invalid request: {exc.errors()[:1]}")
            except HTTPException as exc:
                status = exc.status_code if 400 <= exc.status_code < 500 else 400
                return _error(status, "The request could not be processed.", str(exc.detail))
            except Exception as exc:
                log.exception("events.intake_failed", path=request.url.path, error=type(exc).__name__)
                return _error(400, "The notification could not be processed.", f"{type(exc).__name__}")

        return guarded


router = APIRouter(prefix="/events", tags=["events"], route_class=IntakeRoute)


def uvicorn_limits(
    *,
    request_read_timeout: float = REQUEST_READ_TIMEOUT,
    max_head_bytes: int = MAX_HEAD_BYTES,
    timeout_keep_alive: int = KEEP_ALIVE_TIMEOUT,
) -> dict[str, Any]:
    """Keyword arguments for `uvicorn.run` / `uvicorn.Config` that bound every connection: slow or
    endless heads and bodies are cut off, and idle keep-alive connections closed."""
    return {
        "http": bounded_protocol(request_read_timeout=request_read_timeout, max_head_bytes=max_head_bytes),
        "timeout_keep_alive": timeout_keep_alive,
        "h11_max_incomplete_event_size": max_head_bytes,
    }


@dataclass
class Intake:
    queue: Queue
    committer: GroupCommitter


def intake(app: Any) -> Intake:
    """The app's queue and group committer (built on first use from the service's settings)."""
    found = getattr(app.state, "event_intake", None)
    if found is None:
        with _lock:
            found = getattr(app.state, "event_intake", None)
            if found is None:
                queue = build_queue(app.state.service.settings)
                found = Intake(queue, GroupCommitter(queue.store, queue.enqueue_event))
                app.state.event_intake = found
    return found


def close_intake(app: Any) -> None:
    """At shutdown: the committer flushes what it holds, then the queue's stores close."""
    found = getattr(app.state, "event_intake", None)
    if found is not None:
        found.committer.close()
        found.queue.close()
        app.state.event_intake = None


def intake_queue(app: Any) -> Queue:
    return intake(app).queue


def _accepted(event: ICIMSEvent, event_id: int, duplicate: bool = False) -> Response:
    body = {"status": "accepted", "id": event_id, "duplicate": duplicate}
    if event.eventType == "AssessmentEvent" and event.returnUrl:
        return JSONResponse(body, status_code=303, headers={"Location": event.returnUrl})
    return JSONResponse(body)


@router.post(
    "/icims",
    summary="Receive an iCIMS event notification",
    description="gzip'd JSON as iCIMS sends it, authenticated per customer (HMAC, Basic or Bearer). "
    "Stored durably with a dedupe key and queued before the reply; processed by `icims-agents worker`.",
    responses={303: {}, 400: {}, 401: {}, 408: {}, 503: {}},
)
async def receive(request: Request) -> Response:
    settings: Settings = request.app.state.service.settings
    try:
        raw = await read_capped(
            request.stream(),
            settings.events_max_body_bytes,
            request.headers.get("content-length"),
            timeout=BODY_READ_TIMEOUT,
        )
    except BodyError as exc:
        # A stalled body is abandoned, so the connection cannot carry another request: close it.
        close = {"Connection": "close"} if exc.status == 408 else None
        return _error(exc.status, exc.user_message, exc.debug_message, headers=close)
    signed = SignedRequest(
        method=request.method,
        raw_path=request.scope.get("raw_path", request.url.path.encode()).decode("latin-1"),
        query=request.scope.get("query_string", b"").decode("latin-1"),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=raw,
    )
    try:
        caller = authenticate(
            settings.events_tenants, signed, max_skew_seconds=settings.events_hmac_max_skew_seconds
        )
    except AuthError as exc:
        log.info("events.unauthorized", detail=str(exc))
        return _error(401, "The notification could not be authenticated.", str(exc))
    try:
        payload = parse_json(
            inflate(raw, request.headers.get("content-encoding"), settings.events_max_json_bytes)
        )
    except BodyError as exc:
        return _error(exc.status, exc.user_message, exc.debug_message)
    missing = [name for name in REQUIRED_FIELDS if payload.get(name) in (None, "")]
    if missing:
        return _error(
            400,
            f"Required field missing: {', '.join(missing)}.",
            f"missing required field(s): {', '.join(missing)}",
        )
    try:
        event = ICIMSEvent.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _error(400, f"Invalid field: {where}.", f"{where}: {first.get('msg')}")
    if event.customerId not in settings.events_tenants:
        return _error(
            400,
            "This integration is not configured for your iCIMS customer.",
            f"unknown customer id {event.customerId}",
        )
    if event.customerId not in caller.customer_ids:
        return _error(
            401,
            "The notification could not be authenticated.",
            f"credentials not valid for customer {event.customerId}",
        )
    committer = intake(request.app).committer
    try:
        added = await asyncio.wait_for(asyncio.wrap_future(committer.submit(event, payload)), STORE_TIMEOUT)
    except (OperationalError, TimeoutError) as exc:
        log.error("events.store_unavailable", error=type(exc).__name__)
        return _error(503, "Temporarily unable to accept notifications; please retry.", "event store busy")
    if added.duplicate:
        log.info("events.duplicate", event_id=added.event.id, event_type=event.eventType)
        if settings.events_tenants[event.customerId].duplicate_reply == "ok":
            return _accepted(event, added.event.id, duplicate=True)
        return _error(400, DUPLICATE_MESSAGE, f"duplicate of event {added.event.id}")
    log.info("events.accepted", event_id=added.event.id, event_type=event.eventType)
    return _accepted(event, added.event.id)


@router.post(
    "/oauth/token",
    summary="OAuth 2.0 client credentials for iCIMS's event delivery (Bearer tenants)",
    description="Form fields `grant_type=client_credentials`, `client_id`, `client_secret`; returns "
    '`{"access_token", "token_type": "Bearer", "expires_in"}` (API_NOTES 5).',
)
async def token(request: Request) -> Response:
    settings: Settings = request.app.state.service.settings
    form = await request.form()
    if form.get("grant_type") != "client_credentials":
        return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
    issued = issue_token(
        settings.events_tenants,
        str(form.get("client_id") or ""),
        str(form.get("client_secret") or ""),
        settings.events_token_ttl_seconds,
    )
    if issued is None:
        return JSONResponse({"error": "access_denied"}, status_code=401)
    return JSONResponse(
        {"access_token": issued[0], "token_type": "Bearer", "expires_in": settings.events_token_ttl_seconds},
        headers={"Cache-Control": "no-store"},
    )
