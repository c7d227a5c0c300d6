"""Match each drafted person to an open requisition with the rediscovery ranker and scorer, and pick
the two most relevant skills with their resume evidence for the message.

The ranker runs the other way round from rediscovery: the run's open jobs are the indexed documents
(title + description) and each person's headline and resume are the query, so the cost grows with
the drafts of a run (at most `caps.max_per_run`), not with pool size times open jobs. The ranker's
`SHORTLIST` best jobs are then scored with the rubric (`agents.scoring`), and the best score names
the role when it reaches `MIN_ROLE_SCORE`; otherwise the template's general wording is used.
Skills are the person's verified mentions, the chosen requisition's wanted skills first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agents.nurture.drafting import RoleSlot, SkillSlot, short_quote
from tools.icims.codes import JOB_APPROVED

SHORTLIST = 3
# Below this score the message does not name the role: a weak match reads as a form letter.
MIN_ROLE_SCORE = 40
# The query is the resume's opening words: the encoder's cost grows with the text, and the jobs'
# own vectors are of their first 160-word window too.
QUERY_WORDS = 200


@dataclass(frozen=True)
class OpenJob:
    job_id: int
    title: str
    requisition: Any  # agents.models.Requisition


@dataclass
class JobIndex:
    jobs: dict[int, OpenJob]
    ranker: Any  # agents.ranking.HybridRanker over the jobs (None: no open job)


def open_jobs(deps: Any) -> JobIndex:
    """Every open requisition in the mirror, indexed for ranking."""
    from agents.ranking.models import CandidateDoc

    jobs: dict[int, OpenJob] = {}
    for record in deps.mirror.iter_records("jobs"):
        folder = record.data.get("folder")
        if isinstance(folder, dict) and folder.get("id") == JOB_APPROVED:
            requisition = deps.requisition_from_job(str(record.id), record.data)
            jobs[record.id] = OpenJob(record.id, requisition.title, requisition)
    ranker = None
    if jobs:
        ranker = deps.ranker_factory()
        ranker.index(
            [
                CandidateDoc(
                    candidate_id=str(j.job_id),
                    text=f"{j.title}\n{j.requisition.description or ''}",
                    title=j.title,
                )
                for j in jobs.values()
            ]
        )
    return JobIndex(jobs, ranker)


def personalise(
    deps: Any, person_id: int, person: dict[str, Any], index: JobIndex
) -> tuple[RoleSlot | None, list[SkillSlot]]:
    """The role slot (the best-scoring of the ranker's shortlist, if it scores MIN_ROLE_SCORE) and
    up to two skills with verified resume evidence."""
    from agents.ranking.models import RankQuery

    text = deps.mirror.resume_text(person_id) or ""
    profile = deps.enrich(str(person_id), text, person)
    mentions = [m for m in profile.skills if m.evidence is not None and m.evidence.verified]
    best: tuple[int, OpenJob] | None = None
    if index.ranker is not None and (text or profile.headline):
        query = RankQuery(
            query_id=str(person_id),
            title=profile.headline or "",
            description=" ".join(text.split()[:QUERY_WORDS]),
        )
        workflows = [
            dict(wf.data, id=wf.id) for wf in deps.mirror.workflows("applicantworkflows", person_id=person_id)
        ]
        history = deps.history_from_workflows(workflows)
        for hit in index.ranker.rank(query, SHORTLIST):
            job = index.jobs[int(hit.candidate_id)]
            score = int(deps.score_candidate(job.requisition, profile, text, history=history).score)
            if best is None or score > best[0]:
                best = (score, job)
    role = None
    ordered = mentions
    if best is not None and best[0] >= MIN_ROLE_SCORE:
        score, job = best
        role = RoleSlot(job_id=job.job_id, title=job.title, score=score)
        requisition = job.requisition
        wanted = [
            s.lower() for s in (*requisition.starred, *requisition.must_have, *requisition.nice_to_have)
        ]
        rank = {name: i for i, name in enumerate(dict.fromkeys(wanted))}
        ordered = sorted(mentions, key=lambda m: rank.get(m.skill.lower(), len(rank)))
    skills: list[SkillSlot] = []
    for mention in ordered:
        if any(s.name.lower() == mention.skill.lower() for s in skills):
            continue
        quote = short_quote(mention.evidence.quote)
        # Two skills from one resume line: quote it once.
        if skills and skills[-1].evidence == quote:
            quote = None
        skills.append(SkillSlot(name=mention.skill, evidence=quote))
        if len(skills) == 2:
            break
    return role, skills
