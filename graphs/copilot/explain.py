"""`explain_score`: one mirrored candidate's 0-100 score for one requisition, itemised (read-only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graphs.copilot.records import display_name
from graphs.copilot.scoring import owned_job, score_person
from graphs.rediscovery import reason_line

if TYPE_CHECKING:
    from graphs.copilot.caller import Caller
    from graphs.copilot.deps import CopilotDeps


def explain_score(d: CopilotDeps, caller: Caller, person_id: int, job_id: int) -> dict[str, Any]:
    job = owned_job(d, caller, job_id)
    scored = score_person(d, person_id, job_id, job)
    data = scored.result.model_dump(mode="json")
    reasons = sorted(data.get("reasons") or [], key=lambda r: -float(r.get("points") or 0))
    return {
        "person_id": person_id,
        "name": display_name(scored.person, person_id),
        "job_id": job_id,
        "job_title": scored.requisition.title,
        "score": data["score"],
        "reasons": [
            {"points": r.get("points"), "text": reason_line(r), "verified": not r.get("flagged")}
            for r in reasons
        ],
        "gaps": [g["text"] for g in data.get("gaps") or []],
        "flags": data.get("flags") or [],
        "summary": data.get("summary") or [],
        "past_applications": len(scored.history),
        "rubric_version": data.get("rubric_version"),
        "note": "A score ranks; it never rejects anyone.",
    }
