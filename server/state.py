"""`ServiceState`: everything the service's routers share.

One per app, built at startup by `create_app`'s lifespan and kept as `app.state.service`. It holds
the checkpointer (where pending approvals live, so they survive restarts), the compiled graphs, the
mirror, the audit log, the key store and the approvals and run services.

The checkpointer is the synchronous saver `tools.checkpoint.open_checkpointer` opens (SQLite by
default, Postgres with a `checkpointer_url`), wrapped in `ThreadedSaver`, which gives it the async
interface by running each call in a worker thread. So `graph.astream` (the SSE stream) and plain
`graph.invoke`/`get_state` (the approvals, from any thread, including the event loop's) work on the
same saver; an async-only saver would deadlock sync callers on the loop's own thread.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from pydantic import BaseModel

from graphs.kit.kind import JobOwners, NotAllowed, OpenGraph, open_kind
from graphs.kit.resources import Resources
from server.approvals import ApprovalService
from server.auth import KeyStore
from server.errors import Forbidden, NotFound
from server.registry import KINDS
from server.runs import RunService
from tools.audit import AuditLog
from tools.checkpoint import open_checkpointer
from tools.events.routing import EventRoutes
from tools.mirror import MirrorStore
from tools.mirror.store import link_id

if TYPE_CHECKING:
    from graphs.kit.inbox import HumanResponse
    from tools.settings import Settings


class ThreadedSaver(BaseCheckpointSaver):
    """A synchronous checkpointer with the async methods too (each runs the sync one in a thread)."""

    def __init__(self, inner: BaseCheckpointSaver) -> None:
        super().__init__(serde=inner.serde)
        self.inner = inner

    @property
    def config_specs(self) -> list:  # type: ignore[override]
        return self.inner.config_specs

    # -- sync: delegate ------------------------------------------------------------------------------
    def get_tuple(self, config):  # type: ignore[no-untyped-def]
        return self.inner.get_tuple(config)

    def list(self, config, *, filter=None, before=None, limit=None):  # type: ignore[no-untyped-def]
        return self.inner.list(config, filter=filter, before=before, limit=limit)

    def put(self, config, checkpoint, metadata, new_versions):  # type: ignore[no-untyped-def]
        return self.inner.put(config, checkpoint, metadata, new_versions)

    def put_writes(self, config, writes, task_id, task_path=""):  # type: ignore[no-untyped-def]
        return self.inner.put_writes(config, writes, task_id, task_path)

    def delete_thread(self, thread_id):  # type: ignore[no-untyped-def]
        return self.inner.delete_thread(thread_id)

    def get_next_version(self, current, channel):  # type: ignore[no-untyped-def]
        return self.inner.get_next_version(current, channel)

    def get_delta_channel_history(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return self.inner.get_delta_channel_history(*args, **kwargs)

    # -- async: the same calls in a worker thread ---------------------------------------------------
    async def aget_tuple(self, config):  # type: ignore[no-untyped-def]
        return await asyncio.to_thread(self.inner.get_tuple, config)

    async def alist(self, config, *, filter=None, before=None, limit=None):  # type: ignore[no-untyped-def]
        items = await asyncio.to_thread(
            lambda: list(self.inner.list(config, filter=filter, before=before, limit=limit))
        )
        for item in items:
            yield item

    async def aput(self, config, checkpoint, metadata, new_versions):  # type: ignore[no-untyped-def]
        return await asyncio.to_thread(self.inner.put, config, checkpoint, metadata, new_versions)

    async def aput_writes(self, config, writes, task_id, task_path=""):  # type: ignore[no-untyped-def]
        return await asyncio.to_thread(self.inner.put_writes, config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id):  # type: ignore[no-untyped-def]
        return await asyncio.to_thread(self.inner.delete_thread, thread_id)

    async def aget_delta_channel_history(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return await asyncio.to_thread(self.inner.get_delta_channel_history, *args, **kwargs)


@dataclass
class GraphSpec:
    """A graph the service can run: how its input is validated, which thread a run uses, which
    requisition a thread belongs to (for roles), and how an edited approval is re-validated."""

    name: str
    graph: Any  # CompiledStateGraph
    thread_prefix: str
    input_model: type[BaseModel]
    thread_id: Callable[[BaseModel], str]
    job_id_of_input: Callable[[BaseModel], int | None]
    # (thread state values, parsed response) -> what the decision changes; raises ValueError or
    # pydantic.ValidationError when an edit cannot be applied. Runs before anything is resumed.
    validate_decision: Callable[[dict[str, Any], HumanResponse], dict[str, Any]] | None = None
    # The state keys a run's result shows (default: the graph's output schema).
    result_keys: Sequence[str] | None = None
    # (principal, the pending approval) -> raises `server.errors.Forbidden` when this principal may
    # not answer this particular request (e.g. an offer step that needs the comp partner). Runs after
    # the requisition-owner check.
    authorize: Callable[[Any, Any], None] | None = None
    # For approvals that belong to no requisition (a nurture run): the pending approval -> who owns
    # it (recruiter_id decides who sees and resolves it, as a job's recruiter does for the others).
    owners_of: Callable[[Any], JobOwners | None] | None = None

    def job_id_of_state(self, values: dict[str, Any]) -> int | None:
        job = values.get("job") or {}
        raw = job.get("id") if isinstance(job, dict) else None
        if raw is None:
            raw = ((values.get("run") or {}).get("request") or {}).get("job_id") or values.get("job_id")
        try:
            return int(raw) if raw is not None else None
        except (TypeError, ValueError):
            return None

    def job_id_of_thread(self, thread_id: str) -> int | None:
        """Thread ids end with the requisition id (`rediscovery:{customer}:{job}`)."""
        tail = thread_id.rsplit(":", 1)[-1]
        return int(tail) if tail.isdigit() else None

    def output_keys(self) -> list[str]:
        if self.result_keys is not None:
            return list(self.result_keys)
        try:
            return list(self.graph.get_output_jsonschema().get("properties", {}))
        except Exception:
            return []


@dataclass
class ServiceState:
    settings: Settings
    checkpointer: BaseCheckpointSaver
    graphs: dict[str, Any]
    specs: dict[str, GraphSpec]
    keys: KeyStore
    mirror: MirrorStore
    audit: AuditLog
    approvals: ApprovalService = field(init=False)
    runs: RunService = field(init=False)
    deps: dict[str, Any] = field(default_factory=dict)  # per graph: its dependencies (closed at exit)
    opened: dict[str, OpenGraph] = field(default_factory=dict)  # per graph kind opened here
    resources: Resources | None = None  # what the kinds' deps were opened from (closed at exit)
    warmer: Any = None  # server.pool_warmer.PoolWarmer: rediscovery's index, built off the request path

    def __post_init__(self) -> None:
        self.approvals = ApprovalService(self)
        self.runs = RunService(self)

    # -- graphs -----------------------------------------------------------------------------------
    def register(self, spec: GraphSpec) -> None:
        self.specs[spec.name] = spec
        self.graphs[spec.name] = spec.graph

    def spec(self, name: str) -> GraphSpec:
        try:
            return self.specs[name]
        except KeyError:
            raise NotFound(f"no graph named {name!r}; known: {', '.join(sorted(self.specs))}") from None

    def event_routes(self) -> EventRoutes:
        """Which handlers each iCIMS event type goes to: the kinds' declared events, in registry
        order (a status change reaches offer, then nurture)."""
        return EventRoutes.of(
            (event_type, name, handler)
            for name, opened in self.opened.items()
            for event_type, handler in opened.kind.events.items()
        )

    def spec_for_thread(self, thread_id: str) -> GraphSpec | None:
        for spec in self.specs.values():
            if thread_id.startswith(spec.thread_prefix):
                return spec
        return None

    # -- requisitions and roles -------------------------------------------------------------------
    def job_owners(self, job_id: int | None) -> JobOwners | None:
        if job_id is None:
            return None
        data = self.mirror.get_data("jobs", int(job_id))
        if data is None:
            return JobOwners(int(job_id), None, None, None, known=False)
        return JobOwners(
            job_id=int(job_id),
            title=data.get("jobtitle"),
            recruiter_id=link_id(data.get("recruiter")),
            hiring_manager_id=link_id(data.get("hiringmanager")),
        )

    def person_name(self, person_id: int | None) -> str | None:
        if person_id is None:
            return None
        data = self.mirror.get_data("people", int(person_id)) or {}
        name = " ".join(str(data.get(k) or "").strip() for k in ("firstname", "lastname")).strip()
        return name or None

    def close(self) -> None:
        if self.warmer is not None:
            self.warmer.stop()
        owned_by_resources = {id(o.deps) for o in self.opened.values()}
        for deps in self.deps.values():
            if id(deps) in owned_by_resources:
                continue
            with contextlib.suppress(Exception):
                deps.close()
        if self.resources is not None:
            self.resources.close()
        with contextlib.suppress(Exception):
            self.keys.close()
        with contextlib.suppress(Exception):
            self.audit.close()
        with contextlib.suppress(Exception):
            self.mirror.close()


def spec_of(opened: OpenGraph) -> GraphSpec:
    """The service's view of a kind opened in this process (deps bound into its hooks)."""
    kind, deps = opened.kind, opened.deps

    validate = None
    if kind.validate_decision is not None:
        check = kind.validate_decision

        def validate(values: dict[str, Any], response: HumanResponse) -> dict[str, Any]:
            return check(deps, values, response)

    authorize = None
    if kind.authorize is not None:
        allowed = kind.authorize

        def authorize(principal: Any, pending: Any) -> None:
            try:
                allowed(deps, principal, pending)
            except NotAllowed as exc:
                raise Forbidden(str(exc)) from None

    owners_of = None
    if kind.owners_of is not None:
        owners = kind.owners_of

        def owners_of(pending: Any) -> JobOwners | None:
            return owners(opened, pending)

    return KindSpec(
        name=kind.name,
        graph=opened.graph,
        thread_prefix=opened.thread_prefix,
        input_model=kind.input_model,
        thread_id=opened.thread_id,
        job_id_of_input=opened.job_id_of_input,
        validate_decision=validate,
        result_keys=kind.result_keys,
        authorize=authorize,
        owners_of=owners_of,
        opened=opened,
    )


