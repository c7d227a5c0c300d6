"""The vector index interface shared by the in-process and Pinecone backends.

Vectors here are ephemeral working state (DESIGN.md): every item may carry an absolute expiry, expired
items are never returned by `query` and are removed by `purge_expired`, and `drop()` clears the run.
Scores are cosine similarities (vectors are normalised on the way in).

Metadata filters use a subset of Pinecone's filter language so one filter works on both backends:
`{"field": value}` (equality; for a list-valued field, membership), `{"field": {"$eq"|"$ne"|"$gt"|"$gte"|
"$lt"|"$lte": value}}`, `{"field": {"$in"|"$nin": [values]}}`, and `{"$and"|"$or": [filters]}`. A field
missing from an item fails every condition except `$ne` and `$nin`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

MetadataValue = str | int | float | bool | list[str]
Metadata = dict[str, MetadataValue]
Filter = Mapping[str, Any]

# Stored alongside user metadata by backends that keep expiry server-side; not allowed in user metadata.
EXPIRES_KEY = "_expires_at"


@dataclass(slots=True)
class VectorItem:
    id: str
    vector: Sequence[float]
    metadata: Metadata = field(default_factory=dict)
    # Absolute expiry in epoch seconds (same clock as the index's `clock`); None = kept until deleted/dropped.
    expires_at: float | None = None


@dataclass(frozen=True, slots=True)
class Match:
    id: str
    score: float
    metadata: Metadata = field(default_factory=dict)


@runtime_checkable
class VectorIndex(Protocol):
    def upsert(self, items: list[VectorItem]) -> None: ...

    def query(
        self, vector: Sequence[float], top_k: int = 10, filter: Filter | None = None
    ) -> list[Match]: ...

    def delete(self, ids: Sequence[str]) -> None: ...

    def purge_expired(self, now: float | None = None) -> int:
        """Remove items whose expiry is at or before `now` (default: the index clock); returns how many."""
        ...

    def drop(self) -> None:
        """Remove everything this index holds (end of run)."""
        ...

    def __len__(self) -> int: ...


_COMPARATORS = {"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin"}


def validate_filter(flt: Filter) -> None:
    """Raise ValueError for operators outside the supported subset (fail loudly, never match silently)."""
    for key, condition in flt.items():
        if key in ("$and", "$or"):
            if not isinstance(condition, list | tuple) or not condition:
                raise ValueError(f"{key} needs a non-empty list of filters")
            for sub in condition:
                validate_filter(sub)
        elif key.startswith("$"):
            raise ValueError(f"unsupported filter operator {key!r}")
        elif isinstance(condition, Mapping):
            for op, operand in condition.items():
                if op not in _COMPARATORS:
                    raise ValueError(f"unsupported filter operator {op!r} on {key!r}")
                if op in ("$in", "$nin") and not isinstance(operand, list | tuple):
                    raise ValueError(f"{op} on {key!r} needs a list")


def _compare(value: Any, op: str, operand: Any) -> bool:
    if isinstance(value, list):  # list metadata: a condition holds if it holds for some element
        if op in ("$ne", "$nin"):
            return all(_compare(v, op, operand) for v in value)
        return any(_compare(v, op, operand) for v in value)
    if op == "$eq":
        return value == operand
    if op == "$ne":
        return value != operand
    if op == "$in":
        return value in operand
    if op == "$nin":
        return value not in operand
    try:
        if op == "$gt":
            return value > operand
        if op == "$gte":
            return value >= operand
        if op == "$lt":
            return value < operand
        if op == "$lte":
            return value <= operand
    except TypeError:  # e.g. str vs number: no match rather than an error mid-query
        return False
    raise ValueError(f"unsupported filter operator {op!r}")


def matches_filter(metadata: Mapping[str, Any], flt: Filter) -> bool:
    for key, condition in flt.items():
        if key == "$and":
            if not all(matches_filter(metadata, sub) for sub in condition):
                return False
            continue
        if key == "$or":
            if not any(matches_filter(metadata, sub) for sub in condition):
                return False
            continue
        ops = condition if isinstance(condition, Mapping) else {"$eq": condition}
        for op, operand in ops.items():
            if key not in metadata:
                if op in ("$ne", "$nin"):
                    continue
                return False
            if not _compare(metadata[key], op, operand):
                return False
    return True


def check_metadata(metadata: Mapping[str, Any]) -> None:
    if EXPIRES_KEY in metadata:
        raise ValueError(f"metadata key {EXPIRES_KEY!r} is reserved for expiry")
