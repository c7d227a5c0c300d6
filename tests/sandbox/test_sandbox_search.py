"""Search API semantics (API_NOTES 3.3): filters, operators, dates, nesting, errors, cap, paging, speed."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from sandbox.app import create_app
from sandbox.config import SandboxConfig
from sandbox.errors import ICIMSError
from sandbox.fixtures import T0, add_people, tiny_tenant
from sandbox.search import run_search
from sandbox.store import Tenant

# One pooled client: a new httpx client per call would rebuild its TLS context every time.
HTTP = httpx.Client(timeout=30)


def f(name: str, *values: str, op: str | None = None, secondary: list[str] | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"name": name, "value": list(values)}
    if op is not None:
        item["operator"] = op
    if secondary is not None:
        item["secondaryValue"] = secondary
    return item


@pytest.fixture(scope="module")
def tenant() -> Tenant:
    return tiny_tenant()


def ids(tenant: Tenant, kind: str, *filters: dict[str, Any], operator: str = "&", **group: Any) -> list[int]:
    return run_search(tenant, kind, {"filters": list(filters), "operator": operator, **group})


def test_text_operators(tenant):
    assert ids(tenant, "people", f("person.lastname", "DO")) == [3, 4]  # `=` is contains, any case
    assert ids(tenant, "people", f("person.lastname", "do", op="==")) == []
    assert ids(tenant, "people", f("person.lastname", "doe", op="==")) == [3, 4]
    assert ids(tenant, "people", f("person.lastname", "doe", op="!=")) == [1, 2]
    assert ids(tenant, "people", f("person.lastname", "do", op="!==")) == [1, 2, 3, 4]
    assert ids(tenant, "people", f("person.firstname", "Jane", "Mike")) == [2, 3]  # values are ORed
    # A person without an email does not contain the text, so `!=` keeps them.
    assert ids(tenant, "people", f("person.email", "example.com", op="!=")) == [3, 4]


def test_list_nodes_by_id_or_text(tenant):
    assert ids(tenant, "people", f("person.folder", "D32006")) == [1, 4]
    assert ids(tenant, "people", f("person.folder", "cand:reviewed")) == [2]
    assert ids(tenant, "people", f("person.folder", "D32006", op="!=")) == [2, 3]
    assert ids(tenant, "people", f("person.folder", "D99999")) == []  # invalid node: no results
    assert ids(tenant, "applicantworkflows", f("applicantworkflow.status", "D10100", "C51220")) == [
        10001,
        10002,
    ]


def test_numbers_and_ids(tenant):
    assert ids(tenant, "people", f("person.id", "2", op=">")) == [3, 4]
    assert ids(tenant, "people", f("person.id", "2", op=">=")) == [2, 3, 4]
    assert ids(tenant, "people", f("person.id", "2", op="<=")) == [1, 2]
    assert ids(tenant, "people", f("person.id", "3")) == [3]
    assert ids(tenant, "people", f("person.idCSV", "1,4")) == [1, 4]
    assert ids(tenant, "jobs", f("job.numberofpositions", "1", op=">")) == [1001, 1002]
    assert ids(tenant, "jobs", f("job.customfield52004.number", "75000", op=">=")) == [1002]


def test_dates_at_minute_precision_in_either_format(tenant):
    # Person 1 was updated at 2025-01-11 12:00:30 UTC, which counts as 12:00 PM.
    assert ids(tenant, "people", f("person.updateddate", "2025-01-11 12:00 PM", op=">=")) == [1, 2, 4]
    assert ids(tenant, "people", f("person.updateddate", "2025-01-11 12:00 PM", op=">")) == [2, 4]
    assert ids(tenant, "people", f("person.updateddate", "2025-01-11 12:00 PM", op="<=")) == [1, 3]
    assert ids(tenant, "people", f("person.updateddate", "2025-01-11 12:00 PM", op="<")) == [3]
    window = f("person.updateddate", "2025-01-11", secondary=["2025-01-21 09:00 AM"])  # end inclusive
    assert ids(tenant, "people", window) == [1, 2]
    assert ids(tenant, "people", {**window, "operator": "!="}) == [3, 4]
    before = {"name": "person.updateddate", "secondaryValue": ["2025-01-11 11:59 AM"]}
    assert ids(tenant, "people", before) == [3]
    # Unparseable dates drop their boundary: everything passes.
    assert ids(tenant, "people", f("person.createddate", "next tuesday")) == [1, 2, 3, 4]
    assert ids(tenant, "people", f("person.createddate", "2025-01-01 09:02 AM", op=">=")) == [2, 3, 4]
    assert ids(tenant, "applicantworkflows", f("applicantworkflow.createddate", "2025-01-03")) == [10002]


def test_groups_and_children(tenant):
    query = {
        "filters": [f("person.lastname", "Doe")],
        "operator": "&",
        "children": [
            {"filters": [f("person.firstname", "John"), f("person.firstname", "Jane")], "operator": "|"}
        ],
    }
    assert run_search(tenant, "people", query) == [3, 4]
    query["children"][0]["filters"][1] = f("person.firstname", "Mike")
    assert run_search(tenant, "people", query) == [4]
    assert ids(
        tenant, "people", f("person.firstname", "Mike"), f("person.lastname", "Doe"), operator="|"
    ) == [2, 3, 4]


def test_nested_and_relation_fields(tenant):
    assert ids(tenant, "people", f("person.addresscity", "boston")) == [1]
    assert ids(tenant, "people", f("person.addressstate", "NY")) == [2]
    assert ids(tenant, "people", f("person.addresszip", "021")) == [1]
    assert ids(tenant, "jobs", f("job.joblocation.addresscity", "Boston")) == [1001, 1002]
    assert ids(tenant, "jobs", f("job.joblocation.companyid", "501")) == [1001, 1002]
    assert ids(tenant, "jobs", f("job.folder", "Approved")) == [1001]
    assert ids(tenant, "jobs", f("job.jobnumber", "2025-1002", op="==")) == [1002]
    assert ids(tenant, "applicantworkflows", f("applicantworkflow.person.id", "2")) == [10002]
    assert ids(tenant, "applicantworkflows", f("applicantworkflow.job.id", "1001")) == [10001]
    assert ids(tenant, "sourceworkflows", f("sourceworkflow.person.id", "2")) == [10001]
    assert ids(tenant, "sourceworkflows", f("sourceworkflow.talentpool.id", "301")) == [10001]
    assert ids(tenant, "talentpools", f("talentpool.title", "analytics")) == [301]
    assert ids(tenant, "companies", f("company.name", "harbor")) == [501]


def test_custom_fields(tenant):
    assert ids(tenant, "people", f("person.customfield51231.text", "granted")) == [1]
    assert ids(tenant, "people", f("person.customfield51231.listnode", "Pending")) == [2]
    assert ids(tenant, "people", f("person.customfield51232.date", "2026-01-01", op=">")) == [1]
    assert ids(tenant, "people", f("person.customfield51238.text", "remote", op="==")) == [2]
    assert ids(tenant, "jobs", f("job.customfield52001.text", "python")) == [1001]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({}, "At least one filter must be specified"),
        ({"filters": []}, "At least one filter must be specified"),
        (
            {"filters": [f("person.shoesize", "9")]},
            "The following filter is either not valid or hidden: person.shoesize",
        ),
        (
            {"filters": [f("job.jobtitle", "x")]},
            "The following filter is either not valid or hidden: job.jobtitle",
        ),
        ({"filters": [f("", "x")]}, "The following filter is either not valid or hidden: ''"),
        (
            {"filters": [{"value": ["x"]}]},
            "The following filter is either not valid or hidden: (missing name)",
        ),
        (
            {"filters": [{"name1": "person.firstname", "value": ["x"]}]},
            "The following filter attribute is unrecognized: name1",
        ),
        (
            {"filters": [f("person.firstname", "x", op="~")]},
            "The following filter operator is not valid in the given context: ~",
        ),
        (
            {"filters": [f("person.firstname", "x", op=">")]},
            "The following filter operator is not valid in the given context: >",
        ),
        (
            {"filters": [f("person.folder", "x", op="==")]},
            "The following filter operator is not valid in the given context: ==",
        ),
        (
            {"filters": [f("person.id", "1")], "operator": "&&"},
            "The following group operator is not valid in the given context: &&",
        ),
        (
            {"filters": [f("person.id", "1")], "sort": "id"},
            "The following group attribute is unrecognized: sort",
        ),
    ],
)
def test_rejected_queries_name_the_culprit(tenant, query, message):
    with pytest.raises(ICIMSError) as caught:
        run_search(tenant, "people", query)
    assert caught.value.status == 400
    assert caught.value.message == message


@pytest.fixture(scope="module")
def client() -> TestClient:
    tenant = tiny_tenant()
    add_people(tenant, 2500, start=T0 + timedelta(days=60))
    return TestClient(create_app(SandboxConfig(), tenant=tenant), headers={"Authorization": _basic()})


def _basic() -> str:
    import base64

    return "Basic " + base64.b64encode(b"sandbox-user:sandbox-password").decode()


def test_http_errors_use_the_icims_error_shape(client):
    reply = client.post("/customers/1000/search/people", json={"filters": [f("person.bogus", "x")]})
    assert reply.status_code == 400
    message = "The following filter is either not valid or hidden: person.bogus"
    assert reply.json() == {"errors": [{"errorMessage": message, "errorCode": 5}]}
    assert reply.headers["x-error"] == f"5:{message}"
    assert client.post("/customers/1000/search/people", content=b"not json").status_code == 400
    assert client.get("/customers/1000/search/rooms", params={"searchJson": "{}"}).status_code == 404


def test_empty_result_and_get_form(client):
    reply = client.post(
        "/customers/1000/search/people?staleness=0", json={"filters": [f("person.lastname", "zzz")]}
    )
    assert reply.status_code == 200 and reply.json() == {"searchResults": []}
    query = json.dumps({"filters": [f("person.lastname", "davis")]})
    reply = client.get("/customers/1000/search/people", params={"staleness": "15", "searchJson": query})
    assert reply.json() == {"searchResults": [{"id": 1, "self": "http://testserver/customers/1000/people/1"}]}


def test_cap_order_and_id_paging(client):
    query = {"filters": [f("person.lastname", "bulk")]}
    first = client.post("/customers/1000/search/people", json=query).json()["searchResults"]
    assert len(first) == 1000
    assert [row["id"] for row in first] == sorted(row["id"] for row in first)
    assert all(isinstance(row["id"], int) for row in first)
    seen, last = [], 0
    while True:
        page_query = {"filters": [*query["filters"], f("person.id", str(last), op=">")]}
        page = [
            r["id"]
            for r in client.post("/customers/1000/search/people", json=page_query).json()["searchResults"]
        ]
        seen += page
        if len(page) < 1000:
            break
        last = page[-1]
    assert len(seen) == 2500 and len(set(seen)) == 2500 and seen == sorted(seen)
    # Exactly 1000 matches: a full page, then an empty one.
    exact = {"filters": [f("person.lastname", "bulk"), f("person.id", "1504", op=">")]}
    assert len(client.post("/customers/1000/search/people", json=exact).json()["searchResults"]) == 1000


@pytest.mark.slow
def test_search_over_100k_people_is_fast():
    tenant = Tenant(1000)
    add_people(tenant, 100_000)
    queries = [
        {"filters": [f("person.updateddate", "2025-02-15", op=">=")]},  # most match: stops at 1000
        {"filters": [f("person.firstname", "Person99999", op="==")]},  # one match: full scan
        {"filters": [f("person.folder", "D32007")]},  # none match
        {"filters": [f("person.lastname", "bulk"), f("person.id", "98000", op=">")]},  # late page
        {
            "filters": [f("person.email", "example")],
            "children": [{"filters": [f("person.createddate", "2025-03-01", secondary=["2025-03-31"])]}],
        },
    ]
    for query in queries:
        started = time.perf_counter()
        run_search(tenant, "people", query)
        # Typically 1-100 ms; the bound leaves room for a loaded CI machine.
        assert time.perf_counter() - started < 1.0, query


def test_search_over_http_counts_as_one_request(sandbox_factory):
    sb = sandbox_factory(tenant=tiny_tenant())
    auth = {"Authorization": _basic()}
    reply = HTTP.post(
        f"{sb.url}/customers/1000/search/jobs", json={"filters": [f("job.jobtitle", "nurse")]}, headers=auth
    )
    assert reply.json() == {"searchResults": [{"id": 1002, "self": f"{sb.url}/customers/1000/jobs/1002"}]}
    assert sb.state.requests_total == 1
