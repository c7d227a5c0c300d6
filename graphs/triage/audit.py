"""Triage's audit record: one per stage of a run (shadow, auto, human), keyed under the run's trace,
with ids, versions and hashes only (no names, no resume text)."""

from __future__ import annotations

from typing import Any

from graphs.kit import audit
from graphs.triage.deps import TriageDeps
from graphs.triage.review import human_decision, policy_approval, stage
from graphs.triage.state import GRAPH_VERSION, TriageState
from tools.audit import value_hash

WRITE_KEYS = ("id", "kind", "workflow_id", "status", "patched", "detail")


def action_brief(action: dict[str, Any]) -> dict[str, Any]:
    brief = {"id": action["id"], "kind": action["kind"]}
    if action.get("status_id"):
        brief["status_id"] = action["status_id"]
    if action.get("pool_id"):
        brief["pool_id"] = action["pool_id"]
    if action["kind"] == "ai_fields":
        brief["fields_hash"] = value_hash(action.get("fields") or {})
    return brief


def audit_body(state: TriageState) -> dict[str, Any]:
    run, app, result = state["run"], state["application"], state["assessment"]
    at = stage(state)
    if at == "human":
        decision = human_decision(state) or {}
    else:
        decision = policy_approval(state) if at == "auto" else {}
    written_ids = {a["id"] for a in decision.get("approved") or []}
    return {
        "stage": at,
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
            "proposed": [action_brief(a) for a in state.get("actions") or []],
        },
        # Who decided: a recruiter (human), the admin policy rule (auto), or nobody (shadow).
        "approver": decision.get("approver"),
        "decision": decision.get("decision") if at == "human" else ("policy" if decision else None),
        "policy_rule": decision.get("rule") if at == "auto" else None,
        "decided_at": decision.get("decided_at"),
        "edits": decision.get("edits") or {},
        "response_hash": decision.get("response_hash"),
        "approved": [action_brief(a) for a in decision.get("approved") or []],
        "writes": [
            {k: w.get(k) for k in WRITE_KEYS} for w in state.get("writes") or [] if w["id"] in written_ids
        ],
    }


def append_stage(d: TriageDeps, state: TriageState) -> dict[str, Any]:
    """Append this stage's record (once per trace and stage) and keep its reference in state."""
    body = audit_body(state)
    ref = audit.append(
        d.audit, state["run"], kind="triage", key=body["stage"], body=body, graph_version=GRAPH_VERSION
    )
    records = [r for r in state.get("audit_records") or [] if r["key"] != ref["key"]]
    records.append({**ref, "stage": body["stage"]})
    return {"audit_records": records}
