"""Rediscovery's read half: load the requisition, retrieve from the candidate pool, score and
summarise the shortlist. Nothing here writes to iCIMS; domain logic lives in `agents/` (enrichment,
scoring, ranking), what the reviewer reads in `graphs.rediscovery.text`.

Each node is `fn(deps, state[, config])`; `graphs.rediscovery.graph` binds the deps.
"""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING, Any

from langchain_core.runnables import RunnableConfig

from graphs.kit import runs
from graphs.kit.nodes import run_async
from graphs.rediscovery import text
from graphs.rediscovery.state import (
    GRAPH_VERSION,
    INPUT_KEYS,
    THREAD,
    Action,
    GapOut,
    ReasonOut,
    RediscoveryRequest,
    RediscoveryState,
    ShortlistCandidate,
)
from graphs.rediscovery.vectors import drop_vectors, index_run_vectors
from prompts.templates import load_template
from tools.audit import value_hash
from tools.icims.codes import OPEN_JOB_FOLDERS
from tools.mirror.store import link_id

if TYPE_CHECKING:
    from graphs.rediscovery.deps import RediscoveryDeps

OUTREACH_TEMPLATE = ("outreach_line", "v1")
# Proposed action: a strong match is submitted to the requisition; others are kept warm in a talent
# pool. Only a proposal: the recruiter can change either in the edit, and nothing is ever rejected.
SUBMIT_THRESHOLD = 70
# Candidates retrieved per requested shortlist slot: scoring reorders, and filters may drop some.
RETRIEVE_FACTOR = 3
RETRIEVE_MIN = 30


def load(d: RediscoveryDeps, state: RediscoveryState, config: RunnableConfig) -> dict[str, Any]:
    request = RediscoveryRequest.model_validate({k: state[k] for k in INPUT_KEYS if k in state})
    job, source, note = load_job(d, request.job_id)
    requisition = d.requisition_from_job(str(request.job_id), job)
    target = target_pool(d, request, f"{requisition.title} {requisition.description}")
    run = runs.run_record(
        config,
        request,
        graph_version=GRAPH_VERSION,
        started_at=d.clock(),
        customer_id=d.settings.icims_customer_id,
        # What the scores were computed from: the request and the requisition as loaded.
        input_hash=value_hash({"request": request.model_dump(mode="json"), "job": job}),
        job_source=source,
        job_note=note,
    )
    run["thread_id"] = run["thread_id"] or THREAD(d.settings.icims_customer_id, request.job_id)
    folder = job.get("folder") if isinstance(job.get("folder"), dict) else {}
    # Every run-scoped key is reset: the thread is per requisition, so an earlier, finished run
    # on it left its shortlist, approval and writes in the checkpoint.
    return {
        "run": run,
        "requisition": requisition.model_dump(mode="json"),
        "job": {
            "id": request.job_id,
            "jobid": job.get("jobid"),
            "title": requisition.title,
            "folder": folder.get("value"),
            "open": folder.get("id") in OPEN_JOB_FOLDERS,
            "content_hash": value_hash(job),
        },
        "target_pool": target,
        "retrieved": [],
        "retrieval": {},
        "scored": [],
        "shortlist": [],
        "approval": {},
        "approval_error": None,
        "writes": [],
        "audit_record": {},
        "purge_report": {},
    }


