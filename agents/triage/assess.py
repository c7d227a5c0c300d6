"""Triage of one application: score, flags, a three-bullet summary, a routing tier and the proposed
actions. Pure functions over values passed in (the graph does the reading and writing).

Scores come from the rediscovery rubric (`agents.scoring.score_candidate`, 0-100 with itemised,
quote-checked reasons). The tier only routes a suggestion (priority review, review, talent pool);
no tier, however low, leads to a rejection, and every status change is left to a recruiter.

A resume that cannot be read (encrypted, corrupt, oversized, empty) is not scored at all: scoring
an empty text would rank the candidate at the bottom for a file problem. It becomes the flag
"resume unreadable: <why>" (`unreadable_assessment`), its AI fields carry no score, and
`hold_for_person` takes the policy's automatic approval away, so a person reads it first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agents.models import CandidateProfile, HistorySignal, Requisition, ScoredCandidate
from agents.scoring.history import STATUSES
from agents.triage.policy import FORWARD_STATUSES, TIER_LABELS, ResolvedPolicy, Thresholds, Tier
from tools.icims.codes import APPLICANT_NEW_SUBMISSION

FlagCode = Literal[
    "missing_must_have",
    "certification_without_evidence",
    "unexplained_gap",
    "unverified_evidence",
    "resume_unreadable",
    "other",
]
ActionKind = Literal["ai_fields", "status", "talent_pool"]
REASONS_FIELD_LIMIT = 2000
FLAGS_FIELD_LIMIT = 1000
BULLET_LIMIT = 300
NEW_STATUS = APPLICANT_NEW_SUBMISSION
UNREADABLE_TIER: Tier = "review"  # the middle tier: a person looks, nobody is parked in a pool
UNREADABLE_RUBRIC = "unscored"
# Why a resume file could not be read (`tools.documents` error codes), as a recruiter reads it.
UNREADABLE_REASONS = {
    "encrypted": "encrypted",
    "corrupt": "damaged file",
    "too_large": "too large",
    "empty": "no text (scanned?)",
    "unsupported_format": "unsupported format",
    "timeout": "could not be read in time",
}

_FLAG_PATTERNS: tuple[tuple[FlagCode, re.Pattern[str]], ...] = (
    ("missing_must_have", re.compile(r"^missing must-have: ", re.IGNORECASE)),
    ("certification_without_evidence", re.compile(r"^certification claimed without evidence", re.IGNORECASE)),
    ("unexplained_gap", re.compile(r"^employment gap of .* not explained", re.IGNORECASE)),
    ("unverified_evidence", re.compile(r"^unverified ", re.IGNORECASE)),
)


class Flag(BaseModel):
    code: FlagCode
    text: str


class Assessment(BaseModel):
    """What triage concluded about one application (JSON-ready; kept in the graph state)."""

    score: int = Field(ge=0, le=100)
    tier: Tier
    summary: list[str] = Field(min_length=3, max_length=3)
    reasons: list[dict[str, Any]] = Field(default_factory=list)
    gaps: list[dict[str, Any]] = Field(default_factory=list)
    flags: list[Flag] = Field(default_factory=list)
    rubric_version: str


class ProposedAction(BaseModel):
    """One write triage proposes. `ai_fields` may be approved by the admin policy (mode auto); the
    others always need a recruiter."""

    model_config = ConfigDict(extra="forbid")

    id: ActionKind
    kind: ActionKind
    fields: dict[str, Any] = Field(default_factory=dict, description="ai_fields: custom field id -> value")
    status_id: str | None = None
    status_label: str | None = None
    pool_id: int | None = None

    @field_validator("status_id")
    @classmethod
    def _forward_only(cls, value: str | None) -> str | None:
        if value is not None and value not in FORWARD_STATUSES:
            raise ValueError(f"status {value!r} cannot be set by triage (forward review steps only)")
        return value


def route(score: int, thresholds: Thresholds) -> Tier:
    """The suggestion tier of a score. The lowest tier is the talent pool: nobody is routed out."""
    if score >= thresholds.priority_review:
        return "priority_review"
    if score >= thresholds.review:
        return "review"
    return "talent_pool"


def classify_flags(texts: list[str]) -> list[Flag]:
    """The rubric's flag texts, typed (missing must-haves, unevidenced certifications, unexplained
    gaps, unverified evidence), duplicates dropped."""
    out: list[Flag] = []
    for text in dict.fromkeys(t for t in texts if t):
        code: FlagCode = next((c for c, p in _FLAG_PATTERNS if p.search(text)), "other")
        out.append(Flag(code=code, text=text))
    return out


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def summary_bullets(scored: ScoredCandidate, tier: Tier, flags: list[Flag]) -> list[str]:
    """Exactly three bullets: the fit (with the suggested tier), the background, then gaps and flags."""
    bullets = [b for b in scored.summary if b][:3]
    while len(bullets) < 3:
        bullets.append("No further detail in the resume.")
    first = f"{TIER_LABELS[tier]} suggested. {bullets[0]}"
    third = bullets[2]
    worth = [f.text for f in flags if f.code in ("certification_without_evidence", "unexplained_gap")]
    if worth:
        third = f"{third} Flags: {'; '.join(worth[:2])}."
    return [_clip(first, BULLET_LIMIT), _clip(bullets[1], BULLET_LIMIT), _clip(third, BULLET_LIMIT)]


def assess(
    requisition: Requisition,
    profile: CandidateProfile,
    resume_text: str,
    thresholds: Thresholds,
    *,
    history: list[HistorySignal] | None = None,
    as_of: date | None = None,
    score_candidate: Callable[..., ScoredCandidate] | None = None,
) -> Assessment:
    if score_candidate is None:
        from agents.scoring import score_candidate
    scored = score_candidate(requisition, profile, resume_text, history=history, as_of=as_of)
    tier = route(scored.score, thresholds)
    flags = classify_flags(scored.flags)
    return Assessment(
        score=scored.score,
        tier=tier,
        summary=summary_bullets(scored, tier, flags),
        reasons=[r.model_dump(mode="json") for r in scored.reasons],
        gaps=[g.model_dump(mode="json") for g in scored.gaps],
        flags=flags,
        rubric_version=scored.rubric_version,
    )


def unreadable_assessment(code: str) -> Assessment:
    """The assessment of an application whose resume file could not be read (`code`: the document
    error's code): no score is computed, the flag says why, and the tier sends it to review."""
    why = UNREADABLE_REASONS.get(code, code)
    flag = Flag(code="resume_unreadable", text=f"resume unreadable: {why}")
    return Assessment(
        score=0,
        tier=UNREADABLE_TIER,
        summary=[
            f"Not scored: the resume file could not be read ({why}). A person should review it.",
            "Open the file in iCIMS, or ask the candidate for a readable copy (PDF or DOCX).",
            "No score, reasons or gaps were produced for this application.",
        ],
        flags=[flag],
        rubric_version=UNREADABLE_RUBRIC,
    )


def unreadable(assessment: Assessment | Mapping[str, Any]) -> str | None:
    """The "resume unreadable: ..." flag text of an assessment, or None."""
    flags = assessment.flags if isinstance(assessment, Assessment) else assessment.get("flags") or []
    for flag in flags:
        code, text = (flag.code, flag.text) if isinstance(flag, Flag) else (flag["code"], flag["text"])
        if code == "resume_unreadable":
            return text
    return None


def hold_for_person(policy: ResolvedPolicy, assessment: Assessment) -> ResolvedPolicy:
    """The policy this application is decided under: an unreadable resume is never approved by the
    policy itself (auto becomes assist for it, with the reason in the rule); shadow stays shadow
    (it writes nothing anyway)."""
    reason = unreadable(assessment)
    if reason is None or policy.mode != "auto":
        return policy
    return policy.model_copy(update={"mode": "assist", "rule": f"{policy.rule}; {reason}: held for a person"})


def model_version(versions: Mapping[str, Any]) -> str:
    """The `ai_model_version` field: rubric, extractor and graph versions in one short text."""
    parts = [versions.get(k) for k in ("rubric", "extractor", "graph")]
    return "/".join(str(p) for p in parts if p)


def reasons_json(assessment: Assessment) -> str:
    """The `ai_reasons` field: compact JSON (summary, reasons with quotes, gaps) within the field size;
    the lowest-scoring reasons and the last gaps go first when it does not fit."""
    reasons = sorted(assessment.reasons, key=lambda r: -float(r.get("points") or 0))
    body: dict[str, Any] = {
        "summary": assessment.summary,
        "reasons": [{"criterion": r["criterion"], "points": r["points"], "text": r["text"]} for r in reasons],
        "gaps": [g["text"] for g in assessment.gaps],
    }
    while True:
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        if len(text) <= REASONS_FIELD_LIMIT:
            return text
        if body["gaps"]:
            body["gaps"].pop()
        elif body["reasons"]:
            body["reasons"].pop()
        else:
            body["summary"] = [_clip(s, 150) for s in body["summary"]]
            return json.dumps(body, ensure_ascii=False, separators=(",", ":"))[:REASONS_FIELD_LIMIT]


def flags_text(flags: list[Flag]) -> str:
    text = "; ".join(f.text for f in flags)
    return _clip(text, FLAGS_FIELD_LIMIT) if text else "none"


def ai_fields(
    assessment: Assessment,
    field_map: Mapping[str, str],
    *,
    versions: Mapping[str, Any],
    processed_at: str,
    tier: Tier | None = None,
) -> dict[str, Any]:
    """Custom field id -> value for the AI fields of the applicant workflow (tenant field map). An
    unscored (unreadable) application writes no `ai_score`."""
    values: dict[str, Any] = {
        "ai_score": assessment.score,
        "ai_tier": TIER_LABELS[tier or assessment.tier],
        "ai_reasons": reasons_json(assessment),
        "ai_flags": flags_text(assessment.flags),
        "ai_model_version": model_version(versions),
        "ai_processed_at": processed_at,
    }
    missing = [name for name in values if not field_map.get(name)]
    if missing:
        raise ValueError(f"the field map has no field for {', '.join(missing)}")
    if unreadable(assessment) is not None:
        del values["ai_score"]
    return {field_map[name]: value for name, value in values.items()}


def status_rank(status_id: str | None) -> int:
    status = STATUSES.get(status_id or "")
    return status.stage_rank if status is not None and status.disposition == "open" else -1


def propose(
    assessment: Assessment,
    policy: ResolvedPolicy,
    *,
    fields: dict[str, Any],
    current_status: str | None,
    in_pool: Callable[[int], bool] | None = None,
) -> list[ProposedAction]:
    """The writes triage suggests: always the AI fields; the tier's status when the application has
    not gone that far yet (and is still open); the tier's talent pool unless already a member."""
    actions = [ProposedAction(id="ai_fields", kind="ai_fields", fields=fields)]
    action = getattr(policy.actions, assessment.tier)
    current = status_rank(current_status)
    if (
        action.status is not None
        and current >= 0  # closed applications (rejected, withdrawn, hired) are left alone
        and current < STATUSES[action.status].stage_rank
    ):
        actions.append(
            ProposedAction(
                id="status",
                kind="status",
                status_id=action.status,
                status_label=STATUSES[action.status].label,
            )
        )
    if action.pool_id is not None and not (in_pool is not None and in_pool(action.pool_id)):
        actions.append(ProposedAction(id="talent_pool", kind="talent_pool", pool_id=action.pool_id))
    return actions
