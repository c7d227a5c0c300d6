"""The rediscovery criterion: how far the candidate got in past applications, and how recently."""

from __future__ import annotations

from datetime import date

from agents.models import Evidence, HistorySignal
from agents.scoring.criteria import CriterionResult, Item
from agents.scoring.evidence import Sources
from agents.scoring.history import STAGE_LABELS, history_line


def signal_value(signal: HistorySignal) -> tuple[float, str]:
    """What one past application is worth (0..1) and how to say it."""
    stage = STAGE_LABELS[min(max(signal.stage_rank, 0), 5)]
    if signal.disposition == "hired":
        return 1.0, "hired before"
    if signal.disposition == "rejected":
        if signal.stage_rank >= 3:
            return 0.8, f"reached {stage} before a late rejection"
        if signal.stage_rank == 2:
            return 0.55, f"reached {stage} before rejection"
        return 0.25, "not selected at screening"
    if signal.disposition == "withdrawn":
        return 0.5, f"withdrew after {stage}"
    return (0.3, 0.4, 0.6, 0.8, 0.9, 1.0)[min(max(signal.stage_rank, 0), 5)], f"reached {stage}"


def rediscovery_fit(history: list[HistorySignal] | None, sources: Sources, as_of: date) -> CriterionResult:
    """The best past application, discounted by age, quoting its line of the history rendering."""
    if not history:
        return CriterionResult(False)
    text = sources.workflow or ""
    best: tuple[float, str, Evidence | None] | None = None
    for signal in history:
        value, what = signal_value(signal)
        if signal.updated is None:
            recency = 0.85
        else:
            age = (as_of - signal.updated).days
            recency = 1.0 if age <= 365 else 0.85 if age <= 3 * 365 else 0.7
        line = history_line(signal)
        start = text.find(line)
        ev = Evidence(
            quote=line,
            source="workflow",
            start=start if start >= 0 else None,
            end=start + len(line) if start >= 0 else None,
            verified=start >= 0,
        )
        share = value * recency
        if best is None or share > best[0]:
            best = (share, f"{what} for job {signal.job_id}", ev)
    assert best is not None
    return CriterionResult(True, [Item(best[0], best[1], best[2])])
