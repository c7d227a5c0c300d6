"""A graph built only from the kit (tests/support/tagging_graph.py) and registered by one line gets
what every workflow gets: an inbox entry, approval, an idempotent write and an audit record."""

from __future__ import annotations

import pytest
from support.snapshot import sync_mirror
from support.tagging_graph import KIND, THREAD

from graphs.kit import runs
from server.approvals import Decision
from server.auth import Principal
from server.registry import registered
from server.state import open_service
from tools.embeddings import HashEmbeddings

ADMIN = Principal(key_id="k1", name="admin", role="admin")


@pytest.fixture
def service(sandbox_factory, tmp_path):
    box = sandbox_factory(people=12, seed=3)
    settings = box.settings(data_dir=str(tmp_path / "state"))
    sync_mirror(settings)
    with open_service(settings, embeddings=HashEmbeddings(), kinds=[*registered(), KIND]) as state:
        yield box, settings, state


def tag_writes(box, person_id: int) -> list:
    return [e for e in box.state.writelog if e.method == "PATCH" and e.path.endswith(f"/people/{person_id}")]


def test_inbox_approval_idempotent_write_and_audit(service):
    box, settings, state = service
    person_id = min(state.mirror.ids("people"))
    graph = state.graphs["tagging"]
    thread = THREAD(settings.icims_customer_id, person_id)

    started = runs.start(graph, thread, {"request": {"person_id": person_id, "tag": "python; senior"}})
    assert started.waiting and not tag_writes(box, person_id)  # nothing written before approval

    inbox = state.approvals.list(ADMIN, graph="tagging")
    assert [a.id for a in inbox] == [thread] and inbox[0].action == "tag_person"

    result = state.approvals.resolve(ADMIN, thread, Decision(type="accept"))
    assert result.status == "resolved"
    assert len(tag_writes(box, person_id)) == 1
    field = settings.field_map["enrichment_tags"]
    # Written through to the mirror: the service reads its own write before the next sync.
    assert state.mirror.get_data("people", person_id)[field] == "python; senior"

    values = graph.get_state(runs.run_config(thread)).values
    assert values["approval"]["decision"] == "accept" and values["approval"]["approver"].startswith("admin")
    record = state.audit.get(values["audit_record"]["key"])
    assert record is not None and record.body["writes"][0]["status"] == "done"

    # Again: no pending approval, no second write; a restart of the finished run changes nothing.
    assert state.approvals.list(ADMIN, graph="tagging") == []
    again = runs.start(graph, thread, {"request": {"person_id": person_id, "tag": "python; senior"}})
    assert again.waiting  # a new run asks again (a new trace) ...
    state.approvals.resolve(ADMIN, thread, Decision(type="accept"))
    assert len(tag_writes(box, person_id)) == 1  # ... and finds the value already there: no PATCH
