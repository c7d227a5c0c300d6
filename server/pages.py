"""Server-rendered web pages: sign-in, approvals inbox and detail, requisition shortlists, copilot
chat and the audit log (issue 4, item 3).

Plain HTML forms that post to the routes below, which call the same `ApprovalService` as the JSON API
(docs/SERVICE_CONTRACT.md), so every page reads and works without JavaScript. htmx (vendored in
`server/static`, 0BSD) only boosts links and forms into partial page swaps.

Every route lives under `/ui`. Sign-in stores the pasted API key in the `icims_agents_key` cookie
(HttpOnly, SameSite=Lax, so no other site can post these forms with it); `server.auth` reads the
same cookie for the JSON API.
"""

from __future__ import annotations

import inspect
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from server.errors import ServiceError

router = APIRouter(prefix="/ui", include_in_schema=False)

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
COOKIE = "icims_agents_key"  # server.auth.COOKIE_NAME
STATIC_FILES = {
    "app.css": "text/css",
    "htmx.min.js": "text/javascript",
    "htmx.LICENSE.txt": "text/plain",
}
ROLE_LABELS = {
    "recruiter": "Recruiter",
    "hiring_manager": "Hiring manager",
    "admin": "Admin",
    "auditor": "Auditor",
}
ACTION_LABELS = {"submit": "Submit to this job", "add_to_pool": "Add to talent pool"}
DECISION_LABELS = {
    "accept": "approved",
    "edit": "approved with edits",
    "respond": "sent back with feedback",
    "ignore": "ignored",
}

templates = Jinja2Templates(directory=str(HERE / "templates"))
# What the ApprovalService raises (server.errors) and FastAPI-style errors: both carry status and detail.
SERVICE_ERRORS = (ServiceError, HTTPException)


# --- small helpers the templates use ------------------------------------------------------------


