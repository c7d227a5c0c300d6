"""The explainable 0-100 score of one candidate against one requisition.

Each criterion of `ScoringWeights` that applies to the requisition earns a share of its points; the
points of applicable criteria are rescaled to 100, so a requisition without, say, a location does not
cap every candidate at 95. Every positive item is a `Reason` that quotes its evidence; quotes are checked
verbatim against their source (resume text, the profile's field rendering, the workflow history) and a
reason whose quote is not found is flagged and earns nothing. Scores rank; they never reject: nothing
here makes or suggests a disposition.

The criteria are in `criteria` and `rediscovery`, quote checking in `evidence`, the wording in
`summary`; this module weighs them.
"""

from __future__ import annotations

from datetime import date

from agents.models import CandidateProfile, Gap, HistorySignal, Reason, Requisition, ScoredCandidate
from agents.scoring.criteria import (
    CRITERION_LABELS,
    CriterionResult,
    education_fit,
    gap_flags,
    location_fit,
    occupation_fit,
    seniority_fit,
    skill_coverage,
)
from agents.scoring.evidence import Sources, points_counted, quote_holds, verify_evidence, verify_reason
from agents.scoring.history import history_text
from agents.scoring.rediscovery import rediscovery_fit
from agents.scoring.summary import reason_text, summary_bullets

RUBRIC_VERSION = "rubric-1"
CRITERIA = ("must_have", "nice_to_have", "occupation", "seniority", "location", "education", "rediscovery")


def score_candidate(
    req: Requisition,
    profile: CandidateProfile,
    resume_text: str,
    history: list[HistorySignal] | None = None,
    *,
    as_of: date | None = None,
) -> ScoredCandidate:
    """Score `profile` against `req` (0-100) with itemised reasons, gaps, flags and a 3-bullet summary.

    `as_of` dates recency (past roles, past applications); it defaults to today. The function only
    scores: no score, however low, implies a rejection."""
    today = as_of or date.today()
    resume_text = resume_text or ""
    history = list(history or [])
    sources = Sources(resume_text, profile.profile_text, history_text(history), req.description or None)
    weights = req.weights
    starred = {s.casefold() for s in req.starred}
    star = weights.starred_multiplier

    results: dict[str, CriterionResult] = {
        "must_have": skill_coverage(req.must_have, profile, sources, starred, "must_have", star),
        "nice_to_have": skill_coverage(req.nice_to_have, profile, sources, starred, "nice_to_have", star),
        "occupation": occupation_fit(req, profile, today),
        "seniority": seniority_fit(req, profile),
        "location": location_fit(req, profile),
        "education": education_fit(req, profile, sources),
        "rediscovery": rediscovery_fit(history, sources, today),
    }

    def criterion_weight(name: str) -> float:
        base = float(getattr(weights, name))
        aliases = {name, name.replace("_", " "), name.replace("_", "-"), CRITERION_LABELS[name]}
        return base * (weights.starred_multiplier if aliases & starred else 1.0)

    available = sum(criterion_weight(c) for c, r in results.items() if r.applicable)
    scale = 100.0 / available if available > 0 else 0.0

    reasons: list[Reason] = []
    gaps: list[Gap] = []
    flags: list[str] = []
    for name in CRITERIA:
        result = results[name]
        gaps.extend(result.gaps)
        flags.extend(result.flags)
        if not result.applicable:
            continue
        for item in result.items:
            points = round(criterion_weight(name) * item.share * scale, 1)
            if points <= 0:
                continue
            reason = Reason(criterion=name, points=points, text="", evidence=item.evidence)
            reason = verify_reason(reason, sources)
            reason.text = reason_text(reason, CRITERION_LABELS[name], item.detail)
            reasons.append(reason)

    for reason in reasons:
        if reason.flagged:
            flags.append(f"unverified {reason.criterion} evidence not counted: {reason.text.split(':')[0]}")
    for cert in profile.certifications:
        if not quote_holds(cert.evidence, sources):
            flags.append(f"certification claimed without evidence: {cert.name}")
    flags.extend(gap_flags(profile, resume_text, today))

    score = max(0, min(100, round(points_counted(reasons))))
    return ScoredCandidate(
        person_id=profile.person_id,
        score=score,
        reasons=reasons,
        gaps=gaps,
        flags=flags,
        summary=summary_bullets(req, profile, score, results, reasons, history),
        rubric_version=RUBRIC_VERSION,
    )


__all__ = ["CRITERIA", "RUBRIC_VERSION", "points_counted", "score_candidate", "verify_evidence"]
