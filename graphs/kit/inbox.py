"""The Agent Inbox interrupt contract (DESIGN.md "Human approval before any write"; REFERENCES 3.2).

A graph pauses with `interrupt([request])`, where `request` is a `HumanInterrupt`:
`{"action_request": {"action", "args"}, "config": {allow_accept, allow_edit, allow_respond,
allow_ignore}, "description": markdown}`. The reviewer answers with a `HumanResponse`
`{"type": "accept"|"edit"|"response"|"ignore", "args": ...}`, which the inbox sends as a list of one
via `Command(resume=[response])`. We emit the legacy (pre-v1) shape because LangChain's Agent Inbox
and Studio render it unchanged; `"respond"` is accepted as an alias of the inbox's `"response"`.

`pending_approvals` lists paused threads straight from the checkpointer, so approvals survive
restarts and any process can find them.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.types import Command, interrupt
from pydantic import BaseModel, ValidationError, field_validator
from typing_extensions import TypedDict

ResponseType = Literal["accept", "edit", "respond", "ignore"]


class ActionRequest(TypedDict):
    action: str
    args: dict[str, Any]


class HumanInterruptConfig(TypedDict):
    allow_ignore: bool
    allow_respond: bool
    allow_edit: bool
    allow_accept: bool


class HumanInterrupt(TypedDict):
    action_request: ActionRequest
    config: HumanInterruptConfig
    description: str


def make_request(
    action: str,
    args: dict[str, Any],
    description: str,
    *,
    allow_accept: bool = True,
    allow_edit: bool = True,
    allow_respond: bool = True,
    allow_ignore: bool = True,
) -> HumanInterrupt:
    return {
        "action_request": {"action": action, "args": args},
        "config": {
            "allow_ignore": allow_ignore,
            "allow_respond": allow_respond,
            "allow_edit": allow_edit,
            "allow_accept": allow_accept,
        },
        "description": description,
    }


class HumanResponse(BaseModel):
    """One reviewer answer, normalised. `args`: for edit, the edited action args (a dict); for
    respond, the free text; for accept and ignore, whatever was sent (callers ignore it)."""

    type: ResponseType
    args: Any = None

    @field_validator("type", mode="before")
    @classmethod
    def _alias(cls, value: Any) -> Any:
        return "respond" if value == "response" else value


T = TypeVar("T")


def config_value(config: Any, *names: str) -> Any:
    """The first of `names` set in a run config's `configurable`."""
    configurable = (config or {}).get("configurable") or {}
    return next((configurable[n] for n in names if configurable.get(n)), None)


def approver_of(config: Any) -> str:
    """Who answered an approval: our `approver` (the API's principal label), LangGraph Server's
    authenticated user, else "unknown"."""
    return str(config_value(config, "approver", "langgraph_auth_user_id") or "unknown")


def cli_approver() -> str:
    """The approver a command-line resume records: the OS user."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no passwd entry (containers): still a named channel
        return "cli"


def ask(
    request: HumanInterrupt,
    decide: Callable[[HumanResponse], T],
    *,
    again: str,
    refused: str = "Edit not applied",
) -> tuple[HumanResponse, T] | Command:
    """Pause on `request`, then parse and decide the answer. An answer the graph cannot apply
    (invalid edit, bad args: any ValueError) is refused: the returned `Command` goes back to the
    node `again` with `approval_error` set, so the same request is asked again and nothing is
    written. The node re-runs from its top on resume, so whatever precedes this only reads."""
    raw = interrupt([request])
    try:
        response = parse_response(raw)
        return response, decide(response)
    except ValueError as exc:  # pydantic's ValidationError is one too
        message = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        return Command(goto=again, update={"approval_error": f"{refused}: {message}"})


def parse_response(raw: Any) -> HumanResponse:
    """Accept the inbox's list of one, a bare response dict, or a JSON string of either."""
    if isinstance(raw, str):
        raw = json.loads(raw)
    if isinstance(raw, list):
        if len(raw) != 1:
            raise ValueError(f"expected one response, got {len(raw)}")
        raw = raw[0]
    if not isinstance(raw, dict):
        raise ValueError(f"a response must be an object, got {type(raw).__name__}")
    response = HumanResponse.model_validate(raw)
    if response.type == "edit":
        response.args = edited_args(response.args)
    return response


def edited_args(args: Any) -> dict[str, Any]:
    """The inbox sends an edit as a whole `ActionRequest` ({action, args}) with string values;
    API callers may send the args dict alone. JSON-encoded values are decoded."""
    if isinstance(args, str):
        args = json.loads(args)
    if not isinstance(args, dict):
        raise ValueError("edit args must be an object")
    if set(args) <= {"action", "args"} and isinstance(args.get("args"), dict | str):
        args = args["args"]
        if isinstance(args, str):
            args = json.loads(args)
    out: dict[str, Any] = {}
    for key, value in args.items():
        if isinstance(value, str) and value[:1] in "[{":
            # Not JSON after all: keep the text as typed.
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        out[key] = value
    return out


