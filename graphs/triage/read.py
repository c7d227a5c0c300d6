"""Reading one application for triage, mirror first: iCIMS (at realtime priority) only for what the
mirror lacks or holds stale. With the event's person and job ids and a mirrored person and job, a
read costs no request.

A resume file that cannot be read here (`tools.documents`: encrypted, corrupt, oversized, empty)
and has no text in iCIMS either is not treated as an empty resume: the read carries the error's
code (`resume_unreadable`) so the assessment flags it and a person reviews the application."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

from graphs.triage.deps import TriageDeps
from graphs.triage.state import WORKFLOW_KIND, TriageRequest
from tools.documents import DocumentError, extract_text
from tools.icims.budget import Priority
from tools.icims.codes import PURGED_FOLDER
from tools.logs import get_logger
from tools.mirror.store import link_id, normalize_record
from tools.mirror.sync import PROJECTION

log = get_logger("graphs.triage.read")


class SkipApplication(Exception):
    """Nothing to triage (the person was erased); the handler records the reason."""


@dataclass
class ApplicationRead:
    """What `assess` read for one application, and from where."""

    workflow_id: int
    person_id: int
    job_id: int
    status_id: str | None
    person: dict[str, Any]
    job: dict[str, Any]
    resume: str
    sources: dict[str, str]
    requests: int = 0
    # The document error code when the resume file exists but no text could be had from it.
    resume_unreadable: str | None = None


def fresh(d: TriageDeps, record: Any) -> bool:
    if record is None:
        return False
    max_age = timedelta(hours=d.settings.triage_mirror_max_age_hours)
    synced = record.synced_at if record.synced_at.tzinfo else record.synced_at.replace(tzinfo=UTC)
    return d.clock() - synced <= max_age


def _api(d: TriageDeps, what: str, fn: Callable[[Any], Coroutine[Any, Any, Any]]) -> Any:
    if d.icims is None:
        raise LookupError(f"{what} is not in the mirror and no iCIMS client is configured")
    return d.icims.run(fn)


def read_application(d: TriageDeps, request: TriageRequest) -> ApplicationRead:
    rt = Priority.REALTIME
    sources: dict[str, str] = {}
    requests = 0
    wf_id = request.workflow_id
    workflow = d.mirror.get(WORKFLOW_KIND, wf_id)
    person_id, job_id, status_id = request.person_id, request.job_id, None
    if fresh(d, workflow):
        person_id = link_id(workflow.data.get("associatedprofile")) or person_id
        job_id = link_id(workflow.data.get("baseprofile")) or job_id
        status_id = (workflow.data.get("status") or {}).get("id")
        sources["workflow"] = "mirror"
    elif person_id is None or job_id is None:
        data = _api(d, f"workflow {wf_id}", lambda c: c.get_workflow(WORKFLOW_KIND, wf_id, priority=rt))
        requests += 1
        person_id = link_id(data.get("associatedprofile"))
        job_id = link_id(data.get("baseprofile"))
        status_id = (data.get("status") or {}).get("id")
        sources["workflow"] = "icims"
    else:
        # The event names the person and job: the workflow itself is not needed to score. Its status
        # is read again before any status change is written.
        sources["workflow"] = "event"
    if person_id is None or job_id is None:
        raise LookupError(f"workflow {wf_id} names no person or job")
    if d.mirror.is_erased(person_id):
        raise SkipApplication(f"person {person_id} was erased")

    job_record = d.mirror.get("jobs", job_id)
    if job_record is not None:
        job, sources["job"] = job_record.data, "mirror"
    else:
        fields = PROJECTION.get("jobs")
        job = normalize_record(
            _api(d, f"job {job_id}", lambda c: c.get_profile("jobs", job_id, fields=fields, priority=rt))
        )
        requests += 1
        sources["job"] = "icims"

    person_record = d.mirror.get("people", person_id)
    person_mirrored = fresh(d, person_record)
    if person_mirrored:
        person, sources["person"] = person_record.data, "mirror"
    else:
        fields = PROJECTION.get("people")
        person = normalize_record(
            _api(
                d,
                f"person {person_id}",
                lambda c: c.get_profile("people", person_id, fields=fields, priority=rt),
            )
        )
        requests += 1
        sources["person"] = "icims"
    if (person.get("folder") or {}).get("id") == PURGED_FOLDER:
        raise SkipApplication(f"person {person_id} was erased")

    resume: str | None = None
    unreadable: str | None = None
    mirrored_text = d.mirror.resume_text(person_id) if person_mirrored else None
    if mirrored_text is not None:
        resume, sources["resume"] = mirrored_text, "mirror"
    elif person_mirrored and not person.get("resume"):
        sources["resume"] = "none"
    else:
        resume, used, source, unreadable = _fetch_resume(d, person_id)
        requests += used
        sources["resume"] = source
        if unreadable is not None:
            log.warning(
                "triage.resume_unreadable",
                workflow_id=wf_id,
                person_id=person_id,
                job_id=job_id,
                code=unreadable,
            )
    return ApplicationRead(
        wf_id,
        person_id,
        job_id,
        status_id,
        dict(person),
        dict(job),
        resume or "",
        sources,
        requests,
        resume_unreadable=unreadable,
    )


def _fetch_resume(d: TriageDeps, person_id: int) -> tuple[str | None, int, str, str | None]:
    """(text, requests, source, unreadable): the resume file extracted here (`tools.documents`), or
    iCIMS's own text rendering when the file cannot be read (encrypted, corrupt, unsupported); when
    neither gives text, `unreadable` is the document error's code."""
    rt = Priority.REALTIME
    binary = _api(d, f"resume of {person_id}", lambda c: c.get_resume(person_id, priority=rt))
    if binary is None:
        return None, 1, "none", None
    try:
        doc = extract_text(binary.content, filename=binary.filename, content_type=binary.content_type)
        return doc.text, 1, f"icims:{doc.format.value}", None
    except DocumentError as exc:
        problem = exc.code
    text = _api(d, f"resume text of {person_id}", lambda c: c.get_resume_text(person_id, priority=rt))
    if text and text.strip():
        return text, 2, "icims:text", None
    return None, 2, f"unreadable:{problem}", problem
