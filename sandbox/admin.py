"""`/_sandbox/*`: the control surface tests and demos use (no auth; loopback callers only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from sandbox.errors import ICIMSError, bad_request, not_found
from sandbox.serialize import ALL_KINDS, KIND_LABEL, int_or_none
from sandbox.state import SandboxState
from sandbox.webhooks import EVENT_TYPES, WebhookConfig, build_payload

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost", "testclient"})


def _loopback_only(request: Request) -> None:
    host = request.client.host if request.client else ""
    if host not in LOOPBACK:
        raise ICIMSError(403, 3, "The sandbox control API only answers loopback callers.")


router = APIRouter(prefix="/_sandbox", dependencies=[Depends(_loopback_only)])


def _state(request: Request) -> SandboxState:
    return request.app.state.sandbox


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise bad_request("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    return body


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("1", "true", "yes")


@router.get("/stats")
async def stats(request: Request) -> Response:
    return JSONResponse(_state(request).stats())


@router.get("/writelog")
async def writelog(request: Request, since: int = 0) -> Response:
    entries = _state(request).log.since(since)
    return JSONResponse(
        {"entries": [e.to_json() for e in entries], "last_seq": len(_state(request).writelog)}
    )


@router.get("/faults")
async def get_faults(request: Request) -> Response:
    return JSONResponse(_state(request).faults.model_dump())


@router.put("/faults")
async def put_faults(request: Request) -> Response:
    """Partial update: fields left out keep their value; `seed` restarts the fault sequence."""
    try:
        faults = _state(request).fault_injector.update(await _body(request))
    except ValidationError as exc:
        raise bad_request(f"Invalid faults: {exc.errors()[0]['msg']}") from None
    return JSONResponse(faults.model_dump())


@router.post("/clock")
async def clock(request: Request) -> Response:
    body = await _body(request)
    seconds = body.get("advance_seconds", 0)
    if not isinstance(seconds, int | float):
        raise bad_request("advance_seconds must be a number.")
    now = _state(request).advance_clock(seconds)
    return JSONResponse({"now": now.isoformat()})


@router.post("/quota")
async def quota(request: Request) -> Response:
    state = _state(request)
    body = await _body(request)
    if "daily_limit" in body:
        state.config.daily_limit = int(body["daily_limit"])
    if "used" in body:
        state.quota.set_used(state.config.customer_id, int(body["used"]))
    return JSONResponse(state.stats()["quota"])


@router.post("/tokens/expire")
async def expire_tokens(request: Request) -> Response:
    return JSONResponse({"expired": _state(request).tokens.expire_all()})


@router.post("/people/{person_id}/erase")
async def erase(person_id: int, request: Request) -> Response:
    if not _state(request).erase_person(person_id):
        raise not_found("Person not found.")
    return Response(status_code=204)


@router.delete("/{kind}/{record_id}")
async def hard_delete(kind: str, record_id: int, request: Request) -> Response:
    state = _state(request)
    if kind not in ALL_KINDS:
        raise not_found(f"Profile type {kind} not found.")
    if state.tenant.get(kind, record_id) is None:
        raise not_found(f"{KIND_LABEL[kind]} not found.")
    state.tenant.delete(kind, record_id)
    return Response(status_code=204)


# --- event notifications --------------------------------------------------------------------------


@router.put("/webhook")
async def put_webhook(request: Request) -> Response:
    try:
        config = WebhookConfig.model_validate(await _body(request))
    except ValidationError as exc:
        raise bad_request(f"Invalid webhook: {exc.errors()[0]['msg']}") from None
    _state(request).webhooks.configure(config)
    return JSONResponse(config.model_dump(exclude={"password", "hmac_secret", "client_secret"}))


@router.get("/webhook")
async def get_webhook(request: Request) -> Response:
    config = _state(request).webhooks.config
    if config is None:
        return JSONResponse({})
    return JSONResponse(config.model_dump(exclude={"password", "hmac_secret", "client_secret"}))


@router.delete("/webhook")
async def delete_webhook(request: Request) -> Response:
    _state(request).webhooks.configure(None)
    return Response(status_code=204)


@router.get("/events")
async def list_events(request: Request) -> Response:
    """All events with their deliveries; `?wait=true` first waits for deliveries in flight."""
    webhooks = _state(request).webhooks
    if _flag(request, "wait"):
        await webhooks.wait_idle()
    return JSONResponse({"events": [e.to_json() for e in webhooks.events]})


@router.post("/events")
async def emit_event(request: Request) -> Response:
    """Emit an event for given ids: `{"eventType", "systemId", ...overrides}`.

    `systemId` is the applicant workflow for workflow/assessment events and the job for job
    posting events; person, job and status default from the stored records.
    """
    state = _state(request)
    body = await _body(request)
    event_type = body.get("eventType")
    if event_type not in EVENT_TYPES:
        raise bad_request(f"eventType must be one of {', '.join(EVENT_TYPES)}.")
    system_id = int_or_none(body.get("systemId"))
    if system_id is None:
        raise bad_request("systemId is required.")
    base = str(request.base_url).rstrip("/")
    extra: dict[str, str] = {}
    person_id = int_or_none(body.get("personId"))
    job_id = int_or_none(body.get("jobId"))
    old_status = body.get("oldStatus")
    new_status = body.get("newStatus")
    user_id = int_or_none(body.get("userId"))
    if event_type in ("WorkFlowStatusChangeEvent", "AssessmentEvent"):
        workflow = state.tenant.get("applicantworkflows", system_id)
        if workflow is None:
            raise not_found("Applicant workflow not found.")
        person_id = person_id or int_or_none(workflow.data.get("associatedprofile"))
        job_id = job_id or int_or_none(workflow.data.get("baseprofile"))
        current = (workflow.data.get("status") or {}).get("id", "")
        old_status = old_status or current
        new_status = new_status or current
        if event_type == "AssessmentEvent":
            extra["returnUrl"] = body.get("returnUrl") or f"{base}/portal/return/{system_id}"
    else:
        if state.tenant.get("jobs", system_id) is None:
            raise not_found("Job not found.")
        if event_type == "JobPostToWebEvent":
            extra["portalUrl"] = body.get("portalUrl") or f"{base}/portal/jobs/{system_id}"
    payload = build_payload(
        event_type=event_type,
        customer_id=state.config.customer_id,
        base=base,
        system_id=system_id,
        user_id=user_id,
        person_id=person_id,
        job_id=job_id,
        old_status=str(old_status) if old_status else None,
        new_status=str(new_status) if new_status else None,
        extra=extra,
    )
    event = state.webhooks.record(payload)
    return await _dispatch(request, state, event.n)


@router.post("/events/{n}/fire")
async def fire_event(n: int, request: Request) -> Response:
    """Send event n again, byte for byte (iCIMS users can trigger the same action repeatedly)."""
    state = _state(request)
    if state.webhooks.event(n) is None:
        raise not_found(f"Event {n} not found.")
    return await _dispatch(request, state, n)


async def _dispatch(request: Request, state: SandboxState, n: int) -> Response:
    event = state.webhooks.event(n)
    assert event is not None
    task = state.webhooks.send(event)
    if task is not None and _flag(request, "wait"):
        delivery = await task
        return JSONResponse({"event": event.to_json(), "delivery": delivery.to_json()})
    status = 202 if task is not None else 200
    return JSONResponse({"event": event.to_json(), "delivery": None}, status_code=status)
