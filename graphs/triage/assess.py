"""The assess step: read the application, redact PII before anything could reach an LLM, score with
the rediscovery rubric, and propose writes (`agents.triage`), all recorded in the run's state. An
unreadable resume is not scored: it is flagged, and its application held for a person whatever the
policy's mode (`agents.triage.assess.unreadable_assessment` / `hold_for_person`)."""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

from langchain_core.runnables import RunnableConfig

from agents.triage.assess import (
    Assessment,
    ai_fields,
    assess,
    hold_for_person,
    propose,
    unreadable_assessment,
)
from agents.triage.redact import REDACTOR_VERSION, person_names, redact
from graphs.kit.runs import run_record
from graphs.triage.deps import TriageDeps
from graphs.triage.read import read_application
from graphs.triage.state import GRAPH_VERSION, WORKFLOW_KIND, TriageRequest, trace_id_for, triage_thread_id
from tools.audit import value_hash
from tools.icims.codes import APPLICANT_NEW_SUBMISSION
from tools.icims.formats import format_datetime
from tools.mirror.store import link_id


def assess_application(d: TriageDeps, request: TriageRequest, config: RunnableConfig) -> dict[str, Any]:
    """The state update of one assessment; every run-scoped key is reset, so a later event on this
    workflow's thread starts clean."""
    started = time.perf_counter()
    customer = d.settings.icims_customer_id
    # A run without an event (POST /runs/triage, Studio) is its own trace: a later manual run on the
    # same application must write its own scores, not find this one's ledger entries done.
    event_id = request.event_id or f"manual:{uuid.uuid4().hex}"
    read = read_application(d, request)
    requisition, requisition_hash = d.requisition(read.job_id, read.job)
    policy = d.policy_for(read.job_id)
    # PII leaves the text before extraction: an LLM extractor (when configured) sees only this.
    redacted = redact(read.resume, names=person_names(read.person))
    now = d.clock()
    result: Assessment
    if read.resume_unreadable is not None:
        result = unreadable_assessment(read.resume_unreadable)
        policy = hold_for_person(policy, result)
        extractor_version = None
    else:
        profile = d.enrich(str(read.person_id), redacted.text, read.person)
        history_rows = [
            dict(wf.data, id=wf.id)
            for wf in d.mirror.workflows(WORKFLOW_KIND, person_id=read.person_id)
            if wf.id != read.workflow_id
        ]
        result = assess(
            requisition,
            profile,
            redacted.text,
            policy.thresholds,
            history=d.history_from_workflows(history_rows),
            as_of=now.date(),
            score_candidate=d.score_candidate,
        )
        extractor_version = getattr(profile, "extractor_version", d.extractor_version)
    versions = {
        "graph": GRAPH_VERSION,
        "rubric": result.rubric_version,
        "extractor": extractor_version,
        "redactor": REDACTOR_VERSION,
        "prompt": d.prompt_version,
        "policy": policy.version,
        "policy_digest": policy.digest,
    }
    fields = ai_fields(result, d.settings.field_map, versions=versions, processed_at=format_datetime(now))
    pools: set[int | None] = set()
    if getattr(policy.actions, result.tier).pool_id is not None:  # only then is membership asked
        pools = {
            link_id(wf.data.get("baseprofile"))
            for wf in d.mirror.workflows("sourceworkflows", person_id=read.person_id)
        }
    actions = propose(
        result,
        policy,
        fields=fields,
        current_status=read.status_id or APPLICANT_NEW_SUBMISSION,
        in_pool=pools.__contains__,
    )
    run = run_record(
        config,
        request,
        graph_version=GRAPH_VERSION,
        trace_id=trace_id_for(customer, event_id),
        started_at=now,
        # Only an explicit thread keeps its id; a run from Studio without one gets the application's.
        thread_id=(config.get("configurable") or {}).get("thread_id")
        or triage_thread_id(customer, request.workflow_id),
        event_id=event_id,
        customer_id=customer,
        input_hash=value_hash(
            {"workflow_id": read.workflow_id, "person": read.person, "job": read.job, "resume": read.resume}
        ),
        resume_hash=hashlib.sha256(read.resume.encode("utf-8")).hexdigest(),
        requisition_hash=requisition_hash,
        sources=read.sources,
        requests=read.requests,
        redactions=dict(redacted.counts),
        assess_seconds=round(time.perf_counter() - started, 4),
    )
    name = " ".join(str(read.person.get(k) or "").strip() for k in ("firstname", "lastname")).strip()
    return {
        "run": run,
        "job": {"id": read.job_id, "title": requisition.title},
        "application": {
            "workflow_id": read.workflow_id,
            "person_id": read.person_id,
            "job_id": read.job_id,
            "job_title": requisition.title,
            "name": name or f"Person {read.person_id}",
            "status_id": read.status_id,
        },
        "assessment": result.model_dump(mode="json"),
        "versions": versions,
        "policy": policy.describe(),
        "actions": [a.model_dump(mode="json") for a in actions],
        "approval": {},
        "auto": {},
        "review": {},
        "approval_error": None,
        "writes": [],
        "audit_records": [],
    }
