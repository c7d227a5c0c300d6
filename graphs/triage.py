"""Triage: score each new application against its requisition within seconds of the iCIMS event,
explain it, route it, and write the result back exactly once, with an audit record per decision.

    assess -> gate -+-> write -> audit -+-> review (Agent Inbox interrupt) -> write -> audit -> END
                    |                   +-> END
                    +-> review ...      (assist: everything waits for a recruiter)
                    +-> audit -> END    (shadow: score and audit only)

One thread per application: `triage:{customer}:{workflow_id}`. `assess` reads the application, person
and job mirror-first (iCIMS, at realtime priority, only for what the mirror lacks or holds stale),
extracts the resume (`tools.documents`), redacts PII before anything could reach an LLM, scores with
the rediscovery rubric and proposes writes (`agents.triage`). `gate` applies the requisition's policy:
in `auto` mode the admin policy approves the AI field write and nothing else; a suggested status
change or talent-pool addition always waits at `review`. Nobody is ever rejected.

Side effects only after approval: `write` applies approved actions under the idempotency ledger keyed
by (thread, trace, workflow, action), so a re-run (a resumed node, a killed worker re-running its
event) writes nothing twice; the AI field PATCH is read-compared when its outcome is unknown.
The trace id derives from the event id, so a re-run of the same event finds the same ledger entries.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Required

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command
from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

from agents.scoring.history import STATUSES
from agents.triage.assess import (
    Assessment,
    ProposedAction,
    ai_fields,
    assess,
    propose,
    status_rank,
)
from agents.triage.decision import decide
from agents.triage.policy import (
    AUTO_APPROVABLE,
    TIER_LABELS,
    ResolvedPolicy,
    TriagePolicy,
    auto_approvable,
    load_policy,
)
from agents.triage.redact import REDACTOR_VERSION, person_names, redact
from graphs.kit.inbox import approver_of, ask, config_value, make_request, unfinished
from graphs.kit.nodes import LazyDeps
from graphs.kit.write import WriteBack, WriteRequest
from tools.audit import AuditLog, IdempotencyLedger, value_hash
from tools.icims.budget import Priority
from tools.icims.errors import ICIMSBadRequest, ICIMSNotFound
from tools.icims.formats import same_value
from tools.mirror.store import link_id

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver

    from tools.mirror import MirrorStore
    from tools.settings import Settings

GRAPH_VERSION = "triage-1"
REQUEST_ACTION = "triage_application"
WORKFLOW_KIND = "applicantworkflows"
REQUISITION_CACHE_SIZE = 512
Stage = Literal["shadow", "auto", "human"]


def triage_thread_id(customer_id: int | str, workflow_id: int | str) -> str:
    return f"triage:{customer_id}:{workflow_id}"


def trace_id_for(customer_id: int | str, event_id: int | str) -> str:
    """Deterministic per event: a re-run of the same event reuses its ledger entries and audit keys."""
    return hashlib.sha256(f"triage:{customer_id}:{event_id}".encode()).hexdigest()[:32]


# --- schemas --------------------------------------------------------------------------------------


class TriageInput(TypedDict, total=False):
    workflow_id: Required[int]
    event_id: str
    person_id: int
    job_id: int


class TriageRequest(BaseModel):
    """`POST /runs/triage` and the event handler's input."""

    model_config = ConfigDict(extra="forbid")

    workflow_id: int = Field(gt=0)
    event_id: str | None = Field(default=None, max_length=100)
    person_id: int | None = Field(default=None, gt=0)
    job_id: int | None = Field(default=None, gt=0)


class TriageState(TypedDict, total=False):
    workflow_id: int
    event_id: str
    person_id: int
    job_id: int
    run: dict[str, Any]
    job: dict[str, Any]
    application: dict[str, Any]
    assessment: dict[str, Any]
    versions: dict[str, Any]
    policy: dict[str, Any]
    actions: list[dict[str, Any]]
    auto: dict[str, Any]
    review: dict[str, Any]
    approval_error: str | None
    writes: list[dict[str, Any]]
    audit_records: list[dict[str, Any]]


class TriageOutput(TypedDict, total=False):
    run: dict[str, Any]
    application: dict[str, Any]
    assessment: dict[str, Any]
    policy: dict[str, Any]
    actions: list[dict[str, Any]]
    auto: dict[str, Any]
    review: dict[str, Any]
    writes: list[dict[str, Any]]
    audit_records: list[dict[str, Any]]


class SkipApplication(Exception):
    """Nothing to triage (the person was erased); the handler records the reason."""


