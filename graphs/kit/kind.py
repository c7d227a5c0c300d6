"""`GraphKind`: everything the service, the worker and the inbox need to know about one workflow.

A graph package declares one `KIND` in its `kind.py`; the server's registry lists them. From the
declaration the service opens the graph's deps (`open`), compiles it on the shared checkpointer
(`build`), validates run inputs (`input_model`), maps a run and a thread to its requisition and
owner (for roles), re-validates an edited approval before anything resumes (`validate_decision`),
checks who may answer (`authorize`), and the worker routes iCIMS events (`events`) and runs the
periodic jobs (`periodic`). A new workflow is one package plus one line in the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from graphs.kit.runs import run_config
from graphs.kit.threads import ThreadKey

if TYPE_CHECKING:
    from graphs.kit.inbox import HumanResponse, PendingApproval
    from graphs.kit.resources import Resources


class NotAllowed(PermissionError):
    """This principal may not answer this approval (the service answers 403 with the message)."""


@dataclass(frozen=True)
class JobOwners:
    """Who a requisition (or an approval that belongs to none) belongs to, from the mirror."""

    job_id: int | None
    title: str | None
    recruiter_id: int | None
    hiring_manager_id: int | None
    known: bool = True


@dataclass(frozen=True)
class PeriodicJob:
    """`run(runtime, now)` every minute matching `minute` (a crontab minute spec), once per
    deployment's worker; `runtime` is the service's state (`.settings`, `.graphs[name]`,
    `.deps[name]`)."""

    name: str
    run: Callable[[Any, Any], Any]
    minute: str = "*"


# (the stored event: tools.events.store.StoredEvent, the runtime: the service's state) -> the JSON
# outcome kept on the event row. Idempotent per event: a killed worker runs the event again.
EventHandler = Callable[[Any, Any], dict[str, Any]]


@dataclass(frozen=True)
class GraphKind:
    name: str
    thread_key: ThreadKey
    input_model: type[BaseModel]
    open: Callable[[Resources], Any]  # -> the graph's deps (closed with the resources)
    build: Callable[..., Any]  # (checkpointer, *, deps) -> compiled graph
    # (deps, validated input) -> the thread a run of it uses.
    thread_of_input: Callable[[Any, Any], str]
    # (deps, validated input) -> the requisition a run of it belongs to (for roles).
    job_of_input: Callable[[Any, Any], int | None] = lambda _deps, _request: None
    # Whether thread ids end with the requisition id (else the job is read from the thread's state).
    thread_ends_with_job: bool = True
    # Overrides of how a thread's state / a thread id maps to its requisition.
    job_of_state: Callable[[dict[str, Any]], int | None] | None = None
    job_of_thread: Callable[[OpenGraph, str], int | None] | None = None
    # Approvals that belong to no requisition: (open graph, pending) -> who owns it.
    owners_of: Callable[[OpenGraph, PendingApproval], JobOwners | None] | None = None
    # (deps, thread state values, parsed response) -> what the decision changes; raises ValueError.
    validate_decision: Callable[[Any, dict[str, Any], HumanResponse], dict[str, Any]] | None = None
    # (deps, principal, pending) -> raises NotAllowed when this principal may not answer it.
    authorize: Callable[[Any, Any, PendingApproval], None] | None = None
    result_keys: Sequence[str] | None = None
    events: Mapping[str, EventHandler] = field(default_factory=dict)  # iCIMS event type -> handler
    periodic: Sequence[PeriodicJob] = ()
    requires: Sequence[str] = ()  # graphs whose deps this one's `open` reads from `resources.shared`


@dataclass
class OpenGraph:
    """A kind opened in a process: its compiled graph and deps."""

    kind: GraphKind
    graph: Any
    deps: Any

    @property
    def name(self) -> str:
        return self.kind.name

    @property
    def thread_prefix(self) -> str:
        return self.kind.thread_key.thread_prefix

    def thread_id(self, request: Any) -> str:
        return self.kind.thread_of_input(self.deps, request)

    def job_id_of_input(self, request: Any) -> int | None:
        return self.kind.job_of_input(self.deps, request)

    def job_id_of_state(self, values: dict[str, Any]) -> int | None:
        if self.kind.job_of_state is not None:
            return self.kind.job_of_state(values)
        job = values.get("job") or {}
        raw = job.get("id") if isinstance(job, dict) else None
        if raw is None:
            raw = ((values.get("run") or {}).get("request") or {}).get("job_id") or values.get("job_id")
        if raw is None:
            raw = (values.get("application") or {}).get("job_id")
        try:
            return int(raw) if raw is not None else None
        except (TypeError, ValueError):
            return None

    def job_id_of_thread(self, thread_id: str) -> int | None:
        if self.kind.job_of_thread is not None:
            return self.kind.job_of_thread(self, thread_id)
        if self.kind.owners_of is not None:
            return None
        if self.kind.thread_ends_with_job:
            return self.kind.thread_key.last_int(thread_id)
        values = self.graph.get_state(run_config(thread_id)).values or {}
        return self.job_id_of_state(dict(values))

    def output_keys(self) -> list[str]:
        if self.kind.result_keys is not None:
            return list(self.kind.result_keys)
        try:
            return list(self.graph.get_output_jsonschema().get("properties", {}))
        except Exception:
            return []


def open_kind(kind: GraphKind, resources: Resources, checkpointer: Any) -> OpenGraph:
    deps = kind.open(resources)
    if hasattr(deps, "close"):
        resources.own(deps)
    resources.shared[kind.name] = deps
    return OpenGraph(kind=kind, graph=kind.build(checkpointer, deps=deps), deps=deps)
