"""Triage's nodes, thin: assess -> gate (policy) -> review (recruiter) -> write -> audit.

Side effects only after approval: `write` applies approved actions under the idempotency ledger, so
a re-run (a resumed node, a killed worker re-running its event) writes nothing twice."""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END
from langgraph.types import Command

from agents.triage.decision import decide
from graphs.kit.review import policy_decision, reviewed, route
from graphs.triage.assess import assess_application
from graphs.triage.audit import append_stage
from graphs.triage.deps import TriageDeps
from graphs.triage.review import (
    approved_actions,
    auto_actions,
    build_approval_request,
    human_actions,
    human_decision,
    policy_approval,
    policy_rule,
    requested_actions,
)
from graphs.triage.state import TriageRequest, TriageState
from graphs.triage.write import write_approved


def assess(d: TriageDeps, state: TriageState, config: RunnableConfig) -> dict[str, Any]:
    request = TriageRequest.model_validate(
        {k: state[k] for k in ("workflow_id", "event_id", "person_id", "job_id") if k in state}
    )
    return assess_application(d, request, config)


def gate(d: TriageDeps, state: TriageState, config: RunnableConfig) -> Command:
    """Shadow: straight to the audit. Otherwise the admin policy approves what it may (auto mode:
    the AI fields only), and everything else goes to a recruiter. Decided from the policy recorded
    by `assess`, so a re-run after the policy file changed still follows the policy audited."""
    policy = state.get("policy") or {}
    if policy.get("mode") == "shadow":
        return Command(goto="audit")
    auto = auto_actions(state)
    if auto:
        approval = policy_decision(policy, approved=auto, decided_at=d.clock(), rule=policy_rule(policy))
        return Command(goto="write", update={"approval": approval})
    return Command(goto="review" if human_actions(state) else "audit")


def review(d: TriageDeps, state: TriageState, config: RunnableConfig) -> Command:
    # Re-runs from its top on resume: everything before the interrupt only reads state.
    request = build_approval_request(state)
    requested = requested_actions(request)
    tier_field = d.settings.field_map.get("ai_tier")
    decision = reviewed(
        request,  # type: ignore[arg-type]
        lambda response: decide(requested, response, tier_field=tier_field),
        again="review",
        config=config,
        clock=d.clock,
        requested=[a["id"] for a in requested],
        # What the policy approved before (auto mode) stays approved with this decision.
        auto=policy_approval(state),
    )
    return route(decision, approved="write", otherwise="audit")


def write(d: TriageDeps, state: TriageState, config: RunnableConfig) -> dict[str, Any]:
    writes = write_approved(
        d, state["run"], state["application"], approved_actions(state), state.get("writes") or []
    )
    return {"writes": writes}


def audit(d: TriageDeps, state: TriageState, config: RunnableConfig) -> dict[str, Any]:
    return append_stage(d, state)


def after_audit(state: TriageState) -> str:
    if human_actions(state) and not human_decision(state):
        return "review"
    return END