# --- dependencies ---------------------------------------------------------------------------------


class _ClientLoop:
    """One event loop in a daemon thread with one long-lived ICIMSClient: connections and the OAuth
    token are reused across applications (a client per event would fetch a token per event and run
    into the token throttle at triage volume). Callable from any thread."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client: Any = None
        self._lock = threading.Lock()

    def _ensure(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="triage-icims", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    async def _call(self, fn: Callable[[Any], Coroutine[Any, Any, Any]]) -> Any:
        if self._client is None:
            self._client = self._factory()
        return await fn(self._client)

    def run(self, fn: Callable[[Any], Coroutine[Any, Any, Any]]) -> Any:
        loop = self._ensure()
        return asyncio.run_coroutine_threadsafe(self._call(fn), loop).result()

    @property
    def requests_sent(self) -> int:
        return int(getattr(self._client, "requests_sent", 0) or 0)

    def close(self) -> None:
        with self._lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None:
            return
        if self._client is not None:
            client, self._client = self._client, None
            asyncio.run_coroutine_threadsafe(client.aclose(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=10)
        loop.close()


@dataclass
class TriageDeps:
    settings: Settings
    mirror: MirrorStore
    ledger: IdempotencyLedger
    audit: AuditLog
    policy: TriagePolicy
    # None = offline: applications must be fully mirrored, and approved writes cannot run.
    icims: _ClientLoop | None
    enrich: Callable[..., Any]
    requisition_from_job: Callable[..., Any]
    score_candidate: Callable[..., Any]
    history_from_workflows: Callable[..., Any]
    extractor_version: str
    prompt_version: str | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # Parsed requisitions by (job id, content hash): parsing a posting costs more than scoring a resume.
    _requisitions: OrderedDict[tuple[int, str], Any] = field(default_factory=OrderedDict)
    _req_lock: threading.Lock = field(default_factory=threading.Lock)
    # Whether `close` closes the mirror and audit log (not when the service shares its own).
    owns_mirror: bool = True
    owns_audit: bool = True

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        mirror: MirrorStore | None = None,
        audit: AuditLog | None = None,
        offline: bool = False,
        client_factory: Callable[[], Any] | None = None,
        chat_model: Any = None,
        **overrides: Any,
    ) -> TriageDeps:
        from functools import partial

        from agents.enrichment import DeterministicExtractor, make_extractor, requisition_from_job
        from agents.enrichment import enrich as deterministic_enrich
        from agents.enrichment.llm import PROMPT_ID
        from agents.scoring import history_from_workflows, score_candidate
        from tools.icims.budget import RequestBudget
        from tools.icims.client import ICIMSClient
        from tools.mirror import MirrorStore

        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if client_factory is None and not offline:
            budget = RequestBudget.from_settings(settings)
            client_factory = lambda: ICIMSClient.from_settings(settings, budget=budget)  # noqa: E731
        extractor = make_extractor(settings, chat_model=chat_model)
        deterministic = isinstance(extractor, DeterministicExtractor)
        values: dict[str, Any] = {
            "settings": settings,
            "mirror": mirror if mirror is not None else MirrorStore(settings.mirror_database_url),
            "ledger": IdempotencyLedger.from_settings(settings),
            "audit": audit if audit is not None else AuditLog.from_settings(settings),
            "policy": load_policy(settings.triage_policy_path),
            "icims": None if offline or client_factory is None else _ClientLoop(client_factory),
            "enrich": partial(deterministic_enrich, field_map=settings.field_map)
            if deterministic
            else extractor.extract,
            "requisition_from_job": partial(requisition_from_job, field_map=settings.field_map),
            "score_candidate": score_candidate,
            "history_from_workflows": history_from_workflows,
            "extractor_version": getattr(extractor, "version", "deterministic-1"),
            "prompt_version": None if deterministic else PROMPT_ID,
            "owns_mirror": mirror is None,
            "owns_audit": audit is None,
        }
        values.update(overrides)
        return cls(**values)

    def requisition(self, job_id: int, job: dict[str, Any]) -> tuple[Any, str]:
        key = (int(job_id), value_hash(job))
        with self._req_lock:
            cached = self._requisitions.get(key)
            if cached is not None:
                self._requisitions.move_to_end(key)
                return cached, key[1]
        parsed = self.requisition_from_job(str(job_id), job)
        with self._req_lock:
            self._requisitions[key] = parsed
            while len(self._requisitions) > REQUISITION_CACHE_SIZE:
                self._requisitions.popitem(last=False)
        return parsed, key[1]

    def policy_for(self, job_id: int) -> ResolvedPolicy:
        # Read again when the file changed (cached by mtime): an admin's edit applies without a restart.
        self.policy = load_policy(self.settings.triage_policy_path)
        return self.policy.for_job(job_id, default_mode=self.settings.triage_mode)

    def close(self) -> None:
        if self.icims is not None:
            self.icims.close()
        self.ledger.close()
        if self.owns_mirror:
            self.mirror.close()
        if self.owns_audit:
            self.audit.close()


# --- helpers --------------------------------------------------------------------------------------


def _fresh(d: TriageDeps, record: Any) -> bool:
    if record is None:
        return False
    max_age = timedelta(hours=d.settings.triage_mirror_max_age_hours)
    synced = record.synced_at if record.synced_at.tzinfo else record.synced_at.replace(tzinfo=UTC)
    return d.clock() - synced <= max_age


def _icims_datetime(value: datetime) -> str:
    from tools.icims.formats import format_datetime

    return format_datetime(value)


@dataclass
class _Read:
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


def _api(d: TriageDeps, what: str, fn: Callable[[Any], Coroutine[Any, Any, Any]]) -> Any:
    if d.icims is None:
        raise LookupError(f"{what} is not in the mirror and no iCIMS client is configured")
    return d.icims.run(fn)


def read_application(d: TriageDeps, request: TriageRequest) -> _Read:
    """Mirror first; iCIMS (realtime priority) only for what the mirror lacks or holds stale.
    With the event's person and job ids and a mirrored person and job, this costs no request."""
    from tools.mirror.store import normalize_record
    from tools.mirror.sync import PROJECTION

    rt = Priority.REALTIME
    sources: dict[str, str] = {}
    requests = 0
    wf_id = request.workflow_id
    workflow = d.mirror.get(WORKFLOW_KIND, wf_id)
    person_id, job_id, status_id = request.person_id, request.job_id, None
    if _fresh(d, workflow):
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
    person_mirrored = _fresh(d, person_record)
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
    if (person.get("folder") or {}).get("id") == "D32099":
        raise SkipApplication(f"person {person_id} was erased")

    resume: str | None = None
    mirrored_text = d.mirror.resume_text(person_id) if person_mirrored else None
    if mirrored_text is not None:
        resume, sources["resume"] = mirrored_text, "mirror"
    elif person_mirrored and not person.get("resume"):
        sources["resume"] = "none"
    else:
        resume, used, source = _fetch_resume(d, person_id)
        requests += used
        sources["resume"] = source
    return _Read(
        wf_id, person_id, job_id, status_id, dict(person), dict(job), resume or "", sources, requests
    )


