"""The criteria a requisition scores a candidate on, each as a `CriterionResult`: whether it applies,
the items that earn a share of its points (each with its evidence), and the gaps and flags it found.

Skills (must-have, nice-to-have), occupation, seniority, location and education; the rediscovery
criterion reads past applications (`agents.scoring.rediscovery`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from agents.enrichment.credentials import DEGREE_ORDER, canonical_certification
from agents.enrichment.dates import gaps as employment_gaps
from agents.enrichment.seniority import TIER_ORDER, tier_from_title
from agents.enrichment.skills import canonical_skill, find_term
from agents.enrichment.text import snippet_evidence
from agents.enrichment.titles import map_title, occupation_similarity, title_key
from agents.models import CandidateProfile, Evidence, Gap, Requisition, Seniority
from agents.scoring.evidence import Sources, quote_holds

CRITERION_LABELS = {
    "must_have": "must-have",
    "nice_to_have": "nice-to-have",
    "occupation": "occupation",
    "seniority": "experience",
    "location": "location",
    "education": "education",
    "rediscovery": "rediscovery",
}
DEGREE_NAMES = {
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
class Item:
    """What earns part of a criterion's points, and the evidence for it."""

    share: float  # of the criterion's points, 0..1
    detail: str  # e.g. "Python" or "Software Developers (same occupation)"
    evidence: Evidence | None


@dataclass
class CriterionResult:
    """One criterion's outcome; `applicable=False` leaves it out of the 100 points."""

    applicable: bool
    items: list[Item] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


def _is_starred(name: str, starred: set[str]) -> bool:
    if name.casefold() in starred:
        return True
    label = canonical_skill(name)
    return label is not None and label.casefold() in starred


def _skill_evidence(name: str, profile: CandidateProfile, sources: Sources) -> tuple[Evidence, str] | None:
    """Evidence that the candidate has skill `name`: the profile's mention when its quote holds, else a
    fresh search of the resume and the field rendering (synonyms through the taxonomy)."""
    label = canonical_skill(name) or name
    claimed: Evidence | None = None
    for mention in profile.skills:
        if mention.skill.casefold() in (label.casefold(), name.casefold()):
            if quote_holds(mention.evidence, sources):
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


def skill_coverage(
    names: list[str],
    profile: CandidateProfile,
    sources: Sources,
    starred: set[str],
    kind: str,
    star_multiplier: float,
) -> CriterionResult:
    """Coverage of a skill list: each skill's share of the criterion, starred skills weighing
    `star_multiplier` times more."""
    if not names:
        return CriterionResult(False)
    result = CriterionResult(True)
    weights = {n: (star_multiplier if _is_starred(n, starred) else 1.0) for n in names}
    total = sum(weights.values()) or 1.0
    for name in names:
        found = _skill_evidence(name, profile, sources)
        star = " (starred)" if weights[name] > 1 else ""
        if found is None:
            result.gaps.append(
                Gap(criterion=kind, text=f"no evidence of {CRITERION_LABELS[kind]} {name}{star}")
            )
            if kind == "must_have":
                result.flags.append(f"missing must-have: {name}")
            continue
        ev, _matched = found
        result.items.append(Item(weights[name] / total, f"{name}{star}", ev))
    return result


def _recency(end: date | None, current: bool, as_of: date) -> float:
    if current or end is None:
        return 1.0
    years = (as_of - end).days / 365.25
    return 1.0 if years <= 3 else 0.85 if years <= 8 else 0.7


def occupation_fit(req: Requisition, profile: CandidateProfile, as_of: date) -> CriterionResult:
    """The headline or role closest to the requisition's occupation (earlier roles count less)."""
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
        return CriterionResult(False)
    result = CriterionResult(True)
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
    result.items.append(Item(best[0], best[1], best[2]))
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


