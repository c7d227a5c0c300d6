"""Sign-off bookkeeping: which approval step an offer still needs for its current terms.

An approval counts only for the exact terms it was given on (`terms_hash`): when an edit or a
counter-offer changes the terms, every approval given before stops counting and the new chain is
walked again from its first step. A step needing N of M approvers is satisfied by N distinct approvers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from agents.offer.models import ApprovalStep, OfferTerms

APPROVING = frozenset({"accept", "edit"})


def terms_hash(terms: OfferTerms | Mapping[str, Any]) -> str:
    model = terms if isinstance(terms, OfferTerms) else OfferTerms.model_validate(terms)
    return hashlib.sha256(model.model_dump_json().encode("utf-8")).hexdigest()


def _steps(chain: Iterable[ApprovalStep | Mapping[str, Any]]) -> list[ApprovalStep]:
    steps = [s if isinstance(s, ApprovalStep) else ApprovalStep.model_validate(s) for s in chain]
    return sorted(steps, key=lambda step: (step.order, step.role))


def approvers_for(role: str, approvals: Iterable[Mapping[str, Any]], current_hash: str) -> list[str]:
    """Distinct approvers who signed off `role` for the terms hashed `current_hash`."""
    found: dict[str, None] = {}
    for item in approvals:
        if (
            item.get("role") == role
            and item.get("terms_hash") == current_hash
            and item.get("decision") in APPROVING
        ):
            found.setdefault(str(item.get("approver")), None)
    return list(found)


def next_step(
    chain: Iterable[ApprovalStep | Mapping[str, Any]],
    approvals: Iterable[Mapping[str, Any]],
    current_hash: str,
) -> ApprovalStep | None:
    """The first step (by order, then role) short of its required approvals; None when all are met.
    Parallel steps (same order) are asked one after the other: one pending interrupt per thread."""
    given = list(approvals)
    for step in _steps(chain):
        if len(approvers_for(step.role, given, current_hash)) < step.required:
            return step
    return None


def missing(
    chain: Iterable[ApprovalStep | Mapping[str, Any]],
    approvals: Iterable[Mapping[str, Any]],
    current_hash: str,
) -> list[str]:
    """Every step still short of approvals for these terms ("role: k of n")."""
    given = list(approvals)
    out = []
    for step in _steps(chain):
        have = len(approvers_for(step.role, given, current_hash))
        if have < step.required:
            out.append(f"{step.role}: {have} of {step.required}")
    return out
