"""`search_candidates`: the mirror's people by skills (each quoted from the resume or work history),
location, occupation and contact consent. Read-only; erased and purged people never show."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agents.enrichment import canonical_skill, find_term, map_title, skill_index
from graphs.copilot.records import display_name, location, location_matches, titles, words
from tools.icims.codes import EMPLOYEE_FOLDER, PURGED_FOLDER
from tools.mirror.store import node_id

if TYPE_CHECKING:
    from graphs.copilot.deps import CopilotDeps

# People read at the most per search (the whole mirror at the sizes we run).
SEARCH_SCAN_LIMIT = 100_000
QUOTE_CHARS = 160


def search_candidates(
    d: CopilotDeps,
    skills: list[str] | None = None,
    location_filter: str | None = None,
    occupation: str | None = None,
    consent: str | None = None,
    limit: int = 10,
) -> dict[str, Any]:
    fm = d.settings.field_map
    wanted_skills = [canonical_skill(s) or s.strip() for s in skills or [] if s and s.strip()]
    occ_match = map_title(occupation) if occupation else None
    occ_words = words(occupation or "")
    erased = {e.person_id for e in d.mirror.erasures()}
    resumes: dict[int, str] = {}
    if wanted_skills:
        resumes = {p.id: p.resume_text for p in d.mirror.people_with_resumes()}
    results: list[dict[str, Any]] = []
    total = 0
    scanned = 0
    for record in d.mirror.iter_records("people"):
        scanned += 1
        if scanned > SEARCH_SCAN_LIMIT:
            break
        data, pid = record.data, record.id
        if pid in erased or node_id(data.get("folder")) == PURGED_FOLDER:
            continue
        consent_status = data.get(fm.get("consent_status", "")) or None
        if consent and str(consent_status or "").lower() != consent:
            continue
        if location_filter and not location_matches(location_filter, data):
            continue
        person_titles = titles(data)
        occupation_hit: str | None = None
        if occupation:
            for title in person_titles:
                title_words = words(title)
                literal = bool(occ_words) and all(w in title_words for w in occ_words)
                mapped = map_title(title) if occ_match is not None else None
                if literal or (mapped is not None and mapped.code[:7] == occ_match.code[:7]):  # type: ignore[union-attr]
                    occupation_hit = title
                    break
            if occupation_hit is None:
                continue
        matched: list[dict[str, str]] = []
        if wanted_skills:
            text = "\n".join(
                [resumes.get(pid) or ""]
                + [str(r.get("workdescription") or "") for r in data.get("workexperience") or []]
            )
            hits = skill_index().find(text)
            for skill in wanted_skills:
                hit = find_term(text, skill, hits=hits)
                if hit is None:
                    break
                line_start = text.rfind("\n", 0, hit.start) + 1
                line_end = text.find("\n", hit.end)
                quote = text[line_start : line_end if line_end >= 0 else len(text)].strip(" -")
                matched.append({"skill": skill, "quote": quote[:QUOTE_CHARS]})
            if len(matched) < len(wanted_skills):
                continue
        total += 1
        if len(results) >= limit:
            continue
        city, abbrev, _ = location(data)
        results.append(
            {
                "person_id": pid,
                "name": display_name(data, pid),
                "title": occupation_hit or (person_titles[0] if person_titles else None),
                "location": ", ".join(p for p in (city, abbrev) if p) or None,
                "consent": consent_status,
                "do_not_contact": data.get(fm.get("do_not_contact", "")) == "Yes",
                "employee": node_id(data.get("folder")) == EMPLOYEE_FOLDER,
                "matched_skills": matched,
            }
        )
    return {
        "filters": {
            "skills": wanted_skills,
            "location": location_filter,
            "occupation": occupation,
            "occupation_code": occ_match.code if occ_match else None,
            "consent": consent,
        },
        "total": total,
        "results": results,
        "source": "mirror",
    }
