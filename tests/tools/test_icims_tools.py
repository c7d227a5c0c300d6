"""LangChain tools over the client: schemas, compact results, errors as tool messages."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tools.icims.client import ICIMSClient
from tools.icims.tools import make_icims_tools

pytestmark = pytest.mark.anyio

BASE = "https://api.icims.com"
API = f"{BASE}/customers/1000"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


PERSON = {
    "firstname": "Shari",
    "lastname": "Davis",
    "email": "shari@example.com",
    "folder": {"id": "D32006", "value": "Cand:Unreviewed", "formattedvalue": "Cand:Unreviewed"},
    "addresses": [{"entry": 1, "addresscity": "Boston", "addressstate": {"id": "D41001024", "abbrev": "MA"}}],
    "workexperience": [
        {"entry": 2, "workemployer": "Acme", "worktitle": "Analyst", "workstartdate": "2021-03-01"}
    ],
    "field51231": "Granted",
    "field51233": "No",
    "resume": {"file": f"{API}/people/1/fields/resume/binary"},
    "links": [{"rel": "self", "title": "The current profile being viewed.", "url": f"{API}/people/1"}],
}
JOB = {
    "jobid": "2025-1001",
    "jobtitle": "Data Analyst",
    "folder": {"id": "D31001", "value": "Approved"},
    "recruiter": {"profile": f"{API}/people/3", "id": 3, "value": "Jane Doe"},
    "field52001": "SQL; Python",
    "field52004": 70000,
    "field52006": "Hybrid",
}
WORKFLOW = {
    "baseprofile": {"profile": f"{API}/jobs/1001", "id": 1001, "value": "Data Analyst"},
    "associatedprofile": {"profile": f"{API}/people/1", "id": 1, "value": "Shari Davis"},
    "status": {"id": "C51220", "value": "Interview", "formattedvalue": "Interview"},
    "source": "Referral",
}


class FakeICIMS:
    def __init__(self) -> None:
        self.searches: list[dict[str, Any]] = []
        self.methods: set[str] = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.methods.add(request.method)
        path = request.url.path
        if path == "/customers/1000/people/1":
            return httpx.Response(200, json=PERSON)
        if path == "/customers/1000/jobs/1001":
            return httpx.Response(200, json=JOB)
        if path == "/customers/1000/applicantworkflows/10001":
            return httpx.Response(200, json=WORKFLOW)
        if path == "/customers/1000/people/1/fields/resume/text":
            return httpx.Response(200, text="x" * 500, headers={"content-type": "text/plain"})
        if path.startswith("/customers/1000/search/"):
            self.searches.append(json.loads(request.content))
            return httpx.Response(200, json={"searchResults": [{"id": i} for i in range(1, 1001)]})
        return httpx.Response(404, json={"errors": [{"errorMessage": "Person not found.", "errorCode": 2}]})


@pytest.fixture
def fake() -> FakeICIMS:
    return FakeICIMS()


@pytest.fixture
async def tools(fake: FakeICIMS) -> Any:
    client = ICIMSClient(base_url=BASE, customer_id=1000, auth=None, transport=httpx.MockTransport(fake))
    async with client:
        yield {tool.name: tool for tool in make_icims_tools(client)}


async def test_tool_set_is_read_only(tools: dict[str, Any], fake: FakeICIMS) -> None:
    assert sorted(tools) == [
        "icims_get_applicant_workflow",
        "icims_get_job",
        "icims_get_person",
        "icims_get_resume_text",
        "icims_search_jobs",
        "icims_search_people",
    ]
    for name, args in [
        ("icims_get_person", {"person_id": 1}),
        ("icims_get_job", {"job_id": 1001}),
        ("icims_get_applicant_workflow", {"workflow_id": 10001}),
        ("icims_search_people", {"last_name": "Doe"}),
        ("icims_search_jobs", {"title": "Analyst"}),
        ("icims_get_resume_text", {"person_id": 1}),
    ]:
        json.dumps(await tools[name].ainvoke(args))  # JSON-able
    assert fake.methods <= {"GET", "POST"}  # POST only for the Search API


async def test_get_person_is_compact(tools: dict[str, Any]) -> None:
    assert await tools["icims_get_person"].ainvoke({"person_id": 1}) == {
        "id": 1,
        "name": "Shari Davis",
        "email": "shari@example.com",
        "folder": "Cand:Unreviewed",
        "location": "Boston, MA",
        "experience": [{"title": "Analyst", "employer": "Acme", "start": "2021-03-01", "end": "present"}],
        "consent_status": "Granted",
        "opt_out": "No",
        "has_resume": True,
    }


async def test_get_job_and_workflow(tools: dict[str, Any]) -> None:
    job = await tools["icims_get_job"].ainvoke({"job_id": 1001})
    assert job["must_have_skills"] == ["SQL", "Python"]
    assert job["recruiter"] == {"id": 3, "name": "Jane Doe"}
    assert job["salary_min"] == 70000
    workflow = await tools["icims_get_applicant_workflow"].ainvoke({"workflow_id": 10001})
    assert workflow == {
        "id": 10001,
        "job": {"id": 1001, "name": "Data Analyst"},
        "person": {"id": 1, "name": "Shari Davis"},
        "status": "Interview",
        "status_id": "C51220",
        "source": "Referral",
    }


async def test_search_people_builds_filters_and_limits(tools: dict[str, Any], fake: FakeICIMS) -> None:
    since = datetime(2025, 1, 2, 3, 4, tzinfo=UTC)
    result = await tools["icims_search_people"].ainvoke(
        {"last_name": "Doe", "folder": "reviewed", "updated_since": since.isoformat(), "limit": 5}
    )
    assert result == {"ids": [1, 2, 3, 4, 5], "count": 5, "truncated": True}
    assert len(fake.searches) == 1  # stopped paging once the limit was reached
    assert fake.searches[0]["filters"] == [
        {"name": "person.lastname", "value": ["Doe"], "operator": "="},
        {"name": "person.folder", "value": ["D32007"], "operator": "="},
        {"name": "person.updateddate", "value": ["2025-01-02 03:04 AM"], "operator": ">"},
        {"name": "person.id", "value": ["0"], "operator": ">"},
    ]


async def test_resume_text_is_truncated(tools: dict[str, Any]) -> None:
    result = await tools["icims_get_resume_text"].ainvoke({"person_id": 1, "max_chars": 200})
    assert result["truncated"] is True
    assert len(result["text"]) == 200


async def test_errors_come_back_as_messages(tools: dict[str, Any]) -> None:
    message = await tools["icims_get_person"].ainvoke({"person_id": 99})
    assert isinstance(message, str)
    assert "not found" in message
    assert "iCIMS 404 (code 2): Person not found." in message
