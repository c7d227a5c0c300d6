"""A mirrored candidate scored against one of the caller's requisitions: what `explain_score` and
`draft_outreach` both read (the same enrichment and rubric as the rediscovery graph)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from langchain_core.tools import ToolException

if TYPE_CHECKING:
    from graphs.copilot.caller import Caller
    from graphs.copilot.deps import CopilotDeps


@dataclass(frozen=True)
class Scored:
    person: dict[str, Any]
    requisition: Any
    result: Any
    profile: Any
    history: list[Any]


def owned_job(d: CopilotDeps, caller: Caller, job_id: int) -> dict[str, Any]:
    """The mirrored job, when it is one of the caller's requisitions."""
    job = d.mirror.get_data("jobs", job_id)
    if job is None:
        raise ToolException(f"job {job_id} is not in the mirror (run `icims-agents sync`)")
    check_owned(caller, job_id, job)
    return job


def check_owned(caller: Caller, job_id: int, job: Mapping[str, Any]) -> None:
    if not caller.owns(job):
        raise ToolException(f"job {job_id} is not one of your requisitions")


def score_person(d: CopilotDeps, person_id: int, job_id: int, job: dict[str, Any]) -> Scored:
    if d.mirror.is_erased(person_id):
        raise ToolException(f"person {person_id} was erased")
    person = d.mirror.get_data("people", person_id)
    if person is None:
        raise ToolException(f"person {person_id} is not in the mirror")
    text = d.mirror.resume_text(person_id)
    profile = d.enrich(str(person_id), text, person)
    requisition = d.requisition_from_job(str(job_id), job)
    workflows = [dict(w.data, id=w.id) for w in d.mirror.workflows("applicantworkflows", person_id=person_id)]
    history = d.history_from_workflows(workflows)
    result = d.score_candidate(requisition, profile, text or "", history=history)
    return Scored(person, requisition, result, profile, history)
