"""Nurture: a campaign run drafts personal, consent-checked messages for the talent-pool members due
for their next step, waits for approval, sends, and records the contact in iCIMS.

    load -> select -> draft -> approve (Agent Inbox interrupt, or an admin's recorded policy)
                                   -> send (email transport + iCIMS write-back) -> audit
                                   |  respond / ignore / nothing to send -> audit

One thread per (campaign, run): `nurture:{customer}:{campaign}:{run}`. Domain logic lives in
`agents/nurture` (selection, matching, drafting, moderation), I/O in `tools/` (email, iCIMS, audit).
State holds JSON values only.

Sends are idempotent per (campaign, person, step), across runs: the idempotency ledger is keyed by
(`nurture:{customer}:{campaign}`, `step{n}`, person), the send is marked `patching` before the
transport is called and `done` after, and a send found `patching` on a re-run is not repeated
(the outbox is asked; SMTP cannot be, so at most once). The message id is deterministic too, so the
outbox holds a message once. A transport that refuses a message (`TransportError`) fails the node
with the entry marked `failed`, which a retry may send again. After the send: last-contacted date,
campaign and step on the person (read-compare-write, once) and the pool membership -> Contacted.

Before sending, the person's consent fields are read again from iCIMS (one request): an opt-out
that reached iCIMS after the mirror's last sync still wins.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Required

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command
from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

from agents.nurture.campaigns import get_campaign
from agents.nurture.drafting import Draft, render, rewrite
from agents.nurture.matching import open_jobs, personalise
from agents.nurture.models import Campaign
from agents.nurture.moderation import moderate
from agents.nurture.selection import CONTACTED_STATUS, GlobalCaps, select_members
from agents.nurture.store import NurtureStore
from agents.nurture.timing import quiet_reason
from agents.nurture.tokens import UnsubscribeClaim, secret_for, sign, unsubscribe_url
from graphs.kit.inbox import approver_of, ask, config_value, make_request
from graphs.kit.nodes import LazyDeps, run_async
from graphs.kit.write import WriteBack
from tools.audit import AuditLog, IdempotencyLedger, value_hash
from tools.email import EmailTransport, OutgoingEmail, TransportError, make_transport

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver

    from tools.mirror import MirrorStore
    from tools.settings import Settings

GRAPH_VERSION = "nurture-1"
REQUEST_ACTION = "nurture_send"
CONTACT_FIELDS = "nurture_contact"


def nurture_thread_id(customer_id: int | str, campaign_id: str, run_id: str) -> str:
    return f"nurture:{customer_id}:{campaign_id}:{run_id}"


def send_key(customer_id: int | str, campaign_id: str, step: int) -> tuple[str, str]:
    """(ledger thread, ledger run) of a campaign step: the same in every run, so no run resends."""
    return f"nurture:{customer_id}:{campaign_id}", f"step{step}"


def message_id(settings: Settings, campaign_id: str, person_id: int, step: int) -> str:
    return f"<nurture.{settings.icims_customer_id}.{campaign_id}.{person_id}.{step}@{settings.email_domain}>"


class NurtureInput(TypedDict, total=False):
    campaign_id: Required[str]
    run_id: str
    as_of: str  # ISO time the run selects at (default: now); the scheduler passes its tick time


class NurtureRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    campaign_id: str = Field(min_length=1, max_length=64)
    run_id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12], pattern=r"^[A-Za-z0-9_-]{1,40}$")
    as_of: datetime | None = None


class NurtureState(TypedDict, total=False):
    campaign_id: str
    run_id: str
    as_of: str
    run: dict[str, Any]
    campaign: dict[str, Any]
    selection: dict[str, Any]
    selected: list[dict[str, Any]]
    drafts: list[dict[str, Any]]
    approval: dict[str, Any]
    approval_error: str | None
    sends: list[dict[str, Any]]
    writes: list[dict[str, Any]]
    audit_record: dict[str, Any]


class NurtureOutput(TypedDict, total=False):
    run: dict[str, Any]
    selection: dict[str, Any]
    drafts: list[dict[str, Any]]
    approval: dict[str, Any]
    sends: list[dict[str, Any]]
    audit_record: dict[str, Any]


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


@dataclass
class NurtureDeps:
    settings: Settings
    mirror: MirrorStore
    store: NurtureStore
    ledger: IdempotencyLedger
    audit: AuditLog
    ranking: Any  # graphs.rediscovery.RediscoveryDeps: candidate index, enrichment, scoring
    client_factory: Callable[[], Any] | None
    transport: EmailTransport
    chat_model: Any = None  # for campaigns with llm_rewrite (None: no LLM configured)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # Called after each send step ("sent", "recorded"): tests inject crashes to prove re-runs resend nothing.
    on_send_step: Callable[[str, dict[str, Any]], None] | None = None
    _owned: list[Any] = field(default_factory=list)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        ranking: Any = None,
        mirror: MirrorStore | None = None,
        embeddings: Any = None,
        chat_model: Any = None,
        **overrides: Any,
    ) -> NurtureDeps:
        from graphs.rediscovery import RediscoveryDeps
        from tools.icims.budget import RequestBudget
        from tools.icims.client import ICIMSClient
        from tools.mirror import MirrorStore

        owned: list[Any] = []
        if ranking is None:
            # The ranking deps close the mirror they hold: give them their own connection to it.
            ranking = RediscoveryDeps.from_settings(
                settings,
                mirror=MirrorStore(mirror.url if mirror is not None else settings.mirror_database_url),
                embeddings=embeddings,
            )
            owned.append(ranking)
        if mirror is None:
            mirror = ranking.mirror
        if chat_model is None and settings.llm_base_url:
            from tools.llm import make_chat_model

            chat_model = make_chat_model(settings)
        budget = RequestBudget.from_settings(settings)
        store, ledger, audit = (
            NurtureStore.from_settings(settings),
            IdempotencyLedger.from_settings(settings),
            AuditLog.from_settings(settings),
        )
        owned += [store, ledger, audit]
        values: dict[str, Any] = {
            "settings": settings,
            "mirror": mirror,
            "store": store,
            "ledger": ledger,
            "audit": audit,
            "ranking": ranking,
            "client_factory": lambda: ICIMSClient.from_settings(settings, budget=budget),
            "transport": make_transport(settings),
            "chat_model": chat_model,
        }
        values.update(overrides)
        deps = cls(**values)
        deps._owned = owned
        return deps

    def campaign(self, campaign_id: str) -> Campaign:
        return get_campaign(self.store, campaign_id, self.settings.nurture_campaign_dir)

    def global_caps(self) -> GlobalCaps:
        return GlobalCaps(
            min_days_between=self.settings.nurture_global_min_days_between,
            max_per_30_days=self.settings.nurture_global_max_per_30_days,
        )

    def unsubscribe_link(self, campaign_id: str, person_id: int, step: int) -> str:
        token = sign(UnsubscribeClaim(person_id, campaign_id, step), secret_for(self.settings))
        return unsubscribe_url(self.settings.nurture_public_base_url, token)

    def close(self) -> None:
        for item in reversed(self._owned):
            item.close()
        self._owned = []


# --- graph ----------------------------------------------------------------------------------------


def build_graph(checkpointer: BaseCheckpointSaver | None = None, *, deps: NurtureDeps | None = None) -> Any:
    """Compile the nurture graph; `deps=None` builds them from settings at the first node run."""
    node = LazyDeps(NurtureDeps.from_settings, deps).node

    builder = StateGraph(NurtureState, input_schema=NurtureInput, output_schema=NurtureOutput)
    builder.add_node("load", node(_node_load))
    builder.add_node("select", node(_node_select))
    builder.add_node("draft", node(_node_draft))
    builder.add_node("approve", node(_node_approve), destinations=("send", "audit", "approve"))
    builder.add_node("send", node(_node_send))
    builder.add_node("audit", node(_node_audit))
    builder.add_edge(START, "load")
    builder.add_edge("load", "select")
    builder.add_edge("select", "draft")
    builder.add_conditional_edges(
        "draft",
        # Only held drafts (or none): nothing could be sent, so no inbox item; the audit lists them.
        lambda s: "approve" if any(not dr["moderation"]["held"] for dr in s.get("drafts") or []) else "audit",
        ["approve", "audit"],
    )
    builder.add_edge("send", "audit")
    builder.add_edge("audit", END)
    return builder.compile(checkpointer=checkpointer, name="nurture")


# --- nodes ----------------------------------------------------------------------------------------


def _node_load(d: NurtureDeps, state: NurtureState, config: RunnableConfig) -> dict[str, Any]:
    request = NurtureRequest.model_validate(
        {k: state[k] for k in ("campaign_id", "run_id", "as_of") if state.get(k)}
    )
    campaign = d.campaign(request.campaign_id)
    as_of = request.as_of or d.clock()
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    thread_id = config_value(config, "thread_id") or nurture_thread_id(
        d.settings.icims_customer_id, campaign.id, request.run_id
    )
    run = {
        "trace_id": uuid.uuid4().hex,
        "thread_id": thread_id,
        "run_id": request.run_id,
        "customer_id": d.settings.icims_customer_id,
        "as_of": as_of.astimezone(UTC).isoformat(),
        "started_at": d.clock().astimezone(UTC).isoformat(),
        "campaign_hash": value_hash(campaign.model_dump(mode="json")),
    }
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


def _node_select(d: NurtureDeps, state: NurtureState, config: RunnableConfig) -> dict[str, Any]:
    campaign = Campaign.model_validate(state["campaign"])
    as_of = datetime.fromisoformat(state["run"]["as_of"])
    selection = select_members(
        campaign,
        now=as_of,
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


def _node_draft(d: NurtureDeps, state: NurtureState, config: RunnableConfig) -> dict[str, Any]:
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


def build_approval_request(state: NurtureState) -> dict[str, Any]:
    run, campaign = state["run"], state["campaign"]
    args = {
        "campaign_id": campaign["id"],
        "campaign_name": campaign["name"],
        "run_id": run["run_id"],
        "thread_id": run["thread_id"],
        "selection": state.get("selection") or {},
        "drafts": state.get("drafts") or [],
    }
    return dict(make_request(REQUEST_ACTION, args, _description(state)))


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


def _node_approve(d: NurtureDeps, state: NurtureState, config: RunnableConfig) -> Command:
    policy = auto_approval_policy(d, state)
    decided_at = d.clock().astimezone(UTC).isoformat()
    if policy is not None:
        approved = [dr for dr in state.get("drafts") or [] if not dr["moderation"]["held"]]
        approval = {
            "decision": "accept",
            "approver": f"policy:{policy['rule']}",
            "policy": policy,
            "decided_at": decided_at,
            "approved": approved,
            "edits": {},
            "response": None,
            "interrupt_args_hash": None,
        }
        return Command(goto="send" if approved else "audit", update={"approval": approval})
    # Re-runs from the top on resume: everything before interrupt() only reads state.
    request = build_approval_request(state)
    answer = ask(request, lambda response: decide(d, state, response), again="approve")
    if isinstance(answer, Command):
        return answer
    response, (approved, edits) = answer
    approver = approver_of(config)
    approval = {
        "decision": response.type,
        "approver": approver,
        "policy": None,
        "decided_at": d.clock().astimezone(UTC).isoformat(),
        "approved": approved,
        "edits": edits,
        "response": response.args if response.type == "respond" else None,
        "interrupt_args_hash": value_hash(request["action_request"]["args"]),
    }
    return Command(
        goto="send" if approved else "audit", update={"approval": approval, "approval_error": None}
    )


def still_contactable(person: dict[str, Any], field_map: dict[str, str], today: str) -> str | None:
    """None when iCIMS's current values still allow a message; else the reason."""
    if person.get(field_map["opt_out"]) == "Yes":
        return "opted_out"
    if person.get(field_map["do_not_contact"]) == "Yes":
        return "do_not_contact"
    if str(person.get(field_map["consent_status"]) or "").lower() != "granted":
        return "no_consent"
    expires = str(person.get(field_map["consent_expires"]) or "")[:10]
    if expires and expires < today:
        return "consent_expired"
    if not str(person.get("email") or "").strip():
        return "no_email"
    return None