def retrieve(d: RediscoveryDeps, state: RediscoveryState) -> dict[str, Any]:
    from agents.ranking.models import RankQuery
    from graphs.rediscovery.pool import select_candidates

    request = RediscoveryRequest.model_validate(state["run"]["request"])
    t0 = time.perf_counter()
    requisition = state["requisition"]
    pool = d.candidate_pool()
    docs, counts, allowed = select_candidates(d, pool, request)
    shared = pool.ranker is not None
    # The shared index of the whole pool, or (a ranker without `allowed`) one of this run's documents.
    ranker = pool.ranker if shared else d.ranker_factory()
    retrieved: list[dict[str, Any]] = []
    if docs:
        query = RankQuery(
            query_id=str(request.job_id),
            title=requisition.get("title") or "",
            description=requisition.get("description") or "",
        )
        top = max(request.top_k * RETRIEVE_FACTOR, RETRIEVE_MIN)
        trace_id = state["run"]["trace_id"]
        try:
            if shared:
                hits = ranker.rank(query, top, allowed=allowed)
            else:
                ranker.index(docs)
                hits = ranker.rank(query, top)
            index, vector_ids, index_info = index_run_vectors(d, trace_id, ranker, docs, hits)
        except BaseException:
            if not shared:
                drop_vectors(ranker, keep=d.vector_cache)  # a failed run never reaches the purge node
            raise
        # Held until the purge node, which drops them once the run is over.
        d.hold_run(trace_id, ranker, index, vector_ids)
        for position, hit in enumerate(hits, start=1):
            retrieved.append(
                {
                    "person_id": int(hit.candidate_id),
                    "retrieval_rank": position,
                    "retrieval_score": float(hit.score),
                    "components": {str(name): float(v) for name, v in (hit.components or {}).items()},
                }
            )
    stats = {
        **counts,
        **({"vector_index": index_info} if docs else {}),
        "indexed": len(docs),
        "retrieved": len(retrieved),
        "seconds": round(time.perf_counter() - t0, 3),
        "ranker": getattr(ranker, "version", type(ranker).__name__),
        "embeddings": getattr(getattr(ranker, "embeddings", None), "model_id", None),
    }
    return {"retrieved": retrieved, "retrieval": stats}


def score(d: RediscoveryDeps, state: RediscoveryState) -> dict[str, Any]:
    from agents.models import Requisition

    request = RediscoveryRequest.model_validate(state["run"]["request"])
    requisition = Requisition.model_validate(state["requisition"])
    wanted = [*requisition.starred, *requisition.must_have, *requisition.nice_to_have]
    scored: list[dict[str, Any]] = []
    extractor = None
    for hit in state.get("retrieved", []):
        pid = hit["person_id"]
        person = d.mirror.get_data("people", pid)
        if person is None or d.mirror.is_erased(pid):
            continue  # erased or deleted since retrieval
        resume = d.mirror.resume_text(pid)
        profile = d.enrich(str(pid), resume, person)
        extractor = getattr(profile, "extractor_version", extractor)
        workflows = [
            dict(wf.data, id=wf.id) for wf in d.mirror.workflows("applicantworkflows", person_id=pid)
        ]
        history = d.history_from_workflows(workflows)
        result = d.score_candidate(requisition, profile, resume, history=history)
        skills = profile.skill_set() if hasattr(profile, "skill_set") else set()
        matched = [s for s in wanted if s.lower() in skills]
        entry = result.model_dump(mode="json")
        entry["retrieval"] = {
            "rank": hit["retrieval_rank"],
            "score": hit["retrieval_score"],
            **hit["components"],
        }
        scored.append(
            {
                "result": entry,
                "person": {
                    "name": text.display_name(person, pid),
                    "first_name": str(person.get("firstname") or "").strip() or "there",
                    "title": text.current_title(person),
                    "resume_hash": hashlib.sha256((resume or "").encode("utf-8")).hexdigest(),
                    "do_not_contact": person.get(d.settings.field_map.get("do_not_contact", "")) == "Yes",
                },
                "matched_skills": list(dict.fromkeys(matched)),
                "enrichment_tags": text.enrichment_tags(profile),
                "history": [h.model_dump(mode="json") if hasattr(h, "model_dump") else h for h in history],
            }
        )
    scored.sort(key=lambda s: (-s["result"]["score"], s["result"]["retrieval"]["rank"]))
    if request.filters.min_score is not None:
        scored = [s for s in scored if s["result"]["score"] >= request.filters.min_score]
    versions = {
        "graph": GRAPH_VERSION,
        "rubric": d.rubric_version,
        "ranker": state.get("retrieval", {}).get("ranker"),
        "embeddings": state.get("retrieval", {}).get("embeddings"),
        "extractor": extractor,
        "outreach_template": load_template(*OUTREACH_TEMPLATE).id,
    }
    return {"scored": scored[: request.top_k], "versions": versions}


