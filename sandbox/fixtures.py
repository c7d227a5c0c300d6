"""Small hand-built tenants for tests (no reference data needed), and bulk people for paging tests.

`tiny_tenant()` holds a few records in exactly the docs/RECORDS.md shapes, with fixed timestamps, so a
test can assert on concrete values; `add_people()` adds many minimal people quickly (e.g. 1000 or
2500 to exercise the 1000-row search cap and the `id >` paging loop).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sandbox.serialize import node
from sandbox.store import Binary, Tenant
from tools.icims import codes
from tools.icims.codes import list_node

T0 = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
CUSTOMER_ID = 1000
API = "https://api.icims.com/customers/1000"

STATE_MA = {"id": "D41001024", "abbrev": "MA", "value": "Massachusetts"}
STATE_NY = {"id": "D41001035", "abbrev": "NY", "value": "New York"}
US = {"id": "D41001", "abbrev": "US", "value": "United States"}
HOME = node("D84002", "Home")
MOBILE = node("D83002", "Mobile")
RESUME_TEXT = "Shari Davis\nData Analyst\nSQL, Python, Tableau\n"


def tiny_tenant(customer_id: int = CUSTOMER_ID) -> Tenant:
    """People 1-4, company 501, jobs 1001-1002, pool 301, applicant workflows 10001-10002 and
    source workflow 10001; created at T0 + id minutes unless noted."""
    t = Tenant(customer_id)
    t.add(
        "companies",
        {
            "name": "Harbor Analytics",
            "addresses": [
                {
                    "entry": 23,
                    "addressstreet1": "1 Main St",
                    "addresscity": "Boston",
                    "addressstate": STATE_MA,
                    "addresszip": "02110",
                    "addresscountry": US,
                },
            ],
        },
        record_id=501,
        created=T0,
    )
    t.add(
        "people",
        {
            "firstname": "Shari",
            "lastname": "Davis",
            "email": "shari.davis@example.com",
            "folder": list_node(codes.CANDIDATE_UNREVIEWED),
            "addresses": [
                {
                    "entry": 1001,
                    "addressstreet1": "12 Elm St",
                    "addresscity": "Boston",
                    "addressstate": STATE_MA,
                    "addresszip": "02120",
                    "addresscountry": US,
                    "addresstype": HOME,
                },
            ],
            "phones": [{"entry": 5305, "phonenumber": "617-555-0101", "phonetype": MOBILE}],
            "workexperience": [
                {
                    "entry": 7001,
                    "workemployer": "Acme",
                    "worktitle": "Data Analyst",
                    "workstartdate": "2021-03-01",
                }
            ],
            "education": [
                {
                    "entry": 8001,
                    "school": {"value": "UMass Boston"},
                    "degree": {"value": "Bachelor's"},
                    "major": {"value": "Statistics"},
                    "graduationdate": "2020-05-15",
                }
            ],
            "source": "Career Site",
            "field51231": "Granted",
            "field51232": "2026-06-30",
            "field51233": "No",
            "field51234": "No",
            "field51238": "Hybrid",
        },
        record_id=1,
        created=T0 + timedelta(minutes=1),
        updated=T0 + timedelta(days=10, hours=3, seconds=30),
    )
    t.add(
        "people",
        {
            "firstname": "Mike",
            "lastname": "Smith",
            "email": "mike.smith@example.com",
            "folder": list_node(codes.CANDIDATE_REVIEWED),
            "addresses": [
                {
                    "entry": 1002,
                    "addresscity": "New York",
                    "addressstate": STATE_NY,
                    "addresszip": "10001",
                    "addresscountry": US,
                }
            ],
            "field51231": "Pending",
            "field51238": "Remote",
        },
        record_id=2,
        created=T0 + timedelta(minutes=2),
        updated=T0 + timedelta(days=20),
    )
    t.add(
        "people",
        {
            "firstname": "Jane",
            "lastname": "Doe",
            "email": "jane@example.org",
            "folder": list_node(codes.EMPLOYEE_FOLDER),
        },
        record_id=3,
        created=T0 + timedelta(minutes=3),
    )
    t.add(
        "people",
        {"firstname": "John", "lastname": "Doe", "folder": list_node(codes.CANDIDATE_UNREVIEWED)},
        record_id=4,
        created=T0 + timedelta(minutes=4),
        updated=T0 + timedelta(days=30),
    )
    for job_id, title, folder, salary in (
        (1001, "Data Analyst", list_node(codes.JOB_APPROVED), 70000),
        (1002, "Nurse", list_node(codes.JOB_CLOSED), 80000),
    ):
        t.add(
            "jobs",
            {
                "jobid": f"2025-{job_id}",
                "jobtitle": title,
                "folder": folder,
                "recruiter": {"profile": f"{API}/people/3", "id": 3, "value": "Jane Doe"},
                "joblocation": {
                    "companyid": 501,
                    "id": 23,
                    "value": "Harbor Analytics - Boston",
                    "address": f"{API}/companies/501/fields/addresses/23",
                },
                "numberofpositions": 2,
                "overview": f"We are hiring a {title}.",
                "positiontype": node("D33001", "Full-Time"),
                "field52001": "SQL; Python" if job_id == 1001 else "Patient care",
                "field52004": salary,
                "field52005": salary + 20000,
                "field52006": "Hybrid",
            },
            record_id=job_id,
            created=T0 + timedelta(hours=job_id - 1000),
        )
    t.add(
        "talentpools",
        {
            "title": "Analytics pipeline",
            "folder": list_node(codes.POOL_ACTIVE),
            "owner": {"profile": f"{API}/people/3", "id": 3, "value": "Jane Doe"},
        },
        record_id=301,
        created=T0,
    )
    t.add(
        "applicantworkflows",
        {
            "baseprofile": 1001,
            "associatedprofile": 1,
            "status": list_node(codes.APPLICANT_NEW_SUBMISSION),
            "source": "Career Site",
            "sourcename": "Company website",
        },
        record_id=10001,
        created=T0 + timedelta(days=1),
    )
    t.add(
        "applicantworkflows",
        {
            "baseprofile": 1002,
            "associatedprofile": 2,
            "status": list_node(codes.APPLICANT_INTERVIEW),
            "source": "Referral",
        },
        record_id=10002,
        created=T0 + timedelta(days=2),
    )
    t.add(
        "sourceworkflows",
        {
            "baseprofile": 301,
            "associatedprofile": 2,
            "status": node("D37002021001", "Needs Review"),
            "source": "Sourcing",
            "sourceorigin": node("D37002040003", "Web Services"),
        },
        record_id=10001,
        created=T0 + timedelta(days=3),
    )
    t.binaries[("people", 1, "resume")] = Binary(
        b"%PDF-1.4 fake resume", "application/pdf", "shari_davis.pdf"
    )
    t.texts[("people", 1, "resume")] = RESUME_TEXT
    return t


def add_people(tenant: Tenant, count: int, *, lastname: str = "Bulk", start: datetime = T0) -> list[int]:
    """`count` minimal candidates, updated one minute apart from `start`; returns their ids."""
    folder = list_node(codes.CANDIDATE_UNREVIEWED)
    ids = []
    for i in range(count):
        when = start + timedelta(minutes=i)
        ids.append(
            tenant.add(
                "people",
                {
                    "firstname": f"Person{i}",
                    "lastname": lastname,
                    "email": f"p{i}@example.com",
                    "folder": folder,
                },
                created=when,
            )
        )
    return ids
