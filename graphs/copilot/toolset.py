"""The copilot's six typed tools (LangChain `StructuredTool`s, sync), shared by the LLM agent and the
deterministic intent parser.

    search_candidates   mirror search by skills, location, occupation, consent (read-only)
    explain_score       enrich + score one mirrored candidate against one requisition (read-only)
    start_rediscovery   run the rediscovery graph to its approval interrupt (no iCIMS write)
    draft_outreach      the versioned outreach template filled for one candidate (nothing is sent)
    list_approvals      pending approvals the caller may see
    resolve_approval    answer one through the approval service, or the graph's interrupt resume

Nothing here writes to iCIMS: the only path to a write is the rediscovery graph's own write step,
reached when an approval is resolved. Who calls comes from the run config (`caller.principal_of`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel

from graphs.copilot import approvals, explain, outreach, rediscover, search
from graphs.copilot.args import (
    ExplainArgs,
    ListApprovalsArgs,
    OutreachArgs,
    RediscoverArgs,
    ResolveArgs,
    SearchArgs,
)
from graphs.copilot.caller import caller_from, principal_of
from graphs.copilot.deps import CopilotDeps

TOOL_NAMES = (
    "search_candidates",
    "explain_score",
    "start_rediscovery",
    "draft_outreach",
    "list_approvals",
    "resolve_approval",
)


class CopilotTools:
    """The tools over lazily resolved deps (the module-level graph compiles before any settings
    exist). Each method's signature is the tool's: its arguments plus the run config."""

    def __init__(self, get_deps: Callable[[], CopilotDeps]) -> None:
        self._get_deps = get_deps
        # Starts and resumes from this copilot run one at a time: two chats on one requisition
        # would otherwise start, or resume, its rediscovery thread twice.
        self._lock = threading.Lock()

    @property
    def deps(self) -> CopilotDeps:
        return self._get_deps()

    def search_candidates(
        self,
        skills: list[str] | None = None,
        location: str | None = None,
        occupation: str | None = None,
        consent: str | None = None,
        limit: int = 10,
    ) -> dict[str, Any]:
        return search.search_candidates(self.deps, skills, location, occupation, consent, limit)

    def explain_score(self, person_id: int, job_id: int, config: RunnableConfig) -> dict[str, Any]:
        return explain.explain_score(self.deps, caller_from(principal_of(config)), person_id, job_id)

    def draft_outreach(self, person_id: int, job_id: int, config: RunnableConfig) -> dict[str, Any]:
        return outreach.draft_outreach(self.deps, caller_from(principal_of(config)), person_id, job_id)

    def list_approvals(self, config: RunnableConfig, job_id: int | None = None) -> dict[str, Any]:
        principal = principal_of(config)
        return approvals.list_approvals(self.deps, principal, caller_from(principal), job_id)

    def start_rediscovery(self, job_id: int, config: RunnableConfig, top_k: int = 10) -> dict[str, Any]:
        caller = caller_from(principal_of(config))
        return rediscover.start_rediscovery(self.deps, caller, job_id, top_k, lock=self._lock)

    def resolve_approval(
        self,
        config: RunnableConfig,
        approval_id: str | None = None,
        job_id: int | None = None,
        decision: str = "accept",
        exclude_person_ids: list[int] | None = None,
        note: str | None = None,
    ) -> dict[str, Any]:
        principal = principal_of(config)
        return approvals.resolve_approval(
            self.deps,
            principal,
            caller_from(principal),
            approval_id=approval_id,
            job_id=job_id,
            decision=decision,
            exclude_person_ids=list(exclude_person_ids or []),
            note=note,
            lock=self._lock,
        )


def make_copilot_tools(deps: CopilotDeps | Callable[[], CopilotDeps]) -> list[BaseTool]:
    """The six tools (errors come back to the agent as text)."""
    get = deps if callable(deps) and not isinstance(deps, CopilotDeps) else (lambda: deps)
    impl = CopilotTools(get)  # type: ignore[arg-type]
    specs: list[tuple[Callable[..., dict[str, Any]], str, type[BaseModel]]] = [
        (
            impl.search_candidates,
            "Search the local mirror of iCIMS people by skills (all must appear in the resume or work "
            "history), location (city or state), occupation (job title) and contact consent status.",
            SearchArgs,
        ),
        (
            impl.explain_score,
            "Explain a candidate's 0-100 score for a requisition: itemised reasons with resume quotes, "
            "gaps and flags (deterministic rubric over the mirrored profile).",
            ExplainArgs,
        ),
        (
            impl.start_rediscovery,
            "Start a rediscovery run for a requisition: ranks past applicants and talent-pool members and "
            "pauses at a recruiter approval. Returns the approval (thread) id and the shortlist. Writes "
            "nothing until approved.",
            RediscoverArgs,
        ),
        (
            impl.draft_outreach,
            "Draft the first line of an outreach message to a candidate for a job from the versioned "
            "template. Sends nothing.",
            OutreachArgs,
        ),
        (
            impl.list_approvals,
            "List pending approvals (paused runs waiting for a recruiter) the user may see.",
            ListApprovalsArgs,
        ),
        (
            impl.resolve_approval,
            "Resolve one pending approval: accept (optionally leaving some candidates out), ignore, or "
            "respond with feedback. Only recruiters and admins; the approved writes then run in the graph.",
            ResolveArgs,
        ),
    ]
    return [
        StructuredTool.from_function(
            func=fn,
            name=fn.__name__,
            description=description,
            args_schema=schema,
            handle_tool_error=True,
        )
        for fn, description, schema in specs
    ]
