"""Explainable 0-100 scoring of candidates against a requisition (never a reject decision)."""

from agents.scoring.history import STATUSES, history_from_workflows, history_line, history_text
from agents.scoring.rubric import CRITERIA, RUBRIC_VERSION, points_counted, score_candidate, verify_evidence

__all__ = [
    "CRITERIA",
    "RUBRIC_VERSION",
    "STATUSES",
    "history_from_workflows",
    "history_line",
    "history_text",
    "points_counted",
    "score_candidate",
    "verify_evidence",
]
