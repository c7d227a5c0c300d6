"""The offer graph's nodes up to the approvals: load (the application, job and person, the pay
band), draft, route (the approval chain the policy requires for these terms), approve (one step at a
time), and the final audit record. The letter and write nodes are in `letters.py`, counter-offers in
`counter.py`; the domain logic is `agents.offer`'s.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.types import Command
from pydantic import ValidationError

from agents.offer import OfferCandidate, approval_chain, band_for, draft_offer, validate_draft
from agents.offer.drafting import role_from_fields
from agents.offer.models import ApprovalStep
from agents.offer.narrative import NarrativeFacts, write_narrative
from agents.offer.proposal import default_terms
from agents.offer.routing import added_steps
from agents.offer.signoff import next_step, terms_hash
from graphs.kit import audit
from graphs.kit.inbox import approver_of, config_value
from graphs.kit.nodes import run_async
from graphs.kit.runs import run_record
from graphs.offer.deps import OfferDeps
from graphs.offer.review import approval_changes, build_approval_request, decide_approval, review_step
from graphs.offer.state import GRAPH_VERSION, JOB_KEYS, OfferError, OfferStart, OfferState, offer_thread_id
from graphs.offer.versions import band_of, draft_of, new_version
from tools.icims.budget import Priority
from tools.icims.errors import ICIMSNotFound
from tools.mirror.store import link_id


def offer_audit(d: OfferDeps, state: OfferState, kind: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
    """One offer audit record, under the run's trace, stamped with the graph version and the
    workflow (every record of an offer carries both)."""
    body = {"workflow_id": state["context"]["workflow"]["id"], **body}
    return audit.append(d.audit, state["run"], kind=kind, key=key, body=body, graph_version=GRAPH_VERSION)


# --- reading --------------------------------------------------------------------------------------


def _fetch(d: OfferDeps, kind: str, record_id: int, **query: Any) -> dict[str, Any]:
    async def fetch() -> dict[str, Any]:
        assert d.client_factory is not None
        async with d.client_factory() as client:
            return await client.get_profile(kind, record_id, priority=Priority.REALTIME, **query)

    return run_async(fetch)


def read_record(d: OfferDeps, kind: str, record_id: int) -> tuple[dict[str, Any], str]:
    """A record from the mirror, else from iCIMS (one GET)."""
    data = d.mirror.get_data(kind, record_id)
    if data is not None:
        return data, "mirror"
    if d.client_factory is None:
        raise OfferError(f"{kind} {record_id} is not in the mirror (and iCIMS is not configured)")
    try:
        return _fetch(d, kind, record_id), "api"
    except ICIMSNotFound:
        raise OfferError(f"{kind} {record_id} does not exist in iCIMS") from None


def company_name(d: OfferDeps, job: dict[str, Any]) -> str:
    if d.settings.offer_company_name:
        return d.settings.offer_company_name
    location = job.get("joblocation") if isinstance(job.get("joblocation"), dict) else {}
    company_id = link_id(location.get("companyid")) if location else None
    if company_id is None or d.client_factory is None:
        return "The Company"
    try:
        return str(_fetch(d, "companies", company_id, fields=["name"]).get("name") or "The Company")
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


# --- nodes ----------------------------------------------------------------------------------------


def load(d: OfferDeps, state: OfferState, config: RunnableConfig) -> dict[str, Any]:
    request = OfferStart.model_validate(
        {k: state[k] for k in ("workflow_id", "terms", "level", "narrative") if state.get(k) is not None}
    )
    thread_id = config_value(config, "thread_id") or offer_thread_id(
        d.settings.icims_customer_id, request.workflow_id
    )
    workflow, wf_source = read_record(d, "applicantworkflows", request.workflow_id)
    job_id, person_id = link_id(workflow.get("baseprofile")), link_id(workflow.get("associatedprofile"))
    if job_id is None or person_id is None:
        raise OfferError(f"workflow {request.workflow_id} names no job or person")
    if d.mirror.is_erased(person_id):
        raise OfferError(f"person {person_id} was erased: no offer can be drafted")
    job, job_source = read_record(d, "jobs", job_id)
    person, person_source = read_record(d, "people", person_id)
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
    run = run_record(
        config,
        request,
        graph_version=GRAPH_VERSION,
        started_at=d.clock(),
        thread_id=thread_id,
        customer_id=d.settings.icims_customer_id,
        started_by=config_value(config, "approver", "started_by") or "system",
        sources={"workflow": wf_source, "job": job_source, "person": person_source},
        policy_version=d.policy.approval.version,
        band_method_version=d.policy.method.version,
    )
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
            "company": company_name(d, job),
            "recruiter_id": link_id(job.get("recruiter")),
        },
        "draft": {},
        "issues": [],
        "chain": [],
        "version": 0,
        "versions": [],
        "decisions": [],
        "approval": None,
        "awaiting": None,
        "approval_error": None,
        "negotiation": None,
        "counter": None,
        "letter": {},
        "writes": [],
        "audit_record": {},
    }


def _narrative(d: OfferDeps, ctx: dict[str, Any], title: str) -> tuple[str, str]:
    """(the paragraph, how it came about) for a draft whose request gave none."""
    if d.chat_model is None:
        return "", ""
    first = (str(ctx["candidate"].get("name") or "").split() or ["there"])[0]
    written = write_narrative(
        d.chat_model, NarrativeFacts(first_name=first, job_title=title, company=str(ctx["company"]))
    )
    note = f"narrative: {written.source}" + (f" ({written.reason})" if written.reason else "")
    return written.text, note


def draft(d: OfferDeps, state: OfferState, config: RunnableConfig) -> dict[str, Any]:
    ctx = state["context"]
    band = band_of(state)
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
        drafted = draft_offer(
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
    return new_version(
        state,
        drafted,
        reason="initial draft" + (f"; {note}" if note else ""),
        author=str(state["run"].get("started_by") or "system"),
        at=d.clock().astimezone(UTC).isoformat(),
        changes={},
    )


def route(d: OfferDeps, state: OfferState, config: RunnableConfig) -> dict[str, Any]:
    current, band = draft_of(state), band_of(state)
    chain = approval_chain(current, band, d.policy)
    issues = validate_draft(current, today=d.today())
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
        "band_position": band.position(current.terms.base_salary),
        "compa_ratio": band.compa_ratio(current.terms.base_salary),
    }
    versions[-1] = entry
    band_json = state["context"]["band"]
    offer_audit(
        d,
        state,
        "offer_version",
        f"v{entry['version']}",
        {
            "job_id": state["context"]["job_id"],
            "person_id": state["context"]["person_id"],
            "band": {k: str(v) for k, v in band_json.items() if k in ("min", "mid", "max", "source")},
            "policy_version": state["run"].get("policy_version"),
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


def approve(d: OfferDeps, state: OfferState, config: RunnableConfig) -> Command:
    # Re-runs from the top on resume: everything before the interrupt only reads state.
    current = draft_of(state)
    step = next_step(state.get("chain") or [], state.get("decisions") or [], terms_hash(current.terms))
    if step is None:
        return Command(goto="render", update={"status": "approved", "awaiting": None})
    approver = approver_of(config)
    answer = review_step(
        build_approval_request(state, step.role),
        lambda response: decide_approval(
            state, response, approver=approver, policy=d.policy, today=d.today()
        ),
        approval_changes,
        again="approve",
        config=config,
        clock=d.clock,
    )
    if isinstance(answer, Command):
        return answer
    record, goto, outcome = answer
    entry = {**record, **outcome["decision"]}
    decisions = [*(state.get("decisions") or []), entry]
    update: dict[str, Any] = {"decisions": decisions, "approval": entry, "approval_error": None}
    if "revised" in outcome:
        update.update(
            new_version(
                state,
                outcome["revised"],
                reason=f"edited by {approver} at the {entry['role']} step",
                author=approver,
                at=entry["decided_at"],
                changes=outcome["diff"],
            )
        )
    if "status" in outcome:
        update["status"] = outcome["status"]
        update["awaiting"] = None
    offer_audit(d, state, "offer_decision", f"decision:{len(decisions)}", entry)
    return Command(goto=goto, update=update)


def final_audit(d: OfferDeps, state: OfferState, config: RunnableConfig) -> dict[str, Any]:
    ctx = state["context"]
    negotiation = state.get("negotiation") or {}
    decisions = state.get("decisions") or []
    letter = state.get("letter") or {}
    body = {
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
        "letter": {k: letter.get(k) for k in ("version", "pdf_sha256", "docx_sha256")},
        "writes": [
            {k: w.get(k) for k in ("action", "kind", "record_id", "status", "sent")}
            for w in state.get("writes") or []
        ],
        "negotiation": {
            k: negotiation.get(k) for k in ("n", "decision", "outcome", "reply_template", "reply_hash")
        }
        if negotiation
        else None,
        "policy_version": state["run"].get("policy_version"),
    }
    key = f"final:{len(decisions)}:{state.get('version')}:{state.get('status')}"
    return {"audit_record": offer_audit(d, state, "offer", key, body)}