@dataclass(frozen=True)
class PendingApproval:
    thread_id: str
    interrupt_id: str
    request: HumanInterrupt
    checkpoint_id: str | None
    created_at: str | None


def _requests(value: Any) -> list[HumanInterrupt]:
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, dict) and "action_request" in item]


def thread_ids(checkpointer: BaseCheckpointSaver, *, prefix: str | None = None) -> list[str]:
    seen: dict[str, None] = {}
    for item in checkpointer.list(None):
        thread = str(item.config["configurable"]["thread_id"])
        if prefix is None or thread.startswith(prefix):
            seen.setdefault(thread, None)
    return list(seen)


def unfinished(snapshot: Any) -> bool:
    """Whether a thread's run stopped before its end. Not just `snapshot.next`: a process killed
    after a node's writes were saved but before the next checkpoint leaves `next` empty and that
    node as a task with its result; resuming (`invoke(None)`) applies them and goes on."""
    return bool(snapshot.next or snapshot.tasks)


def pending_for_thread(graph: Any, thread_id: str) -> list[PendingApproval]:
    state = graph.get_state({"configurable": {"thread_id": thread_id}})
    out: list[PendingApproval] = []
    config = state.config.get("configurable", {}) if state.config else {}
    for item in state.interrupts:
        for request in _requests(item.value):
            out.append(
                PendingApproval(
                    thread_id=thread_id,
                    interrupt_id=item.id,
                    request=request,
                    checkpoint_id=config.get("checkpoint_id"),
                    created_at=state.created_at,
                )
            )
    return out


# Threads whose latest root checkpoint holds an interrupt write. The savers' own primary keys serve
# both lookups (checkpoints by thread, writes by thread + checkpoint), so this stays fast with tens of
# thousands of finished triage threads, where a scan would deserialise every checkpoint of each.
_PENDING_SQL = """
SELECT c.thread_id FROM checkpoints c
JOIN (SELECT thread_id, MAX(checkpoint_id) AS cid FROM checkpoints WHERE checkpoint_ns = ''
      GROUP BY thread_id) latest
  ON c.thread_id = latest.thread_id AND c.checkpoint_id = latest.cid AND c.checkpoint_ns = ''
WHERE EXISTS (SELECT 1 FROM {writes} w WHERE w.thread_id = c.thread_id AND w.checkpoint_ns = ''
              AND w.checkpoint_id = c.checkpoint_id AND w.channel = '__interrupt__')
ORDER BY c.thread_id
"""


def interrupted_thread_ids(
    checkpointer: BaseCheckpointSaver, *, prefix: str | None = None
) -> list[str] | None:
    """Threads whose latest checkpoint carries an interrupt, read with one query from the SQLite or
    Postgres saver's tables: every pending thread, plus (rarely) one whose interrupt was answered by
    a run that stopped before its next checkpoint; `pending_for_thread` decides. None for other
    savers (callers then scan every thread). Only root-graph interrupts: our graphs have no
    subgraphs."""
    from langgraph.checkpoint.postgres import PostgresSaver
    from langgraph.checkpoint.sqlite import SqliteSaver

    saver = getattr(checkpointer, "inner", checkpointer)  # server.state.ThreadedSaver wraps one
    rows: list[Any]
    if isinstance(saver, SqliteSaver):
        with saver.cursor(transaction=False) as cur:
            rows = cur.execute(_PENDING_SQL.format(writes="writes")).fetchall()
        ids = [str(r[0]) for r in rows]
    elif isinstance(saver, PostgresSaver):
        with saver._cursor() as cur:
            cur.execute(_PENDING_SQL.format(writes="checkpoint_writes"))
            rows = cur.fetchall()
        ids = [str(r["thread_id"] if isinstance(r, dict) else r[0]) for r in rows]
    else:
        return None
    return [t for t in ids if prefix is None or t.startswith(prefix)]


def candidate_thread_ids(checkpointer: BaseCheckpointSaver, *, prefix: str | None = None) -> list[str]:
    """The threads worth asking for pending interrupts: from the query when the saver allows it,
    else every thread."""
    found = interrupted_thread_ids(checkpointer, prefix=prefix)
    return found if found is not None else thread_ids(checkpointer, prefix=prefix)


def pending_approvals(
    graph: Any, checkpointer: BaseCheckpointSaver, *, prefix: str | None = None
) -> list[PendingApproval]:
    """Every thread whose latest state waits on an Agent Inbox interrupt."""
    found: list[PendingApproval] = []
    for thread in candidate_thread_ids(checkpointer, prefix=prefix):
        found.extend(pending_for_thread(graph, thread))
    return found


def describe(items: Iterable[PendingApproval]) -> list[dict[str, Any]]:
    """JSON-ready summary rows (for CLIs and logs: ids and action names only)."""
    return [
        {
            "thread_id": p.thread_id,
            "interrupt_id": p.interrupt_id,
            "action": p.request["action_request"]["action"],
            "created_at": p.created_at,
        }
        for p in items
    ]
