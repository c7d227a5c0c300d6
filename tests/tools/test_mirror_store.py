"""MirrorStore without any iCIMS: tables, hashing, chunk writes, erasure, reconciliation, queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from tools.mirror import MirrorStore, mirror_fingerprint
from tools.mirror.store import Upsert, content_hash

NOW = datetime(2025, 3, 4, 10, 30, tzinfo=UTC)


def _person(first: str, updated: str = "2025-03-04 09:00 AM", **extra: object) -> dict[str, object]:
    return {
        "firstname": first,
        "lastname": "Doe",
        "updateddate": updated,
        "links": [{"rel": "self", "url": "http://x/customers/1/people/1"}],
        **extra,
    }


def _workflow(person: int, job: int) -> dict[str, object]:
    return {
        "associatedprofile": {"profile": f"http://x/customers/1/people/{person}", "id": person},
        "baseprofile": {"profile": f"http://x/customers/1/jobs/{job}", "id": job},
        "status": {"id": "D10100", "value": "New Submissions"},
        "updateddate": "2025-03-04 09:00 AM",
    }


def test_content_hash_ignores_links_and_key_order() -> None:
    a = {"b": 1, "a": [1, {"y": 2, "x": 1}], "links": [{"url": "http://one"}]}
    b = {"a": [1, {"x": 1, "y": 2}], "b": 1, "links": [{"url": "http://two"}]}
    assert content_hash(a) == content_hash(b)
    assert content_hash(a) != content_hash({**a, "b": 2})


def test_profile_links_are_stored_without_display_names() -> None:
    store = MirrorStore("sqlite://")
    served: dict[str, Any] = {**_workflow(1, 1001), "links": [{"rel": "self", "url": "u"}]}
    served["baseprofile"] = {**served["baseprofile"], "value": "Data Engineer"}
    store.apply_chunk("applicantworkflows", upserts=[Upsert(10001, served)])
    stored = store.get_data("applicantworkflows", 10001)
    assert stored is not None and "links" not in stored
    assert stored["baseprofile"] == {"profile": "http://x/customers/1/jobs/1001", "id": 1001}
    # The job's retitling changes the served name only: not a change of the workflow.
    served["baseprofile"] = {**served["baseprofile"], "value": "Staff Data Engineer"}
    assert store.apply_chunk("applicantworkflows", upserts=[Upsert(10001, served)]).changed == 0


def test_upsert_counts_changes_and_keeps_resumes(tmp_path: Path) -> None:
    store = MirrorStore(f"sqlite:///{tmp_path / 'm.sqlite'}")
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    out = store.apply_chunk(
        "people",
        upserts=[
            Upsert(1, _person("Ann", resume={"file": "u"}), "set", "Ann's resume"),
            Upsert(2, _person("Bob"), "clear"),
        ],
        resume_fetched_at=NOW,
    )
    assert (out.changed, out.stored) == (2, 2)
    record = store.get("people", 1)
    assert record is not None and "links" not in record.data
    assert record.updateddate == "2025-03-04 09:00"
    assert store.resume_text(1) == "Ann's resume" and store.resume_text(2) is None
    # Same content again (links differ): stored, not changed; "keep" leaves the resume alone.
    out = store.apply_chunk(
        "people", upserts=[Upsert(1, {**_person("Ann", resume={"file": "u"}), "links": []})]
    )
    assert (out.changed, out.stored) == (0, 1)
    assert store.resume_text(1) == "Ann's resume"
    assert store.resume_freshness([1, 2]) == {1: ("2025-03-04 09:00", NOW)}
    out = store.apply_chunk("people", upserts=[Upsert(1, _person("Anne"))])
    assert out.changed == 1
    assert [p.id for p in store.people_with_resumes()] == [1]
    assert store.counts() == {
        "people": 2,
        "jobs": 0,
        "applicantworkflows": 0,
        "talentpools": 0,
        "sourceworkflows": 0,
        "resumes": 1,
    }
    store.close()


def test_erasure_removes_person_resume_and_workflows() -> None:
    store = MirrorStore("sqlite://")
    store.apply_chunk(
        "people",
        upserts=[Upsert(1, _person("Ann"), "set", "text"), Upsert(2, _person("Bob"))],
        resume_fetched_at=NOW,
    )
    store.apply_chunk(
        "applicantworkflows", upserts=[Upsert(10001, _workflow(1, 1001)), Upsert(10002, _workflow(2, 1001))]
    )
    store.apply_chunk("sourceworkflows", upserts=[Upsert(10003, _workflow(1, 301))])
    assert [w.id for w in store.workflows("applicantworkflows", base_id=1001)] == [10001, 10002]

    out = store.apply_chunk("people", erase=[(1, "purged")], now=NOW)
    assert out.erased == 1
    assert out.deleted == {"people": 1, "applicantworkflows": 1, "sourceworkflows": 1}
    assert store.get("people", 1) is None and store.resume_text(1) is None
    assert [w.id for w in store.workflows("applicantworkflows")] == [10002]
    assert [(e.person_id, e.reason) for e in store.erasures()] == [(1, "purged")]
    # iCIMS may still serve the erased person's workflow: it is not stored again.
    out = store.apply_chunk("applicantworkflows", upserts=[Upsert(10001, _workflow(1, 1001))])
    assert out.stored == 0 and store.get("applicantworkflows", 10001) is None
    # A second erasure of the same person writes no second row.
    assert store.apply_chunk("people", missing=[1]).erased == 0
    assert store.erased_among([1, 2]) == {1}


def test_reconcile_deletes_unlisted_ids_in_range() -> None:
    store = MirrorStore("sqlite://")
    store.apply_chunk("jobs", upserts=[Upsert(i, {"jobtitle": f"J{i}"}) for i in range(1001, 1011)])
    store.begin_pass("jobs", pending_watermark=NOW, full=True, cursor_id=0, started_at=NOW)
    out = store.apply_chunk("jobs", reconcile=(1000, 1005, [1001, 1003, 1005]), cursor_id=1005)
    assert out.deleted == {"jobs": 2}
    state = store.sync_state("jobs")
    assert state is not None and state.cursor_id == 1005 and state.in_progress
    out = store.apply_chunk("jobs", reconcile=(1005, None, [1007]))
    assert store.ids("jobs") == [1001, 1003, 1005, 1007]
    store.finish_pass("jobs", finished_at=NOW + timedelta(minutes=1))
    state = store.sync_state("jobs")
    assert state is not None and state.watermark == NOW and not state.in_progress and state.cursor_id is None


def test_runs_iteration_and_fingerprint() -> None:
    store = MirrorStore("sqlite://")
    assert store.last_run() is None
    store.apply_chunk("people", upserts=[Upsert(i, _person(f"P{i}")) for i in range(1, 8)])
    assert [r.id for r in store.iter_records("people", batch_size=3)] == list(range(1, 8))
    store.record_run(
        started=NOW,
        finished=NOW,
        full=True,
        records={"people": 7},
        changed=7,
        requests=9,
        seconds=0.5,
        deleted={},
        erased=0,
        stopped=None,
    )
    last = store.last_run()
    assert last is not None and last["records"] == {"people": 7} and last["requests"] == 9
    other = MirrorStore("sqlite://")
    other.apply_chunk("people", upserts=[Upsert(i, _person(f"P{i}")) for i in range(1, 8)])
    assert mirror_fingerprint(store) == mirror_fingerprint(other)
    other.apply_chunk("people", upserts=[Upsert(3, _person("changed"))])
    assert mirror_fingerprint(store) != mirror_fingerprint(other)
