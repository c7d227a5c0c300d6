"""Triage's write step: each approved action at most once, on the kit's `WriteBack` (ledger guard
keyed by thread, trace, workflow and action; read-compare-write; write-through to the mirror).

The AI fields are a fresh score only this run writes, so they are PATCHed without a read unless an
earlier attempt's PATCH is unconfirmed; a status change reads the workflow first and moves it only
forward (a recruiter may have moved it since the suggestion); a talent-pool addition creates the
pool's source workflow once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agents.scoring.history import STATUSES
from agents.triage.assess import ProposedAction, status_rank
from graphs.kit.write import RecordWrite, WriteBack, WriteRequest
from graphs.triage.deps import TriageDeps
from graphs.triage.state import WORKFLOW_KIND

SETTLED = ("done", "already_done", "skipped")


def forward_only(target: str) -> Callable[[str | None], str | None]:
    """`allowed(current)` for a suggested status: a reason to leave the workflow where it is unless
    the move is forward from a known status."""

    def allowed(current: str | None) -> str | None:
        if status_rank(current) < 0 or status_rank(current) >= STATUSES[target].stage_rank:
            return f"status changed since the suggestion ({current})"
        return None

    return allowed


def _result(action: ProposedAction, wf_id: int, outcome: RecordWrite) -> dict[str, Any]:
    result = {"id": action.id, "kind": action.kind, "workflow_id": wf_id, "patched": outcome.sent}
    result["status"] = outcome.status
    if outcome.detail is not None:
        result["detail"] = outcome.detail
    return result


async def apply_action(writer: WriteBack, app: dict[str, Any], action: ProposedAction) -> dict[str, Any]:
    """One approved action, at most once per (thread, trace, workflow, action) in the ledger."""
    wf_id, person_id = int(app["workflow_id"]), int(app["person_id"])
    if action.kind == "ai_fields":
        outcome = await writer.set_fields(
            WORKFLOW_KIND,
            wf_id,
            dict(action.fields),
            name=action.id,
            candidate=str(wf_id),
            person_id=person_id,
            read_first=False,
        )
        return _result(action, wf_id, outcome)
    if action.kind == "status":
        assert action.status_id is not None
        outcome = await writer.set_status(
            WORKFLOW_KIND,
            wf_id,
            action.status_id,
            name=action.id,
            candidate=str(wf_id),
            person_id=person_id,
            allowed=forward_only(action.status_id),
        )
        return _result(action, wf_id, outcome)
    pool = await writer.apply(
        WriteRequest(person_id=person_id, action="add_to_pool", base_id=int(action.pool_id or 0), fields={})
    )
    result = {"id": action.id, "kind": action.kind, "workflow_id": wf_id, "status": pool.status}
    result["patched"] = pool.created and pool.status == "done"
    if pool.detail is not None:
        result["detail"] = pool.detail
    if pool.status == "done":
        result["pool_workflow_id"] = pool.workflow_id
    return result


def write_approved(
    d: TriageDeps,
    run: dict[str, Any],
    app: dict[str, Any],
    approved: list[dict[str, Any]],
    writes: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The writes of this run: those already settled, then each approved action not yet settled."""
    if d.icims is None:
        raise RuntimeError("no iCIMS client configured: approved writes cannot be applied offline")
    settled = {w["id"] for w in writes if w["status"] in SETTLED}
    pending = [ProposedAction.model_validate(a) for a in approved if a["id"] not in settled]
    kept = [w for w in writes if w["id"] in settled]
    if not pending:
        return kept

    async def apply_all(client: Any) -> list[dict[str, Any]]:
        writer = WriteBack(client, d.ledger, run["thread_id"], run["trace_id"], mirror=d.mirror)
        return [await apply_action(writer, app, action) for action in pending]

    return kept + d.icims.run(apply_all)
