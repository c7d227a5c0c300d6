"""`start_rediscovery`: the rediscovery graph run to its approval interrupt, on the requisition's
own thread (a run already waiting there is returned, not started again). Nothing is written to
iCIMS until the shortlist is approved."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from langchain_core.tools import ToolException

from graphs.copilot.deps import isolated
from graphs.copilot.scoring import owned_job
from graphs.rediscovery import start_run

if TYPE_CHECKING:
    from graphs.copilot.caller import Caller
    from graphs.copilot.deps import CopilotDeps


def start_rediscovery(
    d: CopilotDeps, caller: Caller, job_id: int, top_k: int, *, lock: threading.Lock
) -> dict[str, Any]:
    if not caller.can_resolve:
        raise ToolException(f"a {caller.role} cannot start runs (read-only role)")
    owned_job(d, caller, job_id)
    try:
        with lock:
            run = isolated(
                start_run,
                d.rediscovery,
                job_id=job_id,
                customer_id=d.settings.icims_customer_id,
                top_k=top_k,
            )
    except LookupError as exc:
        raise ToolException(str(exc)) from exc
    return {
        "thread_id": run.thread_id,
        "approval_id": run.thread_id if run.pending else None,
        "job_id": job_id,
        "job_title": (run.values.get("job") or {}).get("title"),
        "pending_approval": bool(run.pending),
        "resumed_existing": run.resumed_existing,
        "shortlist": [
            {
                "rank": c.get("rank"),
                "person_id": c.get("person_id"),
                "name": c.get("name"),
                "score": c.get("score"),
                "proposed_action": c.get("proposed_action"),
                "flags": c.get("flags") or [],
            }
            for c in run.shortlist
        ],
        "note": "Nothing is written to iCIMS until the shortlist is approved.",
    }
