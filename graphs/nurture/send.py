"""The send node: each approved draft goes out at most once, then the contact is recorded in iCIMS.

The send is guarded by the write step's ledger (`WriteBack.entry` / `record`), keyed by the campaign
step (`send_key`: the same in every run) and the person: marked `patching` before the transport is
called and `done` after. A send found `patching` on a re-run is not repeated: the outbox is asked
(SMTP cannot be), so at most once. A transport that refuses a message (`TransportError`) fails the
node with the entry marked `failed`, which a retry may send again.

Before sending, the person's consent fields are read again from iCIMS (one request): an opt-out
that reached iCIMS after the mirror's last sync still wins. After the send: last-contacted date,
campaign and step on the person, and the pool membership -> Contacted, each a read-compare-write
done once (`apply_person_fields`, `set_status`) and written through to the mirror.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from langchain_core.runnables import RunnableConfig

from agents.nurture.models import Campaign
from agents.nurture.timing import quiet_reason
from graphs.kit.nodes import run_async
from graphs.kit.write import WriteBack
from graphs.nurture.deps import NurtureDeps
from graphs.nurture.state import CONTACT_FIELDS, NurtureState, message_id, send_key
from tools.email import OutgoingEmail, TransportError
from tools.icims.budget import Priority
from tools.icims.codes import SOURCE_WORKFLOW_CONTACTED

SEND = "send"
POOL_STATUS = "pool_status"


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


def send(d: NurtureDeps, state: NurtureState, config: RunnableConfig) -> dict[str, Any]:
    if d.client_factory is None:
        raise RuntimeError("no iCIMS client configured: approved sends cannot be recorded offline")
    client_factory = d.client_factory
    campaign = Campaign.model_validate(state["campaign"])
    run = state["run"]
    by_person = {s["person_id"]: s for s in state.get("selected") or []}
    stops = d.store.stop_map()

    async def send_all() -> list[dict[str, Any]]:
        async with client_factory() as client:
            return [
                await _send_one(d, client, campaign, run, draft, by_person[int(draft["person_id"])], stops)
                for draft in state["approval"]["approved"]
            ]

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


async def _send_one(
    d: NurtureDeps,
    client: Any,
    campaign: Campaign,
    run: dict[str, Any],
    draft: dict[str, Any],
    selected: dict[str, Any],
    stops: dict[int, dict[str, str]],
) -> dict[str, Any]:
    pid, step = int(draft["person_id"]), int(draft["step"])
    writer = WriteBack(
        client, d.ledger, *send_key(d.settings.icims_customer_id, campaign.id, step), mirror=d.mirror
    )
    mid = message_id(d.settings, campaign.id, pid, step)
    out: dict[str, Any] = {"person_id": pid, "step": step, "message_id": mid, "transport": d.transport.name}
    entry = writer.entry(pid, SEND)
    now = d.clock()
    if entry is not None and entry.state == "done":
        out["status"] = "already_sent"
    elif entry is not None and entry.state == "patching" and not d.transport.has(mid):
        # A send was under way when the last attempt stopped: it may have gone out. Never twice
        # beats maybe never: it counts as sent (and is recorded as a contact).
        detail = {"message_id": mid, "uncertain": True, "sent_at": now.astimezone(UTC).isoformat()}
        writer.record(pid, SEND, state="done", detail=detail)
        out["status"] = "unknown_not_resent"
    elif entry is not None and entry.state == "patching":
        writer.record(pid, SEND, state="done", detail={"message_id": mid})
        out["status"] = "already_sent"
    else:
        fm = d.settings.field_map
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
        held_back = _held_back(d, person, stops.get(pid, {}), campaign, selected, now)
        if held_back is not None:
            out["status"], out["detail"] = held_back
            return out
        email = OutgoingEmail(
            message_id=mid,
            from_address=d.settings.email_from_address,
            from_name=f"{campaign.signature.name}, {campaign.signature.company}",
            to_address=str(person["email"]).strip(),
            subject=draft["subject"],
            body=draft["body"],
            unsubscribe_url=d.unsubscribe_link(campaign.id, pid, step),
            sent_at=now.astimezone(UTC).isoformat(),
            tags={"campaign": campaign.id, "person": str(pid), "step": str(step), "run": run["run_id"]},
        )
        writer.record(pid, SEND, state="patching", detail={"message_id": mid})
        try:
            receipt = d.transport.send(email)
        except TransportError as exc:
            # Refused before it was handed over: not sent, so a retry may send it.
            writer.record(pid, SEND, state="failed", detail={"reason": str(exc)})
            raise
        sent = {"message_id": mid, "sent_at": email.sent_at, "run_id": run["run_id"]}
        writer.record(pid, SEND, state="done", detail=sent)
        out["status"] = "already_sent" if receipt.already_sent else "sent"
        if d.on_send_step is not None:
            d.on_send_step("sent", out)
    done = writer.entry(pid, SEND)
    if done is None or done.state != "done":
        return out
    sent_at = datetime.fromisoformat(done.detail.get("sent_at") or now.astimezone(UTC).isoformat())
    d.store.record_contact(
        campaign.id,
        pid,
        step,
        sent_at=sent_at,
        message_id=mid,
        run_id=done.detail.get("run_id") or run["run_id"],
    )
    out["icims"] = await _record_in_icims(d, writer, campaign.id, selected, step, sent_at)
    if d.on_send_step is not None:
        d.on_send_step("recorded", out)
    return out


def _held_back(
    d: NurtureDeps,
    person: dict[str, Any],
    stopped: dict[str, str],
    campaign: Campaign,
    selected: dict[str, Any],
    now: datetime,
) -> tuple[str, str] | None:
    """(status, reason) when the message must not go out now: skipped for a stop or a consent
    iCIMS no longer gives, deferred for the candidate's quiet hours."""
    reasons = set(stopped.values())
    refusal = ("opted_out" if "opted_out" in reasons else next(iter(reasons), None)) or still_contactable(
        person, d.settings.field_map, now.date().isoformat()
    )
    if refusal is not None:
        return "skipped", refusal
    window = quiet_reason(now, selected["timezone"], campaign.quiet_hours)
    if window is not None:
        return "deferred", window
    return None


async def _record_in_icims(
    d: NurtureDeps,
    writer: WriteBack,
    campaign_id: str,
    selected: dict[str, Any],
    step: int,
    sent_at: datetime,
) -> dict[str, Any]:
    """Last-contacted date, campaign and step on the person; the pool membership -> Contacted."""
    fm = d.settings.field_map
    pid, workflow_id = int(selected["person_id"]), int(selected["source_workflow_id"])
    fields = {
        fm["last_contacted"]: sent_at.date().isoformat(),
        fm["nurture_campaign"]: campaign_id,
        fm["nurture_step"]: str(step + 1),
    }
    person = await writer.apply_person_fields(pid, fields, name=CONTACT_FIELDS)
    # Keyed by the person as nurture-1 keyed it: a step it left half-recorded is finished, not redone.
    pool = await writer.set_status(
        "sourceworkflows",
        workflow_id,
        SOURCE_WORKFLOW_CONTACTED,
        name=POOL_STATUS,
        person_id=pid,
        candidate=str(pid),
    )
    status: dict[str, Any] = {"workflow_id": workflow_id, "status": pool.status, "patched": pool.sent}
    if pool.detail is not None:
        status["detail"] = pool.detail
    return {"person_fields": person.to_json(), "pool_status": status}
