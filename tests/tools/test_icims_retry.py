"""Error mapping and the retry policy, against httpx.MockTransport with a recording fake sleep."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator

import httpx
import pytest

from tools.icims.budget import Priority, RequestBudget
from tools.icims.client import ICIMSClient
from tools.icims.errors import (
    BudgetExhausted,
    ICIMSAuthError,
    ICIMSBadRequest,
    ICIMSError,
    ICIMSNotFound,
    ICIMSRateLimited,
    ICIMSServerError,
    ICIMSUnavailable,
    QuotaExhausted,
)

pytestmark = pytest.mark.anyio

BASE = "https://api.icims.com"
Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Waits(list[float]):
    """A fake `sleep` that records the backoff waits instead of sleeping."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_client(handler: Handler, waits: Waits | None = None, **kwargs: object) -> ICIMSClient:
    options: dict[str, object] = {
        "base_url": BASE,
        "customer_id": 1000,
        "auth": None,
        "transport": httpx.MockTransport(handler),
        "sleep": waits if waits is not None else Waits(),
        "retry_wait_base": 0.01,
        "retry_wait_max": 5.0,
        "rng": random.Random(1),
    }
    options.update(kwargs)
    return ICIMSClient(**options)  # type: ignore[arg-type]


def error(
    status: int, code: int | str, message: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(
        status,
        json={"errors": [{"errorMessage": message, "errorCode": code}]},
        headers={"X-Error": f"{code}:{message}", "x-transaction": "{ABC}", **(headers or {})},
    )


def sequence(*responses: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    """A handler answering each request with the next item (raising exceptions)."""
    items: Iterator[httpx.Response | Exception] = iter(responses)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        item = next(items)
        if isinstance(item, Exception):
            raise item
        return item

    return handler, seen


# --- error mapping ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, ICIMSBadRequest),
        (401, ICIMSAuthError),
        (404, ICIMSNotFound),
        (409, ICIMSError),
    ],
)
async def test_error_mapping(status: int, cls: type[ICIMSError]) -> None:
    handler, seen = sequence(error(status, 2, "Person not found.", {"X-Warning": "4:field1:unknown"}))
    async with make_client(handler) as client:
        with pytest.raises(cls) as info:
            await client.get_profile("people", 9)
    exc = info.value
    assert type(exc) is cls
    assert len(seen) == 1  # 4xx are never retried
    assert exc.status == status
    assert exc.code == 2
    assert exc.errors[0].errorMessage == "Person not found."
    assert exc.x_error == ["2:Person not found."]
    assert exc.x_warning == ["4:field1:unknown"]
    assert exc.transaction == "{ABC}"
    assert str(exc) == f"iCIMS {status} (code 2): Person not found. [GET /customers/1000/people/9]"


async def test_not_found_access_denied_flag() -> None:
    handler, _ = sequence(error(404, 3, "Access denied."))
    async with make_client(handler) as client:
        with pytest.raises(ICIMSNotFound) as info:
            await client.get_profile("people", 9)
    assert info.value.access_denied


async def test_error_from_x_error_header_when_body_is_not_json() -> None:
    handler, _ = sequence(
        httpx.Response(400, text="<html>bad</html>", headers={"X-Error": "1:The field email is required."})
    )
    async with make_client(handler) as client:
        with pytest.raises(ICIMSBadRequest) as info:
            await client.update_profile("people", 1, {"email": ""})
    assert info.value.code == 1
    assert info.value.message == "The field email is required."


async def test_string_error_codes_are_kept_or_coerced() -> None:
    handler, _ = sequence(error(400, "CODE", "At least one filter must be specified"))
    async with make_client(handler) as client:
        with pytest.raises(ICIMSBadRequest) as info:
            await client.get_profile("people", 1)
    assert info.value.code == "CODE"
    handler, _ = sequence(error(400, "5", "bad"))
    async with make_client(handler) as client:
        with pytest.raises(ICIMSBadRequest) as info:
            await client.get_profile("people", 1)
    assert info.value.code == 5


# --- retries ---------------------------------------------------------------------------------------


async def test_429_retry_after_is_the_minimum_wait() -> None:
    waits = Waits()
    handler, seen = sequence(
        error(429, 10, "Too many requests", {"Retry-After": "2"}),
        error(429, 10, "Too many requests", {"Retry-After": "3"}),
        httpx.Response(200, json={"firstname": "A"}),
    )
    async with make_client(handler, waits) as client:
        assert await client.get_profile("people", 1) == {"firstname": "A"}
        assert client.requests_sent == 3
    assert len(seen) == 3
    assert len(waits) == 2
    assert 2.0 <= waits[0] <= 2.01
    assert 3.0 <= waits[1] <= 3.02


