"""`draft_outreach`: the rediscovery graph's versioned outreach line, filled for one candidate and
one requisition, with the reasons not to send it. A draft only: nothing is sent or written."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graphs.copilot.records import display_name, titles
from graphs.copilot.scoring import owned_job, score_person
from graphs.rediscovery import OUTREACH_TEMPLATE, connection
from prompts.templates import load_template

if TYPE_CHECKING:
    from graphs.copilot.caller import Caller
    from graphs.copilot.deps import CopilotDeps


def draft_outreach(d: CopilotDeps, caller: Caller, person_id: int, job_id: int) -> dict[str, Any]:
    job = owned_job(d, caller, job_id)
    scored = score_person(d, person_id, job_id, job)
    person, requisition = scored.person, scored.requisition
    profile = scored.profile
    skills = profile.skill_set() if hasattr(profile, "skill_set") else set()
    wanted = [*requisition.starred, *requisition.must_have, *requisition.nice_to_have]
    matched = [s for s in wanted if s.lower() in skills]
    person_titles = titles(person)
    template = load_template(*OUTREACH_TEMPLATE)
    history = [h.model_dump(mode="json") if hasattr(h, "model_dump") else h for h in scored.history]
    text = template.render(
        first_name=str(person.get("firstname") or "").strip() or "there",
        job_title=requisition.title,
        strength=matched[0] if matched else (person_titles[0] if person_titles else "your field"),
        connection=connection(d, person_id, history, {}),
    )
    return {
        "person_id": person_id,
        "name": display_name(person, person_id),
        "job_id": job_id,
        "job_title": requisition.title,
        "draft": text,
        "template": template.id,
        "score": scored.result.score,
        "warnings": contact_warnings(d, person),
        "note": "A draft only: nothing is sent and nothing is written to iCIMS.",
    }


def contact_warnings(d: CopilotDeps, person: dict[str, Any]) -> list[str]:
    fm = d.settings.field_map
    warnings = []
    if person.get(fm.get("do_not_contact", "")) == "Yes":
        warnings.append("do not contact: this person asked not to be contacted")
    if person.get(fm.get("opt_out", "")) == "Yes":
        warnings.append("opted out of communications")
    consent = person.get(fm.get("consent_status", ""))
    if consent and str(consent).lower() != "granted":
        warnings.append(f"contact consent is {consent}")
    return warnings
