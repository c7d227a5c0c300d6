"""Offer negotiator: draft a compliant offer letter, route it to exactly the approvers policy requires,
attach the approved letter in iCIMS, and answer counter-offers within policy.

    START -> load -> draft -> route -> approve (one Agent Inbox interrupt per approval step) ---+
                                ^          | edit: new version, re-validated                     |
                                +----------+ (re-routed; approvals of old terms stop counting)    |
                                                        all steps signed off -> render -> write -> audit
    START -> counter -> counter_approve (interrupt: suggested reply or escalation) -> route ... (new version)

One thread per application: `offer:{customer}:{workflow_id}`. Domain logic lives in `agents/offer`
(drafting and validation, routing, negotiation, sign-off bookkeeping, the idempotent write-back); the
nodes are thin. State holds JSON-like values only. Nothing is written to iCIMS before every step the
policy requires for the FINAL terms is signed off (`agents.offer.signoff`), and `write` checks that
again before it sends anything. Every version of the draft and every decision is an audit record.
"""

from __future__ import annotations

import hashlib
import io
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Required

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from typing_extensions import TypedDict

from agents.offer import (
    OfferCandidate,
    OfferDraft,
    OfferTerms,
    PayBand,
    Policy,
    analyse_counter,
    approval_chain,
    band_for,
    draft_offer,
    load_policy,
    parse_counter,
    render_docx,
    render_pdf,
    revise_draft,
    validate_draft,
)
from agents.offer.drafting import blocking, role_from_fields
from agents.offer.models import ApprovalStep, CounterOffer, fmt_money
from agents.offer.proposal import default_terms
from agents.offer.routing import added_steps
from agents.offer.signoff import approvers_for, missing, next_step, terms_hash
from agents.offer.writeback import OfferWrite, OfferWriteBack
from graphs.kit.inbox import (
    PendingApproval,
    approver_of,
    ask,
    cli_approver,
    config_value,
    make_request,
    pending_for_thread,
    unfinished,
)
from graphs.kit.nodes import LazyDeps, run_async
from tools.audit import AuditLog, IdempotencyLedger, value_hash
from tools.mirror.store import link_id

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver

    from tools.mirror import MirrorStore
    from tools.settings import Settings

GRAPH_VERSION = "offer-1"
APPROVAL_ACTION = "offer_approval"
COUNTER_ACTION = "offer_counter_reply"
OFFER_STATUS_ID = "C51221"  # applicant workflow status "Offer"
# Job fields the draft reads; the rest of the requisition (long texts) stays in the mirror.
JOB_KEYS = ("jobid", "jobtitle", "joblocation", "hiringmanager", "recruiter", "folder")

Status = Literal[
    "pending_approval", "negotiating", "approved", "attached", "changes_requested", "withdrawn", "failed"
]


def offer_thread_id(customer_id: int | str, workflow_id: int | str) -> str:
    return f"offer:{customer_id}:{workflow_id}"


class OfferError(ValueError):
    """The offer cannot be drafted or changed as asked (unknown workflow, no pay band, bad terms)."""


class OfferBusy(OfferError):
    """The offer thread is waiting for an approval (or still running): not the time for that call."""


# --- schemas --------------------------------------------------------------------------------------


class OfferStart(BaseModel):
    """Start an offer for an application: proposed terms (any omitted take the policy defaults)."""

    model_config = ConfigDict(extra="forbid")

    workflow_id: int = Field(description="the applicant workflow (application) the offer is for")
    terms: dict[str, Any] = Field(
        default_factory=dict,
        description="OfferTerms fields, e.g. {base_salary, start_date, sign_on_bonus, equity_value, "
        "target_bonus_pct, pto_days, remote, non_compete, non_standard, expires_on}",
    )
    level: str | None = Field(default=None, description="L1..L5 (default: the policy's default level)")
    narrative: str = Field(default="", max_length=2000)

    @field_validator("terms")
    @classmethod
    def _terms(cls, value: dict[str, Any]) -> dict[str, Any]:
        # Field by field, so a bad figure fails here with its name, not later inside the graph.
        known = set(OfferTerms.model_fields)
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"unknown term(s): {', '.join(unknown)}")
        probe = {"base_salary": 1, "start_date": "2100-01-04", **value}
        OfferTerms.model_validate(probe)
        return value


class CounterInput(BaseModel):
    """A counter-offer: the candidate's words, or the terms they ask for (CounterOffer fields)."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, max_length=5000)
    terms: dict[str, Any] | None = None

    @field_validator("terms")
    @classmethod
    def _terms(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            unknown = sorted(set(value) - set(CounterOffer.model_fields) - {"evidence", "text"})
            if unknown:
                raise ValueError(f"unknown counter term(s): {', '.join(unknown)}")
            CounterOffer.model_validate(value)
        return value

    def parsed(self, today: date) -> CounterOffer:
        if self.terms:
            return CounterOffer.model_validate({**self.terms, "text": self.text or ""})
        if not (self.text or "").strip():
            raise OfferError("a counter-offer needs its text or its terms")
        return parse_counter(self.text or "", today=today)


class OfferInput(TypedDict, total=False):
    workflow_id: Required[int | str]
    terms: dict[str, Any]
    level: str
    narrative: str
    counter: dict[str, Any]  # CounterInput, on a thread that has an offer


class OfferState(TypedDict, total=False):
    # input
    workflow_id: int | str
    terms: dict[str, Any]
    level: str
    narrative: str
    counter: dict[str, Any] | None
    # run
    run: dict[str, Any]
    context: dict[str, Any]
    draft: dict[str, Any]
    issues: list[dict[str, Any]]
    chain: list[dict[str, Any]]
    version: int
    versions: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    awaiting: Literal["approval", "counter"] | None
    approval_error: str | None
    negotiation: dict[str, Any] | None
    status: Status
    letter: dict[str, Any]
    writes: list[dict[str, Any]]
    audit_record: dict[str, Any]


class OfferOutput(TypedDict, total=False):
    run: dict[str, Any]
    status: Status
    version: int
    chain: list[dict[str, Any]]
    versions: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    negotiation: dict[str, Any] | None
    letter: dict[str, Any]
    writes: list[dict[str, Any]]
    audit_record: dict[str, Any]


class EditedOffer(BaseModel):
    """What an approver's edit may change: the terms (the rest of the request is for reading)."""

    model_config = ConfigDict(extra="ignore")

    terms: dict[str, Any]


