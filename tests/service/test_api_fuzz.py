"""The service's own OpenAPI, fuzzed: every operation it publishes, with schema-valid and schema-invalid
data from schemathesis, over real HTTP to the real app (uvicorn on 127.0.0.1) backed by the seeded
sandbox tenant of the other service tests, signed in as an admin so requests get past authentication
and reach the handlers. Not one answer may be a 5xx: bad input is the client's fault (4xx with a
message), and a handler that crashes on it is a bug.

The run is bounded for CI: a fixed number of examples per operation and generation mode, derandomized
(Hypothesis draws the same cases on every run, so a failure reproduces), no deadline (a run started by
`POST /runs/{graph}` may take a while on a loaded machine), and no shrinking: a 5xx is recorded with
the request that caused it and the fuzzing goes on, so one report lists every failing operation.
`ICIMS_AGENTS_FUZZ_EXAMPLES=40` fuzzes deeper by hand (about a minute per 500 requests).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.generation import GenerationMode
from support.service import JOB_A, ServiceEnv, service_env

pytestmark = pytest.mark.integration

EXAMPLES_PER_MODE = int(os.environ.get("ICIMS_AGENTS_FUZZ_EXAMPLES", "8"))
# Requests that hang would hold the test past CI's budget; no operation needs longer than this.
REQUEST_TIMEOUT_S = 20.0
FUZZ_BUDGET_S = 120.0
STATUSES: dict[str, Counter[int]] = {}
SECONDS: dict[str, float] = {}
WORKFLOW_A = 10024  # an application of job 1004 (tests/service/test_offer_service.py)


@dataclass
class ServerError:
    operation: str
    mode: str
    status: int
    body: str
    curl: str

    def __str__(self) -> str:
        return f"{self.operation} [{self.mode}] -> {self.status}: {self.body}\n    {self.curl}"


def _fuzz_operation(
    operation: Any,
    mode: GenerationMode,
    session: requests.Session,
    base_url: str,
    found: list[ServerError],
    pins: dict[str, list[Any]] | None = None,
) -> int:
    """Fuzz one operation in one mode; with `pins`, its path parameters take real values (a run,
    an approval, an offer, a campaign that exist) so the handlers behind the 404 are fuzzed too."""
    calls = 0
    pinned = sorted((pins or {}).items())

    @settings(
        max_examples=EXAMPLES_PER_MODE,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def run(case: Any, data: st.DataObject) -> None:
        nonlocal calls
        for name, values in pinned:
            case.path_parameters[name] = data.draw(st.sampled_from(values), label=name)
        calls += 1
        statuses = STATUSES.setdefault(operation.label, Counter())
        try:
            response = case.call(base_url=base_url, session=session, timeout=REQUEST_TIMEOUT_S)
        except requests.RequestException as exc:
            # A dropped connection or a timeout is as much a server failure as a 5xx.
            found.append(ServerError(operation.label, mode.value, 0, repr(exc)[:300], case.as_curl_command()))
            return
        statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=[not_a_server_error])
        except (Failure, FailureGroup):
            found.append(
                ServerError(
                    operation=operation.label,
                    mode=mode.value,
                    status=response.status_code,
                    body=response.text[:300],
                    curl=case.as_curl_command(),
                )
            )

    try:
        run()
    except Unsatisfiable:
        # Negative mode on an operation without parameters or body (`GET /health`): there is nothing
        # to make invalid. Positive mode still sends it.
        assert mode is GenerationMode.NEGATIVE, operation.label
    return calls


def _modes(operation: Any) -> list[GenerationMode]:
    """Both modes, except where schema-invalid data cannot exist: an operation with no body and only
    string path parameters (any string is a valid id there), where negative generation only spends
    seconds of rejected draws before giving up. Positive mode still sends it."""
    path_strings_only = all(
        p.location == "path" and p.definition.get("schema", {}).get("type") == "string"
        for p in operation.iter_parameters()
    )
    if path_strings_only and not list(operation.body):
        return [GenerationMode.POSITIVE]
    return [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]


def _real_path_values(env: ServiceEnv) -> dict[str, list[Any]]:
    """Path parameter values that name existing things: a rediscovery run waiting for approval, an
    offer waiting for approval, the registered graphs, the shipped nurture campaigns."""
    admin = env.client("admin")
    rediscovery = env.run("admin", JOB_A)["thread_id"]
    offer = admin.post("/offers", json={"workflow_id": WORKFLOW_A})
    assert offer.status_code == 200, offer.text
    campaigns = [c["id"] for c in admin.get("/nurture/campaigns").json()]
    assert campaigns
    threads = [rediscovery, offer.json()["thread_id"]]
    return {
        "graph": sorted(env.app.state.service.graphs),
        "thread_id": threads,
        "approval_id": threads,
        "workflow_id": [WORKFLOW_A],
        "campaign_id": campaigns,
    }


def test_no_operation_answers_5xx(sandbox_factory: Any, tmp_path: Any) -> None:
    with service_env(sandbox_factory, tmp_path) as env:
        raw = env.client("admin").get("/openapi.json")
        assert raw.status_code == 200
        schema = schemathesis.openapi.from_dict(raw.json())
        real = _real_path_values(env)
        session = requests.Session()
        session.headers["X-API-Key"] = env.keys["admin"]
        # One connection per request: generating a case can take longer than the server's keep-alive
        # timeout, and a request sent on a connection the server is closing at that moment is reset
        # (a client-side race that says nothing about the service).
        session.headers["Connection"] = "close"

        # Nothing is excluded. Deletes go last so the other operations still find the campaigns.
        # `POST /events/icims` reads its signed body raw, so its schema has no body and it gets one
        # unsigned request here (401); hostile signed bodies are tests/service/test_events_hostile.py's.
        # The SSE stream ends after `end` (no run of this process is attached to a fuzzed thread).
        operations = sorted(
            (result.ok() for result in schema.get_all_operations()), key=lambda op: op.method == "delete"
        )
        assert len(operations) >= 25, [op.label for op in operations]
        found: list[ServerError] = []
        calls = 0
        started = time.monotonic()
        for operation in operations:
            names = {p.name for p in operation.path_parameters}
            pins = {name: real[name] for name in names}
            assert set(pins) == names, f"no real value for {names - set(real)} of {operation.label}"
            operation_started = time.monotonic()
            for mode in _modes(operation):
                calls += _fuzz_operation(operation, mode, session, env.url, found)
                if pins:
                    calls += _fuzz_operation(operation, mode, session, env.url, found, pins)
            SECONDS[operation.label] = time.monotonic() - operation_started
        elapsed = time.monotonic() - started
        session.close()

    for label, statuses in STATUSES.items():
        print(f"{label}: {SECONDS[label]:.1f}s", dict(sorted(statuses.items())))
    print(f"fuzzed {len(operations)} operations with {calls} requests in {elapsed:.1f}s")
    assert not found, "\n".join(str(error) for error in found)
    assert calls >= len(operations)
    assert elapsed < FUZZ_BUDGET_S
