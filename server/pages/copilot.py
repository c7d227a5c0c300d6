"""The copilot chat page: a plain form that posts each message to the copilot's own API
(`POST /copilot/chat`, in-process, as the signed-in caller), which keeps the conversation; the page
only shows the transcript."""

from __future__ import annotations

import json
from typing import Any

import httpx
from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from server.pages.common import forwarded_credentials, page_router, sign_in_redirect, signed_in
from server.pages.render import field, render

router = page_router()


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
    request: Request, credentials: dict[str, str], message: str, thread_id: str | None
) -> tuple[str, str | None]:
    """POST /copilot/chat in-process (same app, same caller), returning (reply, thread id)."""
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
            headers={**credentials, "Accept": "application/json"},
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
    principal = await signed_in(request)
    if principal is None:
        return sign_in_redirect(request)
    return render(request, "copilot.html", principal, history=[], thread_id="")


@router.post("/copilot", response_class=HTMLResponse)
async def copilot_send(request: Request) -> Response:
    principal = await signed_in(request)
    if principal is None:
        return sign_in_redirect(request)
    form = await request.form()
    message = str(form.get("message") or "").strip()
    history = _history(form.get("history"))
    thread_id = str(form.get("thread_id") or "") or None
    if not message:
        return render(
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
        reply, new_thread = await _ask_copilot(request, forwarded_credentials(request), message, thread_id)
        history = [*history, {"role": "user", "content": message}, {"role": "assistant", "content": reply}]
        thread_id = new_thread or thread_id
    except _CopilotUnavailable as exc:
        error, status = str(exc), 503
        history = [*history, {"role": "user", "content": message}]
    except Exception as exc:  # the copilot failing must not take the page down
        error, status = f"The copilot failed: {type(exc).__name__}: {exc}", 502
        history = [*history, {"role": "user", "content": message}]
    return render(
        request,
        "copilot.html",
        principal,
        status_code=status,
        history=history,
        thread_id=thread_id or "",
        error=error,
    )
