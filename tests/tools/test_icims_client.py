"""Client endpoints against httpx.MockTransport: paths, payloads, files, collections, bookkeeping."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tools.icims.client import BinaryFile, ICIMSClient
from tools.icims.errors import ICIMSError, ICIMSNotFound
from tools.icims.models import AssessmentResult, ListNode
from tools.settings import Settings

pytestmark = pytest.mark.anyio

BASE = "https://api.icims.com"
API = f"{BASE}/customers/1000"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Recorder:
    """Answers from a route table {(method, path): response} and records every request."""

    def __init__(self, routes: dict[tuple[str, str], httpx.Response]) -> None:
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.routes[(request.method, request.url.path)]

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)


def client_for(recorder: Recorder, **kwargs: Any) -> ICIMSClient:
    return ICIMSClient(
        base_url=BASE, customer_id=1000, auth=None, transport=httpx.MockTransport(recorder), **kwargs
    )


PERSON = {
    "firstname": "Shari",
    "lastname": "Davis",
    "folder": {"id": "D32006", "value": "Cand:Unreviewed", "formattedvalue": "Cand:Unreviewed"},
    "field51231": "Granted",
    "links": [{"rel": "self", "title": "The current profile being viewed.", "url": f"{API}/people/1"}],
}


async def test_get_profile_with_fields_uses_literal_commas() -> None:
    rec = Recorder({("GET", "/customers/1000/people/1"): httpx.Response(200, json=PERSON)})
    async with client_for(rec) as client:
        assert await client.get_profile("people", 1, fields=["firstname", "lastname", "field51231"]) == PERSON
        await client.get_profile("people", 1)
    assert rec.requests[0].url.raw_path == b"/customers/1000/people/1?fields=firstname,lastname,field51231"
    assert rec.requests[1].url.query == b""
    assert rec.requests[0].headers["accept"] == "application/json"


async def test_typed_getters() -> None:
    rec = Recorder({("GET", "/customers/1000/people/1"): httpx.Response(200, json=PERSON)})
    async with client_for(rec) as client:
        person = await client.get_person(1)
    assert person.full_name == "Shari Davis"
    assert person.record_id == 1
    assert person.folder == ListNode(id="D32006", value="Cand:Unreviewed", formattedvalue="Cand:Unreviewed")
    assert person.custom_fields == {"field51231": "Granted"}


async def test_rejects_path_injection() -> None:
    rec = Recorder({})
    async with client_for(rec) as client:
        with pytest.raises(ValueError):
            await client.get_profile("people/../jobs", 1)
        with pytest.raises(ValueError):
            await client.get_profile("people", 1, fields=["firstname&x=1"])
        with pytest.raises(ValueError):
            await client.get_workflow("people", 1)
    assert rec.requests == []


async def test_create_and_patch_profile() -> None:
    rec = Recorder(
        {
            ("POST", "/customers/1000/people"): httpx.Response(
                201, headers={"Location": f"{API}/people/77", "content-type": "application/octet-stream"}
            ),
            ("PATCH", "/customers/1000/people/77"): httpx.Response(
                204, headers={"Location": f"{API}/people/77"}
            ),
        }
    )
    async with client_for(rec) as client:
        assert await client.create_profile("people", {"firstname": "A", "lastname": "B"}) == 77
        assert await client.update_profile("people", 77, {"email": None, "field51233": "Yes"}) is None
    assert rec.body(0) == {"firstname": "A", "lastname": "B"}
    assert rec.requests[0].headers["content-type"] == "application/json"
    assert rec.body(1) == {"email": None, "field51233": "Yes"}


async def test_workflow_status_assessments_and_source_workflow() -> None:
    path = "/customers/1000/applicantworkflows/10001"
    rec = Recorder(
        {
            ("PATCH", path): httpx.Response(204),
            ("POST", "/customers/1000/sourceworkflows"): httpx.Response(
                201, headers={"Location": f"{API}/sourceworkflows/10009"}
            ),
        }
    )
    async with client_for(rec) as client:
        await client.set_workflow_status("applicantworkflows", 10001, "C51218")
        await client.write_assessment_results(
            10001,
            [
                AssessmentResult(
                    assessmentname=ListNode(value="AI screen"),
                    assessmentdate=datetime(2025, 5, 1, 10, 30, tzinfo=UTC),
                    assessmentscore=87.5,
                    assessmentnotes="Strong SQL",
                ),
                {"assessmentname": {"value": "Manual"}, "assessmentscore": 50},
            ],
        )
        assert await client.create_source_workflow(301, 2, source="Sourcing") == 10009
    assert rec.body(0) == {"status": {"id": "C51218"}}
    assert rec.body(1) == {
        "assessmentresults": [
            {
                "assessmentname": {"value": "AI screen"},
                "assessmentdate": "2025-05-01 10:30 AM",
                "assessmentscore": 87.5,
                "assessmentnotes": "Strong SQL",
            },
            {"assessmentname": {"value": "Manual"}, "assessmentscore": 50},
        ]
    }
    assert rec.body(2) == {
        "baseprofile": 301,
        "associatedprofile": 2,
        "status": {"id": "D37002021001"},
        "source": "Sourcing",
        "sourceorigin": {"id": "D37002040003"},
    }


async def test_resume_binary_and_missing_resume() -> None:
    rec = Recorder(
        {
            ("GET", "/customers/1000/people/1/fields/resume/binary"): httpx.Response(
                200,
                content=b"%PDF-1.4",
                headers={
                    "content-type": "application/pdf",
                    "content-disposition": 'attachment; filename="cv.pdf"',
                },
            ),
            ("GET", "/customers/1000/people/2/fields/resume/binary"): httpx.Response(
                404, json={"errors": [{"errorMessage": "No file found for field resume.", "errorCode": 2}]}
            ),
            ("GET", "/customers/1000/people/3/fields/resume/binary"): httpx.Response(
                200, json={"errors": [{"errorMessage": "no file", "errorCode": 2}]}
            ),
        }
    )
    async with client_for(rec) as client:
        assert await client.get_resume(1) == BinaryFile(b"%PDF-1.4", "application/pdf", "cv.pdf")
        assert await client.get_resume(2) is None
        assert await client.get_resume(3) is None


def multipart(text: str, charset: str = "utf-8") -> httpx.Response:
    body = (
        (
            "--XyZ\r\n"
            f"Content-Type: text/plain; charset={charset}\r\n"
            'Content-Disposition: attachment; filename="cv.txt"\r\n\r\n'
        ).encode()
        + text.encode(charset)
        + b"\r\n--XyZ--\r\n"
    )
    return httpx.Response(200, content=body, headers={"content-type": 'multipart/mixed; boundary="XyZ"'})


async def test_resume_text_multipart_plain_and_404() -> None:
    text = "Shari Davis\nDatenanalystin – SQL, Python\n"
    rec = Recorder(
        {
            ("GET", "/customers/1000/people/1/fields/resume/text"): multipart(text),
            ("GET", "/customers/1000/people/2/fields/resume/text"): httpx.Response(
                200, text="plain résumé", headers={"content-type": "text/plain; charset=utf-8"}
            ),
            ("GET", "/customers/1000/people/3/fields/resume/text"): httpx.Response(
                404, json={"errors": [{"errorMessage": "No text found for field resume.", "errorCode": 2}]}
            ),
        }
    )
    async with client_for(rec) as client:
        assert await client.get_resume_text(1) == text
        assert await client.get_resume_text(2) == "plain résumé"
        assert await client.get_resume_text(3) is None


async def test_upload_binary_is_multipart_patch() -> None:
    rec = Recorder({("PATCH", "/customers/1000/people/1/fields/field51240/binary"): httpx.Response(204)})
    async with client_for(rec) as client:
        await client.upload_binary(
            "people", 1, "field51240", BinaryFile(b"%PDF", "application/pdf", "offer.pdf")
        )
    request = rec.requests[0]
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'filename="offer.pdf"' in request.content
    assert b"Content-Type: application/pdf" in request.content


async def test_collection_entries() -> None:
    base = "/customers/1000/people/1/fields/phones"
    rec = Recorder(
        {
            ("POST", base): httpx.Response(201, headers={"Location": f"{API}/people/1/fields/phones/5310"}),
            ("GET", f"{base}/5310"): httpx.Response(200, json={"entry": 5310, "phonenumber": "666 222 2222"}),
            ("PATCH", f"{base}/5310"): httpx.Response(204),
            ("DELETE", f"{base}/5310"): httpx.Response(204),
        }
    )
    entry = {"phonetype": {"value": "Mobile"}, "phonenumber": "666 222 2222"}
    async with client_for(rec) as client:
        entry_id = await client.create_collection_entry("people", 1, "phones", entry)
        assert entry_id == 5310
        assert (await client.get_collection_entry("people", 1, "phones", entry_id))["entry"] == 5310
        await client.update_collection_entry("people", 1, "phones", entry_id, {"phonenumber": "1"})
        await client.delete_collection_entry("people", 1, "phones", entry_id)
    assert [r.method for r in rec.requests] == ["POST", "GET", "PATCH", "DELETE"]
    assert rec.body(0) == entry


async def test_customer_and_single_field() -> None:
    rec = Recorder(
        {
            ("GET", "/customers/1000"): httpx.Response(200, json={"id": 1000, "customerType": "test"}),
            ("GET", "/customers/1000/people/1/fields/phones"): httpx.Response(200, json={"phones": []}),
        }
    )
    async with client_for(rec) as client:
        assert (await client.get_customer())["customerType"] == "test"
        assert await client.get_field("people", 1, "phones") == {"phones": []}


async def test_non_json_success_body_is_a_clear_error() -> None:
    rec = Recorder({("GET", "/customers/1000/people/1"): httpx.Response(200, text="<html>")})
    async with client_for(rec) as client:
        with pytest.raises(ICIMSError, match="expected JSON"):
            await client.get_profile("people", 1)


async def test_date_and_rate_limit_bookkeeping() -> None:
    headers = {
        "Date": "Tue, 04 Mar 2025 21:25:01 GMT",
        "x-ratelimit-limit": "20000",
        "x-ratelimit-remaining": "19902",
        "x-ratelimit-reset": "9299",
    }
    rec = Recorder(
        {
            ("GET", "/customers/1000/people/1"): httpx.Response(200, json={}, headers=headers),
            ("GET", "/customers/1000/people/2"): httpx.Response(
                404, json={"errors": []}, headers={"Date": "Tue, 04 Mar 2025 21:26:00 GMT"}
            ),
        }
    )
    async with client_for(rec) as client:
        assert client.last_response_date is None
        await client.get_profile("people", 1)
        assert client.last_response_date == datetime(2025, 3, 4, 21, 25, 1, tzinfo=UTC)
        assert client.last_response_date.tzinfo is not None
        limit = client.last_rate_limit
        assert limit is not None
        assert (limit.limit, limit.remaining, limit.reset_seconds) == (20000, 19902, 9299.0)
        with pytest.raises(ICIMSNotFound):
            await client.get_profile("people", 2)
        # Error responses date the server clock too.
        assert client.last_response_date == datetime(2025, 3, 4, 21, 26, tzinfo=UTC)
        assert client.requests_sent == 2


async def test_concurrency_is_bounded_by_the_semaphore() -> None:
    in_flight = 0
    peak = 0
    gate = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        if peak == 3:
            gate.set()  # the bound is reached: let everyone finish
        await gate.wait()
        in_flight -= 1
        return httpx.Response(200, json={})

    client = ICIMSClient(
        base_url=BASE, customer_id=1000, auth=None, transport=httpx.MockTransport(handler), max_concurrency=3
    )
    async with client:
        await asyncio.gather(*(client.get_profile("people", i) for i in range(1, 11)))
    assert peak == 3


async def test_from_settings_wires_everything() -> None:
    settings = Settings(
        _env_file=None,
        icims_base_url="http://127.0.0.1:9/",
        icims_customer_id=4321,
        icims_auth_mode="basic",
        icims_max_retries=2,
    )
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    async with ICIMSClient.from_settings(settings, transport=httpx.MockTransport(handler)) as client:
        await client.get_profile("jobs", 1001)
        assert client.retry_policy.max_retries == 2
    assert str(seen[0].url) == "http://127.0.0.1:9/customers/4321/jobs/1001"
    assert seen[0].headers["authorization"].startswith("Basic ")
