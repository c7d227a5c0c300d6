"""The Pinecone backend through the real `pinecone` SDK, against a loopback fake of the data plane."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from support.fake_pinecone import API_KEY, FakeDataPlane

from sandbox.server import ServerThread
from tools.vectors import EXPIRES_KEY, InMemoryVectorIndex, PineconeVectorIndex, VectorItem
from tools.vectors.pinecone_index import NO_EXPIRY


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Setup:
    plane: FakeDataPlane
    url: str
    clock: Clock

    def index(self, namespace: str | None = None, **kwargs: Any) -> PineconeVectorIndex:
        return PineconeVectorIndex(
            host=self.url, api_key=API_KEY, namespace=namespace, clock=self.clock, **kwargs
        )


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[FakeDataPlane, str]]:
    plane = FakeDataPlane()
    with ServerThread(plane.app()) as thread:
        yield plane, thread.url


@pytest.fixture
def setup(server) -> Setup:
    plane, url = server
    plane.namespaces.clear()
    plane.requests.clear()
    return Setup(plane=plane, url=url, clock=Clock())


def items(n: int, dim: int = 8, seed: int = 0) -> list[VectorItem]:
    rng = np.random.default_rng(seed)
    return [
        VectorItem(f"c{i}", rng.normal(size=dim), {"pool": "eng" if i % 2 else "ops", "rank": np.int64(i)})
        for i in range(n)
    ]


# --- tests -----------------------------------------------------------------------------------------


def test_same_results_as_the_in_memory_index(setup):
    data = items(40)
    pine = setup.index()
    local = InMemoryVectorIndex()
    pine.upsert(data)  # numpy float64 vectors and numpy int metadata: converted, not rejected by the SDK
    local.upsert(data)
    q = np.random.default_rng(9).normal(size=8)
    for flt in (None, {"pool": "eng"}, {"rank": {"$in": [3, 5, 7]}}):
        got = pine.query(q, top_k=5, filter=flt)
        want = local.query(q, top_k=5, filter=flt)
        assert [m.id for m in got] == [m.id for m in want]
        for a, b in zip(got, want, strict=True):
            assert math.isclose(a.score, b.score, abs_tol=1e-5) and type(a.score) is float
            assert EXPIRES_KEY not in a.metadata
            assert a.metadata["pool"] == b.metadata["pool"]
            assert a.metadata["rank"] == b.metadata["rank"]  # comes back as float (1.0 == 1)
    assert len(pine) == 40


def test_wire_format_namespace_and_batching(setup):
    pine = setup.index(namespace="run-abc")
    pine.upsert(items(250))
    upserts = [body for kind, body in setup.plane.requests if kind == "upsert"]
    assert [len(b["vectors"]) for b in upserts] == [100, 100, 50]
    assert all(b["namespace"] == "run-abc" for b in upserts)
    first = upserts[0]["vectors"][0]
    assert all(type(x) is float for x in first["values"])
    assert math.isclose(sum(x * x for x in first["values"]), 1.0)  # normalised client-side
    assert first["metadata"][EXPIRES_KEY] == NO_EXPIRY
    pine.query([1.0] * 8, top_k=3, filter={"pool": "ops"})
    query = setup.plane.requests[-1][1]
    assert query["topK"] == 3 and query["includeMetadata"] is True and query["namespace"] == "run-abc"
    assert query["filter"] == {"$and": [{"pool": "ops"}, {EXPIRES_KEY: {"$gt": setup.clock.now}}]}


def test_expired_items_hidden_then_purged_by_id(setup):
    pine = setup.index(default_ttl_seconds=3600)
    now = setup.clock.now
    pine.upsert(
        [
            VectorItem("soon", [1, 0, 0, 0, 0, 0, 0, 0], expires_at=now + 60),
            VectorItem("later", [1, 0.1, 0, 0, 0, 0, 0, 0]),
        ]
    )
    assert [m.id for m in pine.query([1, 0, 0, 0, 0, 0, 0, 0])] == ["soon", "later"]
    setup.clock.now += 60
    assert [m.id for m in pine.query([1, 0, 0, 0, 0, 0, 0, 0])] == ["later"]  # filtered server-side
    assert len(pine) == 2
    assert pine.purge_expired() == 1
    assert set(setup.plane.namespaces[pine.namespace]) == {"later"}
    assert setup.plane.requests[-1] == ("delete", {"namespace": pine.namespace, "ids": ["soon"]})
    assert pine.purge_expired(now=now + 3600) == 1 and len(pine) == 0


def test_one_namespace_per_run_and_drop(setup):
    run_a, run_b = setup.index(), setup.index()
    assert run_a.namespace != run_b.namespace and run_a.namespace.startswith("run-")
    assert run_a and not setup.plane.requests  # truthiness is not a stats call
    run_a.upsert(items(5))
    run_b.upsert(items(3, seed=1))
    run_a.delete(["c0", "c1"])
    assert len(run_a) == 3
    run_a.drop()
    assert run_a.namespace not in setup.plane.namespaces
    assert len(run_a) == 0 and len(run_b) == 3  # another run's vectors are untouched
    run_a.drop()  # already gone (404 from the server): still fine
    run_b.drop()
    assert setup.plane.namespaces == {}


def test_sdk_errors_surface(setup):
    bad = PineconeVectorIndex(host=setup.url, api_key="wrong-key", namespace="x")
    from pinecone.errors import ApiError

    with pytest.raises(ApiError):
        bad.upsert(items(1))
    with pytest.raises(ValueError, match="reserved"):
        setup.index().upsert([VectorItem("a", [1.0] * 8, {EXPIRES_KEY: 1.0})])
