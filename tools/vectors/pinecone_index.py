"""Pinecone backend over the `pinecone` SDK's data plane (`Index(host=...)`), one namespace per run.

Pinecone has no TTL, so expiry is stored as the reserved metadata field `_expires_at` (epoch seconds; a
far-future value for "no expiry") and every query adds `_expires_at > now` to its filter: expired items
are never returned even before they are purged. The adapter also remembers the expiry of every id it
wrote, so `purge_expired` deletes by id (works on every index type and reports a count) instead of
relying on delete-by-filter. That is sound because the namespace belongs to this run alone.

The index must use the cosine (or dotproduct) metric; vectors are normalised here either way.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tools.vectors.base import (
    EXPIRES_KEY,
    Filter,
    Match,
    Metadata,
    VectorItem,
    check_metadata,
    validate_filter,
)

# Stands in for "never expires": Pinecone filters cannot compare against a missing field or infinity.
NO_EXPIRY = 253_402_300_799.0  # 9999-12-31T23:59:59Z
# Request size caps of the data plane: 1,000 ids per delete; 100 dense 384-d vectors with metadata per
# upsert stays well under the 2 MB request limit.
UPSERT_BATCH = 100
DELETE_BATCH = 1000


def _to_pinecone_value(value: Any) -> Any:
    # The SDK and API accept only str, number, bool and list of str; numpy scalars must become Python.
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return value
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    if isinstance(value, list | tuple | set | frozenset):
        return [str(v) for v in value]
    return str(value)


def _clean_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _to_pinecone_value(v) for k, v in metadata.items() if v is not None}


def _unit(vector: Sequence[float]) -> list[float]:
    values = [float(x) for x in vector]  # Python floats: the SDK rejects numpy float32/float64
    norm = math.sqrt(sum(x * x for x in values))
    return [x / norm for x in values] if norm > 0 else values


class PineconeVectorIndex:
    def __init__(
        self,
        index: Any | None = None,
        *,
        host: str | None = None,
        api_key: str | None = None,
        namespace: str | None = None,
        clock: Callable[[], float] = time.time,
        default_ttl_seconds: float | None = None,
        timeout: float | None = 30.0,
    ) -> None:
        """Wrap an SDK `Index`, or build one from `host` (the index's data-plane URL) and `api_key`."""
        if index is None:
            if not host:
                raise ValueError("pass an SDK Index or the index host")
            from pinecone import Pinecone

            index = Pinecone(api_key=api_key).Index(host=host)
            self._owns_client = True
        else:
            self._owns_client = False
        self._index = index
        self.namespace = namespace or f"run-{uuid.uuid4().hex[:16]}"
        self._clock = clock
        self.default_ttl_seconds = default_ttl_seconds
        self._timeout = timeout
        self._lock = threading.Lock()
        self._expiry: dict[str, float] = {}

    def upsert(self, items: list[VectorItem]) -> None:
        if not items:
            return
        now = self._clock()
        latest = {item.id: item for item in items}
        payload: list[dict[str, Any]] = []
        expiries: dict[str, float] = {}
        for item in latest.values():
            check_metadata(item.metadata)
            expires = self._expiry_for(item, now)
            expiries[item.id] = expires
            metadata = _clean_metadata(item.metadata)
            metadata[EXPIRES_KEY] = expires
            payload.append({"id": item.id, "values": _unit(item.vector), "metadata": metadata})
        for start in range(0, len(payload), UPSERT_BATCH):
            self._index.upsert(
                vectors=payload[start : start + UPSERT_BATCH], namespace=self.namespace, timeout=self._timeout
            )
        with self._lock:
            self._expiry.update(expiries)

    def _expiry_for(self, item: VectorItem, now: float) -> float:
        if item.expires_at is not None:
            return float(item.expires_at)
        if self.default_ttl_seconds is not None:
            return now + self.default_ttl_seconds
        return NO_EXPIRY

    def query(self, vector: Sequence[float], top_k: int = 10, filter: Filter | None = None) -> list[Match]:
        if top_k <= 0:
            return []
        alive: dict[str, Any] = {EXPIRES_KEY: {"$gt": self._clock()}}
        if filter:
            validate_filter(filter)
            combined: dict[str, Any] = {"$and": [dict(filter), alive]}
        else:
            combined = alive
        response = self._index.query(
            vector=_unit(vector),
            top_k=top_k,
            namespace=self.namespace,
            filter=combined,
            include_metadata=True,
            timeout=self._timeout,
        )
        matches: list[Match] = []
        for m in response.matches:
            metadata: Metadata = {k: v for k, v in dict(m.metadata or {}).items() if k != EXPIRES_KEY}
            matches.append(Match(id=m.id, score=float(m.score), metadata=metadata))
        return matches

    def delete(self, ids: Sequence[str]) -> None:
        ids = list(ids)
        for start in range(0, len(ids), DELETE_BATCH):
            self._index.delete(
                ids=ids[start : start + DELETE_BATCH], namespace=self.namespace, timeout=self._timeout
            )
        with self._lock:
            for item_id in ids:
                self._expiry.pop(item_id, None)

    def purge_expired(self, now: float | None = None) -> int:
        now = self._clock() if now is None else now
        with self._lock:
            expired = [item_id for item_id, expires in self._expiry.items() if expires <= now]
        if expired:
            self.delete(expired)
        return len(expired)

    def drop(self) -> None:
        """Delete the run's namespace with everything in it.

        `delete_all` rather than `delete_namespace`: it works on pod and serverless indexes alike, and an
        emptied serverless namespace ceases to exist. A namespace that was never written (or is already
        gone) answers 404 on some index types; that is the state we want, so it is not an error.
        """
        from pinecone.errors import NotFoundError

        with contextlib.suppress(NotFoundError):
            self._index.delete(delete_all=True, namespace=self.namespace, timeout=self._timeout)
        with self._lock:
            self._expiry.clear()

    def __len__(self) -> int:
        """Vectors in the namespace per `describe_index_stats` (eventually consistent: lags recent writes)."""
        stats = self._index.describe_index_stats(timeout=self._timeout)
        summary = stats.namespaces.get(self.namespace)
        return int(summary.vector_count) if summary is not None else 0

    def __bool__(self) -> bool:
        # Without this, `if index:` would fall back to __len__ and make a network call.
        return True

    def close(self) -> None:
        if self._owns_client:
            self._index.close()

    def __enter__(self) -> PineconeVectorIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
