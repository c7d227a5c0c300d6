"""The service's own OpenAPI, fuzzed: every operation it publishes, with schema-valid and schema-invalid
data from schemathesis, over real HTTP to the real app (uvicorn on 127.0.0.1) backed by the seeded
sandbox tenant of the other service tests, signed in as an admin so requests get past authentication
and reach the handlers. Not one answer may be a 5xx: bad input is the client's fault (4xx with a
message), and a handler that crashes on it is a bug.

The run is bounded for CI: a fixed number of examples per operation and generation mode, derandomized
(Hypothesis draws the same cases on every run, so a failure reproduces), no deadline (a run started by
`POST /runs/{graph}` may take a while on a loaded machine), and no shrinking: a 5xx is recorded with
the request that caused it and the fuzzing goes on, so one report lists every failing operation.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.generation import GenerationMode
from support.service import service_env

pytestmark = pytest.mark.integration

EXAMPLES_PER_MODE = int(os.environ.get("ICIMS_AGENTS_FUZZ_EXAMPLES", "8"))
# Requests that hang would hold the test past CI's budget; no operation needs longer than this.
REQUEST_TIMEOUT_S = 20.0
FUZZ_BUDGET_S = 120.0


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
) -> int:
    calls = 0

    @settings(
        max_examples=EXAMPLES_PER_MODE,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        nonlocal calls
        calls += 1
        try:
            response = case.call(base_url=base_url, session=session, timeout=REQUEST_TIMEOUT_S)
        except requests.RequestException as exc:
            # A dropped connection or a timeout is as much a server failure as a 5xx.
            found.append(ServerError(operation.label, mode.value, 0, repr(exc)[:300], case.as_curl_command()))
            return
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


def test_no_operation_answers_5xx(sandbox_factory: Any, tmp_path: Any) -> None:
    with service_env(sandbox_factory, tmp_path) as env:
        raw = env.client("admin").get("/openapi.json")
        assert raw.status_code == 200
        schema = schemathesis.openapi.from_dict(raw.json())
        session = requests.Session()
        session.headers["X-API-Key"] = env.keys["admin"]

        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 25, [op.label for op in operations]
        found: list[ServerError] = []
        calls = 0
        started = time.monotonic()
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                calls += _fuzz_operation(operation, mode, session, env.url, found)
        elapsed = time.monotonic() - started
        session.close()

    print(f"fuzzed {len(operations)} operations with {calls} requests in {elapsed:.1f}s")
    assert not found, "\n".join(str(error) for error in found)
    assert calls >= len(operations)
    assert elapsed < FUZZ_BUDGET_S