def _fetch_resume(d: TriageDeps, person_id: int) -> tuple[str | None, int, str]:
    """(text, requests, source): the resume file extracted here (`tools.documents`), or iCIMS's own
    text rendering when the file cannot be read (encrypted, corrupt, unsupported)."""
    from tools.documents import DocumentError, extract_text

    rt = Priority.REALTIME
    binary = _api(d, f"resume of {person_id}", lambda c: c.get_resume(person_id, priority=rt))
    if binary is None:
        return None, 1, "none"
    try:
        doc = extract_text(binary.content, filename=binary.filename, content_type=binary.content_type)
        return doc.text, 1, f"icims:{doc.format.value}"
    except DocumentError:
        text = _api(d, f"resume text of {person_id}", lambda c: c.get_resume_text(person_id, priority=rt))
        return text, 2, "icims:text"


# --- graph ----------------------------------------------------------------------------------------


def build_graph(checkpointer: BaseCheckpointSaver | None = None, *, deps: TriageDeps | None = None) -> Any:
    """Compile the triage graph. `deps=None` builds them from the environment's settings on first use
    (so the module-level `graph` for langgraph.json compiles with nothing configured)."""
    node = LazyDeps(TriageDeps.from_settings, deps).node

    builder = StateGraph(TriageState, input_schema=TriageInput, output_schema=TriageOutput)
    builder.add_node("assess", node(_node_assess))
    builder.add_node("gate", node(_node_gate), destinations=("write", "review", "audit"))
    builder.add_node("review", node(_node_review), destinations=("write", "audit", "review"))
    builder.add_node("write", node(_node_write))
    builder.add_node("audit", node(_node_audit))
    builder.add_edge(START, "assess")
    builder.add_edge("assess", "gate")
    builder.add_edge("write", "audit")
    builder.add_conditional_edges("audit", _after_audit, ["review", END])
    return builder.compile(checkpointer=checkpointer, name="triage")


