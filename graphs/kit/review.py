"""The approval step: pause in the Agent Inbox schema, validate the answer, record one decision.

`reviewed(request, decide, ...)` wraps `graphs.kit.inbox.ask`: it interrupts with `request`, parses
the reply, calls the graph's `decide(response) -> (approved, edits)` (a ValueError there sends the
same request back with the `approval_error` banner, and nothing is written), and returns the one
decision record every graph stores under the state key `approval`:

    decision, approver, decided_at, approved, edits, policy, request_hash, response_hash

A graph that needs more fields adds them (`extra`); it never renames these. `policy_decision` is the
same record for an admin policy's automatic approval. The node that calls `reviewed` re-runs from its
top on resume, so whatever precedes it in the node only reads state.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.types import Command

from graphs.kit.inbox import HumanInterrupt, HumanResponse, approver_of, ask
from tools.audit import value_hash

DECISION_KEYS = (
    "decision",
    "approver",
    "decided_at",
    "approved",
    "edits",
    "policy",
    "request_hash",
    "response_hash",
)


def decision_record(
    response: HumanResponse,
    *,
    approved: Any,
    edits: Any,
    request: HumanInterrupt | None,
    approver: str,
    decided_at: datetime,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "decision": response.type,
        "approver": approver,
        "decided_at": decided_at.astimezone(UTC).isoformat(),
        "approved": approved,
        "edits": edits,
        "policy": None,
        "request_hash": value_hash(request["action_request"]["args"]) if request else None,
        # The reviewer's free text may name people: the record keeps its hash, not the text.
        "response_hash": value_hash(response.args) if response.type == "respond" else None,
        **extra,
    }


def policy_decision(
    policy: dict[str, Any], *, approved: Any, decided_at: datetime, **extra: Any
) -> dict[str, Any]:
    """An automatic approval by an admin policy (`policy["rule"]` names it), audited as such."""
    return {
        "decision": "accept",
        "approver": f"policy:{policy.get('rule')}",
        "decided_at": decided_at.astimezone(UTC).isoformat(),
        "approved": approved,
        "edits": {},
        "policy": policy,
        "request_hash": None,
        "response_hash": None,
        **extra,
    }


def reviewed(
    request: HumanInterrupt,
    decide: Callable[[HumanResponse], tuple[Any, Any]],
    *,
    again: str,
    config: RunnableConfig,
    clock: Callable[[], datetime],
    refused: str = "Edit not applied",
    **extra: Any,
) -> dict[str, Any] | Command:
    """The decision record, or a `Command` back to node `again` when the answer was refused."""
    answer = ask(request, decide, again=again, refused=refused)
    if isinstance(answer, Command):
        return answer
    response, (approved, edits) = answer
    return decision_record(
        response,
        approved=approved,
        edits=edits,
        request=request,
        approver=approver_of(config),
        decided_at=clock(),
        **extra,
    )


def decision_audit(approval: dict[str, Any] | None) -> dict[str, Any]:
    """The decision's part of an audit body (the same keys for every graph). Checkpoints written
    before the record had one set of names kept `interrupt_args_hash` and the raw `response`."""
    approval = approval or {}
    out = {key: approval.get(key) for key in DECISION_KEYS}
    out["edits"] = approval.get("edits") or {}
    out["approved"] = approval.get("approved") or []
    if out["request_hash"] is None:
        out["request_hash"] = approval.get("interrupt_args_hash")
    if out["response_hash"] is None and approval.get("response") is not None:
        out["response_hash"] = value_hash(approval["response"])
    return out


def route(decided: dict[str, Any] | Command, *, approved: str, otherwise: str) -> Command:
    """After `reviewed`: a refusal goes back as asked; a decision is stored under `approval` (the
    banner cleared) and the run goes on to `approved` when it approved anything, else `otherwise`."""
    if isinstance(decided, Command):
        return decided
    goto = approved if decided.get("approved") else otherwise
    return Command(goto=goto, update={"approval": decided, "approval_error": None})
