"""Offer negotiator foundations: policy data, drafting and validation, rendering, approval routing and
counter-offer analysis. Pure functions; the graph and the iCIMS write-back build on these."""

from agents.offer.drafting import draft_offer, required_clauses, revise_draft, validate_draft
from agents.offer.models import (
    ApprovalStep,
    Authority,
    CounterAnalysis,
    CounterOffer,
    Issue,
    OfferCandidate,
    OfferDraft,
    OfferTerms,
    PayBand,
    Policy,
)
from agents.offer.negotiation import analyse_counter, apply_counter, parse_counter
from agents.offer.policy import band_for, load_policy
from agents.offer.render import render_docx, render_pdf
from agents.offer.routing import added_steps, approval_chain

__all__ = [
    "ApprovalStep",
    "Authority",
    "CounterAnalysis",
    "CounterOffer",
    "Issue",
    "OfferCandidate",
    "OfferDraft",
    "OfferTerms",
    "PayBand",
    "Policy",
    "added_steps",
    "analyse_counter",
    "apply_counter",
    "approval_chain",
    "band_for",
    "draft_offer",
    "load_policy",
    "parse_counter",
    "render_docx",
    "render_pdf",
    "required_clauses",
    "revise_draft",
    "validate_draft",
]
