"""Erasure everywhere: a distinctive person (unique name, email, phone) passes through the service's
stores (mirror, a rediscovery run's checkpoint and vectors, an outbox email, an offer letter, the
nurture store); after `erase_everywhere` no file under data_dir holds their name, email or phone,
neither as raw bytes nor in any SQLite row, and the erasure is in the audit chain (without them)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from graphs.rediscovery import RediscoveryDeps, build_graph, start_run
from server.erasure import erase_everywhere, sqlite_files
from tools.audit import AuditLog
from tools.checkpoint import open_checkpointer
from tools.email.message import OutgoingEmail
from tools.email.outbox import LocalOutbox
from tools.embeddings import HashEmbeddings
from tools.icims.codes import JOB_APPROVED
from tools.mirror import MirrorStore
from tools.nurture.store import NurtureStore

pytestmark = pytest.mark.integration

NAME = ("Quillon", "Vexmoraine")
EMAIL = "quillon.vexmoraine@zyxq-erasure.test"
PHONE = "+1-555-013-7791"
NEEDLES = [NAME[0], NAME[1], EMAIL, PHONE, PHONE.replace("-", "")]


def _sync(settings: Any, store: MirrorStore) -> None:
    from support.snapshot import sync_mirror

    sync_mirror(settings)


def _found(data_dir: Path) -> list[str]:
    """Every (file, needle) hit: raw bytes of every file, and the text of every SQLite row."""
    hits: list[str] = []
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        raw = path.read_bytes()
        hits += [f"{path.name}: {n}" for n in NEEDLES if n.encode() in raw or n.encode("utf-16-le") in raw]
    for path in sqlite_files(data_dir):
        conn = sqlite3.connect(path)
        try:
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                for row in conn.execute(f'SELECT * FROM "{table}"'):
                    text = " ".join(
                        v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in row
                    )
                    hits += [f"{path.name}:{table}: {n}" for n in NEEDLES if n in text]
        finally:
            conn.close()
    return hits


def test_erased_person_leaves_nothing_under_data_dir(sandbox_factory, tmp_path: Path) -> None:
    box = sandbox_factory(people=30, seed=7)
    settings = box.settings(data_dir=str(tmp_path / "state"))
    data_dir = Path(settings.data_dir)
    people = box.state.tenant.records["people"]
    # The person to erase: the one with the most resume text, so retrieval shortlists them.
    pid = sorted(people)[0]
    person = people[pid].data
    person.update({"firstname": NAME[0], "lastname": NAME[1], "email": EMAIL})
    person["phones"] = [{"phonetype": {"id": "D84002", "value": "Home"}, "phonenumber": PHONE}]
    store = MirrorStore(settings.mirror_database_url)
    _sync(settings, store)
    assert any(_found(data_dir)), "the seeded person is in the mirror"

    # A rediscovery run over them waits for approval in a checkpoint (their id, maybe their text).
    deps = RediscoveryDeps.from_settings(settings, mirror=store, embeddings=HashEmbeddings())
    job = next(
        r.id for r in store.iter_records("jobs") if (r.data.get("folder") or {}).get("id") == JOB_APPROVED
    )
    try:
        with open_checkpointer(settings) as saver:
            start_run(
                build_graph(saver, deps=deps), job_id=job, customer_id=settings.icims_customer_id, top_k=30
            )
        # A nurture email to them in the outbox, their contact and stop in the nurture store.
        LocalOutbox(data_dir / "outbox").send(
            OutgoingEmail(
                message_id=f"<nurture-1-{pid}@example.com>",
                to_address=EMAIL,
                from_address="talent@example.com",
                from_name="Talent",
                subject=f"Hello {NAME[0]}",
                body=f"Dear {NAME[0]} {NAME[1]}, call us back on {PHONE}.",
                unsubscribe_url="http://127.0.0.1/u",
                sent_at=datetime.now(UTC).isoformat(),
                tags={"person_id": str(pid), "campaign_id": "c1"},
            )
        )
        LocalOutbox(data_dir / "outbox").send(
            OutgoingEmail(
                message_id="<nurture-1-other@example.com>",
                to_address="someone.else@example.com",
                from_address="talent@example.com",
                from_name="Talent",
                subject="Hello",
                body="Dear Someone",
                unsubscribe_url="http://127.0.0.1/u",
                sent_at=datetime.now(UTC).isoformat(),
                tags={"person_id": "999999", "campaign_id": "c1"},
            )
        )
        nurture = NurtureStore.from_settings(settings)
        nurture.record_contact("c1", pid, 1, sent_at=datetime.now(UTC), message_id="m", run_id="r")
        nurture.stop(pid, "replied", source="api")
        nurture.close()
        # An offer letter for one of their workflows.
        letters = data_dir / "offers" / f"offer_{settings.icims_customer_id}_424242"
        letters.mkdir(parents=True)
        (letters / "letter-v1.docx").write_bytes(f"Offer for {NAME[0]} {NAME[1]}, {EMAIL}".encode())
        assert _found(data_dir)

        report = erase_everywhere(settings, pid, mirror=store)
    finally:
        deps.close()
        store.close()

    assert report.mirror_records >= 1 and report.outbox_messages == 1 and report.offer_files == 1
    assert report.nurture_rows == 2 and report.vector_hooks >= 1
    assert len(report.threads_deleted) == 1  # the run that shortlisted them
    assert _found(data_dir) == []
    # The other person's email stays; the erased one's never gets another contact.
    assert len(LocalOutbox(data_dir / "outbox").index()) == 1
    nurture = NurtureStore.from_settings(settings)
    assert [(s.person_id, s.reason) for s in nurture.stops([pid])] == [(pid, "erased")]
    assert nurture.contacts(person_ids=[pid]) == []
    nurture.close()
    with AuditLog.from_settings(settings) as log:
        erasures = [r for r in log.records() if r.kind == "erasure"]
        assert log.verify().ok
    assert [r.body["person_id"] for r in erasures] == [pid]
    assert erasures[0].body["subject_hash"] and report.audit_seq == erasures[0].seq