async def test_5xx_and_transport_errors_back_off_exponentially() -> None:
    waits = Waits()
    handler, _ = sequence(
        error(500, 0, "An internal error occurred."),
        error(502, 0, "Bad gateway"),
        httpx.ReadTimeout("slow"),
        httpx.ConnectError("refused"),
        error(504, 0, "Gateway timeout"),
        httpx.Response(200, json={}),
    )
    async with make_client(handler, waits, retry_wait_base=1.0, retry_wait_max=100.0) as client:
        await client.get_profile("people", 1)
        # The connect error never reached the server; every other attempt did.
        assert client.requests_sent == 6
    # Equal jitter: the n-th wait lies in [base*2^(n-1)/2, base*2^(n-1)].
    for n, wait in enumerate(waits, start=1):
        ceiling = 2 ** (n - 1)
        assert ceiling / 2 <= wait <= ceiling


async def test_backoff_is_capped_by_retry_wait_max() -> None:
    waits = Waits()
    handler, _ = sequence(*[error(503, 0, "busy") for _ in range(6)], httpx.Response(200, json={}))
    async with make_client(handler, waits, retry_wait_base=1.0, retry_wait_max=4.0) as client:
        await client.get_profile("people", 1)
    assert max(waits) <= 4.0


async def test_no_retry_on_400() -> None:
    waits = Waits()
    handler, seen = sequence(error(400, 5, "The following filter is either not valid or hidden: person.x"))
    async with make_client(handler, waits) as client:
        with pytest.raises(ICIMSBadRequest):
            await client.get_profile("people", 1)
    assert len(seen) == 1
    assert waits == []


async def test_retries_exhausted_on_5xx_raise_the_server_error() -> None:
    handler, seen = sequence(*[error(500, 0, "boom") for _ in range(3)])
    async with make_client(handler, max_retries=2) as client:
        with pytest.raises(ICIMSServerError) as info:
            await client.get_profile("people", 1)
    assert info.value.status == 500
    assert len(seen) == 3


async def test_retries_exhausted_on_timeouts_raise_unavailable() -> None:
    handler, seen = sequence(*[httpx.ReadTimeout("slow") for _ in range(3)])
    async with make_client(handler, max_retries=2) as client:
        with pytest.raises(ICIMSUnavailable) as info:
            await client.get_profile("people", 1)
    assert len(seen) == 3
    assert "ReadTimeout" in str(info.value)
    assert "after 3 attempt(s)" in str(info.value)
    assert "[GET /customers/1000/people/1]" in str(info.value)


async def test_429_exhausting_retries_raises_rate_limited() -> None:
    handler, _ = sequence(*[error(429, 10, "slow down", {"Retry-After": "1"}) for _ in range(2)])
    async with make_client(handler, max_retries=1) as client:
        with pytest.raises(ICIMSRateLimited) as info:
            await client.get_profile("people", 1)
    assert not isinstance(info.value, QuotaExhausted)
    assert info.value.retry_after == 1.0


# --- creates -----------------------------------------------------------------------------------------

CREATED = httpx.Response(201, headers={"Location": f"{BASE}/customers/1000/applicantworkflows/10077"})


@pytest.mark.parametrize(
    "first",
    [
        httpx.ConnectError("refused"),
        error(429, 10, "slow down", {"Retry-After": "1"}),
        error(503, 0, "unavailable"),
    ],
    ids=["connect-error", "429", "503"],
)
async def test_create_retried_when_the_server_provably_did_not_act(first: httpx.Response | Exception) -> None:
    handler, seen = sequence(first, CREATED)
    async with make_client(handler) as client:
        new_id = await client.create_applicant_workflow(1001, 2, source="Agent")
    assert new_id == 10077
    assert len(seen) == 2


@pytest.mark.parametrize(
    "first",
    [
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("dropped"),
        error(500, 0, "boom"),
        error(504, 0, "gw"),
    ],
    ids=["read-timeout", "dropped", "500", "504"],
)
async def test_create_not_retried_when_outcome_is_unknown(first: httpx.Response | Exception) -> None:
    handler, seen = sequence(first, CREATED)
    async with make_client(handler) as client:
        with pytest.raises((ICIMSUnavailable, ICIMSServerError)) as info:
            await client.create_profile("people", {"firstname": "A"})
    assert len(seen) == 1
    if isinstance(info.value, ICIMSUnavailable):
        assert "may already have been applied" in str(info.value)