class EditedCounter(BaseModel):
    model_config = ConfigDict(extra="ignore")

    suggested_reply: str | None = Field(default=None, max_length=5000)
    proposed_terms: dict[str, Any] | None = None


# --- dependencies ---------------------------------------------------------------------------------


@dataclass
class OfferDeps:
    settings: Settings
    mirror: MirrorStore
    ledger: IdempotencyLedger
    audit: AuditLog
    # A fresh ICIMSClient per call (each node run has its own event loop); None = offline: records
    # come from the mirror only and the write node refuses to run.
    client_factory: Callable[[], Any] | None
    policy: Policy
    files_dir: Path
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # Called after each write step ("letter_attached", "letter_recorded", "fields_patched"): tests
    # inject crashes there to prove a resumed write node repeats nothing.
    on_write_step: Callable[[str, OfferWrite], None] | None = None
    # Writes the letter's welcome paragraph when none is given (only with an LLM configured).
    chat_model: Any = None
    _owned: list[Any] = field(default_factory=list)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        mirror: MirrorStore | None = None,
        audit: AuditLog | None = None,
        offline: bool = False,
        **overrides: Any,
    ) -> OfferDeps:
        """`mirror` / `audit` passed in are shared (the caller closes them); the rest is owned."""
        from tools.icims.budget import RequestBudget
        from tools.icims.client import ICIMSClient
        from tools.mirror import MirrorStore

        settings.data_dir.mkdir(parents=True, exist_ok=True)
        owned: list[Any] = []
        if mirror is None:
            mirror = MirrorStore(settings.mirror_database_url)
            owned.append(mirror)
        if audit is None:
            audit = AuditLog.from_settings(settings)
            owned.append(audit)
        ledger = IdempotencyLedger.from_settings(settings)
        owned.append(ledger)
        budget = RequestBudget.from_settings(settings)
        values: dict[str, Any] = {
            "settings": settings,
            "mirror": mirror,
            "ledger": ledger,
            "audit": audit,
            "client_factory": None
            if offline
            else (lambda: ICIMSClient.from_settings(settings, budget=budget)),
            "policy": load_policy(settings.offer_policy_dir),
            "files_dir": settings.offer_files_dir or settings.data_dir / "offers",
            "chat_model": _chat_model(settings),
            "_owned": owned,
        }
        values.update(overrides)
        return cls(**values)

    def today(self) -> date:
        return self.clock().astimezone(UTC).date()

    def close(self) -> None:
        for item in self._owned:
            item.close()
        self._owned = []


# --- building -------------------------------------------------------------------------------------


def build_graph(checkpointer: BaseCheckpointSaver | None = None, *, deps: OfferDeps | None = None) -> Any:
    """Compile the offer graph. `deps=None` builds them from the environment's settings on first
    use, so the module-level `graph` imports and compiles with nothing configured."""
    node = LazyDeps(OfferDeps.from_settings, deps).node

    builder = StateGraph(OfferState, input_schema=OfferInput, output_schema=OfferOutput)
    builder.add_node("load", node(_node_load))
    builder.add_node("draft", node(_node_draft))
    builder.add_node("route", node(_node_route))
    builder.add_node("approve", node(_node_approve), destinations=("approve", "route", "render", "audit"))
    builder.add_node("render", node(_node_render))
    builder.add_node("write", node(_node_write))
    builder.add_node("audit", node(_node_audit))
    builder.add_node("counter", node(_node_counter))
    builder.add_node(
        "counter_approve", node(_node_counter_approve), destinations=("counter_approve", "route", "audit")
    )
    # A counter-offer arrives on a thread that already holds the offer; anything else starts one.
    builder.add_conditional_edges(
        START, lambda state: "counter" if state.get("counter") else "load", ["counter", "load"]
    )
    builder.add_edge("load", "draft")
    builder.add_edge("draft", "route")
    builder.add_edge("route", "approve")
    builder.add_edge("render", "write")
    builder.add_edge("write", "audit")
    builder.add_edge("counter", "counter_approve")
    builder.add_edge("audit", END)
    return builder.compile(checkpointer=checkpointer, name="offer")


# --- helpers --------------------------------------------------------------------------------------


def _record(d: OfferDeps, kind: str, record_id: int) -> tuple[dict[str, Any], str]:
    """A record from the mirror, else from iCIMS (one GET)."""
    data = d.mirror.get_data(kind, record_id)
    if data is not None:
        return data, "mirror"
    if d.client_factory is None:
        raise OfferError(f"{kind} {record_id} is not in the mirror (and iCIMS is not configured)")
    from tools.icims.budget import Priority
    from tools.icims.errors import ICIMSNotFound

    async def fetch() -> dict[str, Any]:
        async with d.client_factory() as client:
            return await client.get_profile(kind, record_id, priority=Priority.REALTIME)

    try:
        return run_async(fetch), "api"
    except ICIMSNotFound:
        raise OfferError(f"{kind} {record_id} does not exist in iCIMS") from None


def _company(d: OfferDeps, job: dict[str, Any]) -> str:
    if d.settings.offer_company_name:
        return d.settings.offer_company_name
    location = job.get("joblocation") if isinstance(job.get("joblocation"), dict) else {}
    company_id = link_id(location.get("companyid")) if location else None
    if company_id is None or d.client_factory is None:
        return "The Company"
    from tools.icims.budget import Priority

    async def fetch() -> dict[str, Any]:
        async with d.client_factory() as client:
            return await client.get_profile(
                "companies", company_id, fields=["name"], priority=Priority.REALTIME
            )

    try:
        return str(run_async(fetch).get("name") or "The Company")
    except Exception:  # the letter can say "The Company"; a missing name is no reason to stop
        return "The Company"


