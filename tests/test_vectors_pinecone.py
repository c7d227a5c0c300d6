"""The Pinecone backend through the real `pinecone` SDK, against a loopback fake of the data plane."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI, Header, HTTPException, Request

from sandbox.server import ServerThread
from tools.vectors import EXPIRES_KEY, InMemoryVectorIndex, PineconeVectorIndex, VectorItem
from tools.vectors.pinecone_index import NO_EXPIRY

API_KEY = "test-key"


# --- fake data plane -------------------------------------------------------------------------------
# Written independently of tools.vectors.base so the adapter's filters are checked against a separate
# reading of Pinecone's filter language, not against themselves.


def _holds(value: Any, op: str, operand: Any) -> bool:
    if isinstance(value, list):
        return (
            any(_holds(v, op, operand) for v in value)
            if op not in ("$ne", "$nin")
            else all(_holds(v, op, operand) for v in value)
        )
    return {
        "$eq": lambda: value == operand,
        "$ne": lambda: value != operand,
        "$gt": lambda: value > operand,
        "$gte": lambda: value >= operand,
        "$lt": lambda: value < operand,
        "$lte": lambda: value <= operand,
        "$in": lambda: value in operand,
        "$nin": lambda: value not in operand,
    }[op]()


def _admits(metadata: dict[str, Any], flt: dict[str, Any] | None) -> bool:
    if not flt:
        return True
    for key, cond in flt.items():
        if key == "$and":
            if not all(_admits(metadata, f) for f in cond):
                return False
        elif key == "$or":
            if not any(_admits(metadata, f) for f in cond):
                return False
        else:
            for op, operand in (cond if isinstance(cond, dict) else {"$eq": cond}).items():
                if key not in metadata:
                    if op in ("$ne", "$nin"):
                        continue
                    return False
                if not _holds(metadata[key], op, operand):
                    return False
    return True


@dataclass
class FakeDataPlane:
    namespaces: dict[str, dict[str, tuple[list[float], dict[str, Any]]]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        def auth(api_key: str | None) -> None:
            if api_key != API_KEY:
                raise HTTPException(401, "bad api key")

        @app.post("/vectors/upsert")
        async def upsert(request: Request, api_key: str | None = Header(None)) -> dict:
            auth(api_key)
            body = await request.json()
            self.requests.append(("upsert", body))
            ns = self.namespaces.setdefault(body.get("namespace", ""), {})
            for v in body["vectors"]:
                ns[v["id"]] = (v["values"], v.get("metadata") or {})
            return {"upsertedCount": len(body["vectors"])}

        @app.post("/query")
        async def query(request: Request, api_key: str | None = Header(None)) -> dict:
            auth(api_key)
            body = await request.json()
            self.requests.append(("query", body))
            namespace = body.get("namespace", "")
            ns = self.namespaces.get(namespace, {})
            q = np.asarray(body["vector"])
            scored = []
            for vid, (values, metadata) in ns.items():
                if _admits(metadata, body.get("filter")):
                    v = np.asarray(values)
                    scored.append((float(v @ q / (np.linalg.norm(v) * np.linalg.norm(q))), vid, metadata))
            scored.sort(key=lambda t: -t[0])
            matches = [
                {
                    "id": vid,
                    "score": s,
                    "values": [],
                    **({"metadata": md} if body.get("includeMetadata") else {}),
                }
                for s, vid, md in scored[: body["topK"]]
            ]
            return {"matches": matches, "namespace": namespace, "usage": {"readUnits": 1}}

        @app.post("/vectors/delete")
        async def delete(request: Request, api_key: str | None = Header(None)) -> dict:
            auth(api_key)
            body = await request.json()
            self.requests.append(("delete", body))
            namespace = body.get("namespace", "")
            if body.get("deleteAll"):
                if namespace not in self.namespaces:
                    raise HTTPException(404, "Namespace not found")
                del self.namespaces[namespace]
            else:
                ns = self.namespaces.get(namespace, {})
                for vid in body.get("ids", []):
                    ns.pop(vid, None)
            return {}

        @app.post("/describe_index_stats")
        async def stats(request: Request, api_key: str | None = Header(None)) -> dict:
            auth(api_key)
            self.requests.append(("describe_index_stats", await request.json()))
            return {
                "namespaces": {name: {"vectorCount": len(ns)} for name, ns in self.namespaces.items()},
                "dimension": 8,
                "indexFullness": 0.0,
                "totalVectorCount": sum(len(ns) for ns in self.namespaces.values()),
            }

        return app


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
