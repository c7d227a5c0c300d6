"""Nurture: a campaign run drafts personal, consent-checked messages for the talent-pool members
due for their next step, waits for approval, sends them once and records the contact in iCIMS.

Rooms: `state` (schemas, version, thread key), `deps`, `nodes` (load, select, draft, approve,
audit), `send` (the send and its iCIMS record), `review` (approval text, edit checks, auto-approval
policy), `graph` (wiring), `run` (start, resume, deferred sends), `scheduler` (the periodic tick),
`events` (the iCIMS event handler), `stops` (unsubscribe, replies), `kind` (the declaration).
Domain logic is `agents.nurture`; the store is `tools.nurture.store`.
"""

from graphs.nurture.deps import NurtureDeps
from graphs.nurture.graph import build_graph
from graphs.nurture.nodes import draft_for
from graphs.nurture.review import ApprovalError, auto_approval_policy, build_approval_request, decide
from graphs.nurture.run import resume_run, run_config, send_deferred, start_run
from graphs.nurture.send import still_contactable
from graphs.nurture.state import (
    GRAPH_VERSION,
    REQUEST_ACTION,
    THREAD,
    NurtureInput,
    NurtureOutput,
    NurtureRequest,
    NurtureState,
    message_id,
    send_key,
)

__all__ = [
    "GRAPH_VERSION",
    "REQUEST_ACTION",
    "THREAD",
    "ApprovalError",
    "NurtureDeps",
    "NurtureInput",
    "NurtureOutput",
    "NurtureRequest",
    "NurtureState",
    "auto_approval_policy",
    "build_approval_request",
    "build_graph",
    "decide",
    "draft_for",
    "message_id",
    "resume_run",
    "run_config",
    "send_deferred",
    "send_key",
    "start_run",
    "still_contactable",
]