def candidate_from_person(person_id: int, person: dict[str, Any]) -> OfferCandidate:
    name = " ".join(str(person.get(k) or "").strip() for k in ("firstname", "lastname")).strip()
    lines: list[str] = []
    addresses = person.get("addresses") or []
    if addresses and isinstance(addresses[0], dict):
        a = addresses[0]
        state = a.get("addressstate") or {}
        state_text = state.get("abbrev") or state.get("value") if isinstance(state, dict) else state
        if a.get("addressstreet1"):
            lines.append(str(a["addressstreet1"]))
        city = ", ".join(str(x) for x in (a.get("addresscity"), state_text) if x)
        lines.append(" ".join(x for x in (city, str(a.get("addresszip") or "")) if x).strip())
    return OfferCandidate(
        person_id=str(person_id), name=name, address_lines=[x for x in lines if x], email=person.get("email")
    )


def _draft(state: OfferState) -> OfferDraft:
    return OfferDraft.model_validate(state["draft"])


def _band(state: OfferState) -> PayBand:
    return PayBand.model_validate(state["context"]["band"])


def _terms_json(terms: OfferTerms) -> dict[str, Any]:
    return terms.model_dump(mode="json")


def _new_version(
    state: OfferState, draft: OfferDraft, *, reason: str, author: str, at: str, changes: dict[str, Any]
) -> dict[str, Any]:
    number = int(state.get("version") or 0) + 1
    entry = {
        "version": number,
        "created_at": at,
        "reason": reason,
        "author": author,
        "changes": changes,
        "terms": _terms_json(draft.terms),
        "terms_hash": terms_hash(draft.terms),
        "figures": dict(draft.figures),
        "clauses": draft.clause_ids,
        "omitted": list(draft.omitted),
        "html_sha256": hashlib.sha256(draft.html.encode("utf-8")).hexdigest(),
        "template": draft.template_id,
        "clauses_version": draft.clauses_version,
    }
    return {
        "draft": draft.model_dump(mode="json"),
        "version": number,
        "versions": [*(state.get("versions") or []), entry],
    }


def _term_changes(old: OfferTerms, new: OfferTerms) -> dict[str, Any]:
    before, after = _terms_json(old), _terms_json(new)
    return {k: {"from": before.get(k), "to": after[k]} for k in after if before.get(k) != after[k]}


# --- nodes ----------------------------------------------------------------------------------------


def _node_load(d: OfferDeps, state: OfferState, config: RunnableConfig) -> dict[str, Any]:
    request = OfferStart.model_validate(
        {k: state[k] for k in ("workflow_id", "terms", "level", "narrative") if state.get(k) is not None}
    )
    thread_id = config_value(config, "thread_id") or offer_thread_id(
        d.settings.icims_customer_id, request.workflow_id
    )
    workflow, wf_source = _record(d, "applicantworkflows", request.workflow_id)
    job_id, person_id = link_id(workflow.get("baseprofile")), link_id(workflow.get("associatedprofile"))
    if job_id is None or person_id is None:
        raise OfferError(f"workflow {request.workflow_id} names no job or person")
    if d.mirror.is_erased(person_id):
        raise OfferError(f"person {person_id} was erased: no offer can be drafted")
    job, job_source = _record(d, "jobs", job_id)
    person, person_source = _record(d, "people", person_id)
    fmap = d.settings.field_map
    role = role_from_fields(job, fmap)
    if not role.soc:
        raise OfferError(f"job {job_id} has no occupation code ({fmap['job_soc_code']}): no pay band")
    try:
        band = band_for(role.soc, request.level, role.location, policy=d.policy)
    except LookupError as exc:
        raise OfferError(str(exc)) from None
    status = workflow.get("status") if isinstance(workflow.get("status"), dict) else {}
    job_fields = {k: job[k] for k in JOB_KEYS if k in job}
    job_fields.update({v: job[v] for k, v in fmap.items() if k.startswith("job_") and v in job})
    now = d.clock()
    run = {
        "trace_id": uuid.uuid4().hex,
        "thread_id": thread_id,
        "customer_id": d.settings.icims_customer_id,
        "started_at": now.astimezone(UTC).isoformat(),
        "started_by": config_value(config, "approver", "started_by") or "system",
        "request": request.model_dump(mode="json"),
        "sources": {"workflow": wf_source, "job": job_source, "person": person_source},
        "policy_version": d.policy.approval.version,
        "band_method_version": d.policy.method.version,
    }
    # Every run-scoped key is reset: a restarted offer on this application starts from a clean slate.
    return {
        "run": run,
        "context": {
            "workflow": {
                "id": request.workflow_id,
                "status_id": status.get("id"),
                "status": status.get("value"),
            },
            "job_id": job_id,
            "person_id": person_id,
            "job": job_fields,
            "candidate": candidate_from_person(person_id, person).model_dump(mode="json"),
            "band": band.model_dump(mode="json"),
            "company": _company(d, job),
            "recruiter_id": link_id(job.get("recruiter")),
        },
        "draft": {},
        "issues": [],
        "chain": [],
        "version": 0,
        "versions": [],
        "decisions": [],
        "awaiting": None,
        "approval_error": None,
        "negotiation": None,
        "counter": None,
        "letter": {},
        "writes": [],
        "audit_record": {},
    }


def _chat_model(settings: Settings) -> Any:
    if not settings.llm_base_url:
        return None
    from tools.llm import make_chat_model

    return make_chat_model(settings)


