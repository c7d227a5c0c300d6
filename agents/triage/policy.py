"""The triage policy: mode and routing thresholds per requisition (a YAML file an admin owns).

Modes: `shadow` scores and audits only; `assist` asks a recruiter before any write; `auto` lets this
policy approve the AI field write (score, tier, reasons, flags, versions) and nothing else: a
suggested status change or talent-pool addition still waits for a recruiter. Suggested statuses are
limited to forward review steps, so no policy, edit or score can reject anyone.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from agents.scoring.history import STATUSES

Mode = Literal["shadow", "assist", "auto"]
Tier = Literal["priority_review", "review", "talent_pool"]
TIERS: tuple[Tier, ...] = ("priority_review", "review", "talent_pool")
TIER_LABELS: dict[str, str] = {
    "priority_review": "Priority review",
    "review": "Review",
    "talent_pool": "Talent pool",
}
DEFAULT_POLICY_PATH = Path(__file__).resolve().parent / "policy.yaml"
# Only these may ever be suggested: forward review steps. Rejected, Withdrawn, Offer and Hired are not.
FORWARD_STATUSES: frozenset[str] = frozenset(
    sid for sid, s in STATUSES.items() if s.disposition == "open" and 1 <= s.stage_rank <= 3
)
# The one action kind an admin policy may approve without a human.
AUTO_APPROVABLE = "ai_fields"


def auto_approvable(mode: str | None, kind: str) -> bool:
    """Whether the admin policy approves an action kind by itself: only the AI fields, only in auto."""
    return mode == "auto" and kind == AUTO_APPROVABLE


class PolicyError(ValueError):
    """The policy file cannot be read or breaks a rule (e.g. suggests a rejection)."""


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    priority_review: int = Field(default=75, ge=0, le=100)
    review: int = Field(default=45, ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.review > self.priority_review:
            raise ValueError("thresholds: review must not be above priority_review")
        return self


class TierAction(BaseModel):
    """What a tier suggests besides writing the AI fields (each needs a recruiter's approval)."""

    model_config = ConfigDict(extra="forbid")

    status: str | None = Field(default=None, description="a forward review status id, e.g. C51219")
    pool_id: int | None = Field(default=None, description="a talent pool to suggest adding the person to")

    @field_validator("status")
    @classmethod
    def _forward_only(cls, value: str | None) -> str | None:
        if value is not None and value not in FORWARD_STATUSES:
            allowed = ", ".join(f"{s} ({STATUSES[s].label})" for s in sorted(FORWARD_STATUSES))
            raise ValueError(f"status {value!r} may not be suggested; allowed: {allowed} (never a rejection)")
        return value


class TierActions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    priority_review: TierAction = Field(default_factory=TierAction)
    review: TierAction = Field(default_factory=TierAction)
    talent_pool: TierAction = Field(default_factory=TierAction)


class RequisitionPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Mode = "assist"
    thresholds: Thresholds = Field(default_factory=Thresholds)
    actions: TierActions = Field(default_factory=TierActions)


class RequisitionOverride(BaseModel):
    """A requisition's entry: anything left out comes from the default."""

    model_config = ConfigDict(extra="forbid")

    mode: Mode | None = None
    thresholds: dict[str, int] | None = None
    actions: dict[str, dict[str, Any]] | None = None


class TriagePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = "triage-policy-1"
    default: RequisitionPolicy = Field(default_factory=RequisitionPolicy)
    requisitions: dict[str, RequisitionOverride] = Field(default_factory=dict)
    # Set when loaded: the file's sha256, recorded with every decision the policy takes.
    digest: str = ""
    source: str = ""

    @model_validator(mode="after")
    def _check_overrides(self) -> TriagePolicy:
        for job_id in self.requisitions:
            try:
                self.for_job(job_id)
            except ValidationError as exc:
                raise ValueError(f"requisition {job_id}: {exc.errors()[0]['msg']}") from None
        return self

    def for_job(self, job_id: int | str, *, default_mode: Mode | None = None) -> ResolvedPolicy:
        """The effective policy of one requisition. `default_mode` (a settings override) replaces
        the default mode, not the mode a requisition sets for itself."""
        base = self.default.model_dump()
        if default_mode is not None:
            base["mode"] = default_mode
        override = self.requisitions.get(str(job_id))
        rule = "default"
        if override is not None:
            rule = f"requisitions.{job_id}"
            if override.mode is not None:
                base["mode"] = override.mode
            if override.thresholds:
                base["thresholds"] = {**base["thresholds"], **override.thresholds}
            for tier, action in (override.actions or {}).items():
                base["actions"][tier] = {**base["actions"].get(tier, {}), **action}
        resolved = RequisitionPolicy.model_validate(base)
        return ResolvedPolicy(
            job_id=str(job_id),
            mode=resolved.mode,
            thresholds=resolved.thresholds,
            actions=resolved.actions,
            rule=rule,
            version=self.version,
            digest=self.digest,
        )


class ResolvedPolicy(BaseModel):
    """One requisition's policy as applied, with where it came from (recorded in the audit)."""

    job_id: str
    mode: Mode
    thresholds: Thresholds
    actions: TierActions
    rule: str
    version: str
    digest: str

    def auto_approves(self, kind: str) -> bool:
        return auto_approvable(self.mode, kind)

    def describe(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "digest": self.digest,
            "rule": self.rule,
            "mode": self.mode,
            "thresholds": self.thresholds.model_dump(),
        }


def parse_policy(text: str, *, source: str = "<text>") -> TriagePolicy:
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise PolicyError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise PolicyError(f"{source}: the policy must be a mapping")
    raw = {str(k): v for k, v in raw.items()}
    if isinstance(raw.get("requisitions"), dict):
        raw["requisitions"] = {str(k): v or {} for k, v in raw["requisitions"].items()}
    raw["digest"] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    raw["source"] = source
    try:
        return TriagePolicy.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise PolicyError(f"{source}: {where + ': ' if where else ''}{first['msg']}") from None
