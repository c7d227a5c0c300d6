"""What the copilot's tools touch, and the port through which the service answers approvals.

`CopilotDeps.open(resources)` takes the mirror from the shared `Resources`; without a `rediscovery`
graph it builds one over a checkpointer it opens itself (owned by the resources, so closed with
them). `from_settings` opens its own `Resources` for a copilot run alone (tests, langgraph.json)
and `close` closes them. Inside the service, `approvals` is the service's `ApprovalsPort` adapter:
resolutions then go through the approval service (validation, audit, role filters) instead of the
rediscovery graph's own interrupt resume.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from typing_extensions import TypedDict

from agents.enrichment import DeterministicExtractor, enrich, make_extractor, requisition_from_job
from agents.scoring import history_from_workflows, score_candidate
from graphs.kit.resources import Resources, open_alone
from graphs.rediscovery import RediscoveryDeps
from graphs.rediscovery import build_graph as build_rediscovery
from tools.checkpoint import open_checkpointer
from tools.llm import guard, make_chat_model

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver

    from tools.mirror import MirrorStore
    from tools.settings import Settings

T = TypeVar("T")


class ApprovalDecision(TypedDict):
    """An answer to one pending approval: `args` the edited action args (edit), else None."""

    type: Literal["accept", "edit", "ignore", "respond"]
    args: dict[str, Any] | None
    note: str | None


class ApprovalsPort(Protocol):
    """The approval service as the copilot calls it, with the principal from the run config as
    given. Errors are raised; one with a `detail` attribute has its detail shown to the user."""

    def list(self, principal: Any, *, job_id: int | None = None) -> Sequence[Any]:
        """Pending approvals this principal may see (models or dicts: id, graph, job, items...)."""
        ...

    def resolve(self, approval_id: str, decision: ApprovalDecision, principal: Any) -> Any:
        """Answer one as this principal; the outcome has status, writes, audit_seq and detail."""
        ...


@dataclass
class CopilotDeps:
    """`rediscovery` is the compiled rediscovery graph with a checkpointer (pending approvals live
    there); `checkpointer` lists them when no `approvals` port is given."""

    settings: Settings
    mirror: MirrorStore
    rediscovery: Any
    checkpointer: BaseCheckpointSaver | None
    enrich: Callable[..., Any]
    requisition_from_job: Callable[..., Any]
    score_candidate: Callable[..., Any]
    history_from_workflows: Callable[..., Any]
    approvals: ApprovalsPort | None = None
    chat_model: Any = None
    # The resources `from_settings` opened for these deps alone (closed by `close`).
    own_resources: Resources | None = None

    @classmethod
    def open(
        cls,
        resources: Resources,
        *,
        rediscovery: Any = None,
        checkpointer: BaseCheckpointSaver | None = None,
        approvals: ApprovalsPort | None = None,
        chat_model: Any = None,
        use_llm: bool = True,
    ) -> CopilotDeps:
        """`chat_model` overrides the LLM the settings select (`llm_base_url`); `use_llm=False`
        forces the deterministic intent parser."""
        settings = resources.settings
        mirror = resources.mirror
        if rediscovery is None:
            rediscovery, checkpointer = _open_rediscovery(resources, checkpointer)
        extractor = make_extractor(settings)
        enrich_fn = (
            partial(enrich, field_map=settings.field_map)
            if isinstance(extractor, DeterministicExtractor)
            else extractor.extract
        )
        if chat_model is None and use_llm and settings.llm_base_url:
            chat_model = make_chat_model(settings)
        values: dict[str, Any] = {
            "settings": settings,
            "mirror": mirror,
            "rediscovery": rediscovery,
            "checkpointer": checkpointer,
            "enrich": enrich_fn,
            "requisition_from_job": partial(requisition_from_job, field_map=settings.field_map),
            "score_candidate": score_candidate,
            "history_from_workflows": history_from_workflows,
            "approvals": approvals,
            "chat_model": guard(chat_model) if use_llm else None,
        }
        values.update(resources.overrides.get("copilot", {}))
        return cls(**values)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        mirror: MirrorStore | None = None,
        rediscovery: Any = None,
        checkpointer: BaseCheckpointSaver | None = None,
        approvals: ApprovalsPort | None = None,
        chat_model: Any = None,
        embeddings: Any = None,
        use_llm: bool = True,
    ) -> CopilotDeps:
        """Open over resources of its own (a caller's `mirror` is used, not closed by `close`)."""
        if mirror is None:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        opener = partial(
            cls.open,
            rediscovery=rediscovery,
            checkpointer=checkpointer,
            approvals=approvals,
            chat_model=chat_model,
            use_llm=use_llm,
        )
        deps, resources = open_alone(opener, settings, mirror=mirror, embeddings=embeddings)
        deps.own_resources = resources
        return deps

    def close(self) -> None:
        resources, self.own_resources = self.own_resources, None
        if resources is not None:
            resources.close()


def _open_rediscovery(
    resources: Resources, checkpointer: BaseCheckpointSaver | None
) -> tuple[Any, BaseCheckpointSaver]:
    """A rediscovery graph of the copilot's own, over `checkpointer` or one it opens; what it
    opens closes with `resources`."""
    if checkpointer is None:
        opened = resources.own(contextlib.ExitStack())
        checkpointer = opened.enter_context(open_checkpointer(resources.settings))
    rediscovery_deps = resources.own(RediscoveryDeps.open(resources))
    return build_rediscovery(checkpointer, deps=rediscovery_deps), checkpointer


def isolated(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run `fn` outside the copilot run's context: a graph invoked from inside a tool would
    otherwise inherit the copilot's run config (its checkpointer, namespace and interrupt scratchpad)
    and behave as a subgraph of the chat, not as the rediscovery thread of its own."""
    return contextvars.Context().run(fn, *args, **kwargs)
