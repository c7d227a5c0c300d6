"""A disk-backed, content-addressed wrapper around any `Embeddings`, for evaluation runs only.

Embedding the 1,323-resume dev pool in 160-word windows takes minutes on two cores; the vectors depend
only on (model, text), so reruns of `make eval` read them back from `results/` instead. The store lives
under the git-ignored `results/` folder: the keys are sha256 hashes and the values are vectors, so no
third-party text is written. Product code uses `tools.vectors.EmbeddingCache` (in memory, with a TTL);
this is deliberately not it, because eval vectors are not personal data with a retention limit.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from tools.vectors.cache import content_hash, model_key


class DiskCachedEmbeddings(Embeddings):
    """Serves vectors from `directory/<model>.npz` when present; embeds and remembers the rest.

    `calls` and `embedded` count calls to the wrapped encoder and texts it embedded, so the eval can
    report how much work a run actually did.
    """

    def __init__(
        self,
        inner: Embeddings,
        directory: Path,
        *,
        chunk: int = 256,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.inner = inner
        self.model_id = getattr(inner, "model_id", type(inner).__name__)
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in model_key(inner))
        self.path = Path(directory) / f"{safe}.npz"
        self.chunk = chunk
        self.progress = progress
        self.calls = 0
        self.embedded = 0
        self._vectors: dict[str, np.ndarray] = {}
        self._dirty = False
        if self.path.exists():
            with np.load(self.path) as data:
                for key, row in zip(data["keys"], data["vectors"], strict=True):
                    self._vectors[str(key)] = row

    def __len__(self) -> int:
        return len(self._vectors)

    def encode(self, texts: list[str]) -> np.ndarray:
        keys = [content_hash(t) for t in texts]
        missing: dict[str, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in self._vectors and key not in missing:
                missing[key] = text
        items = list(missing.items())
        # Chunks, so a long first run reports progress and a crash half-way keeps what was done.
        for start in range(0, len(items), self.chunk):
            part = items[start : start + self.chunk]
            vectors = np.asarray(self.inner.embed_documents([t for _, t in part]), dtype=np.float32)
            self.calls += 1
            self.embedded += len(part)
            for (key, _), vector in zip(part, vectors, strict=True):
                self._vectors[key] = vector
            self._dirty = True
            if self.progress is not None:
                self.progress(len(part))
            if len(items) > self.chunk:
                self.flush()
        if not keys:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([self._vectors[k] for k in keys])

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()

    def missing(self, texts: list[str]) -> int:
        """How many distinct texts would need the encoder (for sizing a progress bar)."""
        return len({content_hash(t) for t in texts} - self._vectors.keys())

    def flush(self) -> None:
        if not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self._vectors), dtype="U64")
        vectors = np.stack(list(self._vectors.values())).astype(np.float32)
        # Write then rename: an interrupted run must not leave a truncated store behind.
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".npz")
        os.close(fd)
        np.savez(tmp, keys=keys, vectors=vectors)
        os.replace(tmp, self.path)
        self._dirty = False
