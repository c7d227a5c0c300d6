"""A deterministic, dependency-free embedding for tests and as a last-resort fallback.

Feature hashing of word unigrams and bigrams with signed buckets: texts sharing words get higher cosine,
so ranking tests behave sensibly, and the same text gives the same vector in every process (blake2b, not
Python's salted `hash`). It carries no semantics beyond word overlap.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re

from langchain_core.embeddings import Embeddings

_WORD = re.compile(r"\w+", re.UNICODE)


class HashEmbeddings(Embeddings):
    def __init__(self, dimension: int = 384) -> None:
        if dimension < 2:
            raise ValueError("dimension must be at least 2")
        self.dimension = dimension
        self.model_id = f"hash-{dimension}"

    def _features(self, text: str) -> list[str]:
        words = _WORD.findall(text.lower())
        features = words + [f"{a} {b}" for a, b in itertools.pairwise(words)]
        # An empty text still needs a unit vector: cosine against a zero vector is undefined.
        return features or ["\x00empty"]

    def _embed(self, text: str) -> list[float]:
        vector = [0.0] * self.dimension
        for feature in self._features(text):
            digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
            value = int.from_bytes(digest, "little")
            sign = 1.0 if value & 1 else -1.0
            vector[(value >> 1) % self.dimension] += sign
        norm = math.sqrt(sum(v * v for v in vector))
        if norm == 0.0:  # all features cancelled out; rare but possible
            vector[0], norm = 1.0, 1.0
        return [v / norm for v in vector]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._embed(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)