def human_actions(state: TriageState) -> list[dict[str, Any]]:
    """The proposed actions a recruiter must decide (all in assist mode; status and pool in auto)."""
    mode = (state.get("policy") or {}).get("mode")
    if mode == "shadow":
        return []
    return [a for a in state.get("actions") or [] if not auto_approvable(mode, a["kind"])]


def _after_audit(state: TriageState) -> str:
    if human_actions(state) and not (state.get("review") or {}).get("decision"):
        return "review"
    return END


# --- nodes ----------------------------------------------------------------------------------------


def _node_assess(d: TriageDeps, state: TriageState, config: RunnableConfig) -> dict[str, Any]:
    started = time.perf_counter()
    request = TriageRequest.model_validate(
        {k: state[k] for k in ("workflow_id", "event_id", "person_id", "job_id") if k in state}
    )
    customer = d.settings.icims_customer_id
    thread_id = config_value(config, "thread_id") or triage_thread_id(customer, request.workflow_id)
    # A run without an event (POST /runs/triage, Studio) is its own trace: a later manual run on the
    # same application must write its own scores, not find this one's ledger entries done.
    event_id = request.event_id or f"manual:{uuid.uuid4().hex}"
    read = read_application(d, request)
    requisition, requisition_hash = d.requisition(read.job_id, read.job)
    policy = d.policy_for(read.job_id)
    # PII leaves the text before extraction: an LLM extractor (when configured) sees only this.
    redacted = redact(read.resume, names=person_names(read.person))
    profile = d.enrich(str(read.person_id), redacted.text, read.person)
    history_rows = [
        dict(wf.data, id=wf.id)
        for wf in d.mirror.workflows(WORKFLOW_KIND, person_id=read.person_id)
        if wf.id != read.workflow_id
    ]
    history = d.history_from_workflows(history_rows)
    now = d.clock()
    result: Assessment = assess(
        requisition,
        profile,
        redacted.text,
        policy.thresholds,
        history=history,
        as_of=now.date(),
        score_candidate=d.score_candidate,
    )
    versions = {
        "graph": GRAPH_VERSION,
        "rubric": result.rubric_version,
        "extractor": getattr(profile, "extractor_version", d.extractor_version),
        "redactor": REDACTOR_VERSION,
        "prompt": d.prompt_version,
        "policy": policy.version,
        "policy_digest": policy.digest,
    }
    processed_at = _icims_datetime(now)
    fields = ai_fields(result, d.settings.field_map, versions=versions, processed_at=processed_at)
    pools: set[int | None] = set()
    if getattr(policy.actions, result.tier).pool_id is not None:  # only then is membership asked
        pools = {
            link_id(wf.data.get("baseprofile"))
            for wf in d.mirror.workflows("sourceworkflows", person_id=read.person_id)
        }
    actions = propose(
        result, policy, fields=fields, current_status=read.status_id or "D10100", in_pool=pools.__contains__
    )
    run = {
        "trace_id": trace_id_for(customer, event_id),
        "thread_id": thread_id,
        "event_id": event_id,
        "customer_id": customer,
        "started_at": now.isoformat(),
        "input_hash": value_hash(
            {"workflow_id": read.workflow_id, "person": read.person, "job": read.job, "resume": read.resume}
        ),
        "resume_hash": hashlib.sha256(read.resume.encode("utf-8")).hexdigest(),
        "requisition_hash": requisition_hash,
        "sources": read.sources,
        "requests": read.requests,
        "redactions": dict(redacted.counts),
        "assess_seconds": round(time.perf_counter() - started, 4),
    }
    name = " ".join(str(read.person.get(k) or "").strip() for k in ("firstname", "lastname")).strip()
    # Every run-scoped key is reset: a later event on this workflow's thread starts clean.
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
        "auto": {},
        "review": {},
        "approval_error": None,
        "writes": [],
        "audit_records": [],
    }


def _node_gate(d: TriageDeps, state: TriageState, config: RunnableConfig) -> Command:
    """Shadow: straight to the audit. Otherwise the admin policy approves what it may (auto mode:
    the AI fields only), and everything else goes to a recruiter. Decided from the policy recorded
    by `assess`, so a re-run after the policy file changed still follows the policy audited."""
    policy = state.get("policy") or {}
    if policy.get("mode") == "shadow":
        return Command(goto="audit")
    auto = [a for a in state.get("actions") or [] if auto_approvable(policy.get("mode"), a["kind"])]
    if auto:
        update = {
            "auto": {
                "approved": auto,
                "approver": f"policy:{policy.get('rule')}",
                "rule": f"{policy.get('rule')}: mode auto approves {AUTO_APPROVABLE} only",
                "decided_at": d.clock().astimezone(UTC).isoformat(),
            }
        }
        return Command(goto="write", update=update)
    return Command(goto="review" if human_actions(state) else "audit")


