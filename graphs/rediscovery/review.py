"""The recruiter's approval of a shortlist: the Agent Inbox request, its description, and the check
of an answer (`decide`), which the approve node and the service (before resuming anything) share.

Accept applies every proposed action; an edit may only drop candidates or change their action and
pool; respond and ignore write nothing. Nobody is ever rejected: candidates not approved are left
untouched. The approve node re-runs from its top on resume, so it only builds the request from state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_core.runnables import RunnableConfig
from langgraph.types import Command
from pydantic import BaseModel, ConfigDict, Field, field_validator

from graphs.kit import review
from graphs.kit.inbox import HumanInterrupt, make_request
from graphs.rediscovery.state import Action, RediscoveryState
from graphs.rediscovery.text import reason_line

if TYPE_CHECKING:
    from graphs.rediscovery.deps import RediscoveryDeps

REQUEST_ACTION = "rediscovery_shortlist"


class EditedCandidate(BaseModel):
    """What an edit may change: drop a candidate (leave it out), its action, and its pool."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    person_id: int
    proposed_action: Action = Field(alias="action")
    pool_id: int | None = None

    @field_validator("proposed_action", mode="before")
    @classmethod
    def _action(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value


class EditedShortlist(BaseModel):
    model_config = ConfigDict(extra="ignore")

    candidates: list[EditedCandidate]


class ApprovalError(ValueError):
    """An edit that cannot be applied as sent; the reviewer is asked again."""


def build_approval_request(state: RediscoveryState) -> HumanInterrupt:
    """The Agent Inbox request for the shortlist (pure: the same state always gives the same request)."""
    run, job = state["run"], state["job"]
    target = state.get("target_pool")
    args = {
        "job_id": job["id"],
        "job_title": job["title"],
        "thread_id": run["thread_id"],
        "trace_id": run["trace_id"],
        "rubric_version": (state.get("versions") or {}).get("rubric"),
        "outreach_template": (state.get("versions") or {}).get("outreach_template"),
        "target_pool": target,
        "candidates": state.get("shortlist") or [],
    }
    return make_request(REQUEST_ACTION, args, description(state))


def description(state: RediscoveryState) -> str:
    job, target = state["job"], state.get("target_pool")
    shortlist = state.get("shortlist") or []
    lines = []
    if state.get("approval_error"):
        lines += [f"> **{state['approval_error']}**", ""]
    status = "open" if job.get("open") else f"not open ({job.get('folder')})"
    lines += [
        f"### Rediscovery for {job['title']} (job {job['id']}, {status})",
        "",
        f"{len(shortlist)} past applicants and talent-pool members ranked from the mirror. "
        "Nothing is written to iCIMS until you approve; nobody is rejected.",
        "",
        "| # | candidate | score | proposed action | top reasons |",
        "|---|---|---|---|---|",
    ]
    for c in shortlist:
        action = "submit to this job" if c["proposed_action"] == "submit" else f"add to pool {c['pool_id']}"
        top = sorted(c["reasons"], key=lambda r: -r["points"])[:2]
        reasons = "; ".join(reason_line(r) for r in top).replace("|", "/")
        lines.append(
            f"| {c['rank']} | {c['name']} ({c['person_id']}) | {c['score']} | {action} | {reasons} |"
        )
    lines += [
        "",
        "**Accept** applies every proposed action. **Edit** `candidates`: remove entries to drop them, "
        "or set `proposed_action` to `submit` or `add_to_pool` (with `pool_id`). **Respond** sends "
        "feedback without writing; **Ignore** closes the run without writing.",
    ]
    if target:
        lines.append(f"Default talent pool: {target.get('title')} ({target['id']}).")
    return "\n".join(lines)


def decide(
    d: RediscoveryDeps, state: RediscoveryState | dict[str, Any], response: Any
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(approved writes, edits for the audit) from a parsed response; raises ApprovalError."""
    shortlist = {c["person_id"]: c for c in state.get("shortlist") or []}
    proposed = [
        {"person_id": c["person_id"], "action": c["proposed_action"], "pool_id": c["pool_id"]}
        for c in state.get("shortlist") or []
    ]
    if response.type in ("respond", "ignore"):
        return [], {}
    if response.type == "accept":
        return proposed, {}
    edited = EditedShortlist.model_validate(response.args)
    seen: set[int] = set()
    approved: list[dict[str, Any]] = []
    target = state.get("target_pool")
    pools = None
    for item in edited.candidates:
        if item.person_id not in shortlist:
            raise ApprovalError(
                f"person {item.person_id} is not on the shortlist (an edit can only drop or change)"
            )
        if item.person_id in seen:
            raise ApprovalError(f"person {item.person_id} appears twice")
        seen.add(item.person_id)
        pool_id = item.pool_id
        if item.proposed_action == "add_to_pool":
            pool_id = pool_id or shortlist[item.person_id]["pool_id"] or (target or {}).get("id")
            if pool_id is None:
                raise ApprovalError(f"person {item.person_id}: add_to_pool needs a pool_id")
            if pools is None:
                pools = set(d.mirror.ids("talentpools"))
            if pool_id not in pools:
                raise ApprovalError(f"talent pool {pool_id} is not known")
        else:
            pool_id = None
        approved.append({"person_id": item.person_id, "action": item.proposed_action, "pool_id": pool_id})
    before = {p["person_id"]: p for p in proposed}
    edits = {
        "dropped": [pid for pid in before if pid not in seen],
        "changed": [
            {
                "person_id": a["person_id"],
                "from": before[a["person_id"]]["action"],
                "to": a["action"],
                "pool_id": a["pool_id"],
            }
            for a in approved
            if (before[a["person_id"]]["action"], before[a["person_id"]]["pool_id"])
            != (a["action"], a["pool_id"])
        ],
    }
    return approved, edits


def validate_decision(d: RediscoveryDeps, values: dict[str, Any], response: Any) -> dict[str, Any]:
    """What an answer changes (the edits), checked as the approve node checks it: the service runs
    this before resuming anything."""
    _, edits = decide(d, values, response)
    return edits


def approve(d: RediscoveryDeps, state: RediscoveryState, config: RunnableConfig) -> Command:
    """Pause on the shortlist; on to `write` when anything was approved, else to `audit`."""
    decided = review.reviewed(
        build_approval_request(state),
        lambda response: decide(d, state, response),
        again="approve",
        config=config,
        clock=d.clock,
    )
    return review.route(decided, approved="write", otherwise="audit")


# The name the service's registration used for the edit check.
_decide = decide
