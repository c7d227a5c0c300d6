"""What every page does before it renders: find the service and the signed-in principal, call the
service off the event loop, turn service errors into text, and read an Agent Inbox request out of an
approval."""

from __future__ import annotations

import inspect
import json
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from server.auth import COOKIE_NAME, optional_principal
from server.errors import ServiceError
from server.pages.render import field
from server.security import check_key, header_key, session_cookie

COOKIE = COOKIE_NAME  # the session id the sign-in form sets; the JSON API reads it too
# What the ApprovalService raises (server.errors) and FastAPI-style errors: both carry status and detail.
SERVICE_ERRORS = (ServiceError, HTTPException)


def page_router() -> APIRouter:
    """A router for one family of pages: everything lives under `/ui`, none of it in the API schema."""
    return APIRouter(prefix="/ui", include_in_schema=False)


def service_of(request: Request) -> Any:
    service = getattr(request.app.state, "service", None)
    if service is None:
        raise HTTPException(503, "The service is starting; try again in a moment.")
    return service


async def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a service method: the ApprovalService is synchronous (it resumes graphs, which write to
    iCIMS), so sync methods run in a worker thread and never block the event loop."""
    if inspect.iscoroutinefunction(fn):
        return await fn(*args, **kwargs)
    result = await run_in_threadpool(fn, *args, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result


def forwarded_credentials(request: Request) -> dict[str, str]:
    """Headers that make an in-process call to the service's own API as the page's caller: their API
    key header, or their session cookie with the same-origin marker the CSRF check asks for (a
    browser never lets a page set `Sec-Fetch-Site`)."""
    key = header_key(request)
    if key is not None:
        return {"X-API-Key": key}
    session = session_cookie(request)
    return {"Cookie": f"{COOKIE}={session}", "Sec-Fetch-Site": "same-origin"} if session else {}


async def principal_for_key(request: Request, key: str) -> Any | None:
    """The principal for an API key, or None when the key is unknown or revoked. A wrong key counts
    against the client's throttle; a throttled client gets `server.security.Throttled` (429)."""
    return await call(check_key, request, service_of(request).keys, key)


async def signed_in(request: Request) -> Any | None:
    """The principal of the request's session (or key header), None when nobody is signed in."""
    return optional_principal(request)


def sign_in_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/ui/sign-in?{urlencode({'next': target})}", status_code=303)


def detail_text(exc: ServiceError | HTTPException) -> str:
    detail = exc.detail
    if isinstance(detail, dict):
        detail = detail.get("message") or detail.get("detail") or json.dumps(detail)
    if isinstance(detail, list):
        detail = "; ".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail)
    return str(detail)


def int_or_none(value: Any) -> int | None:
    try:
        return int(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        return None


def request_of(detail: Any) -> dict[str, Any]:
    """The Agent Inbox request (`{action_request: {action, args}, config, description}`) of a detail."""
    request = field(detail, "request", "interrupt", "value", default=None)
    if isinstance(request, list):
        request = request[0] if request else None
    if request is not None and not isinstance(request, dict):
        request = request.model_dump() if hasattr(request, "model_dump") else dict(request)
    return request or {}


def args_of(detail: Any) -> dict[str, Any]:
    return (request_of(detail).get("action_request") or {}).get("args") or {}


def approval_error(description: str) -> str | None:
    """The graph puts a rejected edit's reason at the top of the description as `> **...**`."""
    first = (description or "").lstrip().splitlines()[:1]
    if first and first[0].startswith("> **"):
        return first[0].removeprefix("> **").rstrip("*").strip()
    return None


def approval_id(summary: Any) -> str:
    return str(field(summary, "approval_id", "id", "thread_id", default=""))