def _node_send(d: NurtureDeps, state: NurtureState, config: RunnableConfig) -> dict[str, Any]:
    if d.client_factory is None:
        raise RuntimeError("no iCIMS client configured: approved sends cannot be recorded offline")
    campaign = Campaign.model_validate(state["campaign"])
    run = state["run"]
    by_person = {s["person_id"]: s for s in state.get("selected") or []}
    fm = d.settings.field_map
    customer = d.settings.icims_customer_id
    stops = d.store.stop_map()

    async def send_all() -> list[dict[str, Any]]:
        from tools.icims.budget import Priority

        outcomes: list[dict[str, Any]] = []
        async with d.client_factory() as client:
            for draft in state["approval"]["approved"]:
                pid, step = int(draft["person_id"]), int(draft["step"])
                selected = by_person[pid]
                ledger_thread, ledger_run = send_key(customer, campaign.id, step)
                mid = message_id(d.settings, campaign.id, pid, step)
                out: dict[str, Any] = {
                    "person_id": pid,
                    "step": step,
                    "message_id": mid,
                    "transport": d.transport.name,
                }
                entry = d.ledger.get(ledger_thread, ledger_run, str(pid), "send")
                now = d.clock()
                if entry is not None and entry.state == "done":
                    out["status"] = "already_sent"
                elif entry is not None and entry.state == "patching" and not d.transport.has(mid):
                    # A send was under way when the last attempt stopped: it may have gone out. Never
                    # twice beats maybe never: it counts as sent (and is recorded as a contact).
                    d.ledger.record(
                        ledger_thread,
                        ledger_run,
                        str(pid),
                        "send",
                        state="done",
                        detail={
                            "message_id": mid,
                            "uncertain": True,
                            "sent_at": now.astimezone(UTC).isoformat(),
                        },
                    )
                    out["status"] = "unknown_not_resent"
                elif entry is not None and entry.state == "patching":
                    d.ledger.record(
                        ledger_thread, ledger_run, str(pid), "send", state="done", detail={"message_id": mid}
                    )
                    out["status"] = "already_sent"
                else:
                    stopped = set(stops.get(pid, {}).values())
                    person = await client.get_profile(
                        "people",
                        pid,
                        fields=[
                            "email",
                            fm["opt_out"],
                            fm["do_not_contact"],
                            fm["consent_status"],
                            fm["consent_expires"],
                        ],
                        priority=Priority.WRITE,
                    )
                    refusal = (
                        "opted_out" if "opted_out" in stopped else next(iter(stopped), None)
                    ) or still_contactable(person, fm, now.date().isoformat())
                    window = quiet_reason(now, selected["timezone"], campaign.quiet_hours)
                    if refusal is not None:
                        out["status"], out["detail"] = "skipped", refusal
                        outcomes.append(out)
                        continue
                    if window is not None:
                        out["status"], out["detail"] = "deferred", window
                        outcomes.append(out)
                        continue
                    email = OutgoingEmail(
                        message_id=mid,
                        from_address=d.settings.email_from_address,
                        from_name=f"{campaign.signature.name}, {campaign.signature.company}",
                        to_address=str(person["email"]).strip(),
                        subject=draft["subject"],
                        body=draft["body"],
                        unsubscribe_url=d.unsubscribe_link(campaign.id, pid, step),
                        sent_at=now.astimezone(UTC).isoformat(),
                        tags={
                            "campaign": campaign.id,
                            "person": str(pid),
                            "step": str(step),
                            "run": run["run_id"],
                        },
                    )
                    d.ledger.record(
                        ledger_thread,
                        ledger_run,
                        str(pid),
                        "send",
                        state="patching",
                        detail={"message_id": mid},
                    )
                    try:
                        receipt = d.transport.send(email)
                    except TransportError as exc:
                        # Refused before it was handed over: not sent, so a retry may send it.
                        d.ledger.record(
                            ledger_thread,
                            ledger_run,
                            str(pid),
                            "send",
                            state="failed",
                            detail={"reason": str(exc)},
                        )
                        raise
                    d.ledger.record(
                        ledger_thread,
                        ledger_run,
                        str(pid),
                        "send",
                        state="done",
                        detail={"message_id": mid, "sent_at": email.sent_at, "run_id": run["run_id"]},
                    )
                    out["status"] = "already_sent" if receipt.already_sent else "sent"
                    if d.on_send_step is not None:
                        d.on_send_step("sent", out)
                done = d.ledger.get(ledger_thread, ledger_run, str(pid), "send")
                if done is None or done.state != "done":
                    outcomes.append(out)
                    continue
                sent_at = datetime.fromisoformat(
                    done.detail.get("sent_at") or now.astimezone(UTC).isoformat()
                )
                d.store.record_contact(
                    campaign.id,
                    pid,
                    step,
                    sent_at=sent_at,
                    message_id=mid,
                    run_id=done.detail.get("run_id") or run["run_id"],
                )
                out["icims"] = await _record_in_icims(
                    d, client, campaign.id, selected, step, sent_at, (ledger_thread, ledger_run)
                )
                if d.on_send_step is not None:
                    d.on_send_step("recorded", out)
                outcomes.append(out)
        return outcomes

    sends = run_async(send_all)
    # The approvals API and inbox report a decision's `writes`: here, one per message.
    writes = [
        {
            "person_id": out["person_id"],
            "action": f"email_step_{out['step']}",
            "base_id": by_person[out["person_id"]]["pool_id"],
            "workflow_kind": "sourceworkflows",
            "workflow_id": by_person[out["person_id"]]["source_workflow_id"],
            "status": out["status"],
        }
        for out in sends
    ]
    # A later pass (deferred drafts, `send_deferred`) sends a subset: keep the others' outcomes.
    batch = {(out["person_id"], out["step"]) for out in sends}
    kept = [s for s in state.get("sends") or [] if (s["person_id"], s["step"]) not in batch]
    d.store.set_deferred(run["thread_id"], any(s["status"] == "deferred" for s in kept + sends))
    return {"sends": kept + sends, "writes": writes}