async def test_create_sends_bare_int_ids_and_parses_location() -> None:
    handler, seen = sequence(CREATED)
    async with make_client(handler) as client:
        await client.create_applicant_workflow(
            1001, 2, status="C51218", source="Agent", sourcename="Sourcing bot"
        )
    assert json.loads(seen[0].content) == {
        "baseprofile": 1001,
        "associatedprofile": 2,
        "status": {"id": "C51218"},
        "source": "Agent",
        "sourcename": "Sourcing bot",
    }


async def test_create_without_location_is_an_error() -> None:
    handler, _ = sequence(httpx.Response(201))
    async with make_client(handler) as client:
        with pytest.raises(ICIMSError, match="Location"):
            await client.create_profile("people", {"firstname": "A"})


# --- quota -------------------------------------------------------------------------------------------


def quota_response(
    status: int = 429, retry_after: str | None = "36000", reset: str = "36000"
) -> httpx.Response:
    headers = {"x-ratelimit-limit": "10000", "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    return error(status, 10, "The daily request limit for this customer has been reached.", headers)


@pytest.mark.parametrize("status", [429, 503])
async def test_daily_quota_is_not_retried(status: int) -> None:
    handler, seen = sequence(quota_response(status))
    async with make_client(handler) as client:
        with pytest.raises(QuotaExhausted) as info:
            await client.get_profile("people", 1)
    assert len(seen) == 1
    assert info.value.reset_seconds == 36000
    assert info.value.status == status


async def test_long_retry_after_without_headers_is_quota() -> None:
    handler, seen = sequence(error(429, 10, "limit", {"Retry-After": "600"}))
    async with make_client(handler, retry_wait_max=30.0) as client:
        with pytest.raises(QuotaExhausted):
            await client.get_profile("people", 1)
    assert len(seen) == 1


async def test_remaining_zero_with_short_reset_waits_for_the_reset() -> None:
    waits = Waits()
    handler, _ = sequence(quota_response(retry_after=None, reset="3"), httpx.Response(200, json={}))
    async with make_client(handler, waits) as client:
        await client.get_profile("people", 1)
    assert waits[0] >= 3.0


# --- budget ------------------------------------------------------------------------------------------


async def test_every_attempt_acquires_from_the_budget() -> None:
    budget = RequestBudget(daily_limit=100, reserve_realtime=0, reserve_writes=0)
    handler, _ = sequence(error(503, 0, "busy"), error(503, 0, "busy"), httpx.Response(200, json={}))
    async with make_client(handler, budget=budget) as client:
        await client.get_profile("people", 1, priority=Priority.BACKGROUND)
    assert budget.remaining == 97


async def test_connect_errors_are_refunded_to_the_budget() -> None:
    budget = RequestBudget(daily_limit=100, reserve_realtime=0, reserve_writes=0)
    handler, _ = sequence(httpx.ConnectError("refused"), httpx.Response(200, json={}))
    async with make_client(handler, budget=budget) as client:
        await client.get_profile("people", 1)
        assert client.requests_sent == 2
    assert budget.remaining == 99


async def test_budget_refusal_sends_nothing_and_is_not_retried() -> None:
    budget = RequestBudget(daily_limit=10, reserve_realtime=5, reserve_writes=3)
    handler, seen = sequence(*[httpx.Response(200, json={}) for _ in range(10)])
    async with make_client(handler, budget=budget) as client:
        await client.get_profile("people", 1, priority=Priority.BACKGROUND)
        await client.get_profile("people", 1, priority=Priority.BACKGROUND)
        with pytest.raises(BudgetExhausted):
            await client.get_profile("people", 1, priority=Priority.BACKGROUND)
        # Realtime and writes still get through.
        await client.get_profile("people", 1, priority=Priority.REALTIME)
        await client.update_profile("people", 1, {"email": "a@b.c"}, priority=Priority.WRITE)
        assert client.requests_sent == 4
    assert len(seen) == 4


async def test_rate_limit_headers_sync_the_budget() -> None:
    budget = RequestBudget(daily_limit=10_000, reserve_realtime=1000, reserve_writes=500)
    headers = {"x-ratelimit-limit": "20000", "x-ratelimit-remaining": "1400", "x-ratelimit-reset": "9299"}
    handler, _ = sequence(httpx.Response(200, json={}, headers=headers))
    async with make_client(handler, budget=budget) as client:
        await client.get_profile("people", 1, priority=Priority.BACKGROUND)
        assert client.last_rate_limit is not None
        assert client.last_rate_limit.remaining == 1400
        assert client.last_rate_limit.reset_seconds == 9299
        with pytest.raises(BudgetExhausted, match="BACKGROUND"):
            await client.get_profile("people", 1, priority=Priority.BACKGROUND)
    assert budget.limit == 20000
    assert budget.remaining == 1400
