"""The web pages without a browser or JavaScript: plain form posts against the pages router, over a
stand-in ApprovalService that records what the pages ask of it (the real service is covered by the
API tests and the browser test)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.testclient import TestClient

from server import pages
from server.approvals import ApprovalDetail, ApprovalSummary, Decision, ResolveResult
from server.auth import KeyStore
from server.errors import Forbidden, Invalid, NotFound

JOB = 4242
THREAD = f"rediscovery:1234:{JOB}"


def candidate(rank: int, pid: int, *, flagged: bool = False, action: str = "submit") -> dict[str, Any]:
    return {
        "rank": rank,
        "person_id": pid,
        "name": f"Person {pid}",
        "title": "Backend Engineer",
        "score": 90 - rank,
        "reasons": [
            {
                "criterion": "must-have Python",
                "points": 12,
                "text": "+12 must-have Python",
                "evidence": {"quote": f"Built Python services ({pid})", "source": "resume", "verified": True},
                "flagged": False,
            },
            {
                "criterion": "nice-to-have Kafka",
                "points": 4,
                "text": "+4 Kafka",
                "evidence": {"quote": "Ran Kafka at scale", "source": "resume", "verified": not flagged},
                "flagged": flagged,
            },
        ],
        "gaps": [{"criterion": "AWS", "text": "No AWS experience found"}],
        "flags": ["do_not_contact"] if flagged else [],
        "proposed_action": action,
        "pool_id": 301 if action == "add_to_pool" else None,
    }


class FakeApprovals:
    def __init__(self) -> None:
        self.created = (datetime.now(UTC) - timedelta(minutes=95)).isoformat()
        self.candidates = [
            candidate(1, 11),
            candidate(2, 12, flagged=True),
            candidate(3, 13, action="add_to_pool"),
        ]
        self.resolved: list[tuple[str, Decision]] = []
        self.pending = True

    def _summary(self, principal: Any) -> dict[str, Any]:
        return {
            "id": THREAD,
            "thread_id": THREAD,
            "interrupt_id": "i1",
            "graph": "rediscovery",
            "action": "rediscovery_shortlist",
            "job_id": JOB,
            "job_title": "Senior Python <Engineer>",
            "owner_id": 7,
            "owner_name": "Rita Recruiter",
            "hiring_manager_id": 8,
            "created_at": self.created,
            "age_minutes": 95.0,
            "items": len(self.candidates),
            "title": "rediscovery shortlist",
            "can_resolve": principal.role in ("recruiter", "admin"),
            "allowed": {"accept": True, "edit": True, "respond": True, "ignore": True},
        }

    def _visible(self, principal: Any) -> bool:
        return self.pending and (principal.role in ("admin", "auditor") or principal.recruiter_id in (7, 8))

    def list(self, principal: Any, **filters: Any) -> list[ApprovalSummary]:
        self.filters = filters
        if not self._visible(principal) or filters.get("job_id") not in (None, JOB):
            return []
        return [ApprovalSummary.model_validate(self._summary(principal))]

    def get(self, principal: Any, approval_id: str) -> ApprovalDetail:
        if approval_id != THREAD or not self._visible(principal):
            raise NotFound(f"no approval {approval_id!r}")
        args = {"job_id": JOB, "job_title": "Senior Python <Engineer>", "candidates": self.candidates}
        request = {
            "action_request": {"action": "rediscovery_shortlist", "args": copy.deepcopy(args)},
            "config": {"allow_accept": True, "allow_edit": True, "allow_respond": True, "allow_ignore": True},
            "description": "### Rediscovery",
        }
        return ApprovalDetail.model_validate(
            {
                **self._summary(principal),
                "request": request,
                "description": request["description"],
                "args": args,
                "approval_error": None,
            }
        )

    def resolve(self, principal: Any, approval_id: str, decision: Decision) -> ResolveResult:
        if principal.role in ("auditor", "hiring_manager"):
            raise Forbidden("read-only")
        self.get(principal, approval_id)
        if decision.type == "edit":
            kept = decision.args["candidates"]
            if any(c["proposed_action"] == "add_to_pool" and c["pool_id"] == 999 for c in kept):
                raise Invalid("talent pool 999 is not known")
        self.resolved.append((approval_id, decision))
        self.pending = False
        writes = [] if decision.type in ("respond", "ignore") else [{"person_id": 11}]
        return ResolveResult(
            approval_id=approval_id, status="resolved", decision=decision.type, writes=writes
        )

    def bulk_resolve(self, principal: Any, ids: list[str], decision: Decision) -> list[ResolveResult]:
        return [self.resolve(principal, i, decision) for i in ids]


class FakeAudit:
    def records(self, *, thread_id: str | None = None, trace_id: str | None = None) -> list[Any]:
        body = {"decision": "edit", "approver": {"name": "rita"}, "writes": [{}, {}], "changes": {}}
        return [
            SimpleNamespace(
                seq=1,
                key="k",
                kind="approval_decision",
                trace_id="t",
                thread_id=THREAD,
                recorded_at=datetime.now(UTC).isoformat(),
                body=body,
                hash="abcdef0123456789",
            )
        ]

    def verify(self) -> Any:
        return SimpleNamespace(ok=True, records=1, bad_seq=None, problem=None)


@pytest.fixture
def site(tmp_path):
    keys = KeyStore(tmp_path / "keys.sqlite")
    approvals = FakeApprovals()
    app = FastAPI()
    app.include_router(pages.router)
    app.state.service = SimpleNamespace(
        keys=keys, approvals=approvals, audit=FakeAudit(), graphs={"rediscovery": object()}
    )
    copilot_mode = {"kind": "json"}

    @app.post("/copilot/chat")
    async def chat(request: Request):
        body = await request.json()
        assert request.cookies[pages.COOKIE]  # the page calls as its signed-in caller
        if copilot_mode["kind"] == "sse":

            async def events():
                yield f"event: token\ndata: {json.dumps({'token': 'Hel'})}\n\n"
                yield f"event: token\ndata: {json.dumps({'token': 'lo'})}\n\n"
                yield "event: done\ndata: {}\n\n"

            return StreamingResponse(events(), media_type="text/event-stream")
        return JSONResponse({"reply": f"You said: {body['message']}", "thread_id": "copilot:1"})

    def key(role: str, recruiter_id: int | None = None) -> str:
        return keys.create(role, name=f"{role}-{recruiter_id}", recruiter_id=recruiter_id)[1]

    def client(role: str | None = None, recruiter_id: int | None = None) -> TestClient:
        c = TestClient(app, follow_redirects=False)
        if role:
            assert c.post("/ui/sign-in", data={"api_key": key(role, recruiter_id)}).status_code == 303
        return c

    yield SimpleNamespace(app=app, approvals=approvals, client=client, key=key, copilot=copilot_mode)
    keys.close()


def test_sign_in_sets_the_cookie_and_bad_keys_are_refused(site):
    c = site.client()
    assert c.get("/ui/inbox").headers["location"].startswith("/ui/sign-in?next=%2Fui%2Finbox")
    page = c.get("/ui/sign-in")
    assert page.status_code == 200 and '<label for="api_key">API key</label>' in page.text

    bad = c.post("/ui/sign-in", data={"api_key": "ica_nope_nope", "next": "/ui/inbox"})
    assert bad.status_code == 401 and "not valid" in bad.text and 'role="alert"' in bad.text
    assert pages.COOKIE not in bad.cookies

    key = site.key("recruiter", 7)
    ok = c.post("/ui/sign-in", data={"api_key": key, "next": "https://evil.example/"})
    assert ok.status_code == 303 and ok.headers["location"] == "/ui/inbox"  # never off-site
    cookie = ok.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    assert key.split("_", 2)[2] not in cookie  # a session id, never the key
    inbox = c.get("/ui/inbox")
    assert inbox.status_code == 200 and "Senior Python &lt;Engineer&gt;" in inbox.text  # escaped
    assert "1 h" in inbox.text and "Rita Recruiter" in inbox.text

    out = c.post("/ui/sign-out")
    assert out.status_code == 303 and c.get("/ui/inbox").status_code == 303


def test_inbox_filters_empty_state_and_bulk_approve(site):
    c = site.client("recruiter", 7)
    page = c.get("/ui/inbox", params={"job_id": "999", "older_than_minutes": "30", "graph": "rediscovery"})
    assert site.approvals.filters == {"graph": "rediscovery", "job_id": 999, "older_than_minutes": 30}
    assert "No approvals match these filters" in page.text and "Clear the filters" in page.text
    assert "Whole numbers only" in c.get("/ui/inbox", params={"job_id": "abc"}).text

    nothing = c.post("/ui/inbox/bulk", data={})
    assert "Nothing+selected" in nothing.headers["location"]
    done = c.post("/ui/inbox/bulk", data={"approval_id": [THREAD]})
    assert done.status_code == 303
    ((aid, decision),) = site.approvals.resolved
    assert (aid, decision.type) == (THREAD, "accept")
    after = c.get(done.headers["location"])
    assert "Approved 1 of 1 selected" in after.text and "Nothing is waiting for you" in after.text


def test_detail_shows_evidence_and_flags_and_an_edit_drops_a_candidate(site):
    c = site.client("recruiter", 7)
    page = c.get(f"/ui/approvals/{THREAD}")
    assert page.status_code == 200
    text = page.text
    assert "Built Python services (11)" in text and "No AWS experience found" in text
    assert text.count("Unverified: quote not found in the source") == 1  # person 12's Kafka reason
    assert "do not contact" in text
    for pid in (11, 12, 13):
        assert f'<label for="keep-{pid}" class="visually-hidden">Keep Person {pid}</label>' in text

    # Respond needs a note; the page says so and keeps the form.
    again = c.post(f"/ui/approvals/{THREAD}", data={"decision": "respond", "keep": ["11", "12", "13"]})
    assert again.status_code == 422 and "Write the feedback" in again.text
    # A refused edit (unknown pool) is shown on the page, with the reviewer's choices kept.
    refused = c.post(
        f"/ui/approvals/{THREAD}",
        data={"decision": "approve", "keep": ["11", "13"], "action_13": "add_to_pool", "pool_13": "999"},
    )
    assert refused.status_code == 422 and "talent pool 999 is not known" in refused.text
    assert 'id="keep-12" >' in refused.text or 'id="keep-12">' in refused.text  # unticked
    assert not site.approvals.resolved

    ok = c.post(
        f"/ui/approvals/{THREAD}",
        data={"decision": "approve", "keep": ["11", "13"], "action_11": "submit", "action_13": "add_to_pool"},
    )
    assert ok.status_code == 303
    ((_, decision),) = site.approvals.resolved
    assert decision.type == "edit"
    assert decision.args == {
        "candidates": [
            {"person_id": 11, "proposed_action": "submit", "pool_id": None},
            {"person_id": 13, "proposed_action": "add_to_pool", "pool_id": 301},
        ]
    }
    assert "approved with edits" in c.get(ok.headers["location"]).text


def test_unchanged_approval_is_an_accept_and_none_kept_is_refused(site):
    c = site.client("admin")
    empty = c.post(f"/ui/approvals/{THREAD}", data={"decision": "approve"})
    assert empty.status_code == 422 and "No candidate is selected" in empty.text
    c.post(f"/ui/approvals/{THREAD}", data={"decision": "approve", "keep": ["11", "12", "13"], "note": "ok"})
    ((_, decision),) = site.approvals.resolved
    assert (decision.type, decision.args, decision.note) == ("accept", None, "ok")


def test_roles_read_only_hidden_and_audit(site):
    manager = site.client("hiring_manager", 8)
    page = manager.get(f"/ui/approvals/{THREAD}")
    assert (
        page.status_code == 200
        and "Read-only" in page.text
        and '<form method="post" action="/ui/approvals' not in page.text
    )
    assert manager.post(f"/ui/approvals/{THREAD}", data={"decision": "ignore"}).status_code == 403
    shortlist = manager.get(f"/ui/requisitions/{JOB}")
    assert shortlist.status_code == 200 and "Built Python services (11)" in shortlist.text
    assert "Review and decide" not in shortlist.text
    assert manager.get("/ui/audit").status_code == 403

    other = site.client("recruiter", 99)
    missing = other.get(f"/ui/approvals/{THREAD}")
    assert missing.status_code == 404 and "Person 11" not in missing.text
    assert "Nothing is waiting for you" in other.get("/ui/inbox").text
    assert "No shortlist for this requisition" in other.get(f"/ui/requisitions/{JOB}").text

    auditor = site.client("auditor")
    log = auditor.get("/ui/audit")
    assert log.status_code == 200 and "Hash chain verified" in log.text and "abcdef012345" in log.text
    assert 'href="/ui/audit"' in log.text
    assert "Approve selected" not in auditor.get("/ui/inbox").text


def test_copilot_transcript_json_stream_and_unavailable(site):
    c = site.client("recruiter", 7)
    assert "No messages yet" in c.get("/ui/copilot").text
    first = c.post("/ui/copilot", data={"message": "find <python> people", "history": "[]"})
    assert first.status_code == 200 and "You said: find &lt;python&gt; people" in first.text
    assert 'name="thread_id" value="copilot:1"' in first.text

    site.copilot["kind"] = "sse"
    history = json.dumps([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hey"}])
    streamed = c.post("/ui/copilot", data={"message": "again", "history": history, "thread_id": "copilot:1"})
    assert streamed.text.count('class="msg user"') == 2 and ">Hello</div>" in streamed.text

    assert c.post("/ui/copilot", data={"message": " "}).status_code == 422
    site.app.router.routes = [r for r in site.app.router.routes if getattr(r, "path", "") != "/copilot/chat"]
    down = c.post("/ui/copilot", data={"message": "hello"})
    assert down.status_code == 503 and "not available" in down.text and 'role="alert"' in down.text


def test_static_assets_are_served_and_nothing_else():
    app = FastAPI()
    app.include_router(pages.router)
    c = TestClient(app)
    assert "htmx" in c.get("/ui/static/htmx.min.js").text[:2000]
    assert c.get("/ui/static/app.css").headers["content-type"].startswith("text/css")
    assert c.get("/ui/static/..%2Fpages.py").status_code == 404
    assert "Zero-Clause BSD" in c.get("/ui/static/htmx.LICENSE.txt").text


def test_age_formatting():
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert pages.age((now - timedelta(seconds=5)).isoformat(), now) == "just now"
    assert pages.age((now - timedelta(minutes=12)).isoformat(), now) == "12 min"
    assert pages.age((now - timedelta(hours=3)).isoformat(), now) == "3 h"
    assert pages.age((now - timedelta(days=2)).isoformat(), now) == "2 d"
    assert pages.age(None) == "" and pages.age("garbage") == ""
