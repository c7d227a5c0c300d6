"""The acceptance path in a real browser (headless Debian Chromium driven by Playwright, STACK_NOTES 8):
a recruiter signs in, opens the inbox, inspects a rediscovery shortlist with its evidence, removes one
candidate, approves, and the sandbox's write log shows exactly the approved writes; a second recruiter
cannot see the item. The real service (`server.app.create_app`) runs over a sandbox tenant after a
mirror sync and one rediscovery run."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.writelog import writes_by_target

from tools.embeddings import HashEmbeddings
from tools.icims.client import ICIMSClient
from tools.mirror import MirrorStore, MirrorSync

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("ICIMS_AGENTS_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
OPEN = "D31001"

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])"
)
if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
    pytest.skip(
        f"no Chromium at {CHROMIUM}: `.ci/run` installs Debian's `chromium` with apt-get "
        "(never `playwright install`, STACK_NOTES 8)",
        allow_module_level=True,
    )
expect = sync_api.expect


def _sync(settings: Any) -> MirrorStore:
    store = MirrorStore(settings.mirror_database_url)

    async def run() -> None:
        async with ICIMSClient.from_settings(settings) as client:
            await MirrorSync(store, client, progress=False).run(full=True)

    asyncio.run(run())
    return store


def _link_id(value: Any) -> int | None:
    return int(value["id"]) if isinstance(value, dict) and str(value.get("id", "")).isdigit() else None


@pytest.fixture
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def service(sandbox_factory, tmp_path):
    """The real app on 127.0.0.1 with one rediscovery shortlist pending for recruiter A's job."""
    from sandbox.server import ServerThread
    from server.app import create_app
    from server.auth import KeyStore

    box = sandbox_factory(people=40, seed=7)
    settings = box.settings(data_dir=str(tmp_path / "state"))
    store = _sync(settings)
    jobs = [
        r
        for r in store.iter_records("jobs")
        if (r.data.get("folder") or {}).get("id") == OPEN and _link_id(r.data.get("recruiter"))
    ]
    assert jobs, "the seeded tenant has an open requisition with a recruiter"
    job = jobs[0]
    recruiter_id = _link_id(job.data["recruiter"])
    store.close()

    # Keys are created before the app starts (same hashed key store under data_dir).
    keys = KeyStore.for_data_dir(settings.data_dir)
    admin = keys.create("admin", name="ops")[1]
    recruiter = keys.create("recruiter", name="Rita", recruiter_id=recruiter_id)[1]
    other = keys.create("recruiter", name="Oscar", recruiter_id=recruiter_id + 100000)[1]
    keys.close()

    app = create_app(settings, embeddings=HashEmbeddings())
    server = ServerThread(app).start()  # the socket listens already; requests wait for startup
    try:
        with httpx.Client(base_url=server.url, timeout=120) as http:
            run = http.post(
                "/runs/rediscovery",
                json={"input": {"job_id": job.id, "top_k": 4}},
                headers={"X-API-Key": admin},
            )
            assert run.status_code == 200, run.text
            info = run.json()
            assert info["status"] == "interrupted" and info["approval_id"], info
        assert not box.state.writelog  # nothing is written before approval
        yield {
            "url": server.url,
            "app": app,
            "box": box,
            "settings": settings,
            "job": job,
            "approval_id": info["approval_id"],
            "keys": {"admin": admin, "recruiter": recruiter, "other": other},
        }
    finally:
        server.stop()


def sign_in(page: Any, url: str, key: str) -> None:
    page.goto(f"{url}/ui/inbox")
    expect(page).to_have_url(re.compile(r"/ui/sign-in\?next="))
    # Keyboard only: the key field has focus (autofocus); type, then Enter submits the form.
    expect(page.get_by_label("API key")).to_be_focused()
    page.keyboard.type(key)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Approvals inbox")).to_be_visible()


