"""Candidate retrieval for rediscovery: hybrid BM25 + structured + dense ranking with RRF fusion."""

from agents.ranking.fusion import DEFAULT_K, ranks_of, rrf
from agents.ranking.hybrid import FusionWeights, HybridRanker
from agents.ranking.models import CandidateDoc, RankedCandidate, RankQuery
from agents.ranking.occupation import OccupationMatch, match_title, occupation_similarity

__all__ = [
    "DEFAULT_K",
    "CandidateDoc",
    "FusionWeights",
    "HybridRanker",
    "OccupationMatch",
    "RankQuery",
    "RankedCandidate",
    "match_title",
    "occupation_similarity",
    "ranks_of",
    "rrf",
]
