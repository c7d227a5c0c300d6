"""Stopping a person's sequences: unsubscribe (writes the opt-out to iCIMS) or a reply. (An
application or hire arrives as an event: `graphs.nurture.events`.)

Every stop is stored in the nurture store for all campaigns (`*`), which selection and the send
node both read, and audited. The opt-out write is a read-compare-write recorded in the idempotency
ledger and written through to the mirror, so a second click (or a retried request) writes nothing
again. The candidate's own request is what authorises that write; the audit record says so.
"""

from __future__ import annotations

from typing import Any

from agents.nurture.tokens import verify
from graphs.kit.nodes import run_async
from graphs.kit.threads import trace_id_for
from graphs.kit.write import WriteBack
from graphs.nurture.deps import NurtureDeps
from tools.nurture.secret import secret_for
from tools.nurture.store import ALL_CAMPAIGNS


def _audit(deps: NurtureDeps, kind: str, key: str, body: dict[str, Any]) -> int:
    return deps.audit.append(kind=kind, key=key, trace_id=trace_id_for(key), body=body).seq


async def _write_opt_out(deps: NurtureDeps, person_id: int) -> dict[str, Any]:
    assert deps.client_factory is not None
    async with deps.client_factory() as client:
        writer = WriteBack(
            client,
            deps.ledger,
            "nurture:unsubscribe",
            str(deps.settings.icims_customer_id),
            mirror=deps.mirror,
        )
        outcome = await writer.apply_person_fields(
            person_id, {deps.settings.field_map["opt_out"]: "Yes"}, name="opt_out"
        )
    return outcome.to_json()


def unsubscribe(deps: NurtureDeps, token: str) -> dict[str, Any]:
    """Verify the token, write opt_out=Yes to the person in iCIMS, stop every campaign for them.
    Raises `agents.nurture.tokens.InvalidToken` for a bad token (nothing is changed)."""
    claim = verify(token, secret_for(deps.settings))
    newly = deps.store.stop(
        claim.person_id, "opted_out", campaign_id=ALL_CAMPAIGNS, source=f"unsubscribe:{claim.campaign_id}"
    )
    write = run_async(lambda: _write_opt_out(deps, claim.person_id))
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
    deps: NurtureDeps, person_id: int, *, campaign_id: str | None = None, source: str = "api"
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
