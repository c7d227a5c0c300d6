"""The nurture graph's nodes before and after the send: load the campaign, select who is due, draft
and moderate their messages, ask for approval (or apply the admin policy), audit the run. Domain
logic is `agents.nurture`; each node reads what it needs, decides there, and returns JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.types import Command

from agents.nurture.drafting import Draft, render, rewrite
from agents.nurture.matching import open_jobs, personalise
from agents.nurture.models import Campaign
from agents.nurture.moderation import moderate
from agents.nurture.selection import select_members
from graphs.kit import audit, review, runs
from graphs.nurture.deps import NurtureDeps
from graphs.nurture.review import auto_approval_policy, build_approval_request, decide, sendable
from graphs.nurture.state import GRAPH_VERSION, THREAD, NurtureRequest, NurtureState
from tools.audit import value_hash

# The version a run started before `run.graph_version` was recorded ran under.
FIRST_VERSION = "nurture-1"


def load(d: NurtureDeps, state: NurtureState, config: RunnableConfig) -> dict[str, Any]:
    request = NurtureRequest.model_validate(
        {k: state[k] for k in ("campaign_id", "run_id", "as_of") if state.get(k)}  # type: ignore[literal-required]
    )
    campaign = d.campaign(request.campaign_id)
    as_of = request.as_of or d.clock()
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    run = runs.run_record(
        config,
        request,
        graph_version=GRAPH_VERSION,
        started_at=d.clock(),
        run_id=request.run_id,
        customer_id=d.settings.icims_customer_id,
        as_of=as_of.astimezone(UTC).isoformat(),
        campaign_hash=value_hash(campaign.model_dump(mode="json")),
    )
    run["thread_id"] = run["thread_id"] or THREAD(d.settings.icims_customer_id, campaign.id, request.run_id)
    return {
        "run": run,
        "campaign": campaign.model_dump(mode="json"),
        "selection": {},
        "selected": [],
        "drafts": [],
        "approval": {},
        "approval_error": None,
        "sends": [],
        "writes": [],
        "audit_record": {},
    }


def select(d: NurtureDeps, state: NurtureState, config: RunnableConfig) -> dict[str, Any]:
    campaign = Campaign.model_validate(state["campaign"])
    selection = select_members(
        campaign,
        now=datetime.fromisoformat(state["run"]["as_of"]),
        mirror=d.mirror,
        contacts=d.store.contacts(),
        stops=d.store.stop_map(),
        field_map=d.settings.field_map,
        caps=d.global_caps(),
    )
    return {
        "selection": selection.summary(),
        "selected": [{**s.to_json(), "first_name": s.first_name} for s in selection.selected],
    }


def draft_for(
    d: NurtureDeps, campaign: Campaign, item: dict[str, Any], role: Any, skills: list[Any]
) -> Draft:
    """Render, optionally rewrite, and moderate one draft."""
    pid, step = int(item["person_id"]), int(item["step"])
    link = d.unsubscribe_link(campaign.id, pid, step)
    subject, body = render(
        item["template"],
        first_name=item["first_name"],
        role=role,
        skills=skills,
        signature=campaign.signature,
        unsubscribe_url=link,
    )
    draft = Draft(
        person_id=pid,
        name=item["first_name"],
        step=step,
        template=item["template"],
        subject=subject,
        body=body,
        role=role,
        skills=skills,
    )
    if campaign.llm_rewrite and d.chat_model is not None:
        try:
            draft.body = rewrite(d.chat_model, draft, first_name=item["first_name"], unsubscribe_url=link)
            draft.rewritten = True
        except ValueError:
            draft.moderation["rewrite"] = "kept the template draft: the rewrite dropped a placeholder"
    result = moderate(draft.subject, draft.body, unsubscribe_url=link, signature=campaign.signature)
    draft.subject, draft.body = result.subject, result.body
    draft.moderation = {**draft.moderation, **result.to_json()}
    return draft


def draft(d: NurtureDeps, state: NurtureState, config: RunnableConfig) -> dict[str, Any]:
    campaign = Campaign.model_validate(state["campaign"])
    selected = state.get("selected") or []
    if not selected:
        return {"drafts": []}
    index = open_jobs(d.ranking)
    drafts = []
    for item in selected:
        pid = int(item["person_id"])
        person = d.mirror.get_data("people", pid) or {}
        role, skills = personalise(d.ranking, pid, person, index)
        drafts.append(draft_for(d, campaign, item, role, skills).model_dump(mode="json"))
    return {"drafts": drafts}


def approve(d: NurtureDeps, state: NurtureState, config: RunnableConfig) -> Command:
    policy = auto_approval_policy(d, state)
    if policy is not None:
        decision = review.policy_decision(policy, approved=sendable(state), decided_at=d.clock())
        return review.route(decision, approved="send", otherwise="audit")
    # Re-runs from the top on resume: everything before the interrupt only reads state.
    request, check = build_approval_request(state), partial(decide, d, state)
    decided = review.reviewed(request, check, again="approve", config=config, clock=d.clock)
    return review.route(decided, approved="send", otherwise="audit")


def _text_hash(draft: dict[str, Any]) -> str:
    return value_hash([draft["subject"], draft["body"]])


def record(d: NurtureDeps, state: NurtureState, config: RunnableConfig) -> dict[str, Any]:
    """The run's audit record. Ids, versions and hashes only: names, addresses and message text
    stay out of the log."""
    run = state["run"]
    decision = review.decision_audit(state.get("approval"))
    body = {
        "campaign_id": state["campaign"]["id"],
        "campaign_hash": run["campaign_hash"],
        "run_id": run["run_id"],
        "as_of": run["as_of"],
        "selection": state.get("selection") or {},
        "drafts": [
            {
                "person_id": dr["person_id"],
                "step": dr["step"],
                "template": dr["template"],
                "role_job_id": (dr.get("role") or {}).get("job_id"),
                "rewritten": dr.get("rewritten", False),
                "moderation": {k: dr["moderation"].get(k) for k in ("held", "fixed", "problems")},
                "text_hash": _text_hash(dr),
            }
            for dr in state.get("drafts") or []
        ],
        **decision,
        "approved": [
            {"person_id": dr["person_id"], "step": dr["step"], "text_hash": _text_hash(dr)}
            for dr in decision["approved"]
        ],
        "sends": [
            {k: s.get(k) for k in ("person_id", "step", "message_id", "transport", "status", "detail")}
            for s in state.get("sends") or []
        ],
    }
    # A deferred-send pass audits again, under its own key (the first record stays as it was).
    earlier = (state.get("audit_record") or {}).get("key")
    key = f"sends:{value_hash(body['sends'])[:16]}" if earlier else "final"
    version = run.get("graph_version") or FIRST_VERSION
    return {
        "audit_record": audit.append(d.audit, run, kind="nurture", key=key, body=body, graph_version=version)
    }