async def _record_in_icims(
    d: NurtureDeps,
    client: Any,
    campaign_id: str,
    selected: dict[str, Any],
    step: int,
    sent_at: datetime,
    key: tuple[str, str],
) -> dict[str, Any]:
    """Last-contacted date, campaign and step on the person; the pool membership -> Contacted."""
    from tools.icims.budget import Priority
    from tools.icims.errors import ICIMSBadRequest, ICIMSNotFound

    fm = d.settings.field_map
    pid = int(selected["person_id"])
    writer = WriteBack(client, d.ledger, key[0], key[1], mirror=d.mirror)
    fields = {
        fm["last_contacted"]: sent_at.date().isoformat(),
        fm["nurture_campaign"]: campaign_id,
        fm["nurture_step"]: str(step + 1),
    }
    person = await writer.apply_person_fields(pid, fields, name=CONTACT_FIELDS)
    status: dict[str, Any] = {"workflow_id": selected["source_workflow_id"]}
    entry = d.ledger.get(key[0], key[1], str(pid), "pool_status")
    if entry is not None and entry.state == "done":
        status["status"] = "already_done"
    else:
        workflow_id = int(selected["source_workflow_id"])
        try:
            served = await client.get_workflow("sourceworkflows", workflow_id, priority=Priority.WRITE)
            current = (served.get("status") or {}).get("id")
            if current != CONTACTED_STATUS:
                d.ledger.record(key[0], key[1], str(pid), "pool_status", state="patching")
                await client.set_workflow_status(
                    "sourceworkflows", workflow_id, CONTACTED_STATUS, priority=Priority.WRITE
                )
                status["status"], status["patched"] = "done", True
            else:
                status["status"], status["patched"] = "done", False
            d.ledger.record(
                key[0],
                key[1],
                str(pid),
                "pool_status",
                state="done",
                workflow_kind="sourceworkflows",
                workflow_id=workflow_id,
            )
        except (ICIMSNotFound, ICIMSBadRequest) as exc:
            d.ledger.record(
                key[0], key[1], str(pid), "pool_status", state="failed", detail={"reason": exc.message}
            )
            status["status"], status["detail"] = "failed", exc.message
    return {"person_fields": person.to_json(), "pool_status": status}


