"""Sentence embeddings behind LangChain's `Embeddings` interface: packaged MiniLM (default), hash, OpenAI."""

from tools.embeddings.factory import BACKENDS, EmbeddingsBackend, make_embeddings
from tools.embeddings.hashing import HashEmbeddings
from tools.embeddings.minilm import DIMENSION, MODEL_ID, MiniLMEmbeddings, ModelIntegrityError, shared_minilm

__all__ = [
    "BACKENDS",
    "DIMENSION",
    "MODEL_ID",
    "EmbeddingsBackend",
    "HashEmbeddings",
    "MiniLMEmbeddings",
    "ModelIntegrityError",
    "make_embeddings",
    "shared_minilm",
]