def field(obj: Any, *names: str, default: Any = None) -> Any:
    """The first present, non-None attribute or key of `obj` among `names` (models or dicts)."""
    for name in names:
        value = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
        if value is not None:
            return value
    return default


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def age(value: Any, now: datetime | None = None) -> str:
    """'just now', '12 min', '3 h', '2 d' since an ISO timestamp (or '' when unknown)."""
    when = _parse_time(value)
    if when is None:
        return ""
    seconds = max(0, int(((now or datetime.now(UTC)) - when).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def short_time(value: Any) -> str:
    when = _parse_time(value)
    return when.strftime("%Y-%m-%d %H:%M UTC") if when else ""


def is_unverified(reason: dict[str, Any]) -> bool:
    evidence = reason.get("evidence") or {}
    return bool(reason.get("flagged") or (evidence.get("quote") and not evidence.get("verified")))


def reason_label(reason: dict[str, Any]) -> str:
    """A reason's label without points or quote: "+12 must-have Python: 'q'" -> "must-have Python"."""
    text = str(reason.get("text") or "").strip()
    for sep in (": '", ': "'):
        text = text.split(sep, 1)[0]
    text = re.sub(r"^[+-]?\d+(\.\d+)?\s+", "", text).strip()
    return text or str(reason.get("criterion") or "").replace("_", " ")


templates.env.globals.update(
    field=field,
    reason_label=reason_label,
    age=age,
    short_time=short_time,
    is_unverified=is_unverified,
    ROLE_LABELS=ROLE_LABELS,
    ACTION_LABELS=ACTION_LABELS,
)


# --- service access -------------------------------------------------------------------------------


def _service(request: Request) -> Any:
    service = getattr(request.app.state, "service", None)
    if service is None:
        raise HTTPException(503, "The service is starting; try again in a moment.")
    return service


async def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a service method: the ApprovalService is synchronous (it resumes graphs, which write to
    iCIMS), so sync methods run in a worker thread and never block the event loop."""
    if inspect.iscoroutinefunction(fn):
        return await fn(*args, **kwargs)
    result = await run_in_threadpool(fn, *args, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result


def _key_from(request: Request) -> str | None:
    from server.auth import key_from_request

    return key_from_request(request)


async def _principal_for_key(request: Request, key: str) -> Any | None:
    """The principal for an API key, or None when the key is unknown or revoked."""
    return await _call(_service(request).keys.authenticate, key)


async def _principal(request: Request) -> Any | None:
    from server.auth import optional_principal

    return optional_principal(request)


def _role(principal: Any) -> str:
    return str(field(principal, "role", default=""))


def _can_resolve(principal: Any) -> bool:
    return _role(principal) in ("recruiter", "admin")


def _can_audit(principal: Any) -> bool:
    return _role(principal) in ("auditor", "admin")


def _sign_in_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/ui/sign-in?{urlencode({'next': target})}", status_code=303)


def _render(
    request: Request, name: str, principal: Any = None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    context.setdefault("notice", request.query_params.get("notice"))
    context.setdefault("error", None)
    return templates.TemplateResponse(
        request,
        name,
        {
            "principal": principal,
            "can_resolve": bool(principal) and _can_resolve(principal),
            "can_audit": bool(principal) and _can_audit(principal),
            "path": request.url.path,
            **context,
        },
        status_code=status_code,
    )


def _error_page(request: Request, principal: Any, status: int, message: str) -> HTMLResponse:
    titles = {
        401: "Please sign in",
        403: "Not allowed",
        404: "Not found",
        409: "Already resolved",
        422: "Not accepted",
        503: "Unavailable",
    }
    return _render(
        request,
        "error.html",
        principal,
        status_code=status,
        title=titles.get(status, "Something went wrong"),
        message=message,
        status=status,
    )


def _detail_text(exc: ServiceError | HTTPException) -> str:
    detail = exc.detail
    if isinstance(detail, dict):
        detail = detail.get("message") or detail.get("detail") or json.dumps(detail)
    if isinstance(detail, list):
        detail = "; ".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail)
    return str(detail)


def _request_of(detail: Any) -> dict[str, Any]:
    """The Agent Inbox request (`{action_request: {action, args}, config, description}`) of a detail."""
    request = field(detail, "request", "interrupt", "value", default=None)
    if isinstance(request, list):
        request = request[0] if request else None
    if request is not None and not isinstance(request, dict):
        request = request.model_dump() if hasattr(request, "model_dump") else dict(request)
    return request or {}


def _args_of(detail: Any) -> dict[str, Any]:
    return (_request_of(detail).get("action_request") or {}).get("args") or {}


def _approval_error(description: str) -> str | None:
    """The graph puts a rejected edit's reason at the top of the description as `> **...**`."""
    first = (description or "").lstrip().splitlines()[:1]
    if first and first[0].startswith("> **"):
        return first[0].removeprefix("> **").rstrip("*").strip()
    return None


def _approval_id(summary: Any) -> str:
    return str(field(summary, "approval_id", "id", "thread_id", default=""))


# --- static ---------------------------------------------------------------------------------------


@router.get("/static/{name}")
def static(name: str) -> FileResponse:
    if name not in STATIC_FILES:
        raise HTTPException(404, "no such file")
    return FileResponse(
        STATIC_DIR / name, media_type=STATIC_FILES[name], headers={"Cache-Control": "max-age=3600"}
    )


# --- sign-in --------------------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    # Only local paths: never redirect off-site after sign-in.
    return target if target and target.startswith("/ui") and not target.startswith("//") else "/ui/inbox"


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    return RedirectResponse("/ui/inbox", status_code=303)


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_form(request: Request, next: str | None = None) -> Response:
    return _render(request, "sign_in.html", await _principal(request), next=_safe_next(next))


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(request: Request) -> Response:
    form = await request.form()
    key = str(form.get("api_key") or "").strip()
    target = _safe_next(str(form.get("next") or ""))
    principal = await _principal_for_key(request, key) if key else None
    if principal is None:
        message = "Paste an API key." if not key else "That API key is not valid. Check it and try again."
        return _render(request, "sign_in.html", None, status_code=401, error=message, next=target)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        key,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
        max_age=12 * 3600,
    )
    return response


@router.post("/sign-out")
async def sign_out() -> Response:
    response = RedirectResponse("/ui/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


# --- inbox ----------------------------------------------------------------------------------------


def _int_or_none(value: Any) -> int | None:
    try:
        return int(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        return None


@router.get("/inbox", response_class=HTMLResponse)
async def inbox(request: Request) -> Response:
    principal = await _principal(request)
    if principal is None:
        return _sign_in_redirect(request)
    params = request.query_params
    filters = {
        "graph": params.get("graph") or None,
        "job_id": _int_or_none(params.get("job_id")),
        "older_than_minutes": _int_or_none(params.get("older_than_minutes")),
    }
    bad = [
        label
        for label, name in (("Requisition", "job_id"), ("Older than", "older_than_minutes"))
        if params.get(name) and filters[name] is None
    ]
    service = _service(request)
    try:
        items = await _call(service.approvals.list, principal, **filters)
    except SERVICE_ERRORS as exc:
        return _error_page(request, principal, exc.status_code, _detail_text(exc))
    graphs = sorted(getattr(service, "graphs", {}) or {})
    return _render(
        request,
        "inbox.html",
        principal,
        items=items,
        approval_id=_approval_id,
        filters={k: params.get(k) or "" for k in filters},
        filtered=any(v is not None for v in filters.values()),
        graphs=graphs,
        error=("Whole numbers only: " + ", ".join(bad)) if bad else None,
    )


def _decision(type_: str, args: dict[str, Any] | None = None, note: str | None = None) -> Any:
    from server.approvals import Decision

    return Decision(type=type_, args=args, note=note)


def _resolved(result: Any) -> bool:
    return str(field(result, "status", default="resolved")) == "resolved"


def _result_summary(result: Any) -> str:
    """One line per bulk result: what was written, or why it was not resolved."""
    name = _approval_id(result)
    if not _resolved(result):
        detail = field(result, "detail", "error", default="")
        return f"{name} not approved ({field(result, 'status')}{': ' + str(detail) if detail else ''})"
    writes = field(result, "writes", default=None)
    count = len(writes) if isinstance(writes, list) else 0
    return f"{name}: {count} write{'s' if count != 1 else ''}"


@router.post("/inbox/bulk", response_class=HTMLResponse)
async def bulk_approve(request: Request) -> Response:
    principal = await _principal(request)
    if principal is None:
        return _sign_in_redirect(request)
    form = await request.form()
    ids = [str(v) for v in form.getlist("approval_id") if str(v)]
    if not ids:
        return RedirectResponse(
            "/ui/inbox?" + urlencode({"notice": "Nothing selected: tick the approvals to approve first."}),
            status_code=303,
        )
    if not _can_resolve(principal):
        return _error_page(request, principal, 403, "Your role can read approvals but not resolve them.")
    try:
        results = await _call(_service(request).approvals.bulk_resolve, principal, ids, _decision("accept"))
    except SERVICE_ERRORS as exc:
        return _error_page(request, principal, exc.status_code, _detail_text(exc))
    results = list(results or [])
    ok = sum(1 for r in results if _resolved(r))
    notice = f"Approved {ok} of {len(ids)} selected. " + "; ".join(_result_summary(r) for r in results)
    return RedirectResponse("/ui/inbox?" + urlencode({"notice": notice.strip()}), status_code=303)


# --- approval detail ------------------------------------------------------------------------------


async def _load_detail(request: Request, principal: Any, approval_id: str) -> Any:
    return await _call(_service(request).approvals.get, principal, approval_id)


def _detail_context(detail: Any) -> dict[str, Any]:
    req = _request_of(detail)
    args = _args_of(detail)
    description = str(req.get("description") or "")
    return {
        "detail": detail,
        "req": req,
        "args": args,
        "candidates": args.get("candidates") or [],
        "config": req.get("config") or {},
        "approval_error": field(detail, "approval_error") or _approval_error(description),
        "can_decide": bool(field(detail, "can_resolve", default=False)),
        "allowed": field(detail, "allowed", default=None) or {},
    }


_DETAIL_TEMPLATES = {
    "offer": "_offer_approval.html",
    "triage": "_triage_approval.html",
    "nurture": "_nurture_approval.html",
}


@router.get("/approvals/{approval_id}", response_class=HTMLResponse)
async def approval_detail(request: Request, approval_id: str) -> Response:
    principal = await _principal(request)
    if principal is None:
        return _sign_in_redirect(request)
    try:
        detail = await _load_detail(request, principal, approval_id)
    except SERVICE_ERRORS as exc:
        return _error_page(request, principal, exc.status_code, _detail_text(exc))
    template = _DETAIL_TEMPLATES.get(field(detail, "graph"), "approval.html")
    context = _detail_context(detail)
    return _render(request, template, principal, approval_id=approval_id, form=None, **context)


def _edited_candidates(form: Any, candidates: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], bool]:
    """(the kept candidates with their actions, whether anything differs from the proposal)."""
    kept = {str(v) for v in form.getlist("keep")}
    out: list[dict[str, Any]] = []
    changed = False
    for c in candidates:
        pid = str(c["person_id"])
        if pid not in kept:
            changed = True
            continue
        action = str(form.get(f"action_{pid}") or c.get("proposed_action"))
        pool = _int_or_none(form.get(f"pool_{pid}"))
        if action != "add_to_pool":
            pool = None
        elif pool is None:
            pool = c.get("pool_id")
        if (action, pool) != (c.get("proposed_action"), c.get("pool_id")):
            changed = True
        out.append({"person_id": c["person_id"], "proposed_action": action, "pool_id": pool})
    return out, changed


@router.post("/approvals/{approval_id}", response_class=HTMLResponse)
async def resolve_approval(request: Request, approval_id: str) -> Response:
    principal = await _principal(request)
    if principal is None:
        return _sign_in_redirect(request)
    if not _can_resolve(principal):
        return _error_page(request, principal, 403, "Your role can read approvals but not resolve them.")
    form = await request.form()
    choice = str(form.get("decision") or "")
    note = str(form.get("note") or "").strip() or None
    try:
        detail = await _load_detail(request, principal, approval_id)
    except SERVICE_ERRORS as exc:
        return _error_page(request, principal, exc.status_code, _detail_text(exc))
    context = _detail_context(detail)
    candidates = context["candidates"]

    offer = field(detail, "graph") == "offer"
    triage = field(detail, "graph") == "triage"

    def again(message: str, status: int = 422) -> HTMLResponse:
        return _render(
            request,
            _DETAIL_TEMPLATES.get(field(detail, "graph"), "approval.html"),
            principal,
            status_code=status,
            approval_id=approval_id,
            error=message,
            form=form,
            **context,
        )

    if offer:
        from server.offers import page_decision

        try:
            decision = page_decision(form, context["args"])
        except ValueError as exc:
            return again(str(exc))
    elif field(detail, "graph") == "nurture":
        from server.nurture import page_decision as nurture_decision

        try:
            decision = nurture_decision(form, context["args"])
        except ValueError as exc:
            return again(str(exc))
    elif triage and choice == "approve":
        from agents.triage.decision import DecisionError, page_edit

        args = context["args"]
        ids = [str(a["id"]) for a in args.get("actions") or []]
        try:
            edit = page_edit(
                args.get("actions") or [],
                [str(v) for v in form.getlist("keep")],
                tiers={i: str(form.get(f"tier_{i}") or "") for i in ids},
                statuses={i: str(form.get(f"status_{i}") or "") for i in ids},
                suggested_tier=str(args.get("tier") or ""),
            )
        except DecisionError as exc:
            return again(str(exc))
        decision = _decision("edit", edit, note) if edit else _decision("accept", None, note)
    elif choice == "approve":
        kept, changed = _edited_candidates(form, candidates)
        if not kept:
            return again(
                "No candidate is selected. Keep at least one, or choose Ignore to close without writing."
            )
        decision = (
            _decision("edit", {"candidates": kept}, note) if changed else _decision("accept", None, note)
        )
    elif choice == "respond":
        if not note:
            return again("Write the feedback to send back before choosing Send feedback.")
        decision = _decision("respond", None, note)
    elif choice == "ignore":
        decision = _decision("ignore", None, note)
    else:
        return again("Choose Approve, Send feedback or Ignore.", 400)
    try:
        result = await _call(_service(request).approvals.resolve, principal, approval_id, decision)
    except SERVICE_ERRORS as exc:
        if exc.status_code in (400, 409, 422):
            return again(_detail_text(exc), exc.status_code)
        return _error_page(request, principal, exc.status_code, _detail_text(exc))
    except (ValidationError, ValueError) as exc:
        return again(str(exc))
    if not _resolved(result):
        return again(str(field(result, "detail", default="") or field(result, "status")))
    job = context["args"].get("job_title") or context["args"].get("job_id") or approval_id
    writes = field(result, "writes", default=None)
    label = DECISION_LABELS.get(decision.type, decision.type)
    kind = {"offer": "Offer", "triage": "Triage", "nurture": "Outreach drafts"}.get(
        str(field(detail, "graph")), "Shortlist"
    )
    notice = f"{kind} for {job} {label}."
    if isinstance(writes, list):
        notice += f" {len(writes)} write{'s' if len(writes) != 1 else ''} applied in iCIMS."
    return RedirectResponse("/ui/inbox?" + urlencode({"notice": notice}), status_code=303)


# --- requisition shortlists (read-only; hiring managers too) ------------------------------------


@router.get("/requisitions", response_class=HTMLResponse)
async def requisitions(request: Request) -> Response:
    principal = await _principal(request)
    if principal is None:
        return _sign_in_redirect(request)
    try:
        items = await _call(_service(request).approvals.list, principal)
    except SERVICE_ERRORS as exc:
        return _error_page(request, principal, exc.status_code, _detail_text(exc))
    jobs: dict[str, dict[str, Any]] = {}
    for item in items or []:
        job_id = field(item, "job_id", default=None)
        if job_id is None:
            continue
        entry = jobs.setdefault(
            str(job_id), {"job_id": job_id, "job_title": field(item, "job_title", default=""), "count": 0}
        )
        entry["count"] += 1
    return _render(request, "requisitions.html", principal, jobs=list(jobs.values()))


@router.get("/requisitions/{job_id}", response_class=HTMLResponse)
async def requisition(request: Request, job_id: int) -> Response:
    principal = await _principal(request)
    if principal is None:
        return _sign_in_redirect(request)
    service = _service(request)
    try:
        items = await _call(service.approvals.list, principal, job_id=job_id)
        details = [
            (_approval_id(item), _detail_context(await _load_detail(request, principal, _approval_id(item))))
            for item in items or []
        ]
    except SERVICE_ERRORS as exc:
        return _error_page(request, principal, exc.status_code, _detail_text(exc))
    title = next((ctx["args"].get("job_title") for _, ctx in details if ctx["args"].get("job_title")), None)
    return _render(request, "requisition.html", principal, job_id=job_id, job_title=title, shortlists=details)


# --- copilot chat ---------------------------------------------------------------------------------


def _history(raw: Any) -> list[dict[str, str]]:
    try:
        items = json.loads(str(raw or "[]"))
    except ValueError:
        return []
    return [
        {"role": str(m.get("role")), "content": str(m.get("content"))}
        for m in items
        if isinstance(m, dict) and m.get("role") in ("user", "assistant") and m.get("content")
    ][-40:]


def _reply_text(content_type: str, body: str) -> tuple[str, str | None]:
    """(reply, thread id) from the copilot's JSON answer or its SSE stream."""
    if "text/event-stream" in content_type:
        tokens: list[str] = []
        final: str | None = None
        thread: str | None = None
        event = "message"
        for line in body.splitlines():
            if line.startswith("event:"):
                event = line[6:].strip()
                continue
            if not line.startswith("data:"):
                if not line.strip():
                    event = "message"
                continue
            data = line[5:].strip()
            try:
                value = json.loads(data)
            except ValueError:
                value = data
            if event == "error":
                detail = field(value, "message", "detail") if isinstance(value, dict) else value
                raise _CopilotUnavailable(f"The copilot could not answer: {detail}")
            if event in ("tool_call", "tool_result"):
                continue
            if isinstance(value, dict):
                thread = str(value.get("thread_id") or thread or "") or None
                text = field(
                    value, "reply", "answer", "message", "content", "text", "output", "token", "delta"
                )
                if isinstance(text, dict):
                    text = field(text, "content", "text")
                if text is None:
                    continue
                if event in ("token", "delta", "chunk") or "token" in value or "delta" in value:
                    tokens.append(str(text))
                else:
                    final = str(text)
            elif isinstance(value, str) and value not in ("[DONE]", ""):
                if event in ("done", "end"):
                    continue
                tokens.append(value)
        return (final if final is not None else "".join(tokens)).strip(), thread
    if "json" in content_type:
        value = json.loads(body)
        text = field(value, "reply", "answer", "message", "content", "text", "output")
        if isinstance(text, dict):
            text = field(text, "content", "text")
        if text is None and isinstance(value.get("messages"), list) and value["messages"]:
            last = value["messages"][-1]
            text = field(last, "content", "text") if isinstance(last, dict) else str(last)
        thread = value.get("thread_id") if isinstance(value, dict) else None
        return str(text if text is not None else json.dumps(value)), thread
    return body.strip(), None


async def _ask_copilot(
    request: Request, key: str, message: str, thread_id: str | None
) -> tuple[str, str | None]:
    """POST /copilot/chat in-process (same app, same key), returning (reply, thread id)."""
    import httpx

    # The copilot keeps the conversation itself (per principal and thread id); the page's transcript
    # is only for display.
    payload: dict[str, Any] = {"message": message}
    if thread_id:
        payload["thread_id"] = thread_id
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://copilot.local", timeout=120) as client:
        response = await client.post(
            "/copilot/chat",
            json=payload,
            headers={"X-API-Key": key, "Accept": "application/json"},
        )
    if response.status_code == 404 or response.status_code == 405:
        raise _CopilotUnavailable("The copilot is not available on this server yet (POST /copilot/chat).")
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail")
        except ValueError:
            detail = response.text[:300]
        raise _CopilotUnavailable(f"The copilot answered with an error ({response.status_code}): {detail}")
    return _reply_text(response.headers.get("content-type", ""), response.text)


class _CopilotUnavailable(Exception):
    pass


@router.get("/copilot", response_class=HTMLResponse)
async def copilot_page(request: Request) -> Response:
    principal = await _principal(request)
    if principal is None:
        return _sign_in_redirect(request)
    return _render(request, "copilot.html", principal, history=[], thread_id="")


@router.post("/copilot", response_class=HTMLResponse)
async def copilot_send(request: Request) -> Response:
    principal = await _principal(request)
    if principal is None:
        return _sign_in_redirect(request)
    form = await request.form()
    message = str(form.get("message") or "").strip()
    history = _history(form.get("history"))
    thread_id = str(form.get("thread_id") or "") or None
    if not message:
        return _render(
            request,
            "copilot.html",
            principal,
            status_code=422,
            history=history,
            thread_id=thread_id or "",
            error="Type a message first.",
        )
    error = None
    status = 200
    try:
        reply, new_thread = await _ask_copilot(request, _key_from(request) or "", message, thread_id)
        history = [*history, {"role": "user", "content": message}, {"role": "assistant", "content": reply}]
        thread_id = new_thread or thread_id
    except _CopilotUnavailable as exc:
        error, status = str(exc), 503
        history = [*history, {"role": "user", "content": message}]
    except Exception as exc:  # the copilot failing must not take the page down
        error, status = f"The copilot failed: {type(exc).__name__}: {exc}", 502
        history = [*history, {"role": "user", "content": message}]
    return _render(
        request,
        "copilot.html",
        principal,
        status_code=status,
        history=history,
        thread_id=thread_id or "",
        error=error,
    )


# --- audit log (auditor, admin) -------------------------------------------------------------------


def _audit_row(record: Any) -> dict[str, Any]:
    body = field(record, "body", default={}) or {}
    writes = body.get("writes")
    edits = body.get("edits") or body.get("changes") or {}
    approver = body.get("approver")
    if isinstance(approver, dict):  # approval_decision records: {key_id, name, role}
        approver = f"{approver.get('name')} ({approver.get('role')})"
    return {
        "seq": field(record, "seq"),
        "recorded_at": field(record, "recorded_at"),
        "kind": field(record, "kind"),
        "thread_id": field(record, "thread_id"),
        "trace_id": field(record, "trace_id"),
        "decision": body.get("decision"),
        "approver": approver,
        "writes": len(writes) if isinstance(writes, list) else None,
        "dropped": len(edits.get("dropped") or []) if isinstance(edits, dict) else 0,
        "hash": str(field(record, "hash", default=""))[:12],
    }


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(request: Request, thread_id: str | None = None) -> Response:
    principal = await _principal(request)
    if principal is None:
        return _sign_in_redirect(request)
    if not _can_audit(principal):
        return _error_page(request, principal, 403, "The audit log is for auditors and admins.")
    log = getattr(_service(request), "audit", None)
    if log is None:
        return _error_page(request, principal, 503, "The audit log is not configured on this server.")
    records = await _call(log.records, thread_id=thread_id or None)
    chain = await _call(log.verify) if hasattr(log, "verify") else None
    rows = [_audit_row(r) for r in reversed(records)][:500]
    return _render(
        request,
        "audit.html",
        principal,
        rows=rows,
        total=len(records),
        chain=chain,
        thread_filter=thread_id or "",
    )
