"""The words of a score: one line per reason and the three-bullet summary."""

from __future__ import annotations

from agents.models import CandidateProfile, HistorySignal, Reason, Requisition
from agents.scoring.criteria import DEGREE_NAMES, CriterionResult
from agents.scoring.rediscovery import signal_value


def reason_text(reason: Reason, label: str, detail: str) -> str:
    """One reason line ("+12 must-have Python: '<quote>'"), marked when its quote was not found."""
    quote = reason.evidence.quote if reason.evidence else ""
    quote = " ".join(quote.split())
    if len(quote) > 120:
        quote = quote[:117].rstrip() + "..."
    head = f"+{reason.points:.0f} {label} {detail}"
    if reason.flagged:
        return f"{head}: '{quote}' [unverified: quote not found in the source, not counted]"
    return f"{head}: '{quote}'"


def summary_bullets(
    req: Requisition,
    profile: CandidateProfile,
    score: int,
    results: dict[str, CriterionResult],
    reasons: list[Reason],
    history: list[HistorySignal],
) -> list[str]:
    """Exactly three template bullets: fit, background, gaps and history."""

    def counted(criterion: str) -> list[Reason]:
        return [r for r in reasons if r.criterion == criterion and not r.flagged]

    must_hit = [r.text.split(":")[0].split(" must-have ", 1)[-1] for r in counted("must_have")]
    if req.must_have:
        names = ", ".join(m.replace(" (starred)", "") for m in must_hit[:4]) or "none"
        more = "" if len(must_hit) <= 4 else f" and {len(must_hit) - 4} more"
        first = (
            f"{score}/100 for {req.title}: {len(must_hit)} of {len(req.must_have)} must-haves evidenced "
            f"({names}{more})."
        )
    else:
        first = f"{score}/100 for {req.title} (no must-have skills set on the requisition)."

    background: list[str] = []
    occupation = counted("occupation")
    if occupation:
        background.append(occupation[0].text.split(":")[0].split(" occupation ", 1)[-1])
    elif profile.headline:
        background.append(profile.headline)
    if profile.years_experience is not None:
        background.append(f"{profile.years_experience:g} years of experience")
    if profile.seniority:
        background.append(f"{profile.seniority} level")
    if profile.highest_degree and profile.highest_degree != "none":
        background.append(DEGREE_NAMES[profile.highest_degree])
    second = (
        "Background: "
        + ("; ".join(background) if background else "little structured detail in the resume")
        + "."
    )

    missing = [g.text for g in results["must_have"].gaps]
    other = [g.text for name, r in results.items() if name != "must_have" for g in r.gaps]
    third_parts: list[str] = []
    if missing or other:
        shown = (missing + other)[:3]
        rest = len(missing) + len(other) - len(shown)
        third_parts.append("Gaps: " + "; ".join(shown) + (f"; {rest} more" if rest > 0 else "") + ".")
    else:
        third_parts.append("No gaps against the requisition's criteria.")
    if history:
        latest = history[0]
        value, what = signal_value(max(history, key=lambda s: signal_value(s)[0]))
        del value
        third_parts.append(f"Applied before ({len(history)}x, latest job {latest.job_id}); {what}.")
    return [first, second, " ".join(third_parts)]
