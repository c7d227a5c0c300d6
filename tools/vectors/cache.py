"""Content-addressed embedding cache with TTL and per-person erasure.

The encoder does about 20-30 texts/s on the target machine, so re-embedding unchanged profiles on every
query is what would make rediscovery slow. Entries are keyed by sha256 of the text (plus the model, so
switching backends never serves another model's vectors) and live for `ttl_seconds` from when they were
embedded. A hit does not extend the TTL: vectors are derived personal data and must age out even when
used often (DESIGN.md, "ephemeral").

Erasure: callers pass the owner (person id) of each text; `forget(owner_id)` removes that person's cached
vectors and, when given the indexes, the vector ids recorded for them with `note_vectors`.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from langchain_core.embeddings import Embeddings

from tools.vectors.base import VectorIndex

CacheKey = tuple[str, str]  # (model key, sha256 of the text)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def model_key(embeddings: Embeddings) -> str:
    # Backends in tools.embeddings expose `model_id`; OpenAI-style ones a `model`; else the class name.
    for attr in ("model_id", "model"):
        value = getattr(embeddings, attr, None)
        if isinstance(value, str) and value:
            return f"{type(embeddings).__name__}:{value}"
    return type(embeddings).__qualname__


@dataclass(slots=True)
class _Entry:
    vector: np.ndarray  # float32; about 1.5 KB per 384-d vector instead of ~12 KB as a list of floats
    expires_at: float


@dataclass(frozen=True, slots=True)
class ForgetReport:
    cache_entries: int
    vector_ids: int


class EmbeddingCache:
    def __init__(
        self,
        ttl_seconds: float = 24 * 3600,
        *,
        clock: Callable[[], float] = time.time,
        max_entries: int | None = None,
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        # Insertion order = embed order, so evicting from the front drops the oldest (soonest to expire).
        self._entries: OrderedDict[CacheKey, _Entry] = OrderedDict()
        self._owner_keys: dict[str, set[CacheKey]] = {}
        self._owner_vector_ids: dict[str, set[str]] = {}
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get_or_embed(
        self,
        texts: Sequence[str],
        embeddings: Embeddings,
        now: float | None = None,
        *,
        owners: Sequence[str | None] | None = None,
    ) -> list[list[float]]:
        """Vectors for `texts` (Python floats), embedding only texts not cached within the TTL."""
        return self.get_or_embed_array(texts, embeddings, now, owners=owners).tolist()

    def get_or_embed_array(
        self,
        texts: Sequence[str],
        embeddings: Embeddings,
        now: float | None = None,
        *,
        owners: Sequence[str | None] | None = None,
    ) -> np.ndarray:
        """As `get_or_embed`, as a float32 matrix (for bulk index builds).

        Counting: `hits` grows by the number of texts served from entries that existed before the call;
        `misses` by the number of distinct texts embedded (a text repeated within a call is embedded once).
        """
        if owners is not None and len(owners) != len(texts):
            raise ValueError("owners must be as long as texts")
        now = self._clock() if now is None else now
        mkey = model_key(embeddings)
        keys: list[CacheKey] = [(mkey, content_hash(t)) for t in texts]
        found: dict[CacheKey, np.ndarray] = {}
        missing: dict[CacheKey, str] = {}
        hits = 0
        with self._lock:
            for key, text in zip(keys, texts, strict=True):
                entry = self._entries.get(key)
                if entry is not None and entry.expires_at > now:
                    found[key] = entry.vector
                    hits += 1
                elif key not in missing:
                    missing[key] = text
            self.hits += hits

        if missing:
            # Embedding runs outside the lock so other threads' hits are not held up by a slow batch.
            fresh = np.asarray(embeddings.embed_documents(list(missing.values())), dtype=np.float32)
            with self._lock:
                self.misses += len(missing)
                for key, vector in zip(missing, fresh, strict=True):
                    self._entries[key] = _Entry(vector=vector, expires_at=now + self.ttl_seconds)
                    self._entries.move_to_end(key)
                    found[key] = vector
                self._evict_over_capacity()

        if owners is not None:
            with self._lock:
                for key, owner in zip(keys, owners, strict=True):
                    if owner is not None:
                        self._owner_keys.setdefault(owner, set()).add(key)

        if not keys:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([found[key] for key in keys])

    def _evict_over_capacity(self) -> None:
        if self.max_entries is None:
            return
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def purge_expired(self, now: float | None = None) -> int:
        now = self._clock() if now is None else now
        with self._lock:
            expired = [key for key, entry in self._entries.items() if entry.expires_at <= now]
            for key in expired:
                del self._entries[key]
            # Drop erasure bookkeeping for entries that no longer exist: the map would otherwise grow
            # for ever, and content hashes of a person's text are worth not keeping either.
            if expired:
                for owner in list(self._owner_keys):
                    live = {key for key in self._owner_keys[owner] if key in self._entries}
                    if live:
                        self._owner_keys[owner] = live
                    else:
                        del self._owner_keys[owner]
            return len(expired)

    def note_vectors(self, owner_id: str, vector_ids: Iterable[str]) -> None:
        """Record index ids holding `owner_id`'s vectors, so `forget` can delete them from the indexes."""
        with self._lock:
            self._owner_vector_ids.setdefault(owner_id, set()).update(vector_ids)

    def forget(self, owner_id: str, *, indexes: Iterable[VectorIndex] = ()) -> ForgetReport:
        """Erase a person: their cached vectors, and their recorded vector ids from each of `indexes`.

        A cached text shared with another person is removed too: erasure wins over reuse, and the other
        person's vector is simply re-embedded on next use.
        """
        with self._lock:
            keys = self._owner_keys.pop(owner_id, set())
            removed = sum(1 for key in keys if self._entries.pop(key, None) is not None)
            vector_ids = sorted(self._owner_vector_ids.pop(owner_id, set()))
        for index in indexes:
            if vector_ids:
                index.delete(vector_ids)
        return ForgetReport(cache_entries=removed, vector_ids=len(vector_ids))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._owner_keys.clear()
            self._owner_vector_ids.clear()
