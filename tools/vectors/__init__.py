"""Ephemeral vectors: an index interface with in-process and Pinecone backends, and an embedding cache."""

from tools.vectors.base import EXPIRES_KEY, Filter, Match, Metadata, VectorIndex, VectorItem, matches_filter
from tools.vectors.cache import EmbeddingCache, ForgetReport, content_hash
from tools.vectors.memory import InMemoryVectorIndex
from tools.vectors.pinecone_index import PineconeVectorIndex

__all__ = [
    "EXPIRES_KEY",
    "EmbeddingCache",
    "Filter",
    "ForgetReport",
    "InMemoryVectorIndex",
    "Match",
    "Metadata",
    "PineconeVectorIndex",
    "VectorIndex",
    "VectorItem",
    "content_hash",
    "matches_filter",
]