def summarise(d: RediscoveryDeps, state: RediscoveryState) -> dict[str, Any]:
    template = load_template(*OUTREACH_TEMPLATE)
    target = state.get("target_pool")
    job_title = state["job"]["title"]
    jobs_cache: dict[int, str | None] = {}
    pool_members = (
        {
            link_id(wf.data.get("associatedprofile"))
            for wf in d.mirror.workflows("sourceworkflows", base_id=target["id"])
        }
        if target
        else set()
    )
    shortlist = []
    for rank, item in enumerate(state.get("scored", []), start=1):
        result, person = item["result"], item["person"]
        pid = int(result["person_id"])
        action: Action = "submit" if result["score"] >= SUBMIT_THRESHOLD or not target else "add_to_pool"
        flags = list(result.get("flags") or [])
        if person.get("do_not_contact") and "do_not_contact" not in flags:
            flags.append("do_not_contact")
        if action == "add_to_pool" and target and pid in pool_members:
            # Still proposed: the write then only records the new score on the existing membership.
            flags.append("already_in_pool")
        summary = [s for s in result.get("summary") or [] if s][:3]
        if len(summary) < 3:
            summary += text.fallback_bullets(result, item)[: 3 - len(summary)]
        strength = (
            item["matched_skills"][0] if item["matched_skills"] else (person.get("title") or "your field")
        )
        line = template.render(
            first_name=person["first_name"],
            job_title=job_title,
            strength=strength,
            connection=text.connection(d, pid, item.get("history") or [], jobs_cache),
        )
        candidate = ShortlistCandidate(
            rank=rank,
            person_id=pid,
            name=person["name"],
            title=person.get("title"),
            score=int(result["score"]),
            reasons=[ReasonOut.model_validate(r) for r in result.get("reasons") or []],
            gaps=[GapOut.model_validate(g) for g in result.get("gaps") or []],
            flags=flags,
            summary=summary,
            outreach_line=line,
            enrichment_tags=item.get("enrichment_tags") or "",
            proposed_action=action,
            pool_id=target["id"] if action == "add_to_pool" and target else None,
            retrieval=result.get("retrieval") or {},
        )
        shortlist.append(candidate.model_dump(mode="json"))
    return {"shortlist": shortlist}


# -- load's reads ------------------------------------------------------------------------------------


def load_job(d: RediscoveryDeps, job_id: int) -> tuple[dict[str, Any], str, str | None]:
    """The job from the mirror, refreshed from iCIMS (one REALTIME request) when a client exists."""
    from tools.icims.budget import Priority
    from tools.icims.errors import ICIMSError, ICIMSNotFound
    from tools.mirror.store import normalize_record
    from tools.mirror.sync import PROJECTION

    mirrored = d.mirror.get_data("jobs", job_id)
    if d.client_factory is not None:
        client_factory = d.client_factory

        async def fetch() -> dict[str, Any]:
            async with client_factory() as client:
                return await client.get_profile(
                    "jobs", job_id, fields=PROJECTION.get("jobs"), priority=Priority.REALTIME
                )

        try:
            return normalize_record(run_async(fetch)), "icims", None
        except ICIMSNotFound as exc:
            raise LookupError(f"job {job_id} does not exist in iCIMS (or is not visible)") from exc
        except ICIMSError as exc:
            if mirrored is None:
                raise
            # Quota or an outage should not stop a recruiter from seeing the mirror's answer.
            return mirrored, "mirror", f"refresh failed: {type(exc).__name__}"
    if mirrored is None:
        raise LookupError(f"job {job_id} is not in the mirror; run `icims-agents sync` first")
    return mirrored, "mirror", None


def target_pool(d: RediscoveryDeps, request: RediscoveryRequest, job_text: str) -> dict[str, Any] | None:
    """The pool "add_to_pool" proposes: the requested one, else the first requested search pool,
    else the active mirrored pool whose title and overview share most words with the job."""
    pools = {r.id: r.data for r in d.mirror.iter_records("talentpools")}
    wanted = request.target_pool_id or (request.pool_ids[0] if request.pool_ids else None)
    if wanted is not None:
        data = pools.get(wanted)
        if data is None:
            raise LookupError(f"talent pool {wanted} is not in the mirror")
        return {"id": wanted, "title": data.get("title"), "chosen": "requested"}
    job_words = text.words(job_text)
    best: tuple[int, int] | None = None
    for pool_id, data in pools.items():
        folder = data.get("folder") if isinstance(data.get("folder"), dict) else {}
        if folder.get("value") not in (None, "Active"):
            continue
        overlap = len(job_words & text.words(f"{data.get('title', '')} {data.get('overview', '')}"))
        if overlap and (best is None or overlap > best[0]):
            best = (overlap, pool_id)
    if best is None:
        return None
    data = pools[best[1]]
    return {"id": best[1], "title": data.get("title"), "chosen": "best word overlap with the job"}
