"""Search builder JSON and the `id >` paging loop (against httpx.MockTransport)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from tools.icims.budget import Priority
from tools.icims.client import ICIMSClient
from tools.icims.search import (
    F,
    SearchFilter,
    SearchQuery,
    and_,
    collection_field,
    custom_field,
    field,
    or_,
    with_id_after,
)

pytestmark = pytest.mark.anyio

BASE = "https://api.icims.com"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --- builder -----------------------------------------------------------------------------------------


def test_filter_serialises_without_none_fields() -> None:
    assert SearchFilter(name="person.lastname", value=["Doe"]).model_dump() == {
        "name": "person.lastname",
        "value": ["Doe"],
        "operator": "=",
    }
    assert SearchQuery(filters=[]).model_dump() == {"filters": [], "operator": "&"}


def test_fluent_builder_produces_icims_json() -> None:
    since = datetime(2025, 3, 4, 17, 5, 59, tzinfo=UTC)
    query = and_(
        F("person.updateddate").gt(since),
        or_(F("person.firstname").eq("John"), F("person.firstname").eq("Jane")),
        custom_field("people", 51231, "text").eq("Granted"),
        F("person.folder").eq("D32006", "D32007"),
    )
    assert query.to_json() == {
        "filters": [
            {"name": "person.updateddate", "value": ["2025-03-04 05:05 PM"], "operator": ">"},
            {"name": "person.customfield51231.text", "value": ["Granted"], "operator": "="},
            {"name": "person.folder", "value": ["D32006", "D32007"], "operator": "="},
        ],
        "operator": "&",
        "children": [
            {
                "filters": [
                    {"name": "person.firstname", "value": ["John"], "operator": "="},
                    {"name": "person.firstname", "value": ["Jane"], "operator": "="},
                ],
                "operator": "|",
            }
        ],
    }


def test_between_and_open_ranges() -> None:
    start, end = date(2013, 6, 10), datetime(2013, 6, 17, 23, 59, tzinfo=UTC)
    assert F("person.updateddate").between(start, end).model_dump() == {
        "name": "person.updateddate",
        "value": ["2013-06-10"],
        "operator": "=",
        "secondaryValue": ["2013-06-17 11:59 PM"],
    }
    assert F("job.numberofpositions").between(2, None).operator == ">="
    assert F("job.numberofpositions").between(None, 5).model_dump()["operator"] == "<="
    with pytest.raises(ValueError):
        F("x.y").between(None, None)


def test_operators_and_field_helpers() -> None:
    assert F("person.email").exact("a@b.c").operator == "=="
    assert F("person.email").not_exact("a@b.c").operator == "!=="
    assert F("person.email").ne("x").operator == "!="
    assert F("job.id").ge(5).value == ["5"]
    assert F("job.id").le(5).operator == "<="
    assert F("job.id").lt(5).operator == "<"
    assert field("jobs", "jobtitle").name == "job.jobtitle"
    assert custom_field("job", "field52006").name == "job.customfield52006.text"
    assert collection_field("people", 2231, "number").name == "person.collectionfield2231number"
    assert F("person.customfield1.text").eq(True).value == ["Yes"]
    with pytest.raises(ValueError):
        field("candidates", "x")
    with pytest.raises(ValueError):
        F("person.lastname").eq()


def test_models_validate_operators_and_coerce_values() -> None:
    with pytest.raises(ValidationError):
        SearchFilter(name="person.id", value=["1"], operator="~")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        SearchQuery(operator="and")  # type: ignore[arg-type]
    coerced = SearchFilter(name="person.id", value=[1, 2], secondaryValue=date(2020, 1, 2))  # type: ignore[arg-type]
    assert coerced.value == ["1", "2"]
    assert coerced.secondaryValue == ["2020-01-02"]
    # Round trip from the JSON iCIMS documents.
    doc = {
        "filters": [{"name": "person.lastname", "value": ["Doe"]}],
        "children": [{"filters": [], "operator": "|"}],
    }
    assert SearchQuery.model_validate(doc).children[0].operator == "|"  # type: ignore[index]


def test_with_id_after_adds_replaces_or_wraps() -> None:
    base = SearchQuery(filters=[F("person.lastname").eq("Smith")])
    assert with_id_after(base, "person", 1234).model_dump()["filters"][-1] == {
        "name": "person.id",
        "value": ["1234"],
        "operator": ">",
    }
    # An existing `id >` filter is advanced, not duplicated (the mirror's full listing uses one).
    full = SearchQuery(filters=[SearchFilter(name="person.id", value=["0"], operator=">")])
    assert with_id_after(full, "person", 2000).model_dump()["filters"] == [
        {"name": "person.id", "value": ["2000"], "operator": ">"}
    ]
    assert with_id_after(SearchQuery(filters=[F("person.id").gt(5000)]), "person", 10).filters[0].value == [
        "5000"
    ]
    # OR groups become a child so the id filter still narrows every branch.
    either = or_(F("person.firstname").eq("John"), F("person.firstname").eq("Jane"))
    assert with_id_after(either, "person", 7).model_dump() == {
        "filters": [{"name": "person.id", "value": ["7"], "operator": ">"}],
        "operator": "&",
        "children": [either.model_dump()],
    }
    assert base.filters == [F("person.lastname").eq("Smith")]  # the original is untouched


# --- paging loop -------------------------------------------------------------------------------------


class FakeSearch:
    """Serves `ids` like the Search API: ascending, at most 1000, honouring top-level `id >` filters."""

    def __init__(self, ids: list[int], *, string_ids: bool = False) -> None:
        self.ids = sorted(ids)
        self.string_ids = string_ids
        self.bodies: list[dict[str, Any]] = []
        self.params: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        assert request.url.path == "/customers/1000/search/people"
        body = json.loads(request.content)
        self.bodies.append(body)
        self.params.append(request.url.query.decode())
        lower = max(
            (
                int(f["value"][0])
                for f in body["filters"]
                if f["name"] == "person.id" and f["operator"] == ">"
            ),
            default=0,
        )
        rows = [i for i in self.ids if i > lower][:1000]
        results = [
            {"id": str(i) if self.string_ids else i, "self": f"{BASE}/customers/1000/people/{i}"}
            for i in rows
        ]
        return httpx.Response(200, json={"searchResults": results})


async def collect(server: FakeSearch, query: SearchQuery, after_id: int = 0) -> list[list[int]]:
    client = ICIMSClient(base_url=BASE, customer_id=1000, auth=None, transport=httpx.MockTransport(server))
    async with client:
        return [
            page
            async for page in client.search_ids(
                "people", query, after_id=after_id, priority=Priority.BACKGROUND
            )
        ]


@pytest.mark.parametrize(
    ("count", "requests", "page_sizes"),
    [
        (0, 1, []),
        (999, 1, [999]),
        (1000, 2, [1000]),
        (1001, 2, [1000, 1]),
        (2500, 3, [1000, 1000, 500]),
    ],
)
async def test_paging_boundaries(count: int, requests: int, page_sizes: list[int]) -> None:
    server = FakeSearch(list(range(1, count + 1)))
    pages = await collect(server, SearchQuery(filters=[F("person.lastname").eq("Bulk")]))
    assert [len(p) for p in pages] == page_sizes
    assert [i for p in pages for i in p] == list(range(1, count + 1))
    assert len(server.bodies) == requests
    # Every request keeps the original filter and pages on the last id seen.
    expected_after = [0, *[sum(page_sizes[: i + 1]) for i in range(requests - 1)]]
    for body, after in zip(server.bodies, expected_after, strict=True):
        assert body["filters"] == [
            {"name": "person.lastname", "value": ["Bulk"], "operator": "="},
            {"name": "person.id", "value": [str(after)], "operator": ">"},
        ]


async def test_paging_resumes_after_id_and_accepts_string_ids() -> None:
    server = FakeSearch(list(range(10, 3000, 2)), string_ids=True)
    pages = await collect(server, SearchQuery(), after_id=1500)
    ids = [i for p in pages for i in p]
    assert ids == list(range(1502, 3000, 2))
    assert server.bodies[0]["filters"] == [{"name": "person.id", "value": ["1500"], "operator": ">"}]


async def test_paging_stops_when_server_ignores_the_id_filter() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"searchResults": [{"id": i} for i in range(1, 1001)]})

    client = ICIMSClient(base_url=BASE, customer_id=1000, auth=None, transport=httpx.MockTransport(handler))
    async with client:
        pages = [page async for page in client.search_ids("people", SearchQuery())]
        assert client.requests_sent == 2
    assert [len(p) for p in pages] == [1000]


async def test_search_one_page_with_staleness_and_empty_answers() -> None:
    bodies: list[Any] = [{"searchResults": [{"id": 3}, {"id": "4"}]}, {"searchResults": []}, {"errors": []}]
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=bodies[len(seen) - 1])

    client = ICIMSClient(base_url=BASE, customer_id=1000, auth=None, transport=httpx.MockTransport(handler))
    async with client:
        query = SearchQuery(filters=[F("person.id").gt(0)])
        assert await client.search("people", query, staleness=0) == [3, 4]
        assert await client.search("people", query) == []
        assert await client.search("people", query) == []
        with pytest.raises(ValueError):
            await client.search("candidates", query)
    assert seen[0].url.params["staleness"] == "0"
    assert "staleness" not in seen[1].url.params
