"""Typed offer data: pay bands, policy, terms, drafts, validation issues, approvals, counter-offers.

Money is `Decimal` throughout, so "one cent over the band" is exact.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from agents.models import RemoteMode

BandPosition = Literal["below_min", "in_band", "above_mid", "above_max"]
Severity = Literal["error", "warning"]
Trigger = Literal[
    "in_band",
    "below_min",
    "above_mid",
    "above_max",
    "sign_on_above_cap",
    "equity_above_cap",
    "bonus_above_cap",
    "non_standard_terms",
]

CENT = Decimal("0.01")


def money(value: Decimal | int | float | str) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def fmt_money(value: Decimal) -> str:
    """$135,000 for whole dollars, $135,000.50 otherwise (the same text in HTML, PDF and DOCX)."""
    value = money(value)
    if value == value.to_integral_value():
        return f"${int(value):,}"
    return f"${value:,.2f}"


def fmt_date(value: date) -> str:
    return f"{value:%B} {value.day}, {value.year}"


# ---------------------------------------------------------------- bands and policy


class PayBand(BaseModel):
    min: Decimal
    mid: Decimal
    max: Decimal
    source: str = Field(description="where the band came from, e.g. 'BLS OEWS May 2024 15-1252 L3 T1'")
    soc: str | None = None
    level: str | None = None
    tier: str | None = None
    currency: str = "USD"

    def position(self, amount: Decimal) -> BandPosition:
        """Inclusive edges: at min and at max are in band; one cent over max is above_max."""
        amount = money(amount)
        if amount < self.min:
            return "below_min"
        if amount > self.max:
            return "above_max"
        if amount > self.mid:
            return "above_mid"
        return "in_band"

    def compa_ratio(self, amount: Decimal) -> float:
        return round(float(money(amount) / self.mid), 3) if self.mid else 0.0


class Tier(BaseModel):
    differential: float
    label: str


class BandMethod(BaseModel):
    version: int
    levels: dict[str, float]
    default_level: str
    round_to: int
    tiers: dict[str, Tier]
    default_tier: str
    remote_tier: str
    cities: dict[str, list[str]] = Field(default_factory=dict)
    states: dict[str, list[str]] = Field(default_factory=dict)


class StepPolicy(BaseModel):
    order: int
    approvers: list[str]
    required: int = 1


class Caps(BaseModel):
    sign_on: Decimal
    sign_on_pct_of_base: Decimal
    equity: Decimal
    bonus_pct: Decimal


class StandardTerms(BaseModel):
    pto_days_max: int
    max_start_days_out: int
    non_compete: bool = False


class Authority(BaseModel):
    """What one negotiator may agree to without escalating."""

    max_base_increase_pct: Decimal = Decimal(5)
    base_up_to: Literal["mid", "max"] = "mid"
    max_sign_on: Decimal = Decimal(10000)
    max_equity_increase: Decimal = Decimal(0)
    max_bonus_pct_increase: Decimal = Decimal(0)
    max_extra_pto_days: int = 0
    max_start_shift_days: int = 30
    may_change_remote: bool = False


class ApprovalPolicy(BaseModel):
    version: int
    steps: dict[str, StepPolicy]
    routing: dict[Trigger, list[str]]
    caps: Caps
    standard: StandardTerms
    authority: dict[str, Authority]


class Policy(BaseModel):
    approval: ApprovalPolicy
    method: BandMethod
    bands_path: str
    bands_source: str = "BLS OEWS May 2024"


# ---------------------------------------------------------------- drafting


class OfferTerms(BaseModel):
    base_salary: Decimal
    start_date: date
    level: str = "L3"
    sign_on_bonus: Decimal = Decimal(0)
    equity_value: Decimal = Decimal(0)
    target_bonus_pct: Decimal | None = None
    pto_days: int | None = None
    remote: RemoteMode | None = None
    non_compete: bool = Field(default=False, description="the hiring team asks for a non-compete clause")
    non_standard: list[str] = Field(default_factory=list, description="free-text special terms")
    expires_on: date | None = None
    currency: str = "USD"


class OfferCandidate(BaseModel):
    person_id: str | None = None
    name: str
    address_lines: list[str] = Field(default_factory=list)
    email: str | None = None


class OfferRole(BaseModel):
    job_id: str | None = None
    title: str
    soc: str | None = None
    location: str = ""
    remote: RemoteMode | None = None
    posted_min: Decimal | None = None
    posted_max: Decimal | None = None
    hiring_manager: str | None = None


class Clause(BaseModel):
    id: str
    title: str
    text: str


class OfferDraft(BaseModel):
    template_id: str = Field(description="e.g. 'letter.v1'")
    clauses_version: str = Field(description="e.g. 'clauses.v1'")
    jurisdiction: str = Field(description="two-letter US state (or DC) whose rules apply")
    letter_date: date
    company: str
    role: OfferRole
    candidate: OfferCandidate
    terms: OfferTerms
    pay_range: tuple[Decimal, Decimal] | None = Field(
        default=None, description="the disclosed pay range (posted range, else the band)"
    )
    clauses: list[Clause]
    narrative: str = ""
    omitted: list[str] = Field(
        default_factory=list, description="clauses left out and why, e.g. 'non_compete: prohibited in CA'"
    )
    figures: dict[str, str] = Field(description="label -> the exact text of every figure in the letter")
    html: str

    @property
    def clause_ids(self) -> list[str]:
        return [clause.id for clause in self.clauses]


class Issue(BaseModel):
    code: str
    severity: Severity = "error"
    message: str
    clause_id: str | None = None


# ---------------------------------------------------------------- routing


class ApprovalStep(BaseModel):
    role: str
    order: int = Field(description="steps run in order; steps sharing an order run in parallel")
    approvers: list[str]
    required: int = Field(description="N approvals needed out of len(approvers)")
    mode: Literal["sequential", "parallel"]
    reasons: list[str]


# ---------------------------------------------------------------- negotiation


class CounterOffer(BaseModel):
    base_salary: Decimal | None = None
    base_increase: Decimal | None = Field(default=None, description="'an extra 10k' on base")
    sign_on_bonus: Decimal | None = None
    equity_value: Decimal | None = None
    bonus_pct: Decimal | None = None
    bonus_amount: Decimal | None = None
    start_date: date | None = None
    pto_days: int | None = None
    extra_pto_days: int | None = None
    remote: RemoteMode | None = None
    evidence: dict[str, str] = Field(default_factory=dict, description="term -> the phrase it came from")
    text: str = ""

    def is_empty(self) -> bool:
        return not self.model_dump(exclude={"evidence", "text"}, exclude_none=True)


class TermChange(BaseModel):
    term: str
    current: str
    requested: str
    within_authority: bool
    reason: str | None = None


class CounterAnalysis(BaseModel):
    decision: Literal["accept", "escalate", "no_change"]
    proposed: OfferTerms
    band_position: BandPosition
    compa_ratio: float
    changes: list[TermChange]
    reasons: list[str] = Field(description="why it needs escalating (empty when within authority)")
    approvals: list[ApprovalStep] = Field(description="the chain the proposed terms would need")
    suggested_reply: str
    reply_template: str
