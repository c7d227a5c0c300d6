"""How a candidate reads: names and titles from the mirrored person, reasons with their quotes, the
summary bullets and outreach connection the reviewer sees, and the texts written to iCIMS fields
(`ai_reasons`, `enrichment_tags`). Pure functions over JSON-like values (and the mirror, read)."""

from __future__ import annotations

from typing import Any

from tools.mirror.store import link_id

REASONS_FIELD_LIMIT = 2000
TAGS_FIELD_LIMIT = 255
TAG_SKILLS = 5


def _verified(evidence: Any) -> bool:
    return evidence is not None and bool(getattr(evidence, "verified", False))


def _years_band(years: float) -> str:
    for upper, band in ((2, "0-1"), (5, "2-4"), (10, "5-9"), (15, "10-14")):
        if years < upper:
            return band
    return "15+"


def enrichment_tags(profile: Any) -> str:
    """The `enrichment_tags` field: occupation code, seniority, years band and the first canonical
    skills, each only when its evidence was verified in the source. Short and deterministic:
    "soc=15-1252.00; tier=senior; yrs=5-9; skills=Python,SQL,AWS"."""
    parts: list[str] = []
    code = getattr(profile, "occupation_code", None)
    roles = getattr(profile, "roles", None) or []
    if code and (
        _verified(getattr(profile, "headline_evidence", None))
        or any(r.occupation_code == code and _verified(r.evidence) for r in roles)
    ):
        parts.append(f"soc={code}")
    seniority = getattr(profile, "seniority", None)
    if seniority and _verified(getattr(profile, "seniority_evidence", None)):
        parts.append(f"tier={seniority}")
    years = getattr(profile, "years_experience", None)
    if years is not None and any(_verified(e) for e in getattr(profile, "years_evidence", None) or []):
        parts.append(f"yrs={_years_band(float(years))}")
    skills: list[str] = []
    for mention in getattr(profile, "skills", None) or []:
        label = " ".join(str(mention.skill).replace(",", " ").replace(";", " ").split())
        if label and _verified(mention.evidence) and label not in skills:
            skills.append(label)
    skills = skills[:TAG_SKILLS]
    while skills:
        text = "; ".join([*parts, "skills=" + ",".join(skills)])
        if len(text) <= TAGS_FIELD_LIMIT:
            return text
        skills.pop()
    return "; ".join(parts)[:TAGS_FIELD_LIMIT]


def current_title(person: dict[str, Any]) -> str | None:
    roles = [r for r in person.get("workexperience") or [] if isinstance(r, dict) and r.get("worktitle")]
    if not roles:
        return None
    # Current role (no end date) first, then the latest start date.
    roles.sort(key=lambda r: (r.get("workenddate") is None, str(r.get("workstartdate") or "")), reverse=True)
    return str(roles[0]["worktitle"])


def display_name(person: dict[str, Any], person_id: int) -> str:
    name = " ".join(str(person.get(k) or "").strip() for k in ("firstname", "lastname")).strip()
    return name or f"Person {person_id}"


def person_state(person: dict[str, Any]) -> str | None:
    for address in person.get("addresses") or []:
        state = address.get("addressstate") if isinstance(address, dict) else None
        if isinstance(state, dict) and state.get("abbrev"):
            return str(state["abbrev"]).upper()
    return None


def words(text: str) -> set[str]:
    return {w for w in "".join(c.lower() if c.isalnum() else " " for c in text).split() if len(w) > 2}


def reason_line(reason: dict[str, Any]) -> str:
    """A reason as shown to people: its text with its evidence quote, marked when unverified.
    The rubric's texts already read "+12 must-have Python: 'quote'"; others get the quote added."""
    evidence = reason.get("evidence") or {}
    quote = " ".join(str(evidence.get("quote") or "").split())
    text = reason.get("text") or reason.get("criterion", "")
    if quote and ": '" not in text and ': "' not in text:
        text = f"{text}: '{quote if len(quote) <= 120 else quote[:117] + '...'}'"
    unverified = reason.get("flagged") or (quote and not evidence.get("verified"))
    if unverified and "unverified" not in text:
        text += " [unverified: quote not found in the source]"
    return text


def reasons_text(candidate: dict[str, Any]) -> str:
    """The `ai_reasons` field: itemised reasons with their quotes, then gaps, within the field size."""
    lines = [reason_line(r) for r in candidate.get("reasons") or []]
    gaps = [g["text"] for g in candidate.get("gaps") or []]
    if gaps:
        lines.append("Gaps: " + "; ".join(gaps))
    text = "\n".join(lines)
    return text if len(text) <= REASONS_FIELD_LIMIT else text[: REASONS_FIELD_LIMIT - 1] + "…"


def fallback_bullets(result: dict[str, Any], item: dict[str, Any]) -> list[str]:
    reasons = sorted(result.get("reasons") or [], key=lambda r: -float(r.get("points") or 0))
    bullets = [f"Score {result['score']}/100" + (f": {reasons[0]['text']}" if reasons else "")]
    if item["matched_skills"]:
        bullets.append("Matches " + ", ".join(item["matched_skills"][:4]))
    gaps = result.get("gaps") or []
    bullets.append("Gaps: " + "; ".join(g["text"] for g in gaps[:2]) if gaps else "No major gaps found")
    return bullets


def connection(d: Any, person_id: int, history: list[dict[str, Any]], cache: dict) -> str:
    """How the outreach line says we know the person (`d.mirror` is read: any deps with a mirror)."""
    if history:
        latest = max(history, key=lambda h: str(h.get("updated") or ""))
        job_id = link_id(latest.get("job_id"))
        if job_id is not None and job_id not in cache:
            cache[job_id] = (d.mirror.get_data("jobs", job_id) or {}).get("jobtitle")
        title = cache.get(job_id) if job_id is not None else None
        return f"you applied for our {title} role before" if title else "you applied with us before"
    for membership in d.mirror.workflows("sourceworkflows", person_id=person_id):
        pool = d.mirror.get_data("talentpools", link_id(membership.data.get("baseprofile")) or 0)
        if pool and pool.get("title"):
            return f"you joined our {pool['title']}"
    return "we kept your profile from an earlier conversation"


# The names the rest of the repo imported from the single-module graph.
_connection = connection
