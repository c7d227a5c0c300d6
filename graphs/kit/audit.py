"""The audit append every graph uses: one envelope (kind, key scoped by the run's trace, trace and
thread ids, the graph's version stamped in the body) and one reference shape kept in state."""

from __future__ import annotations

from typing import Any


def append(
    audit: Any,  # tools.audit.AuditLog
    run: dict[str, Any],
    *,
    kind: str,
    key: str,
    body: dict[str, Any],
    graph_version: str | None = None,
) -> dict[str, Any]:
    """Append one record, idempotently per `{trace}:{key}` (a re-run node appends nothing twice).
    Returns `{seq, hash, key}` for the state."""
    stamped = {"graph": graph_version or run.get("graph_version"), **body}
    record = audit.append(
        kind=kind,
        key=f"{run['trace_id']}:{key}",
        trace_id=run["trace_id"],
        thread_id=run["thread_id"],
        body=stamped,
    )
    return {"seq": record.seq, "hash": record.hash, "key": record.key}