def _narrative(d: OfferDeps, ctx: dict[str, Any], title: str) -> tuple[str, str]:
    """(the paragraph, how it came about) for a draft whose request gave none."""
    if d.chat_model is None:
        return "", ""
    from agents.offer.narrative import NarrativeFacts, write_narrative

    first = (str(ctx["candidate"].get("name") or "").split() or ["there"])[0]
    written = write_narrative(
        d.chat_model, NarrativeFacts(first_name=first, job_title=title, company=str(ctx["company"]))
    )
    note = f"narrative: {written.source}" + (f" ({written.reason})" if written.reason else "")
    return written.text, note


def _node_draft(d: OfferDeps, state: OfferState, config: RunnableConfig) -> dict[str, Any]:
    ctx = state["context"]
    band = _band(state)
    role = role_from_fields(ctx["job"], d.settings.field_map)
    today = d.today()
    request = state["run"]["request"]
    narrative, note = request.get("narrative") or "", ""
    if not narrative:
        narrative, note = _narrative(d, ctx, role.title)
    try:
        terms = default_terms(
            role, band, today=today, level=request.get("level"), **(request.get("terms") or {})
        )
        draft = draft_offer(
            ctx["job"],
            ctx["candidate"],
            terms,
            band=band,
            company=ctx["company"],
            letter_date=today,
            narrative=narrative,
            field_map=d.settings.field_map,
        )
    except ValidationError as exc:
        raise OfferError(f"terms not valid: {exc.errors()[0]['msg']}") from None
    except ValueError as exc:  # e.g. a job location without a US state: no jurisdiction
        raise OfferError(str(exc)) from None
    return _new_version(
        state,
        draft,
        reason="initial draft" + (f"; {note}" if note else ""),
        author=str(state["run"].get("started_by") or "system"),
        at=d.clock().astimezone(UTC).isoformat(),
        changes={},
    )


def _node_route(d: OfferDeps, state: OfferState, config: RunnableConfig) -> dict[str, Any]:
    draft, band = _draft(state), _band(state)
    chain = approval_chain(draft, band, d.policy)
    issues = validate_draft(draft, today=d.today())
    previous = state.get("chain") or []
    added = (
        [s.role for s in added_steps([ApprovalStep.model_validate(s) for s in previous], chain)]
        if previous
        else []
    )
    versions = list(state.get("versions") or [])
    entry = {
        **versions[-1],
        "chain": [
            {"role": s.role, "order": s.order, "required": s.required, "reasons": s.reasons} for s in chain
        ],
        "added_steps": added,
        "issues": [i.model_dump() for i in issues],
        "band_position": band.position(draft.terms.base_salary),
        "compa_ratio": band.compa_ratio(draft.terms.base_salary),
    }
    versions[-1] = entry
    run = state["run"]
    _audit(
        d,
        state,
        "offer_version",
        f"v{entry['version']}",
        {
            "job_id": state["context"]["job_id"],
            "person_id": state["context"]["person_id"],
            "band": {
                k: str(v) for k, v in state["context"]["band"].items() if k in ("min", "mid", "max", "source")
            },
            "policy_version": run.get("policy_version"),
            **entry,
        },
    )
    return {
        "chain": [s.model_dump(mode="json") for s in chain],
        "issues": [i.model_dump() for i in issues],
        "versions": versions,
        "status": "pending_approval",
        "awaiting": "approval",
    }


def decide_approval(
    state: OfferState, response: Any, *, approver: str | None, policy: Policy, today: date
) -> tuple[str, dict[str, Any]]:
    """(next node, state update) for an answer to the pending approval step. Pure: the service runs
    it to re-validate an edit before resuming. Raises ValueError / ValidationError when refused."""
    draft = _draft(state)
    current = terms_hash(draft.terms)
    step = next_step(state.get("chain") or [], state.get("decisions") or [], current)
    if step is None:
        raise ValueError("every approval step is already signed off")
    base = {
        "role": step.role,
        "approver": approver,
        "decision": response.type,
        "version": state.get("version"),
        "terms_hash": current,
    }
    if response.type in ("respond", "ignore"):
        entry = {**base, "note_hash": value_hash(response.args) if response.type == "respond" else None}
        status = "changes_requested" if response.type == "respond" else "withdrawn"
        return "audit", {"decision": entry, "status": status}
    if response.type == "accept":
        errors = [i for i in state.get("issues") or [] if i.get("severity") == "error"]
        if errors:
            raise ValueError("the draft has blocking issues: " + "; ".join(i["message"] for i in errors))
        given = approvers_for(step.role, state.get("decisions") or [], current)
        if approver is not None and step.required > 1 and approver in given:
            raise ValueError(f"{approver} already approved the {step.role} step: it needs another approver")
        return "approve", {"decision": base}
    # edit: the approver signs off their own edited terms for their step; the new terms are routed
    # again, so approvals given on the old terms stop counting.
    edited = EditedOffer.model_validate(response.args)
    changes = dict(edited.terms)
    unknown = sorted(set(changes) - set(OfferTerms.model_fields))
    if unknown:
        raise ValueError(f"unknown term(s): {', '.join(unknown)}")
    revised = revise_draft(draft, **changes)
    diff = _term_changes(draft.terms, revised.terms)
    if not diff:
        return decide_approval(
            state, type(response)(type="accept"), approver=approver, policy=policy, today=today
        )
    errors = blocking(validate_draft(revised, today=today))
    if errors:
        raise ValueError("; ".join(i.message for i in errors))
    return "route", {
        "decision": {
            **base,
            "version": int(state.get("version") or 0) + 1,
            "terms_hash": terms_hash(revised.terms),
        },
        "revised": revised,
        "diff": diff,
    }


