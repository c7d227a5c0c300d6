"""Running triage: one application event in, one JSON outcome out (ids, score, tier, writes; no
names), idempotent per event, on the kit's runs (`graphs.kit.runs`)."""

from __future__ import annotations

from typing import Any

from agents.triage.policy import TIER_LABELS
from graphs.kit import runs
from graphs.kit.inbox import unfinished
from graphs.triage.read import SkipApplication
from graphs.triage.review import human_actions
from graphs.triage.state import TriageOutput, triage_thread_id

OUTPUT_KEYS = tuple(TriageOutput.__annotations__)


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


def _not_triaged(reason: str, thread_id: str, workflow_id: int) -> dict[str, Any]:
    return {"action": "none", "reason": reason, "thread_id": thread_id, "workflow_id": workflow_id}


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
    snapshot = graph.get_state(runs.run_config(thread_id))
    values = dict(snapshot.values or {})
    seen = (values.get("run") or {}).get("event_id") or values.get("event_id")
    same_event = seen == event_id
    if snapshot.interrupts:
        if same_event:
            return outcome_of(values, pending=True)
        reason = "an earlier triage of this application is waiting for approval"
        return _not_triaged(reason, thread_id, workflow_id)
    try:
        if runs.approved_unfinished(graph, thread_id):
            # Approved but stopped while writing: whatever event arrives, the approved writes land
            # and nobody is asked again.
            done = runs.proceed(graph, thread_id)
            return outcome_of(done.values, pending=done.waiting)
        if same_event and unfinished(snapshot):
            done = runs.proceed(graph, thread_id)
        elif not same_event:
            payload: dict[str, Any] = {"workflow_id": workflow_id, "event_id": event_id}
            if person_id is not None:
                payload["person_id"] = person_id
            if job_id is not None:
                payload["job_id"] = job_id
            # A new event triages again, even after a finished run on this application.
            done = runs.start(graph, thread_id, payload, restart=True)
        else:
            return outcome_of(values, pending=False)
    except SkipApplication as exc:
        return _not_triaged(str(exc), thread_id, workflow_id)
    return outcome_of(done.values, pending=done.waiting)


def resume(graph: Any, thread_id: str, response: Any, *, approver: str | None = None) -> dict[str, Any]:
    """Answer a pending triage approval (an Agent Inbox response, or a list of one); returns the
    run's output (`TriageOutput`)."""
    done = runs.resume(graph, thread_id, response, approver=approver)
    return {k: v for k, v in done.values.items() if k in OUTPUT_KEYS}
