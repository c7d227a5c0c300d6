"""The candidate pool: one ranker index of every mirrored person with a resume, shared by a process's
runs and rebuilt only when the mirror changed (`MirrorStore.state_key`). Each run picks who may be
rediscovered for its job (not erased, not already applied, in the requested pools, passing the
filters) and ranks with that as an `allowed` set, so no run pays for indexing every resume (~30 s
at 100k people); `server.pool_warmer` builds it off the request path.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphs.rediscovery.text import current_title, person_state
from tools.icims.codes import EMPLOYEE_FOLDER, PURGED_FOLDER
from tools.mirror.store import link_id, node_id

if TYPE_CHECKING:
    from graphs.rediscovery.deps import RediscoveryDeps
    from graphs.rediscovery.state import RediscoveryRequest


@dataclass(frozen=True)
class CandidatePool:
    """Every mirrored person with resume text (erased and purged people left out), as of `key`,
    with the fields the per-run filters read, and (when the ranker supports `allowed`) one ranker
    indexed over all of them."""

    key: Any
    docs: list[Any]  # CandidateDoc, in person id order
    people: list[tuple[int, str | None, str | None, Any]]  # (id, folder, state, do-not-contact)
    ranker: Any  # None: the ranker cannot rank with `allowed`; each run indexes its own documents
    purged: frozenset[int]

    @property
    def indexed(self) -> bool:
        return self.ranker is not None and bool(self.docs)


def supports_allowed(ranker: Any) -> bool:
    try:
        params = inspect.signature(ranker.rank).parameters.values()
    except (AttributeError, TypeError, ValueError):
        return False
    # A wrapper passing **kwargs through (e.g. a timing proxy) is taken to support it too.
    return any(p.name == "allowed" or p.kind is p.VAR_KEYWORD for p in params)


def build_pool(d: RediscoveryDeps, key: Any) -> CandidatePool:
    from agents.ranking.models import CandidateDoc

    dnc_field = d.settings.field_map.get("do_not_contact")
    erased = {e.person_id for e in d.mirror.erasures()}
    docs, people, purged = [], [], set()
    for person in d.mirror.people_with_resumes():
        data = person.data
        folder = node_id(data.get("folder"))
        if person.id in erased or folder == PURGED_FOLDER:
            purged.add(person.id)  # never indexed
            continue
        docs.append(
            CandidateDoc(candidate_id=str(person.id), text=person.resume_text, title=current_title(data))
        )
        people.append((person.id, folder, person_state(data), data.get(dnc_field) if dnc_field else None))
    ranker = d.ranker_factory()
    if supports_allowed(ranker):
        ranker._rediscovery_shared = True
        if docs:
            ranker.index(docs)
    else:
        ranker = None
    return CandidatePool(key=key, docs=docs, people=people, ranker=ranker, purged=frozenset(purged))


def current_pool(d: RediscoveryDeps) -> CandidatePool:
    """The deps' pool, rebuilt first when the mirror changed since it was built."""
    key = d.mirror.state_key()
    with d._pool_lock:
        pool = d._pool
        if pool is not None and pool.key == key:
            return pool
        pool = build_pool(d, key)
        d._pool = pool
        if pool.indexed:
            d.index_builds += 1
        return pool


def select_candidates(
    d: RediscoveryDeps, pool: CandidatePool, request: RediscoveryRequest
) -> tuple[list[Any], dict[str, int], set[str]]:
    """(documents, counts, allowed ids) of the pool who may be rediscovered for this job: not
    erased, not already applied to it, in the requested pools, passing the filters."""
    applied = {
        link_id(wf.data.get("associatedprofile"))
        for wf in d.mirror.workflows("applicantworkflows", base_id=request.job_id)
    }
    erased = {e.person_id for e in d.mirror.erasures()}
    members: set[int] | None = None
    if request.pool_ids:
        members = set()
        for pool_id in request.pool_ids:
            members |= {
                pid
                for wf in d.mirror.workflows("sourceworkflows", base_id=pool_id)
                if (pid := link_id(wf.data.get("associatedprofile"))) is not None
            }
    wanted_states = {s.upper() for s in request.filters.states}
    filters = request.filters
    docs = []
    counts = {
        "with_resume": len(pool.docs) + len(pool.purged),
        "applied": 0,
        "erased": len(pool.purged),
        "not_in_pools": 0,
        "filtered": 0,
    }
    for doc, (pid, folder, state, dnc) in zip(pool.docs, pool.people, strict=True):
        if pid in erased:
            counts["erased"] += 1
            continue
        if pid in applied:
            counts["applied"] += 1
            continue
        if members is not None and pid not in members:
            counts["not_in_pools"] += 1
            continue
        if (
            (wanted_states and state not in wanted_states)
            or (not filters.include_employees and folder == EMPLOYEE_FOLDER)
            or (filters.exclude_do_not_contact and dnc == "Yes")
        ):
            counts["filtered"] += 1
            continue
        docs.append(doc)
    return docs, counts, {doc.candidate_id for doc in docs}


def candidate_docs(d: RediscoveryDeps, request: RediscoveryRequest) -> tuple[list[Any], dict[str, int]]:
    """Mirrored people with resume text who may be rediscovered for this job (see `select_candidates`)."""
    docs, counts, _ = select_candidates(d, d.candidate_pool(), request)
    return docs, counts


# The name the benchmark times (`evals/bench_rediscovery.py`).
_candidate_docs = candidate_docs