def _node_approve(d: OfferDeps, state: OfferState, config: RunnableConfig) -> Command:
    # Re-runs from the top on resume: everything before interrupt() only reads state.
    draft = _draft(state)
    step = next_step(state.get("chain") or [], state.get("decisions") or [], terms_hash(draft.terms))
    if step is None:
        return Command(goto="render", update={"status": "approved", "awaiting": None})
    request = build_approval_request(state, step.role)
    approver = approver_of(config)
    answer = ask(
        request,
        lambda response: decide_approval(
            state, response, approver=approver, policy=d.policy, today=d.today()
        ),
        again="approve",
        refused="Not applied",
    )
    if isinstance(answer, Command):
        return answer
    _, (goto, outcome) = answer
    now = d.clock().astimezone(UTC).isoformat()
    entry = {
        **outcome["decision"],
        "decided_at": now,
        "request_hash": value_hash(request["action_request"]["args"]),
    }
    decisions = [*(state.get("decisions") or []), entry]
    update: dict[str, Any] = {"decisions": decisions, "approval_error": None}
    if "revised" in outcome:
        update.update(
            _new_version(
                state,
                outcome["revised"],
                reason=f"edited by {approver} at the {entry['role']} step",
                author=approver,
                at=now,
                changes=outcome["diff"],
            )
        )
    if "status" in outcome:
        update["status"] = outcome["status"]
        update["awaiting"] = None
    _audit(d, state, "offer_decision", f"decision:{len(decisions)}", entry)
    return Command(goto=goto, update=update)


def _pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


def _docx_text(content: bytes) -> str:
    from docx import Document

    return " ".join(" ".join(p.text for p in Document(io.BytesIO(content)).paragraphs).split())


def _node_render(d: OfferDeps, state: OfferState, config: RunnableConfig) -> dict[str, Any]:
    draft = _draft(state)
    pdf, docx = render_pdf(draft), render_docx(draft)
    # The letter sent must carry exactly the approved figures: checked on each file's own text.
    for kind, text in (("PDF", _pdf_text(pdf)), ("DOCX", _docx_text(docx))):
        absent = [f"{label} {figure}" for label, figure in draft.figures.items() if figure not in text]
        if absent:
            raise OfferError(f"the rendered {kind} lacks approved figures: " + ", ".join(absent))
    folder = d.files_dir / state["run"]["thread_id"].replace(":", "_")
    folder.mkdir(parents=True, exist_ok=True)
    version = int(state["version"])
    pdf_path, docx_path = folder / f"offer-v{version}.pdf", folder / f"offer-v{version}.docx"
    pdf_path.write_bytes(pdf)
    docx_path.write_bytes(docx)
    return {
        "letter": {
            "version": version,
            "pdf_path": str(pdf_path),
            "pdf_sha256": hashlib.sha256(pdf).hexdigest(),
            "pdf_bytes": len(pdf),
            "docx_path": str(docx_path),
            "docx_sha256": hashlib.sha256(docx).hexdigest(),
            "figures": dict(draft.figures),
            "figures_verified": True,
            "terms_hash": terms_hash(draft.terms),
        }
    }


def _node_write(d: OfferDeps, state: OfferState, config: RunnableConfig) -> dict[str, Any]:
    draft = _draft(state)
    current = terms_hash(draft.terms)
    lacking = missing(state.get("chain") or [], state.get("decisions") or [], current)
    letter = state["letter"]
    if lacking or letter.get("terms_hash") != current:
        # Unreachable through the graph's edges; kept so no path can attach an unapproved letter.
        raise OfferError("refusing to attach: approvals missing for the final terms: " + ", ".join(lacking))
    if d.client_factory is None:
        raise RuntimeError("no iCIMS client configured: the approved offer cannot be attached offline")
    content = Path(letter["pdf_path"]).read_bytes()
    if hashlib.sha256(content).hexdigest() != letter["pdf_sha256"]:
        raise OfferError("the rendered letter changed on disk since it was checked")
    ctx, run, fmap = state["context"], state["run"], d.settings.field_map
    version = int(state["version"])

    async def apply() -> list[dict[str, Any]]:
        async with d.client_factory() as client:
            writer = OfferWriteBack(
                client,
                d.ledger,
                run["thread_id"],
                f"{run['trace_id']}:v{version}",
                is_erased=d.mirror.is_erased,
                on_step=d.on_write_step,
            )
            attached = await writer.attach_letter(
                int(ctx["person_id"]),
                fmap["offer_letter"],
                content,
                f"offer-letter-{ctx['workflow']['id']}-v{version}.pdf",
            )
            out = [attached.to_json()]
            if attached.status in ("done", "already_done"):
                fields = await writer.set_fields(
                    "applicantworkflows",
                    int(ctx["workflow"]["id"]),
                    {fmap["offer_status"]: f"Approved v{version}"},
                )
                out.append(fields.to_json())
            return out

    writes = run_async(apply)
    ok = all(w["status"] in ("done", "already_done") for w in writes) and len(writes) == 2
    return {"writes": writes, "status": "attached" if ok else "failed"}


def _audit(d: OfferDeps, state: OfferState, kind: str, key: str, body: dict[str, Any]) -> Any:
    """One offer audit record, keyed under the run's trace and stamped with the graph version and
    the workflow (every record of an offer carries both)."""
    run = state["run"]
    return d.audit.append(
        kind=kind,
        key=f"offer:{run['trace_id']}:{key}",
        trace_id=run["trace_id"],
        thread_id=run["thread_id"],
        body={"graph": GRAPH_VERSION, "workflow_id": state["context"]["workflow"]["id"], **body},
    )


