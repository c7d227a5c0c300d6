"""The client over real HTTP against the sandbox (`sandbox_factory`, tests/conftest.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from tools.icims.budget import Priority, RequestBudget
from tools.icims.client import BinaryFile, ICIMSClient
from tools.icims.errors import (
    BudgetExhausted,
    ICIMSAuthError,
    ICIMSBadRequest,
    ICIMSNotFound,
    QuotaExhausted,
)
from tools.icims.models import ApplicantWorkflow
from tools.icims.search import F, SearchFilter, SearchQuery, or_

pytestmark = [pytest.mark.anyio, pytest.mark.integration]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Waits(list[float]):
    """Records backoff waits instead of sleeping (the sandbox's Retry-After is honoured in value)."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def connect(running: Any, budget: RequestBudget | None = None, **overrides: Any) -> ICIMSClient:
    settings_overrides = {k: v for k, v in overrides.items() if k.startswith("icims_")}
    client_overrides = {k: v for k, v in overrides.items() if not k.startswith("icims_")}
    client_overrides.setdefault("sleep", Waits())
    return ICIMSClient.from_settings(
        running.settings(**settings_overrides), budget=budget, **client_overrides
    )


async def admin(running: Any, method: str, path: str, body: Any = None) -> Any:
    async with httpx.AsyncClient(base_url=running.url) as http:
        response = await http.request(method, path, json=body)
        response.raise_for_status()
        return response.json()


def person_with_resume(running: Any) -> int:
    return min(
        pid for kind, pid, field in running.state.tenant.binaries if kind == "people" and field == "resume"
    )


@pytest.mark.parametrize("mode", ["oauth", "basic", "hmac"])
async def test_each_auth_mode_reads_searches_and_writes(sandbox_factory: Any, mode: str) -> None:
    running = sandbox_factory(people=5)
    async with connect(running, icims_auth_mode=mode) as client:
        person = await client.get_profile("people", 1, fields=["firstname", "lastname", "email"])
        assert set(person) <= {"firstname", "lastname", "email", "links"}
        assert person["firstname"] == running.state.tenant.get("people", 1).data["firstname"]
        ids = await client.search("people", SearchQuery(filters=[F("person.id").gt(0)]), staleness=0)
        assert ids == [1, 2, 3, 4, 5]
        await client.update_profile("people", 2, {"field51238": "Remote only"})  # a signed body
        assert (await client.get_profile("people", 2, fields=["field51238"]))["field51238"] == "Remote only"
        assert client.requests_sent == 4
        assert client.requests_sent == running.state.requests_total
        # The server's clock, not ours.
        assert client.last_response_date is not None
        assert abs(client.last_response_date - running.state.now()) < timedelta(seconds=5)


@pytest.mark.parametrize(
    ("mode", "overrides", "code"),
    [
        ("oauth", {"icims_client_secret": "wrong"}, "access_denied"),
        ("basic", {"icims_password": "wrong"}, 6),
        ("hmac", {"icims_hmac_secret": "wrong"}, 9),
    ],
)
async def test_bad_credentials(sandbox_factory: Any, mode: str, overrides: dict[str, str], code: Any) -> None:
    running = sandbox_factory(people=1)
    async with connect(running, icims_auth_mode=mode, **overrides) as client:
        with pytest.raises(ICIMSAuthError) as info:
            await client.get_profile("people", 1)
    assert info.value.code == code


@pytest.mark.parametrize(("count", "requests"), [(999, 1), (1000, 2), (1001, 2), (2500, 3)])
async def test_search_paging_at_the_1000_row_boundary(
    sandbox_factory: Any, count: int, requests: int
) -> None:
    from sandbox.fixtures import add_people

    running = sandbox_factory(people=0)
    expected = add_people(running.state.tenant, count, lastname="Pagetest")
    query = SearchQuery(filters=[F("person.lastname").exact("Pagetest")])
    async with connect(running, icims_auth_mode="basic") as client:
        pages = [page async for page in client.search_ids("people", query, priority=Priority.BACKGROUND)]
        assert client.requests_sent == requests
    assert [i for page in pages for i in page] == expected
    assert all(len(page) <= 1000 for page in pages)


async def test_paging_an_or_query_and_resuming(sandbox_factory: Any) -> None:
    from sandbox.fixtures import add_people

    running = sandbox_factory(people=0)
    first = add_people(running.state.tenant, 700, lastname="Alpha")
    second = add_people(running.state.tenant, 700, lastname="Beta")
    query = or_(F("person.lastname").exact("Alpha"), F("person.lastname").exact("Beta"))
    async with connect(running, icims_auth_mode="basic") as client:
        ids = [i async for page in client.search_ids("people", query) for i in page]
        assert ids == first + second
        resumed = [i async for page in client.search_ids("people", query, after_id=first[-1]) for i in page]
        assert resumed == second
        # The mirror's full listing: a lone `id > 0` filter advanced page by page.
        full = SearchQuery(filters=[SearchFilter(name="person.id", value=["0"], operator=">")])
        assert [i async for page in client.search_ids("people", full) for i in page] == first + second


async def test_429_with_retry_after_from_fault_injection(sandbox_factory: Any) -> None:
    running = sandbox_factory(people=3, faults={"rate_429": 0.5, "retry_after_seconds": 2, "seed": 11})
    waits = Waits()
    async with connect(running, icims_auth_mode="basic", sleep=waits, retry_wait_base=0.01) as client:
        for _ in range(8):
            await client.get_profile("people", 1)
        injected = running.state.fault_injector.injected.get(429, 0)
        assert injected > 0
        assert len(waits) == injected
        assert all(wait >= 2.0 for wait in waits)  # Retry-After is the floor
        assert client.requests_sent == 8 + injected == running.state.requests_total


async def test_token_refresh_after_sandbox_expires_tokens(sandbox_factory: Any) -> None:
    running = sandbox_factory(people=2)
    async with connect(running, icims_auth_mode="oauth") as client:
        await client.get_profile("people", 1)
        assert (await admin(running, "POST", "/_sandbox/tokens/expire"))["expired"] == 1
        await client.get_profile("people", 2)
        # One 401, one token refresh, one resend.
        assert client.requests_sent == 3 == running.state.requests_total
        assert running.state.requests_by_status[401] == 1
        assert running.state.tokens.issued_total == 2
        await client.get_profile("people", 1)
        assert running.state.tokens.issued_total == 2


async def test_not_found_and_access_denied(sandbox_factory: Any) -> None:
    running = sandbox_factory(people=2)
    async with connect(running, icims_auth_mode="basic") as client:
        with pytest.raises(ICIMSNotFound) as info:
            await client.get_profile("people", 99_999)
        assert info.value.code == 2
        assert not info.value.access_denied
        assert str(info.value) == "iCIMS 404 (code 2): Person not found. [GET /customers/1000/people/99999]"
        with pytest.raises(ICIMSNotFound):
            await client.get_workflow("applicantworkflows", 99_999)
        assert await client.get_resume(99_999) is None
    # Credentials of customer 1000 used on another customer: iCIMS answers 404, code 3.
    async with connect(running, icims_auth_mode="basic", icims_customer_id=2000) as other:
        with pytest.raises(ICIMSNotFound) as info:
            await other.get_profile("people", 1)
        assert info.value.access_denied


async def test_create_and_patch_workflows(sandbox_factory: Any) -> None:
    running = sandbox_factory(people=2)
    async with connect(running, icims_auth_mode="hmac") as client:
        person_id = await client.create_profile(
            "people", {"firstname": "Ada", "lastname": "Lovelace", "email": "ada@example.com"}
        )
        assert (await client.get_person(person_id)).full_name == "Ada Lovelace"
        workflow_id = await client.create_applicant_workflow(
            1001, person_id, source="Agent", sourcename="AI sourcing"
        )
        workflow = await client.get_applicant_workflow(workflow_id)
        assert (workflow.record_id, workflow.job_id, workflow.person_id) == (workflow_id, 1001, person_id)
        assert workflow.status is not None and workflow.status.id == "D10100"

        await client.set_workflow_status("applicantworkflows", workflow_id, "C51218")
        await client.write_assessment_results(
            workflow_id, [{"assessmentname": {"value": "AI screen"}, "assessmentscore": 87.5}]
        )
        raw = await client.get_workflow("applicantworkflows", workflow_id)
        updated = ApplicantWorkflow.model_validate(raw)
        assert updated.status is not None and updated.status.id == "C51218"
        assert updated.assessmentresults[0].assessmentscore == 87.5

        # One workflow per person and job: the duplicate is a 400, and it is not retried.
        sent = client.requests_sent
        with pytest.raises(ICIMSBadRequest):
            await client.create_applicant_workflow(1001, person_id)
        assert client.requests_sent == sent + 1

        pool_id = min(running.state.tenant.records["talentpools"])
        source_id = await client.create_source_workflow(pool_id, person_id, source="Sourcing")
        source = await client.get_source_workflow(source_id)
        assert source.talentpool_id == pool_id
        assert source.sourceorigin is not None and source.sourceorigin.id == "D37002040003"

        entry_id = await client.create_collection_entry(
            "people", person_id, "phones", {"phonetype": {"value": "Mobile"}, "phonenumber": "666 222 2222"}
        )
        assert (await client.get_collection_entry("people", person_id, "phones", entry_id))[
            "phonenumber"
        ] == ("666 222 2222")
        await client.update_collection_entry("people", person_id, "phones", entry_id, {"phonenumber": "1"})
        await client.delete_collection_entry("people", person_id, "phones", entry_id)
        with pytest.raises(ICIMSNotFound):
            await client.get_collection_entry("people", person_id, "phones", entry_id)

    writes = [(entry.method, entry.path) for entry in running.state.writelog]
    assert ("PATCH", f"/customers/1000/applicantworkflows/{workflow_id}") in writes
    assert ("POST", "/customers/1000/applicantworkflows") in writes


async def test_resume_binary_and_text(sandbox_factory: Any) -> None:
    running = sandbox_factory(people=20)
    tenant = running.state.tenant
    with_resume = person_with_resume(running)
    without = min(set(tenant.records["people"]) - {pid for _, pid, _ in tenant.binaries})
    async with connect(running, icims_auth_mode="oauth") as client:
        stored = tenant.get_binary("people", with_resume, "resume")
        assert stored is not None
        resume = await client.get_resume(with_resume)
        assert resume is not None
        assert (resume.content, resume.filename) == (stored.content, stored.filename)
        assert resume.content_type.startswith(stored.content_type)  # the server may add a charset
        assert await client.get_resume_text(with_resume) == tenant.get_text("people", with_resume, "resume")
        assert await client.get_resume(without) is None
        assert await client.get_resume_text(without) is None

        text = "Grace Hopper\nCOBOL, compilers – and naval leadership\n"
        upload = BinaryFile(text.encode(), "text/plain", "grace.txt")
        await client.upload_binary("people", without, "resume", upload)
        uploaded = await client.get_resume(without)
        assert uploaded is not None
        assert (uploaded.content, uploaded.filename) == (upload.content, upload.filename)
        assert (await client.get_resume_text(without) or "").strip() == text.strip()


async def test_daily_quota_and_budget(sandbox_factory: Any) -> None:
    running = sandbox_factory(people=2, daily_limit=6)
    budget = RequestBudget(daily_limit=10_000, reserve_realtime=2, reserve_writes=1)
    async with connect(running, budget=budget, icims_auth_mode="basic") as client:
        await client.get_profile("people", 1, priority=Priority.BACKGROUND)
        assert budget.remaining == 5  # synced from x-ratelimit-remaining
        await client.get_profile("people", 1, priority=Priority.BACKGROUND)
        await client.get_profile("people", 1, priority=Priority.BACKGROUND)
        with pytest.raises(BudgetExhausted):  # 3 left = the realtime + write reserves
            await client.get_profile("people", 1, priority=Priority.BACKGROUND)
        await client.update_profile("people", 1, {"field51238": "x"}, priority=Priority.WRITE)
        await client.get_profile("people", 1, priority=Priority.REALTIME)
        await client.get_profile("people", 1, priority=Priority.REALTIME)
        assert running.state.requests_total == 6
        # Someone else spent the rest meanwhile? The server is authoritative.
        await admin(running, "POST", "/_sandbox/quota", {"used": 5})
        budget.observe(limit=None, remaining=1, reset_seconds=None)
        await admin(running, "POST", "/_sandbox/quota", {"used": 6})
        with pytest.raises(QuotaExhausted) as info:
            await client.get_profile("people", 1, priority=Priority.REALTIME)
        assert info.value.reset_seconds is not None and info.value.reset_seconds > 0
        assert running.state.requests_total == 7  # refused once, not retried
        with pytest.raises(BudgetExhausted):
            await client.get_profile("people", 1, priority=Priority.REALTIME)
        assert running.state.requests_total == 7