def test_recruiter_reviews_edits_and_approves_a_shortlist_in_the_browser(service, browser):
    url, aid, box = service["url"], service["approval_id"], service["box"]
    job_title = service["job"].data.get("jobtitle")
    graph = service["app"].state.service.graphs["rediscovery"]
    candidates = graph.get_state({"configurable": {"thread_id": aid}}).values["shortlist"]
    assert len(candidates) >= 2

    # A second recruiter sees an empty inbox, and the item's URL is "not found" for them.
    other = browser.new_context()
    page = other.new_page()
    sign_in(page, url, service["keys"]["other"])
    expect(page.get_by_role("heading", name="Nothing is waiting for you")).to_be_visible()
    response = page.goto(f"{url}/ui/approvals/{aid}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.get_by_text(candidates[0]["name"])).to_have_count(0)
    other.close()

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, url, service["keys"]["recruiter"])
    row = page.get_by_role("row").filter(has_text=job_title)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(str(len(candidates)))
    row.get_by_role("link", name=re.compile("^Review")).click()

    # The shortlist with scores, reasons with their evidence quotes, gaps and proposed actions.
    expect(page.get_by_role("heading", name=f"Shortlist for {job_title}")).to_be_visible()
    table = page.get_by_role("table")
    expect(table.locator("tbody tr")).to_have_count(len(candidates))
    for c in candidates:
        rank_row = page.locator(f"#cand-{c['person_id']}")
        expect(rank_row.get_by_role("rowheader")).to_contain_text(c["name"])
        expect(rank_row.locator(".score")).to_have_text(str(c["score"]))
        # The strongest reason is shown with its evidence quote (weaker ones fold into "more reasons").
        top = max(c["reasons"], key=lambda r: r["points"])
        if (top.get("evidence") or {}).get("quote"):
            quote = " ".join(top["evidence"]["quote"].split())
            expect(rank_row.locator("blockquote q", has_text=quote[:40]).first).to_be_visible()
        flagged = sum(
            1 for r in c["reasons"] if r.get("flagged") or not (r.get("evidence") or {}).get("verified", True)
        )
        expect(rank_row.get_by_text("Unverified: quote not found in the source")).to_have_count(flagged)
        for gap in c["gaps"][:1]:
            expect(rank_row.get_by_text(gap["text"])).to_be_visible()
        expect(rank_row.get_by_label(f"Action for {c['name']}")).to_have_value(c["proposed_action"])

    results = ROOT / "results"
    results.mkdir(exist_ok=True)
    page.screenshot(path=str(results / "browser_approval_detail.png"), full_page=True)

    # Remove the last candidate (keyboard: focus the checkbox, Space unticks it), then approve.
    dropped, kept = candidates[-1], candidates[:-1]
    keep_box = page.get_by_label(f"Keep {dropped['name']}")
    keep_box.focus()
    page.keyboard.press("Space")
    expect(keep_box).not_to_be_checked()
    page.get_by_role("button", name="Approve kept candidates").click()

    expect(page.get_by_role("status")).to_contain_text(f"Shortlist for {job_title} approved with edits")
    expect(page.get_by_role("status")).to_contain_text("applied in iCIMS")
    expect(page.get_by_role("heading", name="Nothing is waiting for you")).to_be_visible()
    context.close()

    # Exactly the approved writes reached iCIMS: each kept candidate's workflow (created once or
    # PATCHed when it existed) and their enrichment tags; nothing for the dropped candidate.
    values = graph.get_state({"configurable": {"thread_id": aid}}).values
    writes = values["writes"]
    assert values["approval"]["decision"] == "edit"
    assert values["approval"]["edits"]["dropped"] == [dropped["person_id"]]
    assert values["approval"]["approver"].startswith("recruiter:Rita#")
    assert [(w["person_id"], w["action"]) for w in writes] == [
        (c["person_id"], c["proposed_action"]) for c in kept
    ]
    assert all(w["status"] == "done" for w in writes)
    entries = list(box.state.writelog)
    creates, patches = writes_by_target(entries)
    assert creates == Counter(
        (w["workflow_kind"], w["base_id"], w["person_id"]) for w in writes if w["created"]
    )
    assert patches == Counter((w["workflow_kind"], w["workflow_id"]) for w in writes) + Counter(
        ("people", w["person_id"]) for w in writes if (w["enrichment_tags"] or {}).get("patched")
    )
    touched = {e.body.get("associatedprofile") for e in entries if e.method == "POST"}
    touched |= {k[1] for k in patches if k[0] == "people"}
    assert dropped["person_id"] not in touched

    # The decision is in the audit log page, for an admin.
    audit = browser.new_context()
    page = audit.new_page()
    sign_in(page, url, service["keys"]["admin"])
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_text("Hash chain verified")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="approval_decision").filter(has_text=aid)).to_have_count(1)

    # The copilot page posts to POST /copilot/chat and shows the transcript (htmx swaps it in).
    page.get_by_role("link", name="Copilot").click()
    page.get_by_label("Message").fill("what can you do?")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".msg.user")).to_have_text(re.compile("what can you do"))
    expect(page.locator(".msg.assistant")).to_have_count(1)
    expect(page.get_by_role("alert")).to_have_count(0)
    audit.close()