@dataclass
class KindSpec(GraphSpec):
    opened: OpenGraph | None = None

    def job_id_of_state(self, values: dict[str, Any]) -> int | None:
        assert self.opened is not None
        return self.opened.job_id_of_state(values)

    def job_id_of_thread(self, thread_id: str) -> int | None:
        assert self.opened is not None
        return self.opened.job_id_of_thread(thread_id)


@contextlib.contextmanager
def open_service(
    settings: Settings,
    *,
    embeddings: Any = None,
    deps_overrides: dict[str, Any] | None = None,
    warm_rediscovery: bool = False,
    kinds: Sequence[Any] | None = None,
) -> Iterator[ServiceState]:
    """Open everything the service needs; closed on exit. `embeddings` overrides the settings'
    encoder (tests pass `HashEmbeddings`), `deps_overrides` single rediscovery dependencies, `kinds`
    the registry's graphs (`server.registry`). `warm_rediscovery` keeps rediscovery's candidate index
    built in the background (the HTTP service, where recruiters wait on runs; not the queue worker
    or one-off commands, which would spend the CPU their own work needs)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with open_checkpointer(settings) as saver:
        checkpointer = ThreadedSaver(saver)
        mirror = MirrorStore(settings.mirror_database_url)
        audit = AuditLog.from_settings(settings)
        resources = Resources(
            settings,
            mirror=mirror,
            audit=audit,
            embeddings=embeddings,
            overrides={"rediscovery": dict(deps_overrides or {})},
        )
        state = ServiceState(
            settings=settings,
            checkpointer=checkpointer,
            graphs={},
            specs={},
            keys=KeyStore.for_data_dir(settings.data_dir),
            mirror=mirror,
            audit=audit,
            resources=resources,
        )
        try:
            for kind in kinds if kinds is not None else KINDS:
                opened = open_kind(kind, resources, checkpointer)
                state.opened[kind.name] = opened
                state.deps[kind.name] = opened.deps
                state.register(spec_of(opened))
            if warm_rediscovery and settings.rediscovery_pool_warm and "rediscovery" in state.deps:
                from server.pool_warmer import PoolWarmer

                interval = settings.rediscovery_pool_refresh_seconds
                state.warmer = PoolWarmer(state.deps["rediscovery"], interval_seconds=interval).start()
            yield state
        finally:
            state.close()
