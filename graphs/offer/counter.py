"""Counter-offers on a thread that holds an offer: the candidate's ask analysed against the band,
the policy and the recruiter's authority, then one approval of the reply. An accepted ask becomes
a new offer version, routed to every approver its terms need."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.types import Command

from agents.offer import analyse_counter
from graphs.kit.inbox import approver_of
from graphs.offer.deps import OfferDeps
from graphs.offer.nodes import offer_audit
from graphs.offer.review import build_counter_request, counter_changes, decide_counter, review_step
from graphs.offer.state import CounterInput, OfferError, OfferState
from graphs.offer.versions import band_of, draft_of, new_version
from tools.audit import value_hash


def counter(d: OfferDeps, state: OfferState, config: RunnableConfig) -> dict[str, Any]:
    if not state.get("draft"):
        raise OfferError("there is no offer on this thread to counter")
    counter_in = CounterInput.model_validate(state.get("counter") or {})
    today = d.today()
    asked = counter_in.parsed(today)
    draft, band = draft_of(state), band_of(state)
    analysis = analyse_counter(
        draft.terms,
        asked,
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
        "counter": asked.model_dump(mode="json"),
        "analysis": analysis.model_dump(mode="json"),
        "decision": analysis.decision,
        "reply_template": analysis.reply_template,
        "outcome": None,
    }
    offer_audit(
        d,
        state,
        "offer_counter",
        f"counter:{n}",
        {
            "n": n,
            "version": state.get("version"),
            # The candidate's own words stay out of the log: the extracted terms and the analysis.
            "text_hash": value_hash(asked.text) if asked.text else None,
            "extracted": asked.model_dump(mode="json", exclude={"text", "evidence"}, exclude_none=True),
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


def counter_approve(d: OfferDeps, state: OfferState, config: RunnableConfig) -> Command:
    approver = approver_of(config)
    answer = review_step(
        build_counter_request(state),
        lambda response: decide_counter(state, response, approver=approver, today=d.today()),
        counter_changes,
        again="counter_approve",
        config=config,
        clock=d.clock,
    )
    if isinstance(answer, Command):
        return answer
    record, goto, outcome = answer
    now = record["decided_at"]
    negotiation = {
        **(state.get("negotiation") or {}),
        "outcome": outcome["outcome"],
        "decided_by": approver,
        "decided_at": now,
        "reply": outcome.get("reply"),
        "reply_hash": value_hash(outcome.get("reply")) if outcome.get("reply") else None,
    }
    entry = {**record, "role": "recruiter", "counter": negotiation["n"], **(outcome.get("decision") or {})}
    update: dict[str, Any] = {"negotiation": negotiation, "approval": entry, "approval_error": None}
    if "revised" in outcome:
        update["decisions"] = [*(state.get("decisions") or []), entry]
        update.update(
            new_version(
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
    offer_audit(
        d,
        state,
        "offer_decision",
        f"counter:{negotiation['n']}:decision",
        {
            "counter": negotiation["n"],
            "role": "recruiter",
            "approver": approver,
            "decision": record["decision"],
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
