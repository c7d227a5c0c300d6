"""The clause library: which clauses an offer letter must carry in a jurisdiction for its terms."""

from __future__ import annotations

from functools import cache
from typing import Literal

import yaml
from pydantic import BaseModel, Field

from agents.offer.models import OfferTerms
from agents.offer.templates import DEFAULT_VERSION, PROMPT_DIR, check_version

Condition = Literal["sign_on", "equity", "bonus", "pto", "remote", "non_compete"]


class ClauseSpec(BaseModel):
    id: str
    title: str
    text: str
    when: Condition | None = None
    only_in: list[str] | None = None
    prohibited_in: list[str] = Field(default_factory=list)
    variants: dict[str, str] = Field(default_factory=dict)

    def prohibited(self, state: str) -> bool:
        return state in self.prohibited_in

    def in_scope(self, state: str) -> bool:
        return self.only_in is None or state in self.only_in


class ClauseLibrary(BaseModel):
    version: str
    clauses: list[ClauseSpec]

    @property
    def id(self) -> str:
        return f"clauses.{self.version}"

    def get(self, clause_id: str) -> ClauseSpec:
        for spec in self.clauses:
            if spec.id == clause_id:
                return spec
        raise KeyError(clause_id)


@cache
def load_clauses(version: str = DEFAULT_VERSION) -> ClauseLibrary:
    """`prompts/offer/clauses.<version>.yaml`."""
    check_version(version)
    data = yaml.safe_load((PROMPT_DIR / f"clauses.{version}.yaml").read_text(encoding="utf-8"))
    return ClauseLibrary.model_validate(data)


def _applies(terms: OfferTerms, condition: Condition | None) -> bool:
    """Whether the terms call for a clause with this `when`."""
    match condition:
        case None:
            return True
        case "sign_on":
            return terms.sign_on_bonus > 0
        case "equity":
            return terms.equity_value > 0
        case "bonus":
            return bool(terms.target_bonus_pct)
        case "pto":
            return terms.pto_days is not None
        case "remote":
            return terms.remote is not None
        case "non_compete":
            return terms.non_compete


def required_clauses(
    jurisdiction: str, terms: OfferTerms, library: ClauseLibrary | None = None
) -> tuple[list[ClauseSpec], list[str]]:
    """(clauses the letter must carry, in library order; "id: reason" for those left out as prohibited)."""
    library = library or load_clauses()
    keep: list[ClauseSpec] = []
    omitted: list[str] = []
    for spec in library.clauses:
        if not spec.in_scope(jurisdiction) or not _applies(terms, spec.when):
            continue
        if spec.prohibited(jurisdiction):
            omitted.append(f"{spec.id}: not enforceable / prohibited in {jurisdiction}")
            continue
        keep.append(spec)
    return keep, omitted
