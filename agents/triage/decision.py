"""A reviewer's answer to a triage approval, turned into the writes it approves.

Accept approves every action in the request; edit keeps the actions it lists (each may change its
tier, status or pool within the rules) and drops the others; respond and ignore approve nothing.
Edited values arrive as strings from the Agent Inbox, so they are re-validated here before anything
is resumed (the same function runs in `ApprovalService` before the thread is touched).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agents.scoring.history import STATUSES
from agents.triage.assess import ProposedAction
from agents.triage.policy import FORWARD_STATUSES, TIER_LABELS, Tier


class DecisionError(ValueError):
    """An edit that cannot be applied as sent; nothing is written and the reviewer is asked again."""


class EditedAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    tier: Tier | None = Field(default=None, description="ai_fields: the tier to write instead")
    status_id: str | None = None
    pool_id: int | None = None

    @field_validator("id", "status_id", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("tier", mode="before")
    @classmethod
    def _tier(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) and value.strip() else None if value == "" else value


class EditedTriage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    actions: list[EditedAction]


def decide(
    requested: list[dict[str, Any]], response: Any, *, tier_field: str | None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(approved actions as JSON, edits for the audit) for a parsed `HumanResponse`."""
    actions = [ProposedAction.model_validate(a) for a in requested]
    if response.type in ("respond", "ignore"):
        return [], {}
    if response.type == "accept":
        return [a.model_dump(mode="json") for a in actions], {}
    edited = EditedTriage.model_validate(response.args)
    by_id = {a.id: a for a in actions}
    approved: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in edited.actions:
        original = by_id.get(item.id)  # type: ignore[call-overload]
        if original is None:
            raise DecisionError(
                f"action {item.id!r} is not in this request (an edit can only drop or change)"
            )
        if item.id in seen:
            raise DecisionError(f"action {item.id!r} appears twice")
        seen.add(item.id)
        action = original.model_copy(deep=True)
        if item.tier is not None:
            if action.kind != "ai_fields" or not tier_field:
                raise DecisionError(f"action {item.id!r}: only the AI fields carry a tier")
            action.fields[tier_field] = TIER_LABELS[item.tier]
            changed.append({"id": item.id, "tier": item.tier})
        if item.status_id is not None and item.status_id != action.status_id:
            if action.kind != "status":
                raise DecisionError(f"action {item.id!r} has no status to change")
            if item.status_id not in FORWARD_STATUSES:
                raise DecisionError(
                    f"status {item.status_id!r} cannot be set from triage (forward review steps only; "
                    "nobody is rejected here)"
                )
            action.status_id, action.status_label = item.status_id, STATUSES[item.status_id].label
            changed.append({"id": item.id, "status_id": item.status_id})
        if item.pool_id is not None and item.pool_id != action.pool_id:
            if action.kind != "talent_pool":
                raise DecisionError(f"action {item.id!r} has no talent pool to change")
            action.pool_id = item.pool_id
            changed.append({"id": item.id, "pool_id": item.pool_id})
        approved.append(action.model_dump(mode="json"))
    edits = {"dropped": [a.id for a in actions if a.id not in seen], "changed": changed}
    return approved, edits


def page_edit(
    requested: list[dict[str, Any]],
    kept: list[str],
    *,
    tiers: dict[str, str],
    statuses: dict[str, str],
    suggested_tier: str,
) -> dict[str, Any] | None:
    """The web inbox form (ticked action ids, the tier and status selects) as the edit args, or None
    when it approves the request exactly as proposed (then it is a plain accept)."""
    edited: list[dict[str, Any]] = []
    changed = False
    for action in requested:
        if action["id"] not in kept:
            changed = True
            continue
        item: dict[str, Any] = {"id": action["id"]}
        tier = tiers.get(action["id"])
        if action["kind"] == "ai_fields" and tier and tier != suggested_tier:
            item["tier"], changed = tier, True
        status = statuses.get(action["id"])
        if action["kind"] == "status" and status and status != action.get("status_id"):
            item["status_id"], changed = status, True
        edited.append(item)
    if not edited:
        raise DecisionError("No write is ticked: tick at least one, or choose Ignore to write nothing.")
    return {"actions": edited} if changed else None
