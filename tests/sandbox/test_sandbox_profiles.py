"""Profiles, workflows, fields, collections and binaries over real HTTP, in iCIMS's shapes."""

from __future__ import annotations

from email import message_from_bytes
from email.message import Message

import httpx
import pytest

from sandbox.fixtures import RESUME_TEXT, tiny_tenant

pytestmark = pytest.mark.integration


class Api:
    """A bearer-authenticated client for one sandbox."""

    def __init__(self, sb):
        self.sb = sb
        self.base = f"{sb.url}/customers/1000"
        form = {
            "grant_type": "client_credentials",
            "client_id": "sandbox-client",
            "client_secret": "sandbox-secret",
        }
        access = httpx.post(f"{sb.url}/oauth/token", data=form).json()["access_token"]
        self.http = httpx.Client(headers={"Authorization": f"Bearer {access}"})

    def get(self, path: str, **kw) -> httpx.Response:
        return self.http.get(self.base + path, **kw)

    def patch(self, path: str, **kw) -> httpx.Response:
        return self.http.patch(self.base + path, **kw)

    def post(self, path: str, **kw) -> httpx.Response:
        return self.http.post(self.base + path, **kw)

    def delete(self, path: str, **kw) -> httpx.Response:
        return self.http.delete(self.base + path, **kw)


@pytest.fixture
def api(sandbox_factory):
    client = Api(sandbox_factory(tenant=tiny_tenant()))
    yield client
    client.http.close()


def error(reply: httpx.Response) -> tuple[int, int, str]:
    item = reply.json()["errors"][0]
    assert reply.headers["x-error"] == f"{item['errorCode']}:{item['errorMessage']}"
    return reply.status_code, item["errorCode"], item["errorMessage"]


def test_customer_endpoint(api):
    reply = api.get("")
    assert reply.status_code == 200
    assert reply.headers["x-customer-type"] == "test"
    assert reply.json()["customerType"] == "test" and reply.json()["id"] == 1000
    assert 'rel="profiles"' in reply.headers["link"]


def test_person_shape(api):
    reply = api.get("/people/1")
    assert reply.status_code == 200
    person = reply.json()
    assert "id" not in person
    assert person["links"] == [
        {"rel": "self", "title": "The current profile being viewed.", "url": f"{api.base}/people/1"}
    ]
    assert person["folder"] == {
        "id": "D32006",
        "value": "Cand:Unreviewed",
        "formattedvalue": "Cand:Unreviewed",
    }
    address = person["addresses"][0]
    assert address["entry"] == 1001 and address["addressstate"]["abbrev"] == "MA"
    assert person["phones"][0]["phonetype"]["value"] == "Mobile"
    assert person["createddate"] == "2025-01-01 09:01 AM"
    assert person["updateddate"] == "2025-01-11 12:00 PM"
    assert person["resume"] == {"file": f"{api.base}/people/1/fields/resume/binary"}
    assert person["field51231"] == "Granted"
    # Empty fields are left out rather than sent as null.
    assert all(value not in (None, "", []) for value in person.values())
    sparse = api.get("/people/4").json()
    assert set(sparse) == {"firstname", "lastname", "folder", "createddate", "updateddate", "links"}


def test_job_shape_rebases_stored_links(api):
    job = api.get("/jobs/1001").json()
    assert job["jobid"] == "2025-1001" and job["jobtitle"] == "Data Analyst"
    assert job["recruiter"] == {"profile": f"{api.base}/people/3", "id": 3, "value": "Jane Doe"}
    assert job["joblocation"]["address"] == f"{api.base}/companies/501/fields/addresses/23"
    assert job["field52004"] == 70000
    assert "id" not in job


def test_fields_projection(api):
    person = api.get("/people/1", params={"fields": "firstname,email,middlename,resume"}).json()
    assert set(person) == {"firstname", "email", "resume", "links"}
    assert api.get("/people/1/fields/phones").json()["phones"][0]["phonenumber"] == "617-555-0101"
    assert api.get("/people/4/fields/email").json() == {}


def test_workflow_shape(api):
    flow = api.get("/applicantworkflows/10001").json()
    assert flow["baseprofile"] == {"profile": f"{api.base}/jobs/1001", "id": 1001, "value": "Data Analyst"}
    assert flow["associatedprofile"] == {"profile": f"{api.base}/people/1", "id": 1, "value": "Shari Davis"}
    assert flow["status"]["id"] == "D10100"
    assert [(link["rel"], link["url"]) for link in flow["links"]] == [
        ("self", f"{api.base}/applicantworkflows/10001"),
        ("self", f"{api.base}/jobs/1001"),
        ("self", f"{api.base}/people/1"),
    ]
    pool = api.get("/sourceworkflows/10001").json()
    assert pool["baseprofile"]["profile"] == f"{api.base}/talentpools/301"
    assert pool["baseprofile"]["value"] == "Analytics pipeline"


