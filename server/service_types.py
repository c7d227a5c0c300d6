"""The service as its approvals and runs services see it.

`server.state.ServiceState` holds an `ApprovalService` and a `RunService`, and both read the state
back (its graphs, checkpointer, mirror owners, audit log). They are typed against these protocols,
which `ServiceState` and `GraphSpec` satisfy, so `server.approvals` and `server.runs` never import
`server.state` and the state sits above them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver
    from pydantic import BaseModel

    from graphs.kit.inbox import HumanResponse, PendingApproval
    from graphs.kit.kind import JobOwners
    from tools.audit import AuditLog


class SpecView(Protocol):
    """A graph the service runs (`server.state.GraphSpec`)."""

    name: str
    graph: Any  # CompiledStateGraph
    thread_prefix: str
    input_model: type[BaseModel]
    thread_id: Callable[[BaseModel], str]
    job_id_of_input: Callable[[BaseModel], int | None]
    validate_decision: Callable[[dict[str, Any], HumanResponse], dict[str, Any]] | None
    authorize: Callable[[Any, Any], None] | None
    owners_of: Callable[[PendingApproval], JobOwners | None] | None

    def job_id_of_state(self, values: dict[str, Any]) -> int | None: ...

    def job_id_of_thread(self, thread_id: str) -> int | None: ...

    def output_keys(self) -> list[str]: ...


class ServiceView(Protocol):
    """What `ApprovalService` and `RunService` read of the service (`server.state.ServiceState`)."""

    checkpointer: BaseCheckpointSaver
    audit: AuditLog

    @property
    def specs(self) -> Mapping[str, SpecView]: ...

    def spec(self, name: str) -> SpecView: ...

    def spec_for_thread(self, thread_id: str) -> SpecView | None: ...

    def job_owners(self, job_id: int | None) -> JobOwners | None: ...

    def person_name(self, person_id: int | None) -> str | None: ...
