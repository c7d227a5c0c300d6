"""Rediscovery's after-approval half: write the approved candidates back to iCIMS, audit the run,
purge its vectors.

`write` runs only after the approval: through `graphs.kit.write.WriteBack` (ledger-guarded, so a
crashed write node re-run from its top repeats nothing done; each confirmed write goes through to
the mirror). Each approved candidate gets their workflow (a submission to the job or a talent-pool
membership) with the AI fields, then the person's enrichment tags. `audit` appends one record per
run keyed by its trace; `purge` drops the run's vectors.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from graphs.kit import audit as kit_audit
from graphs.kit.nodes import run_async
from graphs.kit.review import decision_audit
from graphs.kit.write import WriteBack, WriteRequest
from graphs.rediscovery.state import GRAPH_VERSION, RediscoveryState
from graphs.rediscovery.text import reasons_text
from tools.audit import value_hash

if TYPE_CHECKING:
    from graphs.rediscovery.deps import RediscoveryDeps

WRITE_KEYS = (
    "person_id",
    "action",
    "base_id",
    "workflow_kind",
    "workflow_id",
    "created",
    "patched",
    "status",
)


def write_requests(d: RediscoveryDeps, state: RediscoveryState) -> list[WriteRequest]:
    approval = state["approval"]
    by_id = {c["person_id"]: c for c in state["shortlist"]}
    fields = d.settings.field_map
    processed_at = _icims_datetime(approval["decided_at"])
    requests: list[WriteRequest] = []
    for item in approval["approved"]:
        candidate = by_id[item["person_id"]]
        base_id = state["job"]["id"] if item["action"] == "submit" else item["pool_id"]
        requests.append(
            WriteRequest(
                person_id=item["person_id"],
                action=item["action"],
                base_id=int(base_id),
                fields={
                    fields["ai_score"]: int(candidate["score"]),
                    fields["ai_reasons"]: reasons_text(candidate),
                    fields["ai_model_version"]: d.rubric_version,
                    fields["ai_processed_at"]: processed_at,
                },
            )
        )
    return requests


def write(d: RediscoveryDeps, state: RediscoveryState) -> dict[str, Any]:
    if d.client_factory is None:
        raise RuntimeError("no iCIMS client configured: approved writes cannot be applied offline")
    client_factory = d.client_factory
    requests = write_requests(d, state)
    tags_of = {c["person_id"]: c.get("enrichment_tags") for c in state["shortlist"]}
    tags_field = d.settings.field_map.get("enrichment_tags")
    run = state["run"]

    async def apply_all() -> list[dict[str, Any]]:
        outcomes: list[dict[str, Any]] = []
        async with client_factory() as client:
            writer = WriteBack(
                client, d.ledger, run["thread_id"], run["trace_id"], mirror=d.mirror, on_step=d.on_write_step
            )
            for req in requests:
                outcome = await writer.apply(req)
                tags = tags_of.get(req.person_id)
                tag_write = None
                if tags_field and tags and outcome.status in ("done", "already_done"):
                    # Person-level facts, written once the approved workflow write has landed.
                    done = await writer.apply_person_fields(
                        req.person_id, {tags_field: tags}, name="enrichment_tags", outcome=outcome
                    )
                    tag_write = done.to_json()
                outcomes.append({**outcome.to_json(), "enrichment_tags": tag_write})
        return outcomes

    return {"writes": run_async(apply_all)}


def audit(d: RediscoveryDeps, state: RediscoveryState) -> dict[str, Any]:
    run = state["run"]
    body = {
        "job_id": state["job"]["id"],
        "input_hash": run["input_hash"],
        "requisition_hash": state["job"]["content_hash"],
        "job_source": run.get("job_source"),
        "versions": state.get("versions") or {},
        "retrieval": state.get("retrieval") or {},
        # What each score was computed from (the texts themselves stay in the mirror).
        "inputs": [
            {"person_id": int(s["result"]["person_id"]), "resume_hash": s["person"]["resume_hash"]}
            for s in state.get("scored") or []
        ],
        "outputs": {
            "shortlist_hash": value_hash(state.get("shortlist") or []),
            "shortlist": [
                {
                    "person_id": c["person_id"],
                    "score": c["score"],
                    "proposed_action": c["proposed_action"],
                    "pool_id": c["pool_id"],
                    "reasons_hash": value_hash(c["reasons"]),
                    "unverified_reasons": sum(1 for r in c["reasons"] if r.get("flagged")),
                }
                for c in state.get("shortlist") or []
            ],
        },
        # Who decided what (no auto-approval policy applies to rediscovery); the reviewer's free text
        # is kept as its hash. Read from either record shape (rediscovery-1 checkpoints too).
        **decision_audit(state.get("approval")),
        "writes": [
            {k: w[k] for k in WRITE_KEYS}
            | {
                "enrichment_tags": {k: w["enrichment_tags"][k] for k in ("status", "patched")}
                if w.get("enrichment_tags")
                else None
            }
            for w in state.get("writes") or []
        ],
    }
    record = kit_audit.append(
        d.audit, run, kind="rediscovery", key="final", body=body, graph_version=GRAPH_VERSION
    )
    return {"audit_record": record}


def purge(d: RediscoveryDeps, state: RediscoveryState) -> dict[str, Any]:
    vector_index = (state.get("retrieval") or {}).get("vector_index")
    return {"purge_report": d.release_run(state["run"]["trace_id"], vector_index)}


def _icims_datetime(iso: str) -> str:
    from tools.icims.formats import format_datetime

    return format_datetime(datetime.fromisoformat(iso))