def test_unknown_records_and_types(api):
    assert error(api.get("/people/999")) == (404, 2, "Person not found.")
    assert error(api.get("/jobs/1")) == (404, 2, "Job not found.")
    assert error(api.get("/applicantworkflows/5")) == (404, 2, "Applicant workflow not found.")
    assert error(api.get("/rooms/1"))[:2] == (404, 2)
    assert error(api.get("/people/abc"))[:2] == (404, 2)
    # Listing workflows is not part of the API.
    assert api.get("/applicantworkflows").status_code == 405


def test_patch_sets_and_clears_and_bumps_updateddate(api):
    api.sb.state.advance_clock(3600)
    reply = api.patch(
        "/people/1", json={"firstname": "Sharon", "field51238": None, "source": "", "links": []}
    )
    assert reply.status_code == 204 and reply.content == b""
    person = api.get("/people/1").json()
    assert person["firstname"] == "Sharon"
    assert "field51238" not in person and "source" not in person
    record = api.sb.state.tenant.get("people", 1)
    assert abs((api.sb.state.now() - record.updated).total_seconds()) < 5
    # A PATCH that changes nothing leaves updateddate alone.
    before = record.updated
    api.sb.state.advance_clock(3600)
    assert api.patch("/people/1", json={"firstname": "Sharon"}).status_code == 204
    assert api.sb.state.tenant.get("people", 1).updated == before


def test_patch_resolves_list_nodes_and_rejects_unknown_status(api):
    assert api.patch("/people/2", json={"folder": {"value": "Cand:Unreviewed"}}).status_code == 204
    assert api.get("/people/2").json()["folder"]["id"] == "D32006"
    assert error(api.patch("/applicantworkflows/10001", json={"status": {"id": "X999"}}))[:2] == (400, 5)
    assert api.sb.state.writelog[-1].path == "/customers/1000/people/2"


def test_post_profile(api):
    reply = api.post("/people", json={"firstname": "New", "lastname": "Person", "folder": {"id": "D32006"}})
    assert reply.status_code == 201
    assert reply.content == b"" and reply.headers["content-type"] == "application/octet-stream"
    location = reply.headers["location"]
    assert location.startswith(f"{api.base}/people/")
    person = api.http.get(location).json()
    assert person["folder"]["value"] == "Cand:Unreviewed" and person["lastname"] == "Person"


def test_required_fields(sandbox_factory):
    api = Api(sandbox_factory(tenant=tiny_tenant(), required_fields={"people": ["email"]}))
    assert error(api.post("/people", json={"firstname": "No", "lastname": "Email"}))[:2] == (400, 1)
    assert "email" in error(api.patch("/people/1", json={"email": None}))[2]
    # Person 4 has no email: even an unrelated change fails until the required field is filled.
    assert error(api.patch("/people/4", json={"firstname": "Johnny"}))[:2] == (400, 1)
    assert api.patch("/people/4", json={"firstname": "Johnny", "email": "j@example.com"}).status_code == 204
    assert api.sb.state.tenant.get("people", 1).data["email"] == "shari.davis@example.com"


def test_create_and_patch_workflows(api):
    reply = api.post(
        "/applicantworkflows",
        json={
            "baseprofile": 1001,
            "associatedprofile": 2,
            "status": {"id": "D10100"},
            "source": "Identify Feature",
        },
    )
    assert reply.status_code == 201
    location = reply.headers["location"]
    flow = api.http.get(location).json()
    assert flow["associatedprofile"]["id"] == 2 and flow["status"]["value"] == "New Submissions"
    # One workflow per person and job.
    duplicate = api.post("/applicantworkflows", json={"baseprofile": 1001, "associatedprofile": 2})
    assert error(duplicate)[:2] == (400, 5)
    assert error(api.post("/applicantworkflows", json={"associatedprofile": 2}))[:2] == (400, 1)
    assert error(api.post("/applicantworkflows", json={"baseprofile": 9, "associatedprofile": 2}))[:2] == (
        404,
        2,
    )

    api.sb.state.advance_clock(7200)
    results = [
        {
            "assessmentname": {"value": "Skills"},
            "assessmentscore": 87.5,
            "assessmentdate": "2025-05-01 10:30 AM",
        }
    ]
    assert (
        api.http.patch(location, json={"status": {"id": "C51218"}, "assessmentresults": results}).status_code
        == 204
    )
    flow = api.http.get(location).json()
    assert flow["status"] == {"id": "C51218", "value": "Reviewed", "formattedvalue": "Reviewed"}
    assert flow["assessmentresults"][0]["assessmentscore"] == 87.5
    assert isinstance(flow["assessmentresults"][0]["entry"], int)
    assert flow["updateddate"] != flow["createddate"]

    pool = api.post("/sourceworkflows", json={"baseprofile": 301, "associatedprofile": 1})
    created = api.http.get(pool.headers["location"]).json()
    assert created["status"]["id"] == "D37002021001" and created["sourceorigin"]["value"] == "Web Services"