def _node_audit(d: NurtureDeps, state: NurtureState, config: RunnableConfig) -> dict[str, Any]:
    run, approval = state["run"], state.get("approval") or {}
    body = {
        "graph": GRAPH_VERSION,
        "campaign_id": state["campaign"]["id"],
        "campaign_hash": run["campaign_hash"],
        "run_id": run["run_id"],
        "as_of": run["as_of"],
        "selection": state.get("selection") or {},
        # Ids, versions and hashes only: names, addresses and message text stay out of the log.
        "drafts": [
            {
                "person_id": dr["person_id"],
                "step": dr["step"],
                "template": dr["template"],
                "role_job_id": (dr.get("role") or {}).get("job_id"),
                "rewritten": dr.get("rewritten", False),
                "moderation": {k: dr["moderation"].get(k) for k in ("held", "fixed", "problems")},
                "text_hash": value_hash([dr["subject"], dr["body"]]),
            }
            for dr in state.get("drafts") or []
        ],
        "decision": approval.get("decision"),
        "approver": approval.get("approver"),
        "policy": approval.get("policy"),
        "decided_at": approval.get("decided_at"),
        "request_hash": approval.get("interrupt_args_hash"),
        "edits": approval.get("edits") or {},
        "response_hash": value_hash(approval["response"]) if approval.get("response") is not None else None,
        "approved": [
            {
                "person_id": dr["person_id"],
                "step": dr["step"],
                "text_hash": value_hash([dr["subject"], dr["body"]]),
            }
            for dr in approval.get("approved") or []
        ],
        "sends": [
            {k: s.get(k) for k in ("person_id", "step", "message_id", "transport", "status", "detail")}
            for s in state.get("sends") or []
        ],
    }
    # A deferred-send pass audits again, under its own key (the first record stays as it was).
    earlier = (state.get("audit_record") or {}).get("key")
    key = f"{run['trace_id']}:" + (f"sends:{value_hash(body['sends'])[:16]}" if earlier else "final")
    record = d.audit.append(
        kind="nurture",
        key=key,
        trace_id=run["trace_id"],
        thread_id=run["thread_id"],
        body=body,
    )
    return {"audit_record": {"seq": record.seq, "hash": record.hash, "key": record.key}}