def _node_audit(d: OfferDeps, state: OfferState, config: RunnableConfig) -> dict[str, Any]:
    run, ctx = state["run"], state["context"]
    negotiation = state.get("negotiation") or {}
    decisions = state.get("decisions") or []
    body = {
        "graph": GRAPH_VERSION,
        "workflow_id": ctx["workflow"]["id"],
        "job_id": ctx["job_id"],
        "person_id": ctx["person_id"],
        "status": state.get("status"),
        "version": state.get("version"),
        "final_terms": (state.get("versions") or [{}])[-1].get("terms"),
        "versions": [
            {k: v.get(k) for k in ("version", "reason", "author", "terms_hash", "html_sha256", "added_steps")}
            for v in state.get("versions") or []
        ],
        "chain": [s["role"] for s in state.get("chain") or []],
        "decisions": decisions,
        "letter": {k: (state.get("letter") or {}).get(k) for k in ("version", "pdf_sha256", "docx_sha256")},
        "writes": [
            {k: w.get(k) for k in ("action", "kind", "record_id", "status", "sent")}
            for w in state.get("writes") or []
        ],
        "negotiation": {
            k: negotiation.get(k) for k in ("n", "decision", "outcome", "reply_template", "reply_hash")
        }
        if negotiation
        else None,
        "policy_version": run.get("policy_version"),
    }
    record = _audit(
        d, state, "offer", f"final:{len(decisions)}:{state.get('version')}:{state.get('status')}", body
    )
    return {"audit_record": {"seq": record.seq, "hash": record.hash, "key": record.key}}


def _node_counter(d: OfferDeps, state: OfferState, config: RunnableConfig) -> dict[str, Any]:
    if not state.get("draft"):
        raise OfferError("there is no offer on this thread to counter")
    counter_in = CounterInput.model_validate(state.get("counter") or {})
    today = d.today()
    counter = counter_in.parsed(today)
    draft, band = _draft(state), _band(state)
    analysis = analyse_counter(
        draft.terms,
        counter,
        band,
        d.policy,
        "recruiter",
        role=draft.role,
        letter_date=draft.letter_date,
        candidate_name=draft.candidate.name,
        today=today,
    )
    previous = state.get("negotiation") or {}
    n = int(previous.get("n") or 0) + 1
    negotiation = {
        "n": n,
        "received_at": d.clock().astimezone(UTC).isoformat(),
        "version": state.get("version"),
        "status_before": state.get("status"),
        "counter": counter.model_dump(mode="json"),
        "analysis": analysis.model_dump(mode="json"),
        "decision": analysis.decision,
        "reply_template": analysis.reply_template,
        "outcome": None,
    }
    _audit(
        d,
        state,
        "offer_counter",
        f"counter:{n}",
        {
            "n": n,
            "version": state.get("version"),
            # The candidate's own words stay out of the log: the extracted terms and the analysis.
            "text_hash": value_hash(counter.text) if counter.text else None,
            "extracted": counter.model_dump(mode="json", exclude={"text", "evidence"}, exclude_none=True),
            "decision": analysis.decision,
            "reasons": analysis.reasons,
            "approvals": [s.role for s in analysis.approvals],
        },
    )
    return {
        "counter": None,
        "negotiation": negotiation,
        "status": "negotiating",
        "awaiting": "counter",
        "approval_error": None,
    }


def decide_counter(
    state: OfferState, response: Any, *, approver: str | None, today: date
) -> tuple[str, dict[str, Any]]:
    """(next node, update) for an answer to the counter-offer interrupt; pure, like `decide_approval`."""
    negotiation = state.get("negotiation") or {}
    analysis = negotiation.get("analysis") or {}
    draft = _draft(state)
    reply = analysis.get("suggested_reply") or ""
    proposed = analysis.get("proposed") or _terms_json(draft.terms)
    if response.type in ("respond", "ignore"):
        outcome = "replied_by_hand" if response.type == "respond" else "dismissed"
        text = response.args if response.type == "respond" else None
        return "audit", {"outcome": outcome, "reply": text, "status": negotiation.get("status_before")}
    if response.type == "edit":
        edited = EditedCounter.model_validate(response.args)
        reply = edited.suggested_reply if edited.suggested_reply is not None else reply
        if edited.proposed_terms is not None:
            proposed = {**proposed, **edited.proposed_terms}
    new_terms = OfferTerms.model_validate(proposed)
    revised = revise_draft(draft, **new_terms.model_dump())
    diff = _term_changes(draft.terms, revised.terms)
    if not diff:
        return "audit", {"outcome": "reply_only", "reply": reply, "status": negotiation.get("status_before")}
    errors = blocking(validate_draft(revised, today=today))
    if errors:
        raise ValueError("; ".join(i.message for i in errors))
    decision = {
        "role": "recruiter",
        "approver": approver,
        "decision": response.type,
        "version": int(state.get("version") or 0) + 1,
        "terms_hash": terms_hash(revised.terms),
        "counter": negotiation.get("n"),
    }
    return "route", {
        "outcome": "new_version",
        "reply": reply,
        "revised": revised,
        "diff": diff,
        "decision": decision,
    }


def _node_counter_approve(d: OfferDeps, state: OfferState, config: RunnableConfig) -> Command:
    request = build_counter_request(state)
    approver = approver_of(config)
    answer = ask(
        request,
        lambda response: decide_counter(state, response, approver=approver, today=d.today()),
        again="counter_approve",
        refused="Not applied",
    )
    if isinstance(answer, Command):
        return answer
    response, (goto, outcome) = answer
    now = d.clock().astimezone(UTC).isoformat()
    negotiation = {
        **(state.get("negotiation") or {}),
        "outcome": outcome["outcome"],
        "decided_by": approver,
        "decided_at": now,
        "reply": outcome.get("reply"),
        "reply_hash": value_hash(outcome.get("reply")) if outcome.get("reply") else None,
    }
    update: dict[str, Any] = {"negotiation": negotiation, "approval_error": None}
    if "revised" in outcome:
        entry = {
            **outcome["decision"],
            "decided_at": now,
            "request_hash": value_hash(request["action_request"]["args"]),
        }
        update["decisions"] = [*(state.get("decisions") or []), entry]
        update.update(
            _new_version(
                state,
                outcome["revised"],
                reason=f"counter-offer {negotiation['n']} accepted by {approver}",
                author=approver,
                at=now,
                changes=outcome["diff"],
            )
        )
    else:
        update["status"] = outcome["status"]
        update["awaiting"] = None
    _audit(
        d,
        state,
        "offer_decision",
        f"counter:{negotiation['n']}:decision",
        {
            "counter": negotiation["n"],
            "role": "recruiter",
            "approver": approver,
            "decision": response.type,
            "decided_at": now,
            "outcome": outcome["outcome"],
            "new_version": update.get("version"),
            "changes": outcome.get("diff") or {},
            "reply_template": negotiation.get("reply_template"),
            # The reply may name the candidate: its hash only.
            "reply_hash": negotiation["reply_hash"],
        },
    )
    return Command(goto=goto, update=update)


