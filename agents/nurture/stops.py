"""Stopping a person's sequences: unsubscribe (writes the opt-out to iCIMS), a reply, or an
application or hire seen in an event.

Every stop is stored in `NurtureStore.stops` for all campaigns (`*`), which selection and the send
node both read, and audited. The opt-out write is a read-compare-write recorded in the idempotency
ledger, so a second click (or a retried request) writes nothing again. The candidate's own request
is what authorises that write; the audit record says so.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from agents.nurture.selection import CLOSED_APPLICATION, HIRED
from agents.nurture.store import ALL_CAMPAIGNS
from agents.nurture.tokens import UnsubscribeClaim, secret_for, verify


def _audit(deps: Any, kind: str, key: str, body: dict[str, Any]) -> int:
    trace = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return deps.audit.append(kind=kind, key=key, trace_id=trace, body=body).seq


async def _write_opt_out(deps: Any, person_id: int, claim: UnsubscribeClaim) -> dict[str, Any]:
    from graphs.kit.write import WriteBack

    async with deps.client_factory() as client:
        writer = WriteBack(client, deps.ledger, "nurture:unsubscribe", str(deps.settings.icims_customer_id))
        outcome = await writer.apply_person_fields(
            person_id, {deps.settings.field_map["opt_out"]: "Yes"}, name="opt_out"
        )
    return outcome.to_json()


def unsubscribe(deps: Any, token: str) -> dict[str, Any]:
    """Verify the token, write opt_out=Yes to the person in iCIMS, stop every campaign for them.
    Raises `agents.nurture.tokens.InvalidToken` for a bad token (nothing is changed)."""
    claim = verify(token, secret_for(deps.settings))
    newly = deps.store.stop(
        claim.person_id, "opted_out", campaign_id=ALL_CAMPAIGNS, source=f"unsubscribe:{claim.campaign_id}"
    )
    write = asyncio.run(_write_opt_out(deps, claim.person_id, claim))
    seq = _audit(
        deps,
        "nurture_unsubscribe",
        f"nurture:unsubscribe:{claim.person_id}",
        {
            "person_id": claim.person_id,
            "campaign_id": claim.campaign_id,
            "step": claim.step,
            "authorised_by": "candidate request (signed unsubscribe link)",
            "icims_write": {k: write.get(k) for k in ("status", "patched")},
        },
    )
    return {
        "person_id": claim.person_id,
        "stopped": "all campaigns",
        "newly_stopped": newly,
        "icims": write,
        "audit_seq": seq,
    }


def record_reply(
    deps: Any, person_id: int, *, campaign_id: str | None = None, source: str = "api"
) -> dict[str, Any]:
    """A reply stops the person's sequences (every campaign: they are now in a conversation)."""
    newly = deps.store.stop(int(person_id), "replied", campaign_id=ALL_CAMPAIGNS, source=source)
    seq = _audit(
        deps,
        "nurture_reply",
        f"nurture:reply:{person_id}:{campaign_id or ALL_CAMPAIGNS}",
        {"person_id": int(person_id), "campaign_id": campaign_id, "source": source},
    )
    return {"person_id": int(person_id), "stopped": "all campaigns", "newly_stopped": newly, "audit_seq": seq}


def application_stop(status_id: str | None) -> str | None:
    """The stop reason an applicant-workflow status means: hired, applied (any open one), or None."""
    if status_id == HIRED:
        return "hired"
    if status_id and status_id not in CLOSED_APPLICATION:
        return "applied"
    return None