# --- running ----------------------------------------------------------------------------------------


def run_config(thread_id: str, approver: str | None = None) -> RunnableConfig:
    configurable: dict[str, Any] = {"thread_id": thread_id}
    if approver:
        configurable["approver"] = approver
    return {"configurable": configurable}


def send_deferred(graph: Any, deps: NurtureDeps, *, now: datetime) -> list[dict[str, Any]]:
    """Approved drafts held back by the candidate's quiet hours or a non-working day go out once
    their window opens, on the approval already given for exactly those drafts: the send node runs
    again for them alone (consent and opt-outs are re-read from iCIMS there, sends stay once per
    campaign, person and step). Called by the scheduler's tick."""
    from graphs.kit.inbox import unfinished

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


def start_run(
    graph: Any,
    *,
    customer_id: int | str,
    campaign_id: str,
    run_id: str | None = None,
    as_of: datetime | None = None,
) -> tuple[str, dict[str, Any]]:
    """Run a campaign to its approval (or to the end when a policy approves or nothing is due).
    Returns (thread id, state values)."""
    run_id = run_id or uuid.uuid4().hex[:12]
    thread_id = nurture_thread_id(customer_id, campaign_id, run_id)
    payload: dict[str, Any] = {"campaign_id": campaign_id, "run_id": run_id}
    if as_of is not None:
        payload["as_of"] = as_of.astimezone(UTC).isoformat()
    graph.invoke(payload, run_config(thread_id), version="v2")
    return thread_id, dict(graph.get_state(run_config(thread_id)).values)


