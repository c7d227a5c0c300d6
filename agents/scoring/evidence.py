"""Quotes checked verbatim against their sources: a reason whose quote is not found earns nothing.

The sources are the texts `source=` names: the resume, the profile's iCIMS field rendering, the
workflow history rendering and the requisition.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agents.enrichment.skills import SkillHit, skill_index
from agents.enrichment.text import verify as verify_quote
from agents.models import Evidence, EvidenceSource, Reason


@dataclass(frozen=True)
class Sources:
    """The texts one scoring call checks quotes against."""

    resume: str
    profile: str | None
    workflow: str | None
    requisition: str | None
    # Skill mentions per text, found once per scoring call rather than once per criterion.
    _hits: dict[str, list[SkillHit]] = field(default_factory=dict)

    def hits(self, source: EvidenceSource) -> list[SkillHit]:
        if source not in self._hits:
            self._hits[source] = skill_index().find(self.get(source) or "")
        return self._hits[source]

    def get(self, source: EvidenceSource) -> str | None:
        return {
            "resume": self.resume,
            "profile": self.profile,
            "workflow": self.workflow,
            "requisition": self.requisition,
        }[source]


def verify_evidence(
    reasons: list[Reason],
    source_text: str,
    *,
    profile_text: str | None = None,
    history_text: str | None = None,
    requisition_text: str | None = None,
) -> list[Reason]:
    """Copies of `reasons` with each quote searched verbatim in its source (`source_text` is the resume;
    quotes from the iCIMS field rendering, workflow history or requisition are checked against the other
    texts when given). A reason without evidence, or whose quote is not found, comes back `flagged`:
    it must not be shown as fact, and `score_candidate` withholds its points."""
    sources = Sources(source_text, profile_text, history_text, requisition_text)
    return [verify_reason(r, sources) for r in reasons]


def verify_reason(reason: Reason, sources: Sources) -> Reason:
    """`reason` with its quote checked; flagged when it has none or the quote is not in its source."""
    if reason.evidence is None:
        return reason.model_copy(update={"flagged": True})
    checked = verify_quote(reason.evidence, sources.get(reason.evidence.source))
    return reason.model_copy(update={"evidence": checked, "flagged": not checked.verified})


def quote_holds(ev: Evidence | None, sources: Sources) -> bool:
    """Whether `ev` quotes its source verbatim."""
    return ev is not None and verify_quote(ev, sources.get(ev.source)).verified


def points_counted(reasons: list[Reason]) -> float:
    """The points that count: flagged reasons earn nothing."""
    return sum(r.points for r in reasons if not r.flagged)
