"""The offer's approvals: the Agent Inbox request for one approval step and for a counter-offer
reply, the decisions on them, and the check the service runs on an edit before resuming.

`decide_approval` / `decide_counter` are pure (same state and answer, same outcome): the graph's
approval nodes apply them, and `validate_decision` runs them first in the service so a refused edit
is answered before anything resumes. `review_step` is the kit's `reviewed` with these decisions:
its record carries the kit's keys, plus the step's role, version and terms hash.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.types import Command

from agents.offer import OfferDraft, OfferTerms, Policy, revise_draft, validate_draft
from agents.offer.drafting import blocking
from agents.offer.models import fmt_money
from agents.offer.signoff import APPROVING, approvers_for, next_step, terms_hash
from graphs.kit.inbox import HumanInterrupt, HumanResponse, make_request
from graphs.kit.review import reviewed
from graphs.offer.state import APPROVAL_ACTION, COUNTER_ACTION, EditedCounter, EditedOffer
from graphs.offer.versions import band_of, draft_of, term_changes, terms_json

Outcome = tuple[str, dict[str, Any]]  # (next node, what the answer changes)


def decide_approval(
    state: dict[str, Any], response: Any, *, approver: str | None, policy: Policy, today: date
) -> Outcome:
    """(next node, state update) for an answer to the pending approval step. Raises ValueError /
    ValidationError when refused."""
    draft = draft_of(state)
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
        status = "changes_requested" if response.type == "respond" else "withdrawn"
        return "audit", {"decision": base, "status": status}
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
    diff = term_changes(draft.terms, revised.terms)
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


def decide_counter(state: dict[str, Any], response: Any, *, approver: str | None, today: date) -> Outcome:
    """(next node, update) for an answer to the counter-offer interrupt; pure, like `decide_approval`."""
    negotiation = state.get("negotiation") or {}
    analysis = negotiation.get("analysis") or {}
    draft = draft_of(state)
    reply = analysis.get("suggested_reply") or ""
    proposed = analysis.get("proposed") or terms_json(draft.terms)
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
    diff = term_changes(draft.terms, revised.terms)
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


def approval_changes(response: HumanResponse, outcome: dict[str, Any]) -> dict[str, Any]:
    """What an answer to an approval step changes (the decision record's `edits`)."""
    return {"changes": outcome.get("diff") or {}, "decision": response.type}


def counter_changes(response: HumanResponse, outcome: dict[str, Any]) -> dict[str, Any]:
    """What an answer to a counter-offer changes (the decision record's `edits`)."""
    return {"outcome": outcome["outcome"], "changes": outcome.get("diff") or {}}


def validate_decision(
    values: dict[str, Any], response: Any, *, policy: Policy, today: date
) -> dict[str, Any]:
    """The graph's own checks for the pending interrupt, run by the service before resuming."""
    if values.get("awaiting") == "counter":
        _, outcome = decide_counter(values, response, approver=None, today=today)
        return counter_changes(response, outcome)
    _, outcome = decide_approval(values, response, approver=None, policy=policy, today=today)
    return approval_changes(response, outcome)


def review_step(
    request: HumanInterrupt,
    decide: Callable[[HumanResponse], Outcome],
    changes: Callable[[HumanResponse, dict[str, Any]], dict[str, Any]],
    *,
    again: str,
    config: RunnableConfig,
    clock: Callable[[], datetime],
) -> tuple[dict[str, Any], str, dict[str, Any]] | Command:
    """Ask, then (the kit's decision record, next node, outcome); or the `Command` that asks again
    with the `approval_error` banner when the answer was refused."""
    decided: dict[str, Any] = {}

    def judge(response: HumanResponse) -> tuple[bool, dict[str, Any]]:
        decided["goto"], decided["outcome"] = decide(response)
        return response.type in APPROVING, changes(response, decided["outcome"])

    record = reviewed(request, judge, again=again, config=config, clock=clock, refused="Not applied")
    if isinstance(record, Command):
        return record
    return record, decided["goto"], decided["outcome"]


# --- requests -------------------------------------------------------------------------------------


def _chain_lines(state: dict[str, Any], current: str) -> list[str]:
    lines = []
    decisions = state.get("decisions") or []
    for step in state.get("chain") or []:
        have = approvers_for(step["role"], decisions, current)
        mark = "signed off" if len(have) >= step["required"] else f"{len(have)} of {step['required']}"
        lines.append(f"- **{step['role']}** ({mark}): " + "; ".join(step["reasons"]))
    return lines


def _banner(state: dict[str, Any]) -> list[str]:
    return [f"> **{state['approval_error']}**", ""] if state.get("approval_error") else []


def _subject(state: dict[str, Any], draft: OfferDraft) -> dict[str, Any]:
    """What every offer request names first: the application, the job, the candidate, the version."""
    ctx = state["context"]
    return {
        "workflow_id": ctx["workflow"]["id"],
        "job_id": ctx["job_id"],
        "job_title": draft.role.title,
        "candidate": draft.candidate.name,
        "thread_id": state["run"]["thread_id"],
        "version": state.get("version"),
    }


def build_approval_request(state: dict[str, Any], role: str) -> dict[str, Any]:
    """The Agent Inbox request for one approval step (pure: same state, same request)."""
    draft, band, ctx = draft_of(state), band_of(state), state["context"]
    current = terms_hash(draft.terms)
    step = next(s for s in state.get("chain") or [] if s["role"] == role)
    position = band.position(draft.terms.base_salary)
    issues = state.get("issues") or []
    args = {
        **_subject(state, draft),
        "step": step,
        "terms": terms_json(draft.terms),
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
    lines = [
        *_banner(state),
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


def build_counter_request(state: dict[str, Any]) -> dict[str, Any]:
    negotiation = state.get("negotiation") or {}
    analysis = negotiation.get("analysis") or {}
    draft = draft_of(state)
    args = {
        **_subject(state, draft),
        "counter": negotiation.get("n"),
        "decision": analysis.get("decision"),
        "reasons": analysis.get("reasons") or [],
        "changes": analysis.get("changes") or [],
        "current_terms": terms_json(draft.terms),
        "proposed_terms": analysis.get("proposed"),
        "approvals_needed": [s["role"] for s in analysis.get("approvals") or []],
        "band_position": analysis.get("band_position"),
        "compa_ratio": analysis.get("compa_ratio"),
        "suggested_reply": analysis.get("suggested_reply"),
        "reply_template": analysis.get("reply_template"),
    }
    verdict = {
        "accept": "within your authority",
        "escalate": "needs escalation",
        "no_change": "asks for nothing specific",
    }.get(str(analysis.get("decision")), str(analysis.get("decision")))
    lines = [
        *_banner(state),
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