def _node_review(d: TriageDeps, state: TriageState, config: RunnableConfig) -> Command:
    # Re-runs from its top on resume: everything before interrupt() only reads state.
    request = build_approval_request(state)
    requested = request["action_request"]["args"]["actions"]
    tier_field = d.settings.field_map.get("ai_tier")
    answer = ask(request, lambda response: decide(requested, response, tier_field=tier_field), again="review")
    if isinstance(answer, Command):
        return answer
    response, (approved, edits) = answer
    decided_at = d.clock().astimezone(UTC).isoformat()
    approver = approver_of(config)
    review = {
        "decision": response.type,
        "approver": approver,
        "decided_at": decided_at,
        "requested": [a["id"] for a in requested],
        "approved": approved,
        "edits": edits,
        "response_hash": value_hash(response.args) if response.type == "respond" else None,
        "request_hash": value_hash(request["action_request"]["args"]),
    }
    return Command(goto="write" if approved else "audit", update={"review": review, "approval_error": None})


def _node_write(d: TriageDeps, state: TriageState, config: RunnableConfig) -> dict[str, Any]:
    if d.icims is None:
        raise RuntimeError("no iCIMS client configured: approved writes cannot be applied offline")
    done = {w["id"] for w in state.get("writes") or [] if w["status"] in ("done", "already_done", "skipped")}
    approved = [
        *((state.get("auto") or {}).get("approved") or []),
        *((state.get("review") or {}).get("approved") or []),
    ]
    pending = [ProposedAction.model_validate(a) for a in approved if a["id"] not in done]
    app, run = state["application"], state["run"]
    writes = [w for w in state.get("writes") or [] if w["id"] in done]

    async def apply_all(client: Any) -> list[dict[str, Any]]:
        out = []
        for action in pending:
            out.append(await apply_action(d, client, run, app, action))
        return out

    writes.extend(d.icims.run(apply_all) if pending else [])
    return {"writes": writes}


async def apply_action(
    d: TriageDeps, client: Any, run: dict[str, Any], app: dict[str, Any], action: ProposedAction
) -> dict[str, Any]:
    """One approved action, at most once per (thread, trace, workflow, action) in the ledger."""
    wf_id = int(app["workflow_id"])
    key = (run["thread_id"], run["trace_id"], str(wf_id), action.id)
    result: dict[str, Any] = {"id": action.id, "kind": action.kind, "workflow_id": wf_id, "patched": False}
    entry = d.ledger.get(*key)
    if entry is not None and entry.state in ("done", "failed"):
        result["status"] = "already_done" if entry.state == "done" else "failed"
        result["detail"] = entry.detail.get("reason") if entry.state == "failed" else "ledger: done"
        return result
    if d.mirror.is_erased(int(app["person_id"])):
        return result | {"status": "skipped", "detail": "person erased"}
    try:
        if action.kind == "ai_fields":
            result["patched"] = await _write_fields(d, client, key, wf_id, action, entry)
        elif action.kind == "status":
            skipped = await _write_status(d, client, key, wf_id, action, result)
            if skipped:
                return result | {"status": "skipped", "detail": skipped}
        else:
            return result | await _write_pool(d, client, key, run, app, action)
    except (ICIMSNotFound, ICIMSBadRequest) as exc:
        # Permanent refusals (the workflow is gone, the body is invalid): recorded, not retried.
        d.ledger.record(*key, state="failed", detail={"reason": exc.message})
        return result | {"status": "failed", "detail": exc.message}
    d.ledger.record(*key, state="done", detail={"patched": result["patched"]})
    return result | {"status": "done"}


async def _write_fields(
    d: TriageDeps, client: Any, key: tuple[str, ...], wf_id: int, action: ProposedAction, entry: Any
) -> bool:
    changes = dict(action.fields)
    if entry is not None and entry.state == "patching":
        # The PATCH may have landed before a crash: read first, write only what differs.
        served = await client.get_profile(WORKFLOW_KIND, wf_id, priority=Priority.WRITE)
        if all(same_value(served.get(k), v) for k, v in changes.items()):
            return False
    d.ledger.record(*key, state="patching", workflow_kind=WORKFLOW_KIND, workflow_id=wf_id)
    await client.update_workflow(WORKFLOW_KIND, wf_id, changes, priority=Priority.WRITE)
    return True


