"""What the ranker takes and returns. Deliberately minimal: ids, titles and text only.

The held-out benchmark check calls the ranker through `icims-agents rank` with nothing else (no category,
source or label fields), and the rediscovery graph builds these from mirror records, so no feature may
depend on fields that only one of those callers has.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class CandidateDoc:
    candidate_id: str
    text: str
    title: str | None = None  # the resume headline / current job title, when the caller knows it


@dataclass(frozen=True, slots=True)
class RankQuery:
    query_id: str
    title: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class RankedCandidate:
    candidate_id: str
    score: float
    # Per-retriever evidence for explanations and debugging: ranks (1-based) and raw scores per channel.
    components: dict[str, float] = field(default_factory=dict)
