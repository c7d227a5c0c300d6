"""Runs: start a registered graph, read a thread's state and result, stream its progress.

A run executes as an asyncio task over `graph.astream(..., stream_mode="updates")`; each node's
update becomes an event (`update`, then `interrupt` when it pauses for approval, `error`, and a final
`end`). Events are kept per thread for the run and replayed to late subscribers, so a client that
starts a run in the background and then opens `GET /runs/{thread_id}/stream` sees all of it.

A run holds its thread's lease (`server.applying`) from start to end, so it never overlaps an
approval being resolved, or finished by the worker, on the same thread in any process (409).
A thread approved but stopped before its end reads as `applying`: the worker's reconciler finishes
it (starting the run again does too, without a second approval).

Who may start: admins, and recruiters for the requisitions they recruit for. Who may read: admins
and auditors anything, recruiters and hiring managers their own requisitions' threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, ValidationError

from graphs.kit.inbox import unfinished
from graphs.kit.runs import approved_unfinished, decided, run_config
from server.applying import ApprovedWrites
from server.approval_models import ApplyingInfo
from server.approval_records import applying_info
from server.approvals import ApprovalService
from server.errors import Conflict, Forbidden, Invalid, NotFound, Upstream
from tools.leases import LeaseHeld

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

    from server.auth import Principal
    from server.service_types import ServiceView, SpecView

RunStatus = Literal["running", "interrupted", "applying", "stopped", "done", "error"]
KEEP_FINISHED = 200


class RunStart(BaseModel):
    input: dict[str, Any] = Field(description="the graph's input, e.g. rediscovery: {job_id, top_k, filters}")
    background: bool = Field(
        default=False, description="return at once (202) and follow `GET /runs/{thread_id}/stream`"
    )
    restart: bool = Field(default=False, description="start again even if the thread waits for approval")


class RunInfo(BaseModel):
    thread_id: str
    graph: str
    status: RunStatus
    approval_id: str | None = Field(default=None, description="set while the run waits for approval")
    resumed_existing: bool = False
    next: list[str] = Field(default_factory=list)
    job_id: int | None = None
    result: dict[str, Any] = Field(default_factory=dict, description="the state keys the graph outputs")
    error: str | None = None
    applying: ApplyingInfo | None = Field(
        default=None, description="approved, writes being retried: attempts, next time, last error"
    )


@dataclass
class RunHandle:
    thread_id: str
    graph: str
    events: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False
    error: str | None = None
    exception: BaseException | None = None
    task: asyncio.Task | None = None
    lease: contextlib.AbstractContextManager[Any] | None = None  # the thread's, held for the run
    cond: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def publish(self, event: str, data: dict[str, Any], *, final: bool = False) -> None:
        async with self.cond:
            self.events.append({"event": event, "data": data, "at": datetime.now(UTC).isoformat()})
            if final:
                self.done = True
            self.cond.notify_all()

    async def follow(self) -> AsyncIterator[dict[str, Any]]:
        seen = 0
        while True:
            async with self.cond:
                await self.cond.wait_for(lambda n=seen: self.done or len(self.events) > n)
                batch = self.events[seen:]
                seen = len(self.events)
                finished = self.done
            for event in batch:
                yield event
            if finished and seen == len(self.events):
                return


def sse(event: str, data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False, default=str)
    return f"event: {event}\ndata: {text}\n\n"


def _summarise_update(node: str, update: Any) -> dict[str, Any]:
    """Small progress facts per node (ids and counts, never resume text)."""
    out: dict[str, Any] = {"node": node}
    if isinstance(update, dict):
        out["keys"] = sorted(update)
        counts = {k: len(v) for k, v in update.items() if isinstance(v, list)}
        if counts:
            out["counts"] = counts
    return out


class RunService:
    def __init__(self, service: ServiceView) -> None:
        self.service = service
        self._handles: OrderedDict[str, RunHandle] = OrderedDict()
        self.applying = ApprovedWrites(service)

    # -- permissions ------------------------------------------------------------------------------
    def _check_start(self, principal: Principal, spec: SpecView, job_id: int | None) -> None:
        if principal.role == "admin":
            return
        if principal.role != "recruiter":
            raise Forbidden(f"the {principal.role} role cannot start runs")
        owners = self.service.job_owners(job_id)
        if owners is None or principal.recruiter_id is None or owners.recruiter_id != principal.recruiter_id:
            raise Forbidden("recruiters start runs only for the requisitions they recruit for")

    # -- starting ---------------------------------------------------------------------------------
    async def start(self, principal: Principal, graph: str, body: RunStart) -> RunInfo:
        spec = self.service.spec(graph)
        try:
            request = spec.input_model.model_validate(body.input)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            raise Invalid(f"input not valid: {where}: {first['msg']}") from None
        job_id = spec.job_id_of_input(request)
        await asyncio.to_thread(self._check_start, principal, spec, job_id)
        thread_id = spec.thread_id(request)
        running = self._handles.get(thread_id)
        if running is not None and not running.done:
            raise Conflict(f"a run is already in progress on {thread_id}")
        config = run_config(thread_id, principal.label)
        payload: dict[str, Any] | None = request.model_dump(mode="json", exclude_none=True)
        if not body.restart:
            state = await spec.graph.aget_state(config)
            if state.interrupts:
                return await asyncio.to_thread(self.info, principal, thread_id, True)
            if await asyncio.to_thread(approved_unfinished, spec.graph, thread_id):
                # Approved but stopped mid-way (a crash while writing): streaming from no input is
                # `graphs.kit.runs.finish` with progress events; no second approval is asked.
                payload = None
        lease = self.applying.hold(thread_id)
        try:
            await asyncio.to_thread(lease.__enter__)
        except LeaseHeld:
            raise Conflict(f"{thread_id} is being resolved elsewhere; try again in a moment") from None
        handle = RunHandle(thread_id=thread_id, graph=spec.name, lease=lease)
        self._handles[thread_id] = handle
        self._handles.move_to_end(thread_id)
        while len(self._handles) > KEEP_FINISHED:
            oldest = next(iter(self._handles))
            if not self._handles[oldest].done:
                break
            self._handles.pop(oldest)
        handle.task = asyncio.create_task(self._execute(handle, spec, payload, config))
        if body.background:
            return RunInfo(thread_id=thread_id, graph=spec.name, status="running", job_id=job_id)
        await asyncio.shield(handle.task)
        if handle.exception is not None:
            if isinstance(handle.exception, LookupError):
                raise NotFound(str(handle.exception).strip("'\""))
            raise Upstream(handle.error or "the run failed")
        return await asyncio.to_thread(self.info, principal, thread_id)

    async def _execute(
        self, handle: RunHandle, spec: SpecView, payload: dict[str, Any] | None, config: RunnableConfig
    ) -> None:
        await handle.publish("start", {"thread_id": handle.thread_id, "graph": handle.graph})
        status: RunStatus = "done"
        try:
            async for chunk in spec.graph.astream(payload, config, stream_mode="updates"):
                for node, update in chunk.items():
                    if node == "__interrupt__":
                        status = "interrupted"
                        await handle.publish(
                            "interrupt",
                            {
                                "approval_id": handle.thread_id,
                                "interrupts": [getattr(i, "id", None) for i in update],
                            },
                        )
                    else:
                        await handle.publish("update", _summarise_update(node, update))
        except Exception as exc:
            status = "error"
            handle.exception = exc
            handle.error = f"{type(exc).__name__}: {exc}"
            await handle.publish("error", {"error": handle.error})
        finally:
            if handle.lease is not None:
                await asyncio.to_thread(handle.lease.__exit__, None, None, None)
        await handle.publish("end", {"thread_id": handle.thread_id, "status": status}, final=True)

    # -- reading ----------------------------------------------------------------------------------
    def info(self, principal: Principal, thread_id: str, resumed_existing: bool = False) -> RunInfo:
        spec = self.service.spec_for_thread(thread_id)
        if spec is None:
            raise NotFound(f"no run {thread_id!r}")
        handle = self._handles.get(thread_id)
        state = spec.graph.get_state(run_config(thread_id))
        values = dict(state.values or {})
        if not values and handle is None:
            raise NotFound(f"no run {thread_id!r}")
        job_id = spec.job_id_of_state(values) or spec.job_id_of_thread(thread_id)
        owners = self.service.job_owners(job_id)
        if not ApprovalService.can_see(principal, owners):
            raise NotFound(f"no run {thread_id!r}")
        status: RunStatus
        applying = None
        if handle is not None and not handle.done:
            status = "running"
        elif state.interrupts:
            status = "interrupted"
        elif unfinished(state) and decided(values):
            status = "applying"
            row = self.applying.row(thread_id)
            applying = ApplyingInfo.model_validate(applying_info(row)) if row is not None else None
        elif handle is not None and handle.error and unfinished(state):
            status = "error"
        elif unfinished(state):
            status = "stopped"
        else:
            status = "done"
        keys = spec.output_keys()
        return RunInfo(
            thread_id=thread_id,
            graph=spec.name,
            status=status,
            approval_id=thread_id if state.interrupts else None,
            resumed_existing=resumed_existing,
            next=list(state.next or ()),
            job_id=job_id,
            result={k: values[k] for k in keys if k in values},
            error=handle.error if handle is not None else None,
            applying=applying,
        )

    async def stream(self, principal: Principal, thread_id: str) -> AsyncIterator[str]:
        """SSE text: the run's events (replayed from its start), or the thread's state and `end`
        when no run of this process is attached to it."""
        info = await asyncio.to_thread(self.info, principal, thread_id)  # authorises first
        handle = self._handles.get(thread_id)

        async def events() -> AsyncIterator[str]:
            if handle is None:
                yield sse("state", info.model_dump(mode="json", exclude={"result"}))
                yield sse("end", {"thread_id": thread_id, "status": info.status})
                return
            async for event in handle.follow():
                yield sse(event["event"], {**event["data"], "at": event["at"]})

        return events()

    async def shutdown(self) -> None:
        tasks = [h.task for h in self._handles.values() if h.task is not None and not h.task.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