async def _write_status(
    d: TriageDeps, client: Any, key: tuple[str, ...], wf_id: int, action: ProposedAction, result: dict
) -> str | None:
    """Move the application forward; returns why it was skipped instead, if it was."""
    assert action.status_id is not None
    # Read first: a recruiter may have moved the application since the suggestion was made.
    served = await client.get_workflow(WORKFLOW_KIND, wf_id, priority=Priority.WRITE)
    current = (served.get("status") or {}).get("id")
    if current == action.status_id:
        result["detail"] = "already in that status"
        return None
    if status_rank(current) < 0 or status_rank(current) >= STATUSES[action.status_id].stage_rank:
        d.ledger.record(*key, state="done", detail={"skipped": f"status is now {current}"})
        return f"status changed since the suggestion ({current})"
    d.ledger.record(*key, state="patching", workflow_kind=WORKFLOW_KIND, workflow_id=wf_id)
    await client.set_workflow_status(WORKFLOW_KIND, wf_id, action.status_id, priority=Priority.WRITE)
    result["patched"] = True
    return None


async def _write_pool(
    d: TriageDeps,
    client: Any,
    key: tuple[str, ...],
    run: dict[str, Any],
    app: dict[str, Any],
    action: ProposedAction,
) -> dict[str, Any]:
    """Talent-pool membership through the shared idempotent writer (one source workflow per pool)."""
    writer = WriteBack(client, d.ledger, run["thread_id"], run["trace_id"], mirror=d.mirror)
    request = WriteRequest(
        person_id=int(app["person_id"]), action="add_to_pool", base_id=int(action.pool_id or 0), fields={}
    )
    outcome = await writer.apply(request)
    failed = outcome.status == "failed"
    d.ledger.record(
        *key, state="failed" if failed else "done", detail={"reason": outcome.detail} if failed else None
    )
    return {
        "status": "done" if outcome.status in ("done", "already_done") else outcome.status,
        "detail": outcome.detail,
        "pool_workflow_id": outcome.workflow_id,
        "patched": outcome.created,
    }


def _stage(state: TriageState) -> Stage:
    if (state.get("policy") or {}).get("mode") == "shadow":
        return "shadow"
    return "human" if (state.get("review") or {}).get("decision") else "auto"


def _node_audit(d: TriageDeps, state: TriageState, config: RunnableConfig) -> dict[str, Any]:
    run, app, result = state["run"], state["application"], state["assessment"]
    stage = _stage(state)
    decision = state.get("review") if stage == "human" else state.get("auto") or {}
    written_ids = {a["id"] for a in (decision or {}).get("approved") or []}
    body = {
        "graph": GRAPH_VERSION,
        "stage": stage,
        "event_id": run["event_id"],
        "workflow_id": app["workflow_id"],
        "person_id": app["person_id"],
        "job_id": app["job_id"],
        "input_hash": run["input_hash"],
        "resume_hash": run["resume_hash"],
        "requisition_hash": run["requisition_hash"],
        "sources": run["sources"],
        "requests": run["requests"],
        "redactions": run.get("redactions") or {},
        "versions": state.get("versions") or {},
        "policy": state.get("policy") or {},
        "outputs": {
            "score": result["score"],
            "tier": result["tier"],
            "flags": [f["code"] for f in result["flags"]],
            "reasons_hash": value_hash(result["reasons"]),
            "summary_hash": value_hash(result["summary"]),
            "proposed": [_action_brief(a) for a in state.get("actions") or []],
        },
        # Who decided: a recruiter (human), the admin policy rule (auto), or nobody (shadow).
        "approver": (decision or {}).get("approver"),
        "decision": (decision or {}).get("decision") or ("policy" if stage == "auto" and decision else None),
        "policy_rule": (state.get("auto") or {}).get("rule") if stage == "auto" else None,
        "decided_at": (decision or {}).get("decided_at"),
        "edits": (decision or {}).get("edits") or {},
        "response_hash": (decision or {}).get("response_hash"),
        "approved": [_action_brief(a) for a in (decision or {}).get("approved") or []],
        "writes": [
            {k: w.get(k) for k in ("id", "kind", "workflow_id", "status", "patched", "detail")}
            for w in state.get("writes") or []
            if w["id"] in written_ids
        ],
    }
    record = d.audit.append(
        kind="triage",
        key=f"triage:{run['trace_id']}:{stage}",
        trace_id=run["trace_id"],
        thread_id=run["thread_id"],
        body=body,
    )
    records = [r for r in state.get("audit_records") or [] if r["key"] != record.key]
    records.append({"seq": record.seq, "hash": record.hash, "key": record.key, "stage": stage})
    return {"audit_records": records}


