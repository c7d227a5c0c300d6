"""Triage's approval: the Agent Inbox request a recruiter answers, its description, the edit check,
and where the state keeps the decisions (the kit's `approval` record; `triage-1` checkpoints kept the
policy's under `auto` and the recruiter's under `review`, both still read here)."""

from __future__ import annotations

from typing import Any, Literal

from agents.triage.decision import decide
from agents.triage.policy import AUTO_APPROVABLE, TIER_LABELS, auto_approvable
from graphs.kit.inbox import HumanResponse, make_request
from graphs.triage.state import REQUEST_ACTION, TriageState

Stage = Literal["shadow", "auto", "human"]


def human_actions(state: TriageState) -> list[dict[str, Any]]:
    """The proposed actions a recruiter must decide (all in assist mode; status and pool in auto)."""
    mode = (state.get("policy") or {}).get("mode")
    if mode == "shadow":
        return []
    return [a for a in state.get("actions") or [] if not auto_approvable(mode, a["kind"])]


def auto_actions(state: TriageState) -> list[dict[str, Any]]:
    """The proposed actions the admin policy approves by itself (auto mode: the AI fields only)."""
    mode = (state.get("policy") or {}).get("mode")
    return [a for a in state.get("actions") or [] if auto_approvable(mode, a["kind"])]


def policy_rule(policy: dict[str, Any]) -> str:
    return f"{policy.get('rule')}: mode auto approves {AUTO_APPROVABLE} only"


def human_decision(state: TriageState) -> dict[str, Any] | None:
    """The recruiter's decision, if one was given (a policy's approval carries its `policy`)."""
    approval = state.get("approval") or {}
    if approval.get("decision") and approval.get("policy") is None:
        return approval
    legacy = state.get("review") or {}
    return legacy if legacy.get("decision") else None


def policy_approval(state: TriageState) -> dict[str, Any]:
    """The admin policy's automatic approval ({} when there is none): the `approval` record until a
    recruiter decides, then that decision's `auto` field."""
    approval = state.get("approval") or {}
    if approval.get("policy") is not None:
        return approval
    return approval.get("auto") or state.get("auto") or {}


def approved_actions(state: TriageState) -> list[dict[str, Any]]:
    """Every action the policy and the recruiter approved, in that order."""
    return [
        *(policy_approval(state).get("approved") or []),
        *((human_decision(state) or {}).get("approved") or []),
    ]


def stage(state: TriageState) -> Stage:
    if (state.get("policy") or {}).get("mode") == "shadow":
        return "shadow"
    return "human" if human_decision(state) else "auto"


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


def requested_actions(request: dict[str, Any]) -> list[dict[str, Any]]:
    return request["action_request"]["args"]["actions"]


def validate_decision(deps: Any, values: dict[str, Any], response: HumanResponse) -> dict[str, Any]:
    """What an answer changes, checked by the graph's own rules before anything resumes (raises
    ValueError when an edit cannot be applied, e.g. one that would reject someone)."""
    request = build_approval_request(values)  # type: ignore[arg-type]
    tier_field = deps.settings.field_map.get("ai_tier")
    _, edits = decide(requested_actions(request), response, tier_field=tier_field)
    return edits


def action_text(action: dict[str, Any]) -> str:
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
    lines += ["", "Proposed:", *[f"{i}. `{a['id']}`: {action_text(a)}" for i, a in enumerate(actions, 1)]]
    lines += [
        "",
        "**Accept** applies every proposed action. **Edit** `actions`: keep the entries to apply (by "
        "`id`), optionally with `tier` (ai_fields), `status_id` (a forward review step) or `pool_id`. "
        "**Respond** or **Ignore** writes nothing.",
    ]
    return "\n".join(lines)
