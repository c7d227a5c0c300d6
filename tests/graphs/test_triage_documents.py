"""Triage of applications whose resume file cannot be read, against the sandbox over real HTTP: an
encrypted PDF and a .docx whose zip headers lie come out as the flag "resume unreadable: ...", with
no score computed or written, held for a person even in auto mode (the policy approves nothing by
itself), and one log line naming ids only. A readable resume next to them is triaged as before."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from support.documents import encrypted_pdf, lying_docx
from support.snapshot import sync_mirror

from graphs.kit.inbox import pending_for_thread
from graphs.triage import TriageDeps, build_graph, resume, run_event
from tools.checkpoint import open_checkpointer
from tools.icims.client import BinaryFile, ICIMSClient
from tools.icims.codes import APPLICANT_NEW_SUBMISSION
from tools.logs import configure_logging
from tools.mirror import MirrorStore
from tools.settings import DEFAULT_FIELD_MAP

pytestmark = pytest.mark.integration

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# Auto mode: the policy would approve the AI fields of every application by itself.
POLICY = """
version: test-policy
default:
  mode: auto
  thresholds: {priority_review: 0, review: 0}
  actions:
    priority_review: {status: C51219}
    review: {status: C51219}
"""


@dataclass
class Env:
    box: Any
    settings: Any
    store: MirrorStore
    workflows: dict[str, int]  # role -> applicant workflow id
    people: dict[str, int]

    def deps(self) -> TriageDeps:
        settings = self.settings
        fast = lambda: ICIMSClient.from_settings(settings, retry_wait_base=0.01, retry_wait_max=0.2)  # noqa: E731
        return TriageDeps.from_settings(settings, mirror=self.store, client_factory=fast)

    def writes(self) -> list[Any]:
        return [e for e in self.box.state.writelog if "/applicantworkflows/" in e.path]


@pytest.fixture
def env(sandbox_factory, tmp_path) -> Iterator[Env]:
    box = sandbox_factory(people=40, seed=7, faults={"retry_after_seconds": 0})
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    settings = box.settings(data_dir=str(tmp_path / "state"), triage_policy_path=str(policy))
    tenant = box.state.tenant
    new: dict[int, int] = {}  # person -> a New application of theirs
    for wid, record in tenant.records["applicantworkflows"].items():
        if record.data["status"]["id"] == APPLICANT_NEW_SUBMISSION:
            new.setdefault(record.data["associatedprofile"], wid)
    (enc, enc_wf), (bad, bad_wf), (ok, ok_wf) = list(new.items())[:3]
    files = {
        enc: BinaryFile(encrypted_pdf(["Jordan Avery", "Data Engineer"]), PDF, "resume.pdf"),
        bad: BinaryFile(lying_docx(5 * 1024 * 1024), DOCX, "resume.docx"),
    }

    async def upload() -> None:
        async with ICIMSClient.from_settings(settings) as client:
            for person, file in files.items():
                await client.upload_binary("people", person, "resume", file)

    asyncio.run(upload())
    # iCIMS has no text rendering of either file (the sandbox cannot read them either).
    assert all(("people", p, "resume") not in tenant.texts for p in files)
    sync_mirror(settings)
    box.state.writelog.clear()
    store = MirrorStore(settings.mirror_database_url)
    yield Env(
        box,
        settings,
        store,
        {"encrypted": enc_wf, "lying": bad_wf, "readable": ok_wf},
        {"encrypted": enc, "lying": bad, "readable": ok},
    )
    store.close()


def test_unreadable_resumes_are_flagged_not_scored_and_held_for_a_person(env: Env, capfd) -> None:
    configure_logging()
    capfd.readouterr()
    deps = env.deps()
    with open_checkpointer(env.settings) as saver:
        graph = build_graph(saver, deps=deps)
        outcomes = {
            role: run_event(graph, customer_id=1000, event_id=f"e-{role}", workflow_id=wf)
            for role, wf in env.workflows.items()
        }
        readable = outcomes["readable"]
        assert readable["action"] == "pending_approval" and readable["pending"] == ["status"]
        assert "resume_unreadable" not in readable["flags"]
        for role, why in (("encrypted", "encrypted"), ("lying", "damaged file")):
            out = outcomes[role]
            # Held for a person: the AI fields wait too, though the policy is auto.
            assert out["action"] == "pending_approval", (role, out)
            assert out["pending"] == ["ai_fields", "status"]
            assert out["flags"] == ["resume_unreadable"] and out["tier"] == "review"
            assert out["writes"] == [] and out["sources"]["resume"].startswith("unreadable:")
            state = graph.get_state({"configurable": {"thread_id": out["thread_id"]}}).values
            assert state["assessment"]["rubric_version"] == "unscored"
            assert (
                state["policy"]["mode"] == "assist" and f"resume unreadable: {why}" in state["policy"]["rule"]
            )
            [pending] = pending_for_thread(graph, out["thread_id"])
            assert f"resume unreadable: {why}" in pending.request["action_request"]["args"]["flags"]
            [ai_fields] = [a for a in state["actions"] if a["kind"] == "ai_fields"]
            assert DEFAULT_FIELD_MAP["ai_score"] not in ai_fields["fields"]
        # Only the readable application's AI fields were written (by the policy), nothing else.
        assert [e.path for e in env.writes()] == [
            f"/customers/1000/applicantworkflows/{env.workflows['readable']}"
        ]

        # A recruiter accepts: the flag reaches iCIMS, a score never does.
        done = resume(
            graph, outcomes["encrypted"]["thread_id"], [{"type": "accept"}], approver="recruiter:dana"
        )
        assert [(w["id"], w["status"]) for w in done["writes"]] == [("ai_fields", "done"), ("status", "done")]
    fields_write = next(
        e
        for e in env.writes()
        if e.path.endswith(f"/{env.workflows['encrypted']}") and "status" not in e.body
    )
    assert DEFAULT_FIELD_MAP["ai_score"] not in fields_write.body
    assert fields_write.body[DEFAULT_FIELD_MAP["ai_flags"]] == "resume unreadable: encrypted"
    assert fields_write.body[DEFAULT_FIELD_MAP["ai_tier"]] == "Review"

    logged = "".join(capfd.readouterr())
    lines = [line for line in logged.splitlines() if "triage.resume_unreadable" in line]
    assert len(lines) == 2, logged
    for role, code in (("encrypted", "encrypted"), ("lying", "corrupt")):
        [line] = [x for x in lines if f"workflow_id={env.workflows[role]}" in x]
        assert f"code={code}" in line and f"person_id={env.people[role]}" in line
    # Ids only: no name, no file name, no resume text.
    assert "Jordan" not in logged and "resume.pdf" not in logged
    deps.close()