def seniority_fit(req: Requisition, profile: CandidateProfile) -> CriterionResult:
    """Years against the minimum asked, and the candidate's tier against the role's."""
    need_tier = req.seniority
    if need_tier is None and req.title:
        tier = tier_from_title(req.title)
        need_tier = tier[0] if tier else None
    if req.min_years is None and need_tier is None:
        return CriterionResult(False)
    result = CriterionResult(True)
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
                Item(
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
                Item(
                    fit / parts, f"{profile.seniority} level (role: {need_tier})", profile.seniority_evidence
                )
            )
            if fit < 0.8:
                result.gaps.append(
                    Gap(criterion="seniority", text=f"{profile.seniority} level for a {need_tier} role")
                )
    return result


def location_fit(req: Requisition, profile: CandidateProfile) -> CriterionResult:
    """Place and remote preference against the role's; an unknown place is never held against anyone."""
    loc = profile.location
    wants_place = req.location.city is not None or req.location.state is not None
    if req.remote is None and not wants_place:
        return CriterionResult(False)
    if req.remote == "Remote":
        if loc.remote_preference is not None and loc.remote_evidence is not None:
            if loc.remote_preference == "On-site":
                return CriterionResult(
                    True,
                    [Item(0.3, "prefers on-site, role is remote", loc.remote_evidence)],
                    [Gap(criterion="location", text="prefers on-site work; the role is remote")],
                )
            return CriterionResult(
                True, [Item(1.0, f"prefers {loc.remote_preference}, role is remote", loc.remote_evidence)]
            )
        if loc.evidence is not None:
            return CriterionResult(
                True, [Item(1.0, f"role is remote; based in {_place(loc.city, loc.state)}", loc.evidence)]
            )
        return CriterionResult(
            False
        )  # nothing known about the candidate's place: not a gap for a remote role
    if loc.evidence is None:
        if loc.remote_preference is not None and loc.remote_evidence is not None:
            fit = 0.4 if loc.remote_preference == "Remote" else 0.7
            result = CriterionResult(
                True, [Item(fit, f"prefers {loc.remote_preference}", loc.remote_evidence)]
            )
            if loc.remote_preference == "Remote":
                result.gaps.append(
                    Gap(criterion="location", text=f"prefers remote; the role is {req.remote or 'on-site'}")
                )
            return result
        return CriterionResult(False)  # unknown location is not held against anyone
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
    result = CriterionResult(True, [Item(fit, detail, loc.evidence)])
    if fit < 0.6:
        result.gaps.append(Gap(criterion="location", text=detail))
    return result


def _place(city: str | None, state: str | None) -> str:
    return ", ".join(p for p in (city, state) if p) or "an unknown place"


def education_fit(req: Requisition, profile: CandidateProfile, sources: Sources) -> CriterionResult:
    """The highest evidenced degree against the one asked, and each certification asked."""
    if req.education in (None, "none") and not req.certifications:
        return CriterionResult(False)
    result = CriterionResult(True)
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
            result.gaps.append(Gap(criterion="education", text=f"no {DEGREE_NAMES[need]} evidenced"))
        else:
            gap = DEGREE_ORDER.index(need) - DEGREE_ORDER.index(best.level)
            fit = 1.0 if gap <= 0 else 0.5 if gap == 1 else 0.0
            detail = DEGREE_NAMES[best.level] + (f" in {best.field}" if best.field else "")
            if fit > 0:
                result.items.append(
                    Item(fit / parts, f"{detail} (needs {DEGREE_NAMES[need]})", best.evidence)
                )
            if fit < 1:
                result.gaps.append(
                    Gap(criterion="education", text=f"{detail}; requisition asks {DEGREE_NAMES[need]}")
                )
    for wanted in req.certifications:
        name = canonical_certification(wanted) or wanted
        held = next((c for c in profile.certifications if c.name.casefold() == name.casefold()), None)
        if held is None:
            result.gaps.append(Gap(criterion="education", text=f"certification {wanted} not evidenced"))
            continue
        result.items.append(Item(1 / parts, f"certification {held.name}", held.evidence))
    return result


def gap_flags(profile: CandidateProfile, resume_text: str, as_of: date) -> list[str]:
    """Employment gaps of a year or more that neither the resume nor a period of study explains."""
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
