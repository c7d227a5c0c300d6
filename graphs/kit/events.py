"""What every iCIMS event handler does before its own work: one parse, one tenant check, one answer
for an event that does not concern the graph, and one read of a workflow's real status.

A handler gets the stored event and the runtime (`server`'s state, duck-typed) and returns the JSON
outcome kept on the event row; `accept` gives it the parsed event or that outcome. Status change
events carry numeric node ids rather than status codes, so `workflow_status` reads the workflow
(one REALTIME request; the mirror when iCIMS cannot be asked).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from graphs.kit.nodes import run_async
from tools.events.models import ICIMSEvent
from tools.icims.budget import Priority
from tools.icims.errors import ICIMSNotFound
from tools.mirror.store import link_id


def none(reason: str, **ids: Any) -> dict[str, Any]:
    """The outcome of an event a handler does nothing for."""
    return {"action": "none", "reason": reason, **ids}


def accept(
    event: Any, settings: Any, *, graph: str, types: Collection[str], needs_workflow: bool = True
) -> ICIMSEvent | dict[str, Any]:
    """The parsed event when it is of `types`, for this tenant and (with `needs_workflow`) names an
    applicant workflow; else the outcome saying why it is not handled."""
    payload = dict(getattr(event, "payload", None) or {})
    payload.setdefault("customerId", str(getattr(event, "customer_id", "") or ""))
    payload.setdefault("eventType", str(getattr(event, "event_type", "") or ""))
    payload.setdefault("systemId", "")
    try:
        parsed = ICIMSEvent.model_validate(payload)
    except ValidationError as exc:
        return none(f"{graph}: unreadable event ({exc.errors()[0]['msg']})")
    if parsed.eventType not in types:
        return none(f"{graph} handles {', '.join(sorted(types))}, not {parsed.eventType or 'this event'}")
    if parsed.customerId != str(settings.icims_customer_id):
        return none(f"customer {parsed.customerId} is not this tenant")
    if needs_workflow and parsed.workflow_id is None:
        return none("the event names no applicant workflow (systemId)")
    return parsed


@dataclass(frozen=True)
class WorkflowStatus:
    status: str | None  # the status code, None when unknown
    person_id: int | None
    source: str  # "icims" or "mirror"
    found: bool = True  # False: iCIMS answered 404


def workflow_status(
    client_factory: Callable[[], Any] | None, mirror: Any, workflow_id: int
) -> WorkflowStatus:
    """The applicant workflow's current status: iCIMS first (the event is newer than the mirror),
    the mirror when no client is configured or iCIMS served no status."""
    if client_factory is not None:

        async def fetch() -> dict[str, Any]:
            async with client_factory() as client:
                return await client.get_workflow(
                    "applicantworkflows", workflow_id, priority=Priority.REALTIME
                )

        try:
            served = run_async(fetch)
        except ICIMSNotFound:
            return WorkflowStatus(None, None, "icims", found=False)
        status = (served.get("status") or {}).get("id") if isinstance(served.get("status"), dict) else None
        if status is not None:
            return WorkflowStatus(status, link_id(served.get("associatedprofile")), "icims")
    mirrored = mirror.get_data("applicantworkflows", workflow_id) or {}
    node = mirrored.get("status")
    return WorkflowStatus(
        node.get("id") if isinstance(node, dict) else None,
        link_id(mirrored.get("associatedprofile")),
        "mirror",
    )
