"""A workflow from the kit alone: ask to tag a person, write the tag once, audit (one registration)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel

from graphs.kit import audit, nodes, review, runs
from graphs.kit.inbox import make_request
from graphs.kit.kind import GraphKind
from graphs.kit.state import KitState
from graphs.kit.threads import ThreadKey
from graphs.kit.write import WriteBack

THREAD = ThreadKey("tagging")


class TagRequest(BaseModel):
    person_id: int
    tag: str


class TagState(KitState, total=False):  # + run, approval, approval_error, writes
    request: dict[str, Any]
    audit_record: dict[str, Any]


@dataclass
class TagDeps:
    resources: Any  # graphs.kit.resources.Resources: settings, mirror, ledger, audit, client, clock


def build(checkpointer: Any = None, *, deps: TagDeps) -> Any:
    r = deps.resources

    def start(state: TagState, config: RunnableConfig) -> dict[str, Any]:
        request = TagRequest.model_validate(state["request"])
        return {"run": runs.run_record(config, request, graph_version="tagging-1")}

    def approve(state: TagState, config: RunnableConfig) -> Any:
        req = make_request(
            "tag_person", dict(state["request"]), f"Tag person {state['request']['person_id']}"
        )
        decided = review.reviewed(
            req, lambda resp: (resp.type == "accept", {}), again="approve", config=config, clock=r.clock
        )
        return review.route(decided, approved="write", otherwise="audit")

    def write(state: TagState) -> dict[str, Any]:
        run, req, field = state["run"], state["request"], r.settings.field_map["enrichment_tags"]

        async def go() -> dict[str, Any]:
            async with r.client_factory() as client:
                writer = WriteBack(client, r.ledger, run["thread_id"], run["trace_id"], mirror=r.mirror)
                done = await writer.set_fields("people", req["person_id"], {field: req["tag"]}, name="tag")
                return done.to_json()

        return {"writes": [nodes.run_async(go)]}

    def record(state: TagState) -> dict[str, Any]:
        body = {"decision": review.decision_audit(state.get("approval")), "writes": state.get("writes")}
        return {"audit_record": audit.append(r.audit, state["run"], kind="tagging", key="final", body=body)}

    g = StateGraph(TagState)
    for name, fn in (("start", start), ("approve", approve), ("write", write), ("audit", record)):
        g.add_node(name, fn)
    for a, b in ((START, "start"), ("start", "approve"), ("write", "audit"), ("audit", END)):
        g.add_edge(a, b)
    return g.compile(checkpointer=checkpointer)


KIND = GraphKind(
    name="tagging",
    thread_key=THREAD,
    input_model=TagRequest,
    open=TagDeps,
    build=build,
    thread_of_input=lambda deps, req: THREAD(deps.resources.settings.icims_customer_id, req.person_id),
)
