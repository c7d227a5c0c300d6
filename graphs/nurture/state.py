"""The nurture graph's schemas, version and thread key.

One thread per (campaign, run): `nurture:{customer}:{campaign}:{run}`. State holds JSON values only.
Sends are idempotent per (campaign, person, step) across runs: their ledger key is `send_key`, the
same in every run, and the message id is deterministic, so the outbox holds a message once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any, Required

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

from graphs.kit.state import KitOutput, KitState
from graphs.kit.threads import ThreadKey

if TYPE_CHECKING:
    from tools.settings import Settings

# nurture-2: the decision record uses the kit's key names (request_hash, response_hash instead of
# interrupt_args_hash and the raw response); the audit reads nurture-1 records too.
GRAPH_VERSION = "nurture-2"
THREAD = ThreadKey("nurture")
REQUEST_ACTION = "nurture_send"
CONTACT_FIELDS = "nurture_contact"


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


class NurtureState(KitState, total=False):
    campaign_id: str
    run_id: str
    as_of: str
    campaign: dict[str, Any]
    selection: dict[str, Any]
    selected: list[dict[str, Any]]
    drafts: list[dict[str, Any]]
    sends: list[dict[str, Any]]
    audit_record: dict[str, Any]


class NurtureOutput(KitOutput, total=False):
    selection: dict[str, Any]
    drafts: list[dict[str, Any]]
    sends: list[dict[str, Any]]
    audit_record: dict[str, Any]