def _action_brief(action: dict[str, Any]) -> dict[str, Any]:
    brief = {"id": action["id"], "kind": action["kind"]}
    if action.get("status_id"):
        brief["status_id"] = action["status_id"]
    if action.get("pool_id"):
        brief["pool_id"] = action["pool_id"]
    if action["kind"] == "ai_fields":
        brief["fields_hash"] = value_hash(action.get("fields") or {})
    return brief


# --- approval request -----------------------------------------------------------------------------


def build_approval_request(state: TriageState) -> dict[str, Any]:
    """The Agent Inbox request (pure: the same state always gives the same request)."""
    app, result, run = state["application"], state["assessment"], state["run"]
    actions = human_actions(state)
    args = {
        "actions": actions,
        "workflow_id": app["workflow_id"],
        "person_id": app["person_id"],
        "job_id": app["job_id"],
        "job_title": app["job_title"],
        "candidate": app["name"],
        "score": result["score"],
        "tier": result["tier"],
        "summary": result["summary"],
        "flags": [f["text"] for f in result["flags"]],
        "reasons": [r["text"] for r in sorted(result["reasons"], key=lambda r: -r["points"])[:6]],
        "mode": (state.get("policy") or {}).get("mode"),
        "thread_id": run["thread_id"],
        "trace_id": run["trace_id"],
    }
    return dict(make_request(REQUEST_ACTION, args, _description(state, actions)))


def _action_text(action: dict[str, Any]) -> str:
    if action["kind"] == "ai_fields":
        return "write the AI fields (score, tier, reasons, flags, versions) to the application"
    if action["kind"] == "status":
        return f"move the application to **{action['status_label']}** ({action['status_id']})"
    return f"add the candidate to talent pool {action['pool_id']}"


def _description(state: TriageState, actions: list[dict[str, Any]]) -> str:
    app, result = state["application"], state["assessment"]
    lines: list[str] = []
    if state.get("approval_error"):
        lines += [f"> **{state['approval_error']}**", ""]
    lines += [
        f"### Triage: {app['name']} for {app['job_title']} (job {app['job_id']}, application "
        f"{app['workflow_id']})",
        "",
        f"**{result['score']}/100**, suggested tier **{TIER_LABELS[result['tier']]}**. "
        "Nobody is rejected by triage; nothing is written until you approve.",
        "",
        *[f"- {b}" for b in result["summary"]],
    ]
    if result["flags"]:
        lines += ["", "Flags: " + "; ".join(f["text"] for f in result["flags"][:5])]
    lines += ["", "Proposed:", *[f"{i}. `{a['id']}`: {_action_text(a)}" for i, a in enumerate(actions, 1)]]
    lines += [
        "",
        "**Accept** applies every proposed action. **Edit** `actions`: keep the entries to apply (by "
        "`id`), optionally with `tier` (ai_fields), `status_id` (a forward review step) or `pool_id`. "
        "**Respond** or **Ignore** writes nothing.",
    ]
    return "\n".join(lines)


# --- running ---------------------------------------------------------------------------------------


def run_config(thread_id: str, approver: str | None = None) -> RunnableConfig:
    configurable: dict[str, Any] = {"thread_id": thread_id}
    if approver:
        configurable["approver"] = approver
    return {"configurable": configurable}


def outcome_of(values: dict[str, Any], *, pending: bool) -> dict[str, Any]:
    """The JSON outcome the event row keeps (ids, score, tier, writes; no names)."""
    run = values.get("run") or {}
    result = values.get("assessment") or {}
    app = values.get("application") or {}
    return {
        "action": "pending_approval" if pending else "triaged",
        "thread_id": run.get("thread_id"),
        "trace_id": run.get("trace_id"),
        "workflow_id": app.get("workflow_id"),
        "person_id": app.get("person_id"),
        "job_id": app.get("job_id"),
        "mode": (values.get("policy") or {}).get("mode"),
        "score": result.get("score"),
        "tier": result.get("tier"),
        "flags": list(dict.fromkeys(f["code"] for f in result.get("flags") or [])),
        "writes": [{k: w.get(k) for k in ("id", "status", "patched")} for w in values.get("writes") or []],
        "pending": [a["id"] for a in human_actions(values)] if pending else [],  # type: ignore[arg-type]
        "requests": run.get("requests"),
        "sources": run.get("sources"),
        "audit": [r["key"] for r in values.get("audit_records") or []],
    }


