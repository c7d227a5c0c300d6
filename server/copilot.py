"""`POST /copilot/chat`: the recruiter copilot (graphs/copilot/), streamed as Server-Sent Events.

Body `{"message": "...", "thread_id": "..."?}`. The reply is `text/event-stream` with events
`token` ({text}), `tool_call` ({id, name, args}), `tool_result` ({id, name, status, content}), then
one `message` ({thread_id, role, content}) or `error` ({message}). With `Accept: application/json`
the same turn comes back as one JSON document ({thread_id, reply, events}) for clients without SSE.

Role-aware: the principal (`server.auth.current_principal`) is passed to the tools, which filter by
requisition ownership and refuse resolutions by auditors and hiring managers; listing and resolving
go through `ServiceState.approvals`, handed to the copilot as its `ApprovalsPort`. Chat threads are
per principal (the key id is part of the checkpoint thread), so nobody reads another user's
conversation by guessing its id; the chat history lives in its own SQLite file
(`data_dir/copilot.sqlite`), apart from the approvals' checkpointer.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from graphs.copilot import ApprovalDecision, CopilotDeps, build_graph, chat_events
from server.approvals import ApprovalService, Decision
from server.auth import current_principal

if TYPE_CHECKING:
    from server.state import ServiceState

router = APIRouter(tags=["copilot"])

_lock = threading.Lock()


class ServiceApprovals:
    """The approval service as the copilot's `ApprovalsPort`: the same role filters, validation and
    audit as `GET /approvals` and `POST /approvals/{id}/resolve`."""

    def __init__(self, approvals: ApprovalService) -> None:
        self._approvals = approvals

    def list(self, principal: Any, *, job_id: int | None = None) -> Sequence[Any]:
        kwargs: dict[str, Any] = {"job_id": job_id} if job_id is not None else {}
        return self._approvals.list(principal, **kwargs)

    def resolve(self, approval_id: str, decision: ApprovalDecision, principal: Any) -> Any:
        return self._approvals.resolve(principal, approval_id, Decision.model_validate(decision))


def copilot_deps(service: ServiceState) -> CopilotDeps:
    """The copilot over the service's own mirror, rediscovery graph, checkpointer and approvals."""
    options: dict[str, Any] = {
        "rediscovery": service.graphs.get("rediscovery"),
        "checkpointer": service.checkpointer,
        "approvals": ServiceApprovals(service.approvals),
    }
    if service.resources is not None:
        return CopilotDeps.open(service.resources, **options)
    return CopilotDeps.from_settings(service.settings, mirror=service.mirror, **options)


class ChatRequest(BaseModel):
    message: str = Field(min_length=1, max_length=4000, description="What the user typed.")
    thread_id: str | None = Field(
        default=None,
        max_length=100,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="Continue this conversation (returned in the `message` event); omit to start one.",
    )


class ChatReply(BaseModel):
    thread_id: str
    reply: str
    events: list[dict[str, Any]]


def _copilot(request: Request) -> Any:
    """The app's compiled copilot graph, built once from `app.state.service`."""
    state = request.app.state
    graph = getattr(state, "copilot_graph", None)
    if graph is not None:
        return graph
    with _lock:
        graph = getattr(state, "copilot_graph", None)
        if graph is None:
            service = getattr(state, "service", None)
            if service is None:
                raise HTTPException(status_code=503, detail="service not ready")
            from langgraph.checkpoint.sqlite import SqliteSaver

            deps = copilot_deps(service)
            data_dir = service.settings.data_dir
            data_dir.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(data_dir / "copilot.sqlite"), check_same_thread=False)
            graph = build_graph(SqliteSaver(conn), deps=deps)
            state.copilot_graph = graph
            state.copilot_deps = deps
    return graph


def _owner(principal: Any) -> str:
    return str(getattr(principal, "key_id", None) or getattr(principal, "name", None) or "anonymous")


@router.post(
    "/copilot/chat",
    summary="Chat with the recruiter copilot (SSE stream)",
    response_model=None,
    responses={200: {"content": {"text/event-stream": {}, "application/json": {}}}},
)
def chat(
    body: ChatRequest, request: Request, principal: Any = Depends(current_principal)
) -> StreamingResponse | JSONResponse:
    graph = _copilot(request)
    public_id = body.thread_id or uuid.uuid4().hex
    thread_id = f"copilot:{_owner(principal)}:{public_id}"

    def events() -> Iterator[tuple[str, dict[str, Any]]]:
        for event in chat_events(graph, body.message, thread_id=thread_id, principal=principal):
            data = dict(event.data)
            if event.type == "message":
                data["thread_id"] = public_id
            yield event.type, data

    if "application/json" in request.headers.get(
        "accept", ""
    ) and "text/event-stream" not in request.headers.get("accept", ""):
        collected = [{"type": kind, "data": data} for kind, data in events()]
        final = next((e["data"] for e in reversed(collected) if e["type"] == "message"), None)
        if final is None:
            error = next((e["data"] for e in collected if e["type"] == "error"), {"message": "no reply"})
            return JSONResponse({"detail": error["message"], "events": collected}, status_code=500)
        return JSONResponse(
            ChatReply(thread_id=public_id, reply=final["content"], events=collected).model_dump(mode="json")
        )

    def stream() -> Iterator[str]:
        import json

        for kind, data in events():
            yield f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
