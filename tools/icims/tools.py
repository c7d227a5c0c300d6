"""Read-only iCIMS tools for LangChain agents.

`make_icims_tools(client)` returns coroutine `StructuredTool`s (use `ainvoke`). They only read:
every write to iCIMS goes through a human approval step elsewhere, never through an agent tool.
Results are compact JSON-able dicts (ids, names, list-node texts, custom fields under readable
names) so they fit in a prompt; failures come back to the agent as a short error message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from functools import wraps
from typing import Any, Literal, ParamSpec

from langchain_core.tools import BaseTool, StructuredTool, ToolException
from pydantic import BaseModel, Field

from tools.icims import codes
from tools.icims.budget import Priority
from tools.icims.client import ICIMSClient
from tools.icims.errors import ICIMSError, ICIMSNotFound
from tools.icims.models import ApplicantWorkflow, Job, ListNode, Person, ProfileLink
from tools.icims.search import F, SearchFilter, SearchQuery
from tools.settings import DEFAULT_FIELD_MAP

__all__ = ["make_icims_tools"]

P = ParamSpec("P")

PERSON_FOLDERS = {
    "unreviewed": codes.CANDIDATE_UNREVIEWED,
    "reviewed": codes.CANDIDATE_REVIEWED,
    "employee": codes.EMPLOYEE_FOLDER,
}
JOB_FOLDERS = {"approved": codes.JOB_APPROVED, "closed": codes.JOB_CLOSED, "filled": codes.JOB_FILLED}
PERSON_CUSTOM = ("consent_status", "consent_expires", "opt_out", "do_not_contact", "remote_preference")


# --- argument schemas ----------------------------------------------------------------------------


class PersonArgs(BaseModel):
    person_id: int = Field(description="iCIMS system id of the person (candidate) profile.", gt=0)


class JobArgs(BaseModel):
    job_id: int = Field(description="iCIMS system id of the job (not the '2025-1001' job number).", gt=0)


class WorkflowArgs(BaseModel):
    workflow_id: int = Field(description="iCIMS system id of the applicant workflow (application).", gt=0)


class ResumeArgs(BaseModel):
    person_id: int = Field(description="iCIMS system id of the person.", gt=0)
    max_chars: int = Field(default=6000, ge=200, le=50_000, description="Truncate the text to this length.")


class SearchPeopleArgs(BaseModel):
    first_name: str | None = Field(default=None, description="First name contains this text.")
    last_name: str | None = Field(default=None, description="Last name contains this text.")
    email: str | None = Field(default=None, description="Email contains this text.")
    city: str | None = Field(default=None, description="Address city contains this text.")
    folder: Literal["unreviewed", "reviewed", "employee"] | None = Field(
        default=None, description="Person folder."
    )
    updated_since: datetime | None = Field(default=None, description="Only people changed after this (UTC).")
    limit: int = Field(default=20, ge=1, le=200, description="Return at most this many ids (lowest first).")


class SearchJobsArgs(BaseModel):
    title: str | None = Field(default=None, description="Job title contains this text.")
    folder: Literal["approved", "closed", "filled"] | None = Field(default=None, description="Job folder.")
    updated_since: datetime | None = Field(default=None, description="Only jobs changed after this (UTC).")
    limit: int = Field(default=20, ge=1, le=200, description="Return at most this many ids (lowest first).")


# --- compact views ---------------------------------------------------------------------------------


def _node(value: ListNode | str | None) -> str | None:
    if isinstance(value, ListNode):
        return value.text or value.id
    return value


def _link(value: ProfileLink | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"id": value.id, "name": value.value}


def _drop_empty(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v not in (None, "", [], {})}


def _skills(value: Any) -> list[str]:
    if not isinstance(value, str):
        return []
    return [part.strip() for part in value.split(";") if part.strip()]


def person_view(person: Person, person_id: int, field_map: Mapping[str, str]) -> dict[str, Any]:
    address = person.addresses[0] if person.addresses else None
    location = None
    if address is not None:
        state = address.addressstate.abbrev or address.addressstate.value if address.addressstate else None
        location = ", ".join(p for p in (address.addresscity, state) if p) or None
    return _drop_empty(
        {
            "id": person_id,
            "name": person.full_name,
            "email": person.email,
            "folder": _node(person.folder),
            "location": location,
            "experience": [
                _drop_empty(
                    {
                        "title": w.worktitle,
                        "employer": w.workemployer,
                        "start": w.workstartdate.isoformat() if w.workstartdate else None,
                        "end": w.workenddate.isoformat() if w.workenddate else "present",
                    }
                )
                for w in person.workexperience
            ],
            "education": [
                _drop_empty(
                    {
                        "school": _node(e.school),
                        "degree": _node(e.degree),
                        "major": _node(e.major),
                        "graduated": e.graduationdate.isoformat() if e.graduationdate else None,
                    }
                )
                for e in person.education
            ],
            "source": _node(person.source),
            **{name: person.custom(field_map[name]) for name in PERSON_CUSTOM if name in field_map},
            "has_resume": person.resume is not None,
            "updated": person.updateddate.isoformat() if person.updateddate else None,
        }
    )


def job_view(job: Job, job_id: int, field_map: Mapping[str, str]) -> dict[str, Any]:
    def custom(name: str) -> Any:
        return job.custom(field_map[name]) if name in field_map else None

    return _drop_empty(
        {
            "id": job_id,
            "job_number": job.jobid,
            "title": job.jobtitle,
            "folder": _node(job.folder),
            "location": job.joblocation.value if job.joblocation else None,
            "recruiter": _link(job.recruiter),
            "hiring_manager": _link(job.hiringmanager),
            "positions": job.numberofpositions,
            "position_type": _node(job.positiontype),
            "overview": job.overview,
            "responsibilities": job.responsibilities,
            "qualifications": job.qualifications,
            "must_have_skills": _skills(custom("job_must_have_skills")),
            "nice_to_have_skills": _skills(custom("job_nice_to_have_skills")),
            "soc_code": custom("job_soc_code"),
            "salary_min": custom("job_salary_min"),
            "salary_max": custom("job_salary_max"),
            "remote": custom("job_remote"),
            "updated": job.updateddate.isoformat() if job.updateddate else None,
        }
    )


def workflow_view(workflow: ApplicantWorkflow, workflow_id: int) -> dict[str, Any]:
    return _drop_empty(
        {
            "id": workflow_id,
            "job": _link(workflow.baseprofile),
            "person": _link(workflow.associatedprofile),
            "status": _node(workflow.status),
            "status_id": workflow.status.id if workflow.status else None,
            "source": _node(workflow.source),
            "source_name": workflow.sourcename,
            "assessments": [
                _drop_empty(
                    {
                        "name": _node(a.assessmentname),
                        "score": a.assessmentscore,
                        "result": _node(a.assessmentresult),
                        "status": _node(a.assessmentstatus),
                    }
                )
                for a in workflow.assessmentresults
            ],
            "updated": workflow.updateddate.isoformat() if workflow.updateddate else None,
        }
    )


# --- tools -----------------------------------------------------------------------------------------


def _reported(fn: Callable[P, Awaitable[dict[str, Any]]]) -> Callable[P, Awaitable[dict[str, Any]]]:
    """Turn iCIMS failures into `ToolException`s, which the tool hands back to the agent as text."""

    @wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> dict[str, Any]:
        try:
            return await fn(*args, **kwargs)
        except ICIMSNotFound as exc:
            raise ToolException(f"not found (or not visible to the integration user): {exc}") from exc
        except ICIMSError as exc:
            raise ToolException(str(exc)) from exc

    return wrapper


async def _collect_ids(client: ICIMSClient, kind: str, query: SearchQuery, limit: int) -> dict[str, Any]:
    ids: list[int] = []
    truncated = False
    pages = client.search_ids(kind, query, priority=Priority.REALTIME)
    try:
        async for page in pages:
            ids.extend(page)
            if len(ids) >= limit:
                truncated = len(ids) > limit or len(page) == 1000
                break
    finally:
        await pages.aclose()
    return {"ids": ids[:limit], "count": min(len(ids), limit), "truncated": truncated}


def make_icims_tools(client: ICIMSClient, *, field_map: Mapping[str, str] | None = None) -> list[BaseTool]:
    fm = dict(DEFAULT_FIELD_MAP if field_map is None else field_map)
    realtime = Priority.REALTIME

    @_reported
    async def get_person(person_id: int) -> dict[str, Any]:
        person = await client.get_person(person_id, priority=realtime)
        return person_view(person, person_id, fm)

    @_reported
    async def get_job(job_id: int) -> dict[str, Any]:
        job = await client.get_job(job_id, priority=realtime)
        return job_view(job, job_id, fm)

    @_reported
    async def get_applicant_workflow(workflow_id: int) -> dict[str, Any]:
        workflow = await client.get_applicant_workflow(workflow_id, priority=realtime)
        return workflow_view(workflow, workflow_id)

    @_reported
    async def get_resume_text(person_id: int, max_chars: int = 6000) -> dict[str, Any]:
        text = await client.get_resume_text(person_id, priority=realtime)
        if text is None:
            return {"person_id": person_id, "has_text": False}
        return {
            "person_id": person_id,
            "has_text": True,
            "text": text[:max_chars],
            "truncated": len(text) > max_chars,
        }

    @_reported
    async def search_people(
        first_name: str | None = None,
        last_name: str | None = None,
        email: str | None = None,
        city: str | None = None,
        folder: str | None = None,
        updated_since: datetime | None = None,
        limit: int = 20,
    ) -> dict[str, Any]:
        filters: list[SearchFilter] = []
        for name, value in (
            ("person.firstname", first_name),
            ("person.lastname", last_name),
            ("person.email", email),
            ("person.addresscity", city),
        ):
            if value:
                filters.append(F(name).eq(value))
        if folder:
            filters.append(F("person.folder").eq(PERSON_FOLDERS[folder]))
        if updated_since:
            filters.append(F("person.updateddate").gt(updated_since))
        return await _collect_ids(client, "people", SearchQuery(filters=filters), limit)

    @_reported
    async def search_jobs(
        title: str | None = None,
        folder: str | None = None,
        updated_since: datetime | None = None,
        limit: int = 20,
    ) -> dict[str, Any]:
        filters: list[SearchFilter] = []
        if title:
            filters.append(F("job.jobtitle").eq(title))
        if folder:
            filters.append(F("job.folder").eq(JOB_FOLDERS[folder]))
        if updated_since:
            filters.append(F("job.updateddate").gt(updated_since))
        return await _collect_ids(client, "jobs", SearchQuery(filters=filters), limit)

    specs: list[tuple[Callable[..., Awaitable[dict[str, Any]]], str, str, type[BaseModel]]] = [
        (
            get_person,
            "icims_get_person",
            "Read one candidate/person profile from iCIMS: name, contact, folder, location, work "
            "history, education, consent and contact preferences, whether a resume exists.",
            PersonArgs,
        ),
        (
            get_job,
            "icims_get_job",
            "Read one job (requisition) from iCIMS: title, folder, location, recruiter, description, "
            "must-have and nice-to-have skills, salary range, remote policy.",
            JobArgs,
        ),
        (
            get_applicant_workflow,
            "icims_get_applicant_workflow",
            "Read one application (applicant workflow) linking a person to a job: status, source, "
            "assessment results.",
            WorkflowArgs,
        ),
        (
            search_people,
            "icims_search_people",
            "Find person ids by name, email, city, folder or last update time. Returns ids only; "
            "use icims_get_person for details.",
            SearchPeopleArgs,
        ),
        (
            search_jobs,
            "icims_search_jobs",
            "Find job ids by title, folder or last update time. Returns ids only; use icims_get_job "
            "for details.",
            SearchJobsArgs,
        ),
        (
            get_resume_text,
            "icims_get_resume_text",
            "Read the plain text extracted from a person's resume (truncated to max_chars).",
            ResumeArgs,
        ),
    ]
    return [
        StructuredTool.from_function(
            coroutine=fn,
            name=name,
            description=description,
            args_schema=schema,
            handle_tool_error=True,
        )
        for fn, name, description, schema in specs
    ]