# --- requests -------------------------------------------------------------------------------------


def _chain_lines(state: OfferState, current: str) -> list[str]:
    lines = []
    decisions = state.get("decisions") or []
    for step in state.get("chain") or []:
        have = approvers_for(step["role"], decisions, current)
        mark = "signed off" if len(have) >= step["required"] else f"{len(have)} of {step['required']}"
        lines.append(f"- **{step['role']}** ({mark}): " + "; ".join(step["reasons"]))
    return lines


def build_approval_request(state: OfferState, role: str) -> dict[str, Any]:
    """The Agent Inbox request for one approval step (pure: same state, same request)."""
    draft, band, ctx = _draft(state), _band(state), state["context"]
    current = terms_hash(draft.terms)
    step = next(s for s in state.get("chain") or [] if s["role"] == role)
    position = band.position(draft.terms.base_salary)
    issues = state.get("issues") or []
    args = {
        "workflow_id": ctx["workflow"]["id"],
        "job_id": ctx["job_id"],
        "job_title": draft.role.title,
        "candidate": draft.candidate.name,
        "thread_id": state["run"]["thread_id"],
        "version": state.get("version"),
        "step": step,
        "terms": _terms_json(draft.terms),
        "figures": draft.figures,
        "band": {
            "min": str(band.min),
            "mid": str(band.mid),
            "max": str(band.max),
            "source": band.source,
            "position": position,
            "compa_ratio": band.compa_ratio(draft.terms.base_salary),
        },
        "jurisdiction": draft.jurisdiction,
        "clauses": draft.clause_ids,
        "omitted": draft.omitted,
        "issues": issues,
        "chain": state.get("chain") or [],
        "letter_html": draft.html,
    }
    blocked = any(i.get("severity") == "error" for i in issues)
    lines = []
    if state.get("approval_error"):
        lines += [f"> **{state['approval_error']}**", ""]
    lines += [
        f"### Offer v{state.get('version')}: {draft.role.title} for {draft.candidate.name} "
        f"(application {ctx['workflow']['id']}): **{role}** approval",
        "",
        f"Base {fmt_money(draft.terms.base_salary)} is **{position.replace('_', ' ')}** "
        f"(band {fmt_money(band.min)} / {fmt_money(band.mid)} / {fmt_money(band.max)}, "
        f"compa-ratio {band.compa_ratio(draft.terms.base_salary)}); jurisdiction {draft.jurisdiction}.",
        "",
        "| term | value |",
        "|---|---|",
        *[f"| {k.replace('_', ' ')} | {v} |" for k, v in draft.figures.items()],
        "",
        "Approval chain (from policy):",
        *_chain_lines(state, current),
    ]
    if draft.omitted:
        lines += ["", "Left out: " + "; ".join(draft.omitted)]
    if issues:
        lines += ["", "Issues:", *[f"- {i['severity']}: {i['message']}" for i in issues]]
    lines += [
        "",
        "**Accept** signs off this step for these exact terms. **Edit** `terms` (e.g. `base_salary`): "
        "the new version is re-validated and re-routed, and approvals given on the old terms no longer "
        "count. **Respond** sends it back without attaching; **Ignore** withdraws it. Nothing is "
        "attached in iCIMS until every step is signed off.",
    ]
    return dict(make_request(APPROVAL_ACTION, args, "\n".join(lines), allow_accept=not blocked))


def build_counter_request(state: OfferState) -> dict[str, Any]:
    negotiation = state.get("negotiation") or {}
    analysis = negotiation.get("analysis") or {}
    draft, ctx = _draft(state), state["context"]
    args = {
        "workflow_id": ctx["workflow"]["id"],
        "job_id": ctx["job_id"],
        "job_title": draft.role.title,
        "candidate": draft.candidate.name,
        "thread_id": state["run"]["thread_id"],
        "version": state.get("version"),
        "counter": negotiation.get("n"),
        "decision": analysis.get("decision"),
        "reasons": analysis.get("reasons") or [],
        "changes": analysis.get("changes") or [],
        "current_terms": _terms_json(draft.terms),
        "proposed_terms": analysis.get("proposed"),
        "approvals_needed": [s["role"] for s in analysis.get("approvals") or []],
        "band_position": analysis.get("band_position"),
        "compa_ratio": analysis.get("compa_ratio"),
        "suggested_reply": analysis.get("suggested_reply"),
        "reply_template": analysis.get("reply_template"),
    }
    lines = []
    if state.get("approval_error"):
        lines += [f"> **{state['approval_error']}**", ""]
    verdict = {
        "accept": "within your authority",
        "escalate": "needs escalation",
        "no_change": "asks for nothing specific",
    }.get(str(analysis.get("decision")), str(analysis.get("decision")))
    lines += [
        f"### Counter-offer {negotiation.get('n')} from {draft.candidate.name} "
        f"on offer v{state.get('version')}: {verdict}",
        "",
        "| term | current | requested | within authority |",
        "|---|---|---|---|",
        *[
            f"| {c['term']} | {c['current']} | {c['requested']} | "
            f"{'yes' if c['within_authority'] else 'no'} |"
            for c in analysis.get("changes") or []
        ],
    ]
    if analysis.get("reasons"):
        lines += ["", "Why it escalates:", *[f"- {r}" for r in analysis["reasons"]]]
    lines += [
        "",
        f"Suggested reply ({analysis.get('reply_template')}):",
        "",
        f"> {analysis.get('suggested_reply')}",
        "",
        "**Accept** records the reply and makes the requested terms a new offer version, routed to "
        "every approver they need. **Edit** `suggested_reply` or `proposed_terms` first. **Respond** / "
        "**Ignore** keep the current offer unchanged.",
    ]
    return dict(make_request(COUNTER_ACTION, args, "\n".join(lines)))


