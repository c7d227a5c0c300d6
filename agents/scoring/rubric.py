"""The explainable 0-100 score of one candidate against one requisition.

Each criterion of `ScoringWeights` that applies to the requisition earns a share of its points; the
points of applicable criteria are rescaled to 100, so a requisition without, say, a location does not
cap every candidate at 95. Every positive item is a `Reason` that quotes its evidence; quotes are checked
verbatim against their source (resume text, the profile's field rendering, the workflow history) and a
reason whose quote is not found is flagged and earns nothing. Scores rank; they never reject: nothing
here makes or suggests a disposition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from agents.enrichment.credentials import DEGREE_ORDER, canonical_certification
from agents.enrichment.dates import gaps as employment_gaps
from agents.enrichment.skills import SkillHit, canonical_skill, find_term, skill_index
from agents.enrichment.text import snippet_evidence
from agents.enrichment.text import verify as verify_quote
from agents.enrichment.titles import TIER_ORDER, map_title, occupation_similarity, tier_from_title, title_key
from agents.models import (
    CandidateProfile,
    Evidence,
    EvidenceSource,
    Gap,
    HistorySignal,
    Reason,
    Requisition,
    ScoredCandidate,
    Seniority,
)
from agents.scoring.history import STAGE_LABELS, history_line, history_text

RUBRIC_VERSION = "rubric-1"
CRITERIA = ("must_have", "nice_to_have", "occupation", "seniority", "location", "education", "rediscovery")
_LABELS = {
    "must_have": "must-have",
    "nice_to_have": "nice-to-have",
    "occupation": "occupation",
    "seniority": "experience",
    "location": "location",
    "education": "education",
    "rediscovery": "rediscovery",
}
_DEGREE_NAMES = {
    "none": "no degree",
    "high_school": "high school",
    "associate": "associate degree",
    "bachelor": "bachelor's degree",
    "master": "master's degree",
    "doctorate": "doctorate",
}
# A gap between jobs counts as explained when the resume says why (study, family, service, travel).
_BREAK_WORDS = re.compile(
    r"\b(?:sabbatical|career\s+break|parental\s+leave|maternity|paternity|family\s+leave|caregiv\w+|"
    r"medical\s+leave|full-time\s+student|military\s+service|relocat\w+|travel(?:l)?ing|gap\s+year)\b",
    re.IGNORECASE,
)


@dataclass
class _Item:
    share: float  # of the criterion's points, 0..1
    detail: str  # e.g. "Python" or "Software Developers (same occupation)"
    evidence: Evidence | None


@dataclass
class _Result:
    applicable: bool
    items: list[_Item] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Sources:
    resume: str
    profile: str | None
    workflow: str | None
    requisition: str | None
    # Skill mentions per text, found once per scoring call rather than once per criterion.
    _hits: dict[str, list[SkillHit]] = field(default_factory=dict)

    def hits(self, source: EvidenceSource) -> list[SkillHit]:
        if source not in self._hits:
            self._hits[source] = skill_index().find(self.get(source) or "")
        return self._hits[source]

    def get(self, source: EvidenceSource) -> str | None:
        return {
            "resume": self.resume,
            "profile": self.profile,
            "workflow": self.workflow,
            "requisition": self.requisition,
        }[source]


# ---------------------------------------------------------------- evidence


def verify_evidence(
    reasons: list[Reason],
    source_text: str,
    *,
    profile_text: str | None = None,
    history_text: str | None = None,
    requisition_text: str | None = None,
) -> list[Reason]:
    """Copies of `reasons` with each quote searched verbatim in its source (`source_text` is the resume;
    quotes from the iCIMS field rendering, workflow history or requisition are checked against the other
    texts when given). A reason without evidence, or whose quote is not found, comes back `flagged`:
    it must not be shown as fact, and `score_candidate` withholds its points."""
    sources = _Sources(source_text, profile_text, history_text, requisition_text)
    return [_verify_reason(r, sources) for r in reasons]


def _verify_reason(reason: Reason, sources: _Sources) -> Reason:
    if reason.evidence is None:
        return reason.model_copy(update={"flagged": True})
    checked = verify_quote(reason.evidence, sources.get(reason.evidence.source))
    return reason.model_copy(update={"evidence": checked, "flagged": not checked.verified})


def _checked(ev: Evidence | None, sources: _Sources) -> bool:
    return ev is not None and verify_quote(ev, sources.get(ev.source)).verified


def points_counted(reasons: list[Reason]) -> float:
    """The points that count: flagged reasons earn nothing."""
    return sum(r.points for r in reasons if not r.flagged)


# ---------------------------------------------------------------- criteria


def _is_starred(name: str, starred: set[str]) -> bool:
    if name.casefold() in starred:
        return True
    label = canonical_skill(name)
    return label is not None and label.casefold() in starred


def _skill_evidence(name: str, profile: CandidateProfile, sources: _Sources) -> tuple[Evidence, str] | None:
    """Evidence that the candidate has skill `name`: the profile's mention when its quote holds, else a
    fresh search of the resume and the field rendering (synonyms through the taxonomy)."""
    label = canonical_skill(name) or name
    claimed: Evidence | None = None
    for mention in profile.skills:
        if mention.skill.casefold() in (label.casefold(), name.casefold()):
            if _checked(mention.evidence, sources):
                return mention.evidence, mention.matched
            claimed = mention.evidence
            break
    for source, text in (("resume", sources.resume), ("profile", sources.profile)):
        if not text:
            continue
        hit = find_term(text, name, hits=sources.hits(source))  # type: ignore[arg-type]
        if hit is not None:
            return snippet_evidence(text, hit.start, hit.end, source), text[hit.start : hit.end]  # type: ignore[arg-type]
    if claimed is not None:
        return claimed, name  # kept so the claim shows up flagged rather than silently dropped
    return None


def _skills(
    names: list[str],
    profile: CandidateProfile,
    sources: _Sources,
    starred: set[str],
    kind: str,
    star_multiplier: float,
) -> _Result:
    """Coverage of a skill list: each skill's share of the criterion, starred skills weighing
    `star_multiplier` times more."""
    if not names:
        return _Result(False)
    result = _Result(True)
    weights = {n: (star_multiplier if _is_starred(n, starred) else 1.0) for n in names}
    total = sum(weights.values()) or 1.0
    for name in names:
        found = _skill_evidence(name, profile, sources)
        star = " (starred)" if weights[name] > 1 else ""
        if found is None:
            result.gaps.append(Gap(criterion=kind, text=f"no evidence of {_LABELS[kind]} {name}{star}"))
            if kind == "must_have":
                result.flags.append(f"missing must-have: {name}")
            continue
        ev, _matched = found
        result.items.append(_Item(weights[name] / total, f"{name}{star}", ev))
    return result


def _recency(end: date | None, current: bool, as_of: date) -> float:
    if current or end is None:
        return 1.0
    years = (as_of - end).days / 365.25
    return 1.0 if years <= 3 else 0.85 if years <= 8 else 0.7


def _occupation(req: Requisition, profile: CandidateProfile, as_of: date) -> _Result:
    req_code = req.occupation_code
    req_title = req.occupation_title
    if req_code is None and req.title:
        match = map_title(req.title)
        if match is not None:
            req_code, req_title = match.code, match.title
    options: list[tuple[str | None, str, float, Evidence | None]] = []
    if profile.headline:
        options.append((profile.occupation_code, profile.headline, 1.0, profile.headline_evidence))
    for role in profile.roles:
        options.append(
            (role.occupation_code, role.title, _recency(role.end, role.current, as_of), role.evidence)
        )
    if not req.title and req_code is None:
        return _Result(False)
    result = _Result(True)
    best: tuple[float, str, Evidence | None] | None = None
    for code, title, factor, ev in options:
        similarity, relation = 0.0, "similar title"
        if req_code is not None and code is not None:
            similarity, relation = occupation_similarity(req_code, code)
        overlap = _title_overlap(req.title, title)
        if overlap > similarity:
            # The same words in both titles count even where the occupation codes disagree.
            similarity, relation, code = overlap, "similar title", None
        share = similarity * factor
        if share > 0 and (best is None or share > best[0]):
            name = title if code is None else f"{title} ({relation})"
            if factor < 1:
                name += ", earlier role"
            best = (share, name, ev)
    if best is None:
        what = req_title or req.title
        result.gaps.append(Gap(criterion="occupation", text=f"no recent work evidenced as {what}"))
        return result
    result.items.append(_Item(best[0], best[1], best[2]))
    if best[0] < 0.5:
        result.gaps.append(
            Gap(criterion="occupation", text=f"recent work is not as {req_title or req.title}")
        )
    return result


def _title_overlap(a: str, b: str) -> float:
    level = {"senior", "junior", "lead", "principal", "i", "ii", "iii", "iv", "entry", "level"}
    x = set(title_key(a).split()) - level
    y = set(title_key(b).split()) - level
    if not x or not y:
        return 0.0
    jaccard = len(x & y) / len(x | y)
    return jaccard if jaccard >= 0.5 else 0.0


def _tier_fit(have: Seniority, need: Seniority) -> float:
    distance = TIER_ORDER.index(have) - TIER_ORDER.index(need)
    if distance == 0:
        return 1.0
    if distance == 1:
        return 0.8
    if distance >= 2:
        return 0.6  # over-levelled: still worth a look
    if distance == -1:
        return 0.5
    return 0.15


def _seniority(req: Requisition, profile: CandidateProfile) -> _Result:
    need_tier = req.seniority
    if need_tier is None and req.title:
        tier = tier_from_title(req.title)
        need_tier = tier[0] if tier else None
    if req.min_years is None and need_tier is None:
        return _Result(False)
    result = _Result(True)
    parts = (req.min_years is not None) + (need_tier is not None)
    years_ev = profile.years_evidence[0] if profile.years_evidence else None
    if req.min_years is not None:
        if profile.years_experience is None or years_ev is None:
            result.gaps.append(
                Gap(criterion="seniority", text=f"years of experience not evident (needs {req.min_years:g}+)")
            )
        else:
            share = min(1.0, profile.years_experience / req.min_years) if req.min_years > 0 else 1.0
            result.items.append(
                _Item(
                    share / parts, f"{profile.years_experience:g} years (needs {req.min_years:g}+)", years_ev
                )
            )
            if share < 1:
                result.gaps.append(
                    Gap(
                        criterion="seniority",
                        text=f"{profile.years_experience:g} years of experience; "
                        f"requisition asks {req.min_years:g}+",
                    )
                )
    if need_tier is not None:
        if profile.seniority is None or profile.seniority_evidence is None:
            result.gaps.append(
                Gap(criterion="seniority", text=f"seniority not evident (requisition: {need_tier})")
            )
        else:
            fit = _tier_fit(profile.seniority, need_tier)
            result.items.append(
                _Item(
                    fit / parts, f"{profile.seniority} level (role: {need_tier})", profile.seniority_evidence
                )
            )
            if fit < 0.8:
                result.gaps.append(
                    Gap(criterion="seniority", text=f"{profile.seniority} level for a {need_tier} role")
                )
    return result


def _location(req: Requisition, profile: CandidateProfile) -> _Result:
    loc = profile.location
    wants_place = req.location.city is not None or req.location.state is not None
    if req.remote is None and not wants_place:
        return _Result(False)
    if req.remote == "Remote":
        if loc.remote_preference is not None and loc.remote_evidence is not None:
            if loc.remote_preference == "On-site":
                return _Result(
                    True,
                    [_Item(0.3, "prefers on-site, role is remote", loc.remote_evidence)],
                    [Gap(criterion="location", text="prefers on-site work; the role is remote")],
                )
            return _Result(
                True, [_Item(1.0, f"prefers {loc.remote_preference}, role is remote", loc.remote_evidence)]
            )
        if loc.evidence is not None:
            return _Result(
                True, [_Item(1.0, f"role is remote; based in {_place(loc.city, loc.state)}", loc.evidence)]
            )
        return _Result(False)  # nothing known about the candidate's place: not a gap for a remote role
    if loc.evidence is None:
        if loc.remote_preference is not None and loc.remote_evidence is not None:
            fit = 0.4 if loc.remote_preference == "Remote" else 0.7
            result = _Result(True, [_Item(fit, f"prefers {loc.remote_preference}", loc.remote_evidence)])
            if loc.remote_preference == "Remote":
                result.gaps.append(
                    Gap(criterion="location", text=f"prefers remote; the role is {req.remote or 'on-site'}")
                )
            return result
        return _Result(False)  # unknown location is not held against anyone
    same_state = req.location.state is None or (loc.state or "").casefold() == req.location.state.casefold()
    same_city = req.location.city is not None and (loc.city or "").casefold() == req.location.city.casefold()
    where = _place(req.location.city, req.location.state)
    if same_city and same_state:
        fit, detail = 1.0, f"in {where}"
    elif same_state and req.location.state is not None:
        fit, detail = 0.6, f"same state as {where}"
    elif not wants_place:
        fit, detail = 1.0, f"based in {_place(loc.city, loc.state)}"
    else:
        fit, detail = 0.1, f"based in {_place(loc.city, loc.state)}, role in {where}"
    if loc.remote_preference == "Remote" and req.remote in ("On-site", "Hybrid"):
        fit *= 0.5
        detail += f"; prefers remote, role is {req.remote}"
    result = _Result(True, [_Item(fit, detail, loc.evidence)])
    if fit < 0.6:
        result.gaps.append(Gap(criterion="location", text=detail))
    return result


def _place(city: str | None, state: str | None) -> str:
    return ", ".join(p for p in (city, state) if p) or "an unknown place"


def _education(req: Requisition, profile: CandidateProfile, sources: _Sources) -> _Result:
    if req.education in (None, "none") and not req.certifications:
        return _Result(False)
    result = _Result(True)
    parts = (req.education not in (None, "none")) + len(req.certifications)
    if req.education not in (None, "none"):
        need = req.education
        assert need is not None
        best = max(
            (e for e in profile.education if e.evidence is not None),
            key=lambda e: DEGREE_ORDER.index(e.level),
            default=None,
        )
        if best is None:
            result.gaps.append(Gap(criterion="education", text=f"no {_DEGREE_NAMES[need]} evidenced"))
        else:
            gap = DEGREE_ORDER.index(need) - DEGREE_ORDER.index(best.level)
            fit = 1.0 if gap <= 0 else 0.5 if gap == 1 else 0.0
            detail = _DEGREE_NAMES[best.level] + (f" in {best.field}" if best.field else "")
            if fit > 0:
                result.items.append(
                    _Item(fit / parts, f"{detail} (needs {_DEGREE_NAMES[need]})", best.evidence)
                )
            if fit < 1:
                result.gaps.append(
                    Gap(criterion="education", text=f"{detail}; requisition asks {_DEGREE_NAMES[need]}")
                )
    for wanted in req.certifications:
        name = canonical_certification(wanted) or wanted
        held = next((c for c in profile.certifications if c.name.casefold() == name.casefold()), None)
        if held is None:
            result.gaps.append(Gap(criterion="education", text=f"certification {wanted} not evidenced"))
            continue
        result.items.append(_Item(1 / parts, f"certification {held.name}", held.evidence))
    return result


def _signal_value(signal: HistorySignal) -> tuple[float, str]:
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


def _rediscovery(history: list[HistorySignal] | None, sources: _Sources, as_of: date) -> _Result:
    if not history:
        return _Result(False)
    text = sources.workflow or ""
    best: tuple[float, str, Evidence | None] | None = None
    for signal in history:
        value, what = _signal_value(signal)
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
    return _Result(True, [_Item(best[0], best[1], best[2])])


def _gap_flags(profile: CandidateProfile, resume_text: str, as_of: date) -> list[str]:
    intervals = [
        (r.start, r.end or date(as_of.year, as_of.month, 1)) for r in profile.roles if r.start is not None
    ]
    if len(intervals) < 2:
        return []
    flags: list[str] = []
    explained_in_text = _BREAK_WORDS.search(resume_text) is not None
    study_years = {e.year for e in profile.education if e.year is not None}
    for start, end, months in employment_gaps(intervals, min_months=12):
        if explained_in_text or any(start.year <= y <= end.year for y in study_years):
            continue
        flags.append(
            f"employment gap of {months} months ({start:%Y-%m} to {end:%Y-%m}) not explained in the resume"
        )
    return flags


# ---------------------------------------------------------------- score


def score_candidate(
    req: Requisition,
    profile: CandidateProfile,
    resume_text: str,
    history: list[HistorySignal] | None = None,
    *,
    as_of: date | None = None,
) -> ScoredCandidate:
    """Score `profile` against `req` (0-100) with itemised reasons, gaps, flags and a 3-bullet summary.

    `as_of` dates recency (past roles, past applications); it defaults to today. The function only
    scores: no score, however low, implies a rejection."""
    today = as_of or date.today()
    resume_text = resume_text or ""
    history = list(history or [])
    sources = _Sources(resume_text, profile.profile_text, history_text(history), req.description or None)
    weights = req.weights
    starred = {s.casefold() for s in req.starred}
    star = weights.starred_multiplier

    results: dict[str, _Result] = {
        "must_have": _skills(req.must_have, profile, sources, starred, "must_have", star),
        "nice_to_have": _skills(req.nice_to_have, profile, sources, starred, "nice_to_have", star),
        "occupation": _occupation(req, profile, today),
        "seniority": _seniority(req, profile),
        "location": _location(req, profile),
        "education": _education(req, profile, sources),
        "rediscovery": _rediscovery(history, sources, today),
    }

    def criterion_weight(name: str) -> float:
        base = float(getattr(weights, name))
        aliases = {name, name.replace("_", " "), name.replace("_", "-"), _LABELS[name]}
        return base * (weights.starred_multiplier if aliases & starred else 1.0)

    available = sum(criterion_weight(c) for c, r in results.items() if r.applicable)
    scale = 100.0 / available if available > 0 else 0.0

    reasons: list[Reason] = []
    gaps: list[Gap] = []
    flags: list[str] = []
    for name in CRITERIA:
        result = results[name]
        gaps.extend(result.gaps)
        flags.extend(result.flags)
        if not result.applicable:
            continue
        for item in result.items:
            points = round(criterion_weight(name) * item.share * scale, 1)
            if points <= 0:
                continue
            reason = Reason(criterion=name, points=points, text="", evidence=item.evidence)
            reason = _verify_reason(reason, sources)
            reason.text = _reason_text(reason, _LABELS[name], item.detail)
            reasons.append(reason)

    for reason in reasons:
        if reason.flagged:
            flags.append(f"unverified {reason.criterion} evidence not counted: {reason.text.split(':')[0]}")
    for cert in profile.certifications:
        if not _checked(cert.evidence, sources):
            flags.append(f"certification claimed without evidence: {cert.name}")
    flags.extend(_gap_flags(profile, resume_text, today))

    score = max(0, min(100, round(points_counted(reasons))))
    return ScoredCandidate(
        person_id=profile.person_id,
        score=score,
        reasons=reasons,
        gaps=gaps,
        flags=flags,
        summary=_summary(req, profile, score, results, reasons, history),
        rubric_version=RUBRIC_VERSION,
    )


def _reason_text(reason: Reason, label: str, detail: str) -> str:
    quote = reason.evidence.quote if reason.evidence else ""
    quote = " ".join(quote.split())
    if len(quote) > 120:
        quote = quote[:117].rstrip() + "..."
    head = f"+{reason.points:.0f} {label} {detail}"
    if reason.flagged:
        return f"{head}: '{quote}' [unverified: quote not found in the source, not counted]"
    return f"{head}: '{quote}'"


def _summary(
    req: Requisition,
    profile: CandidateProfile,
    score: int,
    results: dict[str, _Result],
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
        background.append(_DEGREE_NAMES[profile.highest_degree])
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
        value, what = _signal_value(max(history, key=lambda s: _signal_value(s)[0]))
        del value
        third_parts.append(f"Applied before ({len(history)}x, latest job {latest.job_id}); {what}.")
    return [first, second, " ".join(third_parts)]