def describe_outcome(outcome: dict[str, Any]) -> str:
    """One line for a console (the demo's burst): ids, score, tier, flags, writes, what waits.
    No names: outcomes carry ids only."""
    if outcome.get("action") == "none":
        return f"workflow {outcome.get('workflow_id')}: not triaged ({outcome.get('reason')})"
    tier = TIER_LABELS.get(str(outcome.get("tier")), str(outcome.get("tier")))
    written = [w["id"] for w in outcome.get("writes") or [] if w.get("status") in ("done", "already_done")]
    parts = [
        f"workflow {outcome.get('workflow_id')} (job {outcome.get('job_id')}): "
        f"{outcome.get('score')}/100, {tier} [{outcome.get('mode')}]",
        "flags " + (", ".join(outcome.get("flags") or []) or "none"),
        "wrote " + (", ".join(written) or "nothing"),
    ]
    if outcome.get("pending"):
        parts.append("waiting for a recruiter: " + ", ".join(outcome["pending"]))
    return "; ".join(parts)


def run_event(
    graph: Any,
    *,
    customer_id: int | str,
    event_id: str,
    workflow_id: int,
    person_id: int | None = None,
    job_id: int | None = None,
) -> dict[str, Any]:
    """Triage one application event, idempotently per event: the same event again returns what
    its run did (finishing it first if it stopped part-way, e.g. a killed worker or a spent quota);
    a different event on an application whose earlier triage waits for approval changes nothing."""
    thread_id = triage_thread_id(customer_id, workflow_id)
    config = run_config(thread_id)
    snapshot = graph.get_state(config)
    values = dict(snapshot.values or {})
    seen = (values.get("run") or {}).get("event_id") or values.get("event_id")
    same_event = seen == event_id
    if snapshot.interrupts:
        if same_event:
            return outcome_of(values, pending=True)
        return {
            "action": "none",
            "reason": "an earlier triage of this application is waiting for approval",
            "thread_id": thread_id,
            "workflow_id": workflow_id,
        }
    try:
        if same_event and unfinished(snapshot):
            graph.invoke(None, config, version="v2")
        elif not same_event:
            payload: dict[str, Any] = {"workflow_id": workflow_id, "event_id": event_id}
            if person_id is not None:
                payload["person_id"] = person_id
            if job_id is not None:
                payload["job_id"] = job_id
            graph.invoke(payload, config, version="v2")
    except SkipApplication as exc:
        return {"action": "none", "reason": str(exc), "thread_id": thread_id, "workflow_id": workflow_id}
    after = graph.get_state(config)
    return outcome_of(dict(after.values or {}), pending=bool(after.interrupts))


def resume(graph: Any, thread_id: str, response: Any, *, approver: str) -> dict[str, Any]:
    """Answer a pending triage approval (an Agent Inbox response, or a list of one)."""
    out = graph.invoke(Command(resume=response), run_config(thread_id, approver), version="v2")
    return dict(out.value)


def service_spec(state: Any) -> Any:
    """`server.state.SERVICE_GRAPHS` entry: the triage graph on the service's checkpointer, mirror
    and audit log; its dependencies go to `state.deps["triage"]` (closed with the service)."""
    from server.state import GraphSpec

    settings = state.settings
    deps = TriageDeps.from_settings(settings, mirror=state.mirror, audit=state.audit)
    state.deps["triage"] = deps
    compiled = build_graph(state.checkpointer, deps=deps)
    tier_field = settings.field_map.get("ai_tier")

    def validate(values: dict[str, Any], response: Any) -> dict[str, Any]:
        request = build_approval_request(values)  # type: ignore[arg-type]
        _, edits = decide(request["action_request"]["args"]["actions"], response, tier_field=tier_field)
        return edits

    class TriageSpec(GraphSpec):
        def job_id_of_thread(self, thread_id: str) -> int | None:
            # The thread id ends with the application (workflow), not the job: read the job from state.
            values = self.graph.get_state(run_config(thread_id)).values or {}
            return self.job_id_of_state(dict(values))

    return TriageSpec(
        name="triage",
        graph=compiled,
        thread_prefix="triage:",
        input_model=TriageRequest,
        thread_id=lambda req: triage_thread_id(settings.icims_customer_id, req.workflow_id),  # type: ignore[attr-defined]
        job_id_of_input=lambda req: req.job_id,  # type: ignore[attr-defined]
        validate_decision=validate,
    )


# The graph for `langgraph.json` / LangGraph Server: dependencies come from settings at first use.
graph = build_graph()
