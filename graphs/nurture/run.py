"""Running a campaign: start a run (to its approval, or to the end when a policy approves or
nothing is due), answer its approval, and send the drafts quiet hours held back, on the kit's
`start` / `resume` (an approved run a crash stopped is finished, never asked again)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from langgraph.types import Command

from agents.nurture.models import Campaign
from agents.nurture.timing import quiet_reason
from graphs.kit import runs
from graphs.kit.inbox import unfinished
from graphs.kit.runs import run_config
from graphs.nurture.deps import NurtureDeps
from graphs.nurture.state import THREAD

__all__ = ["resume_run", "run_config", "send_deferred", "start_run"]


def start_run(
    graph: Any,
    *,
    customer_id: int | str,
    campaign_id: str,
    run_id: str | None = None,
    as_of: datetime | None = None,
) -> tuple[str, dict[str, Any]]:
    """Returns (thread id, state values)."""
    run_id = run_id or uuid.uuid4().hex[:12]
    payload: dict[str, Any] = {"campaign_id": campaign_id, "run_id": run_id}
    if as_of is not None:
        payload["as_of"] = as_of.astimezone(UTC).isoformat()
    started = runs.start(graph, THREAD(customer_id, campaign_id, run_id), payload)
    return started.thread_id, started.values


def resume_run(graph: Any, thread_id: str, response: Any, *, approver: str | None = None) -> dict[str, Any]:
    """Answer the pending approval as `approver` (the command line's OS user when not given)."""
    return runs.resume(graph, thread_id, response, approver=approver).values


def send_deferred(graph: Any, deps: NurtureDeps, *, now: datetime) -> list[dict[str, Any]]:
    """Approved drafts held back by the candidate's quiet hours or a non-working day go out once
    their window opens, on the approval already given for exactly those drafts: the send node runs
    again for them alone (consent and opt-outs are re-read from iCIMS there, sends stay once per
    campaign, person and step). Called by the scheduler's tick."""
    passes: list[dict[str, Any]] = []
    for thread_id in deps.store.deferred_threads():
        config = run_config(thread_id)
        snapshot = graph.get_state(config)
        if snapshot.interrupts or unfinished(snapshot):
            continue
        values = snapshot.values or {}
        held = {(s["person_id"], s["step"]) for s in values.get("sends") or [] if s["status"] == "deferred"}
        if not held:
            continue
        campaign = Campaign.model_validate(values["campaign"])
        zones = {s["person_id"]: s["timezone"] for s in values.get("selected") or []}
        approval = values["approval"]
        ready = [
            dr
            for dr in approval.get("approved") or []
            if (int(dr["person_id"]), int(dr["step"])) in held
            and quiet_reason(now, zones[int(dr["person_id"])], campaign.quiet_hours) is None
        ]
        if not ready:
            continue
        out = graph.invoke(Command(goto="send", update={"approval": {**approval, "approved": ready}}), config)
        sent = [s for s in out.get("sends") or [] if (s["person_id"], s["step"]) in held]
        passes.append({"thread_id": thread_id, "sends": sent})
    return passes
