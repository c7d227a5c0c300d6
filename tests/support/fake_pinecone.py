"""A loopback fake of Pinecone's data plane for tests that drive the real `pinecone` SDK."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from fastapi import FastAPI, Header, HTTPException, Request

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
