"""What the reviewer sees and may change: the approval request (one table row per draft, held ones
marked), the decide/edit checks (an edited draft is moderated again; a held draft is sent only once
edited), the admin policy that approves unchanged template sends without a human, and the service's
re-validation of an edit before anything resumes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agents.nurture.models import Campaign
from agents.nurture.moderation import moderate
from graphs.kit.inbox import HumanInterrupt, HumanResponse, make_request
from graphs.nurture.deps import NurtureDeps
from graphs.nurture.state import REQUEST_ACTION, NurtureState


class EditedDraft(BaseModel):
    model_config = ConfigDict(extra="ignore")

    person_id: int
    subject: str | None = Field(default=None, max_length=500)
    body: str | None = Field(default=None, max_length=20_000)


class EditedDrafts(BaseModel):
    """An edit keeps the listed drafts (others are dropped), with any subject/body changed."""

    model_config = ConfigDict(extra="ignore")

    drafts: list[EditedDraft]


class ApprovalError(ValueError):
    """An edit that cannot be applied; the reviewer is asked again."""


def auto_approval_policy(d: NurtureDeps, state: NurtureState) -> dict[str, Any] | None:
    """The admin policy that approves this run without a human, if one applies: the campaign is
    listed in `nurture_auto_approve_campaigns` and every draft is the unchanged template output."""
    campaign_id = state["campaign"]["id"]
    if campaign_id not in d.settings.nurture_auto_approve_campaigns:
        return None
    if any(dr.get("rewritten") or dr["moderation"].get("fixed") for dr in state.get("drafts") or []):
        return None
    return {
        "rule": "nurture_auto_approve_campaigns",
        "campaign_id": campaign_id,
        "scope": "unchanged template sends",
    }


def build_approval_request(state: NurtureState) -> HumanInterrupt:
    run, campaign = state["run"], state["campaign"]
    args = {
        "campaign_id": campaign["id"],
        "campaign_name": campaign["name"],
        "run_id": run["run_id"],
        "thread_id": run["thread_id"],
        "selection": state.get("selection") or {},
        "drafts": state.get("drafts") or [],
    }
    return make_request(REQUEST_ACTION, args, _description(state))


def _description(state: NurtureState) -> str:
    drafts = state.get("drafts") or []
    held = [dr for dr in drafts if dr["moderation"]["held"]]
    selection = state.get("selection") or {}
    lines = []
    if state.get("approval_error"):
        lines += [f"> **{state['approval_error']}**", ""]
    lines += [
        f"### Nurture: {state['campaign']['name']} (run {state['run']['run_id']})",
        "",
        f"{len(drafts) - len(held)} messages ready, {len(held)} held by moderation (never sent). "
        f"{selection.get('members', 0)} pool members; excluded: "
        + (", ".join(f"{k} {v}" for k, v in (selection.get("excluded") or {}).items()) or "none")
        + ".",
        "",
        "| person | step | template | role | subject | moderation |",
        "|---|---|---|---|---|---|",
    ]
    for dr in drafts:
        mod = dr["moderation"]
        status = (
            "held: " + "; ".join(mod["problems"])
            if mod["held"]
            else ("fixed: " + "; ".join(mod["fixed"]) if mod["fixed"] else "ok")
        )
        role = (dr.get("role") or {}).get("title") or "-"
        lines.append(
            f"| {dr['name']} ({dr['person_id']}) | {dr['step']} | {dr['template']} | {role} | "
            f"{dr['subject'].replace('|', '/')} | {status.replace('|', '/')} |"
        )
    lines += [
        "",
        "**Accept** sends every message not held. **Edit** `drafts`: keep the entries to send (others are "
        "dropped), change `subject` or `body`; edits are moderated again. **Respond** or **Ignore** "
        "sends nothing.",
    ]
    return "\n".join(lines)


def decide(d: NurtureDeps, state: NurtureState, response: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(approved drafts, edits for the audit); raises ApprovalError or ValidationError."""
    drafts = {dr["person_id"]: dr for dr in state.get("drafts") or []}
    if response.type in ("respond", "ignore"):
        return [], {}
    if response.type == "accept":
        return [dr for dr in drafts.values() if not dr["moderation"]["held"]], {}
    campaign = Campaign.model_validate(state["campaign"])
    edited = EditedDrafts.model_validate(response.args)
    approved, changed, seen = [], [], set()
    for item in edited.drafts:
        original = drafts.get(item.person_id)
        if original is None:
            raise ApprovalError(f"person {item.person_id} has no draft in this run")
        if item.person_id in seen:
            raise ApprovalError(f"person {item.person_id} appears twice")
        seen.add(item.person_id)
        subject = item.subject if item.subject is not None else original["subject"]
        body = item.body if item.body is not None else original["body"]
        if (subject, body) == (original["subject"], original["body"]):
            if original["moderation"]["held"]:
                problems = "; ".join(original["moderation"]["problems"])
                raise ApprovalError(
                    f"person {item.person_id}: the draft is held ({problems}); edit it to send it"
                )
            approved.append(original)
            continue
        link = d.unsubscribe_link(campaign.id, item.person_id, int(original["step"]))
        result = moderate(subject, body, unsubscribe_url=link, signature=campaign.signature)
        if result.held:
            raise ApprovalError(f"person {item.person_id}: edited draft held: {'; '.join(result.problems)}")
        approved.append(
            {
                **original,
                "subject": result.subject,
                "body": result.body,
                "edited": True,
                "moderation": {**result.to_json(), "edited": True},
            }
        )
        changed.append(item.person_id)
    edits = {"dropped": [pid for pid in drafts if pid not in seen], "edited": changed}
    return approved, edits


def sendable(state: NurtureState) -> list[dict[str, Any]]:
    """The drafts moderation did not hold: what an accept sends."""
    return [dr for dr in state.get("drafts") or [] if not dr["moderation"]["held"]]


def validate_decision(d: NurtureDeps, values: dict[str, Any], response: HumanResponse) -> dict[str, Any]:
    """The graph's own check, run by the service before anything is resumed."""
    _, edits = decide(d, values, response)  # type: ignore[arg-type]
    return edits
