"""An offer's versions in state: the current draft and band read back, and a new version recorded
(every draft, edit and accepted counter-offer is one, with its terms, figures and hashes)."""

from __future__ import annotations

import hashlib
from typing import Any

from agents.offer import OfferDraft, OfferTerms, PayBand
from agents.offer.signoff import terms_hash


def draft_of(state: dict[str, Any]) -> OfferDraft:
    return OfferDraft.model_validate(state["draft"])


def band_of(state: dict[str, Any]) -> PayBand:
    return PayBand.model_validate(state["context"]["band"])


def terms_json(terms: OfferTerms) -> dict[str, Any]:
    return terms.model_dump(mode="json")


def new_version(
    state: dict[str, Any],
    draft: OfferDraft,
    *,
    reason: str,
    author: str,
    at: str,
    changes: dict[str, Any],
) -> dict[str, Any]:
    """The state update that makes `draft` the offer's next version."""
    number = int(state.get("version") or 0) + 1
    entry = {
        "version": number,
        "created_at": at,
        "reason": reason,
        "author": author,
        "changes": changes,
        "terms": terms_json(draft.terms),
        "terms_hash": terms_hash(draft.terms),
        "figures": dict(draft.figures),
        "clauses": draft.clause_ids,
        "omitted": list(draft.omitted),
        "html_sha256": hashlib.sha256(draft.html.encode("utf-8")).hexdigest(),
        "template": draft.template_id,
        "clauses_version": draft.clauses_version,
    }
    return {
        "draft": draft.model_dump(mode="json"),
        "version": number,
        "versions": [*(state.get("versions") or []), entry],
    }


def term_changes(old: OfferTerms, new: OfferTerms) -> dict[str, Any]:
    before, after = terms_json(old), terms_json(new)
    return {k: {"from": before.get(k), "to": after[k]} for k in after if before.get(k) != after[k]}
