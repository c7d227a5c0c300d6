"""Choose an embeddings backend by name or from settings."""

from __future__ import annotations

from typing import Any, Literal, get_args

from langchain_core.embeddings import Embeddings

from tools.embeddings.hashing import HashEmbeddings
from tools.embeddings.minilm import DIMENSION, shared_minilm

EmbeddingsBackend = Literal["minilm", "hash", "openai"]
BACKENDS: tuple[str, ...] = get_args(EmbeddingsBackend)
DEFAULT_OPENAI_MODEL = "text-embedding-3-small"


def _secret(value: Any) -> str | None:
    if value is None:
        return None
    getter = getattr(value, "get_secret_value", None)
    return getter() if callable(getter) else str(value)


def make_embeddings(
    settings: Any = "minilm",
    *,
    openai_model: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    dimension: int = DIMENSION,
) -> Embeddings:
    """An `Embeddings` for `settings`: a backend name ("minilm" | "hash" | "openai") or a settings object.

    From a settings object this reads `embeddings_backend` (default "minilm"), `embeddings_model`, and
    the LLM endpoint (`llm_base_url`, `llm_api_key`) for "openai"; explicit keyword arguments win.
    """
    if isinstance(settings, str):
        backend = settings
    else:
        backend = getattr(settings, "embeddings_backend", None) or "minilm"
        openai_model = openai_model or getattr(settings, "embeddings_model", None)
        base_url = base_url or getattr(settings, "llm_base_url", None)
        api_key = api_key or _secret(getattr(settings, "llm_api_key", None))
    backend = backend.strip().lower()

    if backend == "minilm":
        return shared_minilm()
    if backend == "hash":
        return HashEmbeddings(dimension)
    if backend == "openai":
        from langchain_openai import OpenAIEmbeddings

        kwargs: dict[str, Any] = {
            "model": openai_model or DEFAULT_OPENAI_MODEL,
            # The default (True) tokenises with tiktoken, which downloads its encoding files at run time
            # (STACK_NOTES 5); sending plain strings works with OpenAI and compatible servers alike.
            "check_embedding_ctx_length": False,
        }
        if base_url:
            kwargs["base_url"] = base_url
        if api_key:
            kwargs["api_key"] = api_key
        return OpenAIEmbeddings(**kwargs)
    raise ValueError(f"unknown embeddings backend {backend!r}; choose one of {', '.join(BACKENDS)}")