def validate_decision(
    values: dict[str, Any], response: Any, *, policy: Policy, today: date
) -> dict[str, Any]:
    """The graph's own checks for the pending interrupt, run by the service before resuming."""
    if values.get("awaiting") == "counter":
        _, outcome = decide_counter(values, response, approver=None, today=today)
        return {"outcome": outcome["outcome"], "changes": outcome.get("diff") or {}}
    _, outcome = decide_approval(values, response, approver=None, policy=policy, today=today)
    return {"changes": outcome.get("diff") or {}, "decision": response.type}


# --- running --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OfferRun:
    thread_id: str
    values: dict[str, Any]
    pending: list[PendingApproval]
    existing: bool = False


def _config(thread_id: str, approver: str | None = None) -> RunnableConfig:
    configurable: dict[str, Any] = {"thread_id": thread_id}
    if approver:
        configurable["approver"] = approver
    return {"configurable": configurable}


_start_locks: dict[str, threading.Lock] = {}
_start_locks_guard = threading.Lock()


def _start_lock(thread_id: str) -> threading.Lock:
    with _start_locks_guard:
        return _start_locks.setdefault(thread_id, threading.Lock())


def start_offer(
    graph: Any,
    *,
    workflow_id: int,
    customer_id: int | str,
    terms: dict[str, Any] | None = None,
    level: str | None = None,
    narrative: str = "",
    started_by: str | None = None,
    restart: bool = False,
) -> OfferRun:
    """Draft and route an offer, up to its first approval. Unless `restart`, an application that
    already has an offer thread gets that one back: a second start never makes a second offer."""
    request = OfferStart.model_validate(
        {"workflow_id": workflow_id, "terms": terms or {}, "level": level, "narrative": narrative}
    )
    thread_id = offer_thread_id(customer_id, request.workflow_id)
    # Two deliveries of the same event handled at once must not both see "no offer yet".
    with _start_lock(thread_id):
        state = graph.get_state(_config(thread_id))
        if not restart and state.values.get("draft"):
            return OfferRun(
                thread_id, dict(state.values), pending_for_thread(graph, thread_id), existing=True
            )
        # Every input key is sent, so nothing from an earlier start on this thread leaks into this one.
        payload = {**request.model_dump(mode="json"), "counter": None}
        graph.invoke(payload, _config(thread_id, started_by), version="v2")
    return OfferRun(
        thread_id, dict(graph.get_state(_config(thread_id)).values), pending_for_thread(graph, thread_id)
    )


def counter_offer(graph: Any, thread_id: str, counter: dict[str, Any] | CounterInput) -> OfferRun:
    """Analyse a counter-offer on an offer thread, up to its approval interrupt."""
    body = counter if isinstance(counter, CounterInput) else CounterInput.model_validate(counter)
    state = graph.get_state(_config(thread_id))
    if not state.values.get("draft"):
        raise OfferError(f"no offer on {thread_id}")
    if pending_for_thread(graph, thread_id):
        raise OfferBusy("the offer waits for an approval: resolve it before taking a counter-offer")
    if unfinished(state):
        raise OfferBusy("the offer is still being processed")
    workflow_id = state.values["context"]["workflow"]["id"]
    graph.invoke(
        {"workflow_id": workflow_id, "counter": body.model_dump(mode="json", exclude_none=True)},
        _config(thread_id),
        version="v2",
    )
    return OfferRun(
        thread_id, dict(graph.get_state(_config(thread_id)).values), pending_for_thread(graph, thread_id)
    )


def resume_offer(graph: Any, thread_id: str, response: Any, *, approver: str | None = None) -> dict[str, Any]:
    approver = approver or cli_approver()
    graph.invoke(Command(resume=response), _config(thread_id, approver), version="v2")
    return dict(graph.get_state(_config(thread_id)).values)


def offer_view(values: dict[str, Any]) -> dict[str, Any]:
    """What `GET /offers/{id}` and `icims-agents offer show` report: versions, decisions, status."""
    ctx = values.get("context") or {}
    negotiation = values.get("negotiation") or {}
    return {
        "thread_id": (values.get("run") or {}).get("thread_id"),
        "workflow_id": (ctx.get("workflow") or {}).get("id"),
        "job_id": ctx.get("job_id"),
        "person_id": ctx.get("person_id"),
        "status": values.get("status"),
        "version": values.get("version"),
        "awaiting": values.get("awaiting"),
        "chain": [
            {"role": s["role"], "required": s["required"], "reasons": s["reasons"]}
            for s in values.get("chain") or []
        ],
        "versions": [
            {
                k: v.get(k)
                for k in (
                    "version",
                    "created_at",
                    "reason",
                    "author",
                    "changes",
                    "terms",
                    "figures",
                    "band_position",
                    "compa_ratio",
                    "added_steps",
                    "issues",
                )
            }
            for v in values.get("versions") or []
        ],
        "decisions": [
            {k: d.get(k) for k in ("role", "approver", "decision", "version", "decided_at")}
            for d in values.get("decisions") or []
        ],
        "negotiation": {
            k: negotiation.get(k)
            for k in ("n", "decision", "outcome", "reply", "reply_template", "received_at", "decided_by")
        }
        | {
            "analysis": {
                k: (negotiation.get("analysis") or {}).get(k)
                for k in ("reasons", "changes", "suggested_reply", "band_position")
            }
        }
        if negotiation
        else None,
        "letter": {
            k: (values.get("letter") or {}).get(k) for k in ("version", "pdf_sha256", "pdf_bytes", "figures")
        }
        if values.get("letter")
        else None,
        "writes": values.get("writes") or [],
    }


# The graph for `langgraph.json` / LangGraph Server (which supplies its own checkpointer).
graph = build_graph()