def resume_run(graph: Any, thread_id: str, response: Any, *, approver: str) -> dict[str, Any]:
    graph.invoke(Command(resume=response), run_config(thread_id, approver), version="v2")
    return dict(graph.get_state(run_config(thread_id)).values)


def service_spec(state: Any) -> Any:
    """Register with the service (`server.state.SERVICE_GRAPHS`): the graph on the service's
    checkpointer, sharing its mirror and the rediscovery ranker index."""
    from server.state import GraphSpec

    class NurtureSpec(GraphSpec):
        # Thread ids end with the run id, not a requisition: nurture approvals belong to no job.
        def job_id_of_thread(self, thread_id: str) -> int | None:
            return None

        def job_id_of_state(self, values: dict[str, Any]) -> int | None:
            return None

    deps = NurtureDeps.from_settings(
        state.settings, ranking=state.deps.get("rediscovery"), mirror=state.mirror
    )
    state.deps["nurture"] = deps
    built = build_graph(state.checkpointer, deps=deps)
    customer = state.settings.icims_customer_id

    def validate(values: dict[str, Any], response: Any) -> dict[str, Any]:
        _, edits = decide(deps, values, response)
        return edits

    def owners_of(pending: Any) -> Any:
        from server.state import JobOwners
        from tools.mirror.store import link_id

        # nurture:{customer}:{campaign}:{run}
        parts = pending.thread_id.split(":")
        try:
            campaign = deps.campaign(parts[2])
        except Exception:  # a campaign deleted since the run: admins still see and resolve it
            return None
        owner = campaign.owner_id
        if owner is None:
            pool = state.mirror.get_data("talentpools", campaign.target.pool_ids[0]) or {}
            owner = link_id(pool.get("owner"))
        return JobOwners(
            job_id=None, title=f"campaign {campaign.name}", recruiter_id=owner, hiring_manager_id=None
        )

    return NurtureSpec(
        name="nurture",
        graph=built,
        thread_prefix="nurture:",
        input_model=NurtureRequest,
        thread_id=lambda req: nurture_thread_id(customer, req.campaign_id, req.run_id),  # type: ignore[attr-defined]
        job_id_of_input=lambda req: None,
        owners_of=owners_of,
        validate_decision=validate,
    )


# The graph for `langgraph.json` / LangGraph Server (which supplies its own checkpointer).
graph = build_graph()