def test_collections(api):
    reply = api.post(
        "/people/2/fields/phones", json={"phonetype": {"value": "Mobile"}, "phonenumber": "666 222 2222"}
    )
    assert reply.status_code == 201
    location = reply.headers["location"]
    assert location.startswith(f"{api.base}/people/2/fields/phones/")
    entry = api.http.get(location).json()
    assert entry["phonenumber"] == "666 222 2222" and entry["entry"] == int(location.rsplit("/", 1)[1])
    # A duplicate succeeds and changes nothing.
    again = api.post(
        "/people/2/fields/phones", json={"phonenumber": "666 222 2222", "phonetype": {"value": "mobile"}}
    )
    assert again.status_code == 201 and again.headers["location"] == location
    assert len(api.get("/people/2").json()["phones"]) == 1

    assert api.http.patch(location, json={"phonenumber": "617 000 0000"}).status_code == 204
    assert api.http.get(location).json()["phonenumber"] == "617 000 0000"
    assert api.http.delete(location).status_code == 204
    assert error(api.http.get(location))[:2] == (404, 2)
    assert "phones" not in api.get("/people/2").json()
    assert error(api.post("/people/2/fields/firstname", json={"x": "y"}))[:2] == (400, 5)


def test_resume_binary_and_text(api):
    reply = api.get("/people/1/fields/resume/binary")
    assert reply.status_code == 200
    assert reply.content == b"%PDF-1.4 fake resume"
    assert reply.headers["content-type"] == "application/pdf"
    assert 'filename="shari_davis.pdf"' in reply.headers["content-disposition"]

    text = api.get("/people/1/fields/resume/text")
    assert text.status_code == 200
    parts = _multipart(text)
    assert len(parts) == 1
    assert parts[0].get_content_type() == "text/plain" and parts[0].get_content_charset() == "utf-8"
    assert parts[0].get_filename() == "shari_davis.txt"
    assert parts[0].get_payload(decode=True).decode("utf-8") == RESUME_TEXT

    missing = api.get("/people/2/fields/resume/binary")
    assert missing.headers["content-type"] == "application/json" and error(missing)[:2] == (404, 2)
    assert error(api.get("/people/2/fields/resume/text"))[:2] == (404, 2)
    assert error(api.delete("/people/1/fields/resume/binary"))[:2] == (400, 5)


def test_upload_binary_then_text_and_delete(api):
    files = {"file": ("cv.txt", b"Mike Smith\nNurse, 10 years ICU\n", "text/plain")}
    assert api.patch("/people/2/fields/resume/binary", files=files).status_code == 204
    assert api.get("/people/2/fields/resume/binary").content.startswith(b"Mike Smith")
    parts = _multipart(api.get("/people/2/fields/resume/text"))
    assert parts[0].get_filename() == "cv.txt"
    assert "ICU" in parts[0].get_payload(decode=True).decode()
    assert api.get("/people/2").json()["resume"]["file"].endswith("/people/2/fields/resume/binary")
    assert api.sb.state.writelog[-1].body == {
        "multipart": [{"name": "file", "filename": "cv.txt", "content_type": "text/plain", "size": 31}]
    }

    offer = {"file": ("offer.pdf", b"%PDF offer", "application/pdf")}
    assert api.patch("/people/2/fields/field51240/binary", files=offer).status_code == 204
    assert api.get("/people/2").json()["field51240"]["file"].endswith("/fields/field51240/binary")
    assert api.delete("/people/2/fields/field51240/binary").status_code == 204
    assert api.get("/people/2/fields/field51240/binary").status_code == 404
    assert error(api.patch("/people/2/fields/resume/binary", json={"a": 1}))[:2] == (400, 5)


def _multipart(reply: httpx.Response) -> list[Message]:
    content_type = reply.headers["content-type"]
    assert content_type.startswith("multipart/mixed")
    message = message_from_bytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + reply.content)
    assert message.is_multipart()
    return list(message.get_payload())
