"""The copilot's typed tools (LangChain `StructuredTool`s, sync), shared by the LLM agent and the
deterministic intent parser.

    search_candidates   mirror search by skills, location, occupation, consent (read-only)
    explain_score       enrich + score one mirrored candidate against one requisition (read-only)
    start_rediscovery   run the rediscovery graph to its approval interrupt (no iCIMS write)
    draft_outreach      the versioned outreach template filled for one candidate (nothing is sent)
    list_approvals      pending approvals the caller may see
    resolve_approval    answer one through the approval service, or the graph's interrupt resume

Nothing here writes to iCIMS: the only path to a write is the rediscovery graph's own `write` node,
reached when an approval is resolved. Who calls comes from the run config
(`configurable.principal`, a `server.auth.Principal` or a dict of the same fields); without one the
caller is read-only.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, is_dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, StructuredTool, ToolException
from pydantic import BaseModel, Field

from tools.llm import make_chat_model
from tools.mirror.store import link_id, node_id

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver

    from tools.mirror import MirrorStore
    from tools.settings import Settings

__all__ = [
    "TOOL_NAMES",
    "Caller",
    "CopilotDeps",
    "caller_from",
    "make_copilot_tools",
]

Role = Literal["recruiter", "hiring_manager", "admin", "auditor"]
T = TypeVar("T")

EMPLOYEE_FOLDER = "D32010"
PURGED_FOLDER = "D32099"
SEARCH_SCAN_LIMIT = 100_000
TOOL_NAMES = (
    "search_candidates",
    "explain_score",
    "start_rediscovery",
    "draft_outreach",
    "list_approvals",
    "resolve_approval",
)


# --- who is asking -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """The principal as the tools see it. `recruiter_id`: the caller's iCIMS person id, matched
    against a job's recruiter (recruiters) or hiring manager (hiring managers)."""

    name: str
    role: Role
    recruiter_id: int | None = None
    key_id: str | None = None

    @property
    def can_resolve(self) -> bool:
        return self.role in ("recruiter", "admin")

    def owns(self, job: Mapping[str, Any] | None) -> bool:
        """May this caller see the requisition's items (and, for recruiters, act on them)?"""
        if self.role in ("admin", "auditor"):
            return True
        if job is None or self.recruiter_id is None:
            return False
        link = job.get("hiringmanager" if self.role == "hiring_manager" else "recruiter")
        return link_id(link) == self.recruiter_id


ANONYMOUS = Caller(name="anonymous", role="auditor")


def caller_from(principal: Any) -> Caller:
    """A `Caller` from a `server.auth.Principal`, a dict of its fields, or None (read-only)."""
    if principal is None:
        return ANONYMOUS
    if isinstance(principal, Caller):
        return principal
    if isinstance(principal, Mapping):
        get = principal.get
    else:

        def get(name: str, default: Any = None) -> Any:
            return getattr(principal, name, default)

    role = str(get("role", "auditor"))
    if role not in ("recruiter", "hiring_manager", "admin", "auditor"):
        role = "auditor"
    rid = get("recruiter_id")
    return Caller(
        name=str(get("name") or get("key_id") or "unknown"),
        role=role,  # type: ignore[arg-type]
        recruiter_id=int(rid) if rid is not None and str(rid).strip().isdigit() else None,
        key_id=str(get("key_id")) if get("key_id") is not None else None,
    )


def _principal(config: RunnableConfig | None) -> Any:
    return ((config or {}).get("configurable") or {}).get("principal")


# --- dependencies -------------------------------------------------------------------------------------


@dataclass
class CopilotDeps:
    """What the tools touch. `rediscovery` is the compiled rediscovery graph with a checkpointer
    (pending approvals live there); `approvals` is the server's `ApprovalService` when running
    inside the service (resolution then goes through it: validation, audit, role filters)."""

    settings: Settings
    mirror: MirrorStore
    rediscovery: Any
    checkpointer: BaseCheckpointSaver | None
    enrich: Callable[..., Any]
    requisition_from_job: Callable[..., Any]
    score_candidate: Callable[..., Any]
    history_from_workflows: Callable[..., Any]
    approvals: Any = None
    chat_model: Any = None
    _closers: list[Callable[[], None]] = field(default_factory=list)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        mirror: MirrorStore | None = None,
        rediscovery: Any = None,
        checkpointer: BaseCheckpointSaver | None = None,
        approvals: Any = None,
        chat_model: Any = None,
        embeddings: Any = None,
        use_llm: bool = True,
    ) -> CopilotDeps:
        """Build from settings. Without `rediscovery`, a rediscovery graph is built over the
        settings' checkpointer (kept open until `close`). `chat_model` overrides the LLM the
        settings select (`llm_base_url`); `use_llm=False` forces the deterministic parser."""
        from functools import partial

        from agents.enrichment import DeterministicExtractor, enrich, make_extractor, requisition_from_job
        from agents.scoring import history_from_workflows, score_candidate
        from tools.mirror import MirrorStore

        closers: list[Callable[[], None]] = []
        if mirror is None:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            mirror = MirrorStore(settings.mirror_database_url)
            closers.append(mirror.close)
        if rediscovery is None:
            from graphs.rediscovery import RediscoveryDeps, build_graph
            from tools.checkpoint import open_checkpointer

            stack = contextlib.ExitStack()
            if checkpointer is None:
                checkpointer = stack.enter_context(open_checkpointer(settings))
            rdeps = RediscoveryDeps.from_settings(settings, mirror=mirror, embeddings=embeddings)
            rediscovery = build_graph(checkpointer, deps=rdeps)
            closers.append(stack.close)
            closers.append(rdeps._unregister_erasure or (lambda: None))
        extractor = make_extractor(settings)
        enrich_fn = (
            partial(enrich, field_map=settings.field_map)
            if isinstance(extractor, DeterministicExtractor)
            else extractor.extract
        )
        if chat_model is None and use_llm and settings.llm_base_url:
            chat_model = make_chat_model(settings)
        return cls(
            settings=settings,
            mirror=mirror,
            rediscovery=rediscovery,
            checkpointer=checkpointer,
            enrich=enrich_fn,
            requisition_from_job=partial(requisition_from_job, field_map=settings.field_map),
            score_candidate=score_candidate,
            history_from_workflows=history_from_workflows,
            approvals=approvals,
            chat_model=chat_model if use_llm else None,
            _closers=closers,
        )

    @classmethod
    def from_service(cls, service: Any, *, chat_model: Any = None) -> CopilotDeps:
        """From the server's `ServiceState` (settings, mirror, graphs, checkpointer, approvals)."""
        graphs = getattr(service, "graphs", None) or {}
        return cls.from_settings(
            service.settings,
            mirror=getattr(service, "mirror", None),
            rediscovery=graphs.get("rediscovery"),
            checkpointer=getattr(service, "checkpointer", None),
            approvals=getattr(service, "approvals", None),
            chat_model=chat_model,
        )

    def close(self) -> None:
        while self._closers:
            with contextlib.suppress(Exception):
                self._closers.pop()()


def isolated(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run `fn` outside the copilot run's context: a graph invoked from inside a tool would
    otherwise inherit the copilot's run config (its checkpointer, namespace and interrupt scratchpad)
    and behave as a subgraph of the chat, not as the rediscovery thread of its own."""
    return contextvars.Context().run(fn, *args, **kwargs)


# --- argument schemas -----------------------------------------------------------------------------


class SearchArgs(BaseModel):
    skills: list[str] = Field(
        default_factory=list, description="Skills every result must show, e.g. ['Python']."
    )
    location: str | None = Field(default=None, description="City, state abbreviation or 'City, ST'.")
    occupation: str | None = Field(
        default=None, description="Job title or occupation, e.g. 'software developer'."
    )
    consent: Literal["granted", "pending", "withdrawn"] | None = Field(
        default=None, description="Only people whose recorded contact consent has this status."
    )
    limit: int = Field(default=10, ge=1, le=50, description="Return at most this many people.")


class ExplainArgs(BaseModel):
    person_id: int = Field(gt=0, description="iCIMS person id of the candidate.")
    job_id: int = Field(gt=0, description="iCIMS system id of the job (requisition).")


class RediscoverArgs(BaseModel):
    job_id: int = Field(gt=0, description="iCIMS system id of the job (requisition).")
    top_k: int = Field(default=10, ge=1, le=50, description="Shortlist size.")


class OutreachArgs(BaseModel):
    person_id: int = Field(gt=0, description="iCIMS person id of the candidate.")
    job_id: int = Field(gt=0, description="iCIMS system id of the job.")


class ListApprovalsArgs(BaseModel):
    job_id: int | None = Field(default=None, description="Only approvals for this job.")


class ResolveArgs(BaseModel):
    approval_id: str | None = Field(
        default=None, max_length=200, description="The approval (thread) id, e.g. 'rediscovery:1000:1001'."
    )
    job_id: int | None = Field(
        default=None, description="Instead of approval_id: the job's rediscovery approval."
    )
    decision: Literal["accept", "ignore", "respond"] = Field(
        default="accept",
        description="accept = apply the proposed writes; ignore = close without writing; "
        "respond = feedback only.",
    )
    exclude_person_ids: list[int] = Field(
        default_factory=list, description="When accepting: leave these candidates out (an edit)."
    )
    note: str | None = Field(default=None, max_length=2000, description="Feedback text (respond) or a note.")


# --- helpers --------------------------------------------------------------------------------------


def _name(person: Mapping[str, Any], pid: int) -> str:
    name = " ".join(str(person.get(k) or "").strip() for k in ("firstname", "lastname")).strip()
    return name or f"Person {pid}"


def _titles(person: Mapping[str, Any]) -> list[str]:
    roles = [r for r in person.get("workexperience") or [] if isinstance(r, Mapping) and r.get("worktitle")]
    roles.sort(key=lambda r: (r.get("workenddate") is None, str(r.get("workstartdate") or "")), reverse=True)
    return [str(r["worktitle"]) for r in roles]


def _location(person: Mapping[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(city, state abbreviation, state name) of the first address."""
    for address in person.get("addresses") or []:
        if not isinstance(address, Mapping):
            continue
        state = address.get("addressstate") if isinstance(address.get("addressstate"), Mapping) else {}
        return (
            str(address.get("addresscity") or "") or None,
            str(state.get("abbrev") or "") or None,
            str(state.get("value") or "") or None,
        )
    return None, None, None


def _location_matches(wanted: str, person: Mapping[str, Any]) -> bool:
    city, abbrev, state_name = _location(person)
    parts = [p.strip().lower() for p in re.split(r",", wanted) if p.strip()]
    if not parts:
        return True
    have = {x.lower() for x in (city, abbrev, state_name) if x}
    return all(p in have or (city is not None and p == city.lower()) for p in parts)


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def _words(text: str) -> list[str]:
    return [_singular(w) for w in re.findall(r"[a-z0-9+#]+", text.lower())]


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if is_dataclass(value) and not isinstance(value, type):
        return _jsonable(asdict(value))
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


# --- the tools ------------------------------------------------------------------------------------


class CopilotTools:
    """The tool implementations over lazily resolved deps (the module-level graph compiles before
    any settings exist)."""

    def __init__(self, get_deps: Callable[[], CopilotDeps]) -> None:
        self._get_deps = get_deps
        self._lock = threading.Lock()

    @property
    def deps(self) -> CopilotDeps:
        return self._get_deps()

    # -- reads ---------------------------------------------------------------------------------------

    def search_candidates(
        self,
        skills: list[str] | None = None,
        location: str | None = None,
        occupation: str | None = None,
        consent: str | None = None,
        limit: int = 10,
    ) -> dict[str, Any]:
        from agents.enrichment import canonical_skill, find_term, map_title, skill_index

        d = self.deps
        fm = d.settings.field_map
        wanted_skills = [canonical_skill(s) or s.strip() for s in skills or [] if s and s.strip()]
        occ_match = map_title(occupation) if occupation else None
        occ_words = _words(occupation or "")
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
            if location and not _location_matches(location, data):
                continue
            titles = _titles(data)
            occupation_hit: str | None = None
            if occupation:
                for title in titles:
                    title_words = _words(title)
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
                    matched.append({"skill": skill, "quote": quote[:160]})
                if len(matched) < len(wanted_skills):
                    continue
            total += 1
            if len(results) >= limit:
                continue
            city, abbrev, _ = _location(data)
            results.append(
                {
                    "person_id": pid,
                    "name": _name(data, pid),
                    "title": occupation_hit or (titles[0] if titles else None),
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
                "location": location,
                "occupation": occupation,
                "occupation_code": occ_match.code if occ_match else None,
                "consent": consent,
            },
            "total": total,
            "results": results,
            "source": "mirror",
        }

    def _job(self, job_id: int) -> dict[str, Any]:
        job = self.deps.mirror.get_data("jobs", job_id)
        if job is None:
            raise ToolException(f"job {job_id} is not in the mirror (run `icims-agents sync`)")
        return job

    def _check_job(self, caller: Caller, job_id: int, job: Mapping[str, Any]) -> None:
        if not caller.owns(job):
            raise ToolException(f"job {job_id} is not one of your requisitions")

    def _score(self, person_id: int, job_id: int, job: dict[str, Any]) -> tuple[dict[str, Any], Any, Any]:
        d = self.deps
        if d.mirror.is_erased(person_id):
            raise ToolException(f"person {person_id} was erased")
        person = d.mirror.get_data("people", person_id)
        if person is None:
            raise ToolException(f"person {person_id} is not in the mirror")
        text = d.mirror.resume_text(person_id)
        profile = d.enrich(str(person_id), text, person)
        requisition = d.requisition_from_job(str(job_id), job)
        workflows = [
            dict(w.data, id=w.id) for w in d.mirror.workflows("applicantworkflows", person_id=person_id)
        ]
        history = d.history_from_workflows(workflows)
        result = d.score_candidate(requisition, profile, text or "", history=history)
        return person, requisition, (result, profile, history)

    def explain_score(self, person_id: int, job_id: int, config: RunnableConfig) -> dict[str, Any]:
        from graphs.rediscovery import reason_line

        caller = caller_from(_principal(config))
        job = self._job(job_id)
        self._check_job(caller, job_id, job)
        person, requisition, (result, _profile, history) = self._score(person_id, job_id, job)
        data = result.model_dump(mode="json")
        reasons = sorted(data.get("reasons") or [], key=lambda r: -float(r.get("points") or 0))
        return {
            "person_id": person_id,
            "name": _name(person, person_id),
            "job_id": job_id,
            "job_title": requisition.title,
            "score": data["score"],
            "reasons": [
                {"points": r.get("points"), "text": reason_line(r), "verified": not r.get("flagged")}
                for r in reasons
            ],
            "gaps": [g["text"] for g in data.get("gaps") or []],
            "flags": data.get("flags") or [],
            "summary": data.get("summary") or [],
            "past_applications": len(history),
            "rubric_version": data.get("rubric_version"),
            "note": "A score ranks; it never rejects anyone.",
        }

    def draft_outreach(self, person_id: int, job_id: int, config: RunnableConfig) -> dict[str, Any]:
        from graphs.rediscovery import OUTREACH_TEMPLATE, _connection
        from prompts.templates import load_template

        d = self.deps
        caller = caller_from(_principal(config))
        job = self._job(job_id)
        self._check_job(caller, job_id, job)
        person, requisition, (result, profile, history) = self._score(person_id, job_id, job)
        skills = profile.skill_set() if hasattr(profile, "skill_set") else set()
        wanted = [*requisition.starred, *requisition.must_have, *requisition.nice_to_have]
        matched = [s for s in wanted if s.lower() in skills]
        titles = _titles(person)
        template = load_template(*OUTREACH_TEMPLATE)
        hist = [h.model_dump(mode="json") if hasattr(h, "model_dump") else h for h in history]
        text = template.render(
            first_name=str(person.get("firstname") or "").strip() or "there",
            job_title=requisition.title,
            strength=matched[0] if matched else (titles[0] if titles else "your field"),
            connection=_connection(d, person_id, hist, {}),  # type: ignore[arg-type]
        )
        fm = d.settings.field_map
        warnings = []
        if person.get(fm.get("do_not_contact", "")) == "Yes":
            warnings.append("do not contact: this person asked not to be contacted")
        if person.get(fm.get("opt_out", "")) == "Yes":
            warnings.append("opted out of communications")
        consent = person.get(fm.get("consent_status", ""))
        if consent and str(consent).lower() != "granted":
            warnings.append(f"contact consent is {consent}")
        return {
            "person_id": person_id,
            "name": _name(person, person_id),
            "job_id": job_id,
            "job_title": requisition.title,
            "draft": text,
            "template": template.id,
            "score": result.score,
            "warnings": warnings,
            "note": "A draft only: nothing is sent and nothing is written to iCIMS.",
        }

    def _pending(self) -> list[Any]:
        from graphs.rediscovery import list_pending

        d = self.deps
        if d.checkpointer is None:
            return []
        return isolated(list_pending, d.rediscovery, d.checkpointer)

    def _approval_job(self, args: Mapping[str, Any]) -> dict[str, Any] | None:
        job_id = link_id(args.get("job_id"))
        return self.deps.mirror.get_data("jobs", job_id) if job_id is not None else None

    def list_approvals(self, config: RunnableConfig, job_id: int | None = None) -> dict[str, Any]:
        d = self.deps
        principal = _principal(config)
        caller = caller_from(principal)
        if d.approvals is not None and principal is not None:
            kwargs: dict[str, Any] = {"job_id": job_id} if job_id is not None else {}
            try:
                items = isolated(d.approvals.list, principal, **kwargs)
            except Exception as exc:
                raise ToolException(_error_text(exc)) from exc
            rows = [_jsonable(item) for item in items]
            return {"approvals": [_summary_row(r) for r in rows], "via": "approval service"}
        rows = []
        for pending in self._pending():
            args = pending.request["action_request"]["args"]
            if job_id is not None and link_id(args.get("job_id")) != job_id:
                continue
            if not caller.owns(self._approval_job(args)):
                continue
            rows.append(
                {
                    "approval_id": pending.thread_id,
                    "action": pending.request["action_request"]["action"],
                    "job_id": args.get("job_id"),
                    "job_title": args.get("job_title"),
                    "candidates": len(args.get("candidates") or []),
                    "created_at": pending.created_at,
                }
            )
        return {"approvals": rows, "via": "checkpointer"}

    # -- runs and decisions (through the approval interrupt only) ---------------------------------

    def start_rediscovery(self, job_id: int, config: RunnableConfig, top_k: int = 10) -> dict[str, Any]:
        from graphs.rediscovery import start_run

        d = self.deps
        caller = caller_from(_principal(config))
        if not caller.can_resolve:
            raise ToolException(f"a {caller.role} cannot start runs (read-only role)")
        job = self._job(job_id)
        self._check_job(caller, job_id, job)
        try:
            with self._lock:
                run = isolated(
                    start_run,
                    d.rediscovery,
                    job_id=job_id,
                    customer_id=d.settings.icims_customer_id,
                    top_k=top_k,
                )
        except LookupError as exc:
            raise ToolException(str(exc)) from exc
        shortlist = run.shortlist
        return {
            "thread_id": run.thread_id,
            "approval_id": run.thread_id if run.pending else None,
            "job_id": job_id,
            "job_title": (run.values.get("job") or {}).get("title"),
            "pending_approval": bool(run.pending),
            "resumed_existing": run.resumed_existing,
            "shortlist": [
                {
                    "rank": c.get("rank"),
                    "person_id": c.get("person_id"),
                    "name": c.get("name"),
                    "score": c.get("score"),
                    "proposed_action": c.get("proposed_action"),
                    "flags": c.get("flags") or [],
                }
                for c in shortlist
            ],
            "note": "Nothing is written to iCIMS until the shortlist is approved.",
        }

    def resolve_approval(
        self,
        config: RunnableConfig,
        approval_id: str | None = None,
        job_id: int | None = None,
        decision: str = "accept",
        exclude_person_ids: list[int] | None = None,
        note: str | None = None,
    ) -> dict[str, Any]:
        from graphs.kit.inbox import pending_for_thread
        from graphs.rediscovery import rediscovery_thread_id, resume_run

        d = self.deps
        principal = _principal(config)
        caller = caller_from(principal)
        if not caller.can_resolve:
            raise ToolException(f"a {caller.role} cannot resolve approvals (read-only for this role)")
        if not approval_id:
            if job_id is None:
                raise ToolException("say which approval: approval_id or job_id")
            approval_id = rediscovery_thread_id(d.settings.icims_customer_id, job_id)
        pending = isolated(pending_for_thread, d.rediscovery, approval_id)
        response: dict[str, Any] = {"type": decision, "args": None}
        if decision == "respond":
            response["args"] = note or ""
        if exclude_person_ids and decision == "accept":
            if not pending:
                raise ToolException(f"no pending approval {approval_id}")
            candidates = pending[0].request["action_request"]["args"].get("candidates") or []
            unknown = set(exclude_person_ids) - {c.get("person_id") for c in candidates}
            if unknown:
                raise ToolException(f"not on the shortlist: {sorted(unknown)}")
            response = {
                "type": "edit",
                "args": {
                    "candidates": [
                        {
                            "person_id": c["person_id"],
                            "action": c["proposed_action"],
                            "pool_id": c.get("pool_id"),
                        }
                        for c in candidates
                        if c["person_id"] not in set(exclude_person_ids)
                    ]
                },
            }
        if d.approvals is not None and principal is not None:
            from server.approvals import Decision

            args = response["args"] if isinstance(response["args"], dict) else None
            try:
                outcome = isolated(
                    d.approvals.resolve,
                    principal,
                    approval_id,
                    Decision(type=response["type"], args=args, note=note),
                )
            except Exception as exc:
                raise ToolException(_error_text(exc)) from exc
            result = _jsonable(outcome)
            if not isinstance(result, dict):
                result = {"result": result}
            return {
                "approval_id": approval_id,
                "decision": response["type"],
                "excluded": sorted(exclude_person_ids or []),
                "status": result.get("status"),
                "writes": len(result.get("writes") or []),
                "error": result.get("detail") if result.get("status") not in (None, "resolved") else None,
                "audit_seq": result.get("audit_seq"),
                "via": "approval service",
            }
        # No service (langgraph dev, tests, CLI): the graph's own interrupt resume, same checks.
        if not pending:
            raise ToolException(f"no pending approval {approval_id}")
        if not caller.owns(self._approval_job(pending[0].request["action_request"]["args"])):
            raise ToolException(f"approval {approval_id} is not for one of your requisitions")
        with self._lock:
            values = isolated(resume_run, d.rediscovery, approval_id, [response], approver=caller.name)
        approval = values.get("approval") or {}
        return {
            "approval_id": approval_id,
            "decision": response["type"],
            "excluded": sorted(exclude_person_ids or []),
            "writes": len(values.get("writes") or []),
            "approved": len(approval.get("approved") or []),
            "error": approval.get("error") or values.get("approval_error"),
            "via": "interrupt resume",
        }


def _error_text(exc: BaseException) -> str:
    detail = getattr(exc, "detail", None)
    return str(detail) if detail else (str(exc) or type(exc).__name__)


def _summary_row(row: Any) -> Any:
    if not isinstance(row, dict):
        return row
    out: dict[str, Any] = {
        "approval_id": row.get("approval_id") or row.get("id") or row.get("thread_id"),
        "graph": row.get("graph"),
        "action": row.get("action"),
        "job_id": row.get("job_id"),
        "job_title": row.get("job_title"),
        "owner": row.get("owner_name") or row.get("owner_id"),
        "candidates": row.get("items", row.get("candidates")),
        "created_at": row.get("created_at"),
        "can_resolve": row.get("can_resolve"),
    }
    if isinstance(out.get("candidates"), list):
        out["candidates"] = len(out["candidates"])
    return {k: v for k, v in out.items() if v is not None}


def make_copilot_tools(deps: CopilotDeps | Callable[[], CopilotDeps]) -> list[BaseTool]:
    """The six tools (sync `StructuredTool`s; errors come back to the agent as text)."""
    get = deps if callable(deps) and not isinstance(deps, CopilotDeps) else (lambda: deps)
    impl = CopilotTools(get)  # type: ignore[arg-type]
    specs: list[tuple[Callable[..., dict[str, Any]], str, type[BaseModel]]] = [
        (
            impl.search_candidates,
            "Search the local mirror of iCIMS people by skills (all must appear in the resume or work "
            "history), location (city or state), occupation (job title) and contact consent status.",
            SearchArgs,
        ),
        (
            impl.explain_score,
            "Explain a candidate's 0-100 score for a requisition: itemised reasons with resume quotes, "
            "gaps and flags (deterministic rubric over the mirrored profile).",
            ExplainArgs,
        ),
        (
            impl.start_rediscovery,
            "Start a rediscovery run for a requisition: ranks past applicants and talent-pool members and "
            "pauses at a recruiter approval. Returns the approval (thread) id and the shortlist. Writes "
            "nothing until approved.",
            RediscoverArgs,
        ),
        (
            impl.draft_outreach,
            "Draft the first line of an outreach message to a candidate for a job from the versioned "
            "template. Sends nothing.",
            OutreachArgs,
        ),
        (
            impl.list_approvals,
            "List pending approvals (paused runs waiting for a recruiter) the user may see.",
            ListApprovalsArgs,
        ),
        (
            impl.resolve_approval,
            "Resolve one pending approval: accept (optionally leaving some candidates out), ignore, or "
            "respond with feedback. Only recruiters and admins; the approved writes then run in the graph.",
            ResolveArgs,
        ),
    ]
    return [
        StructuredTool.from_function(
            func=fn,
            name=fn.__name__,
            description=description,
            args_schema=schema,
            handle_tool_error=True,
        )
        for fn, description, schema in specs
    ]


def tool_payload(content: Any) -> Any:
    """A ToolMessage's content back as data (tools return JSON; errors are plain text)."""
    if isinstance(content, str):
        with contextlib.suppress(ValueError):
            return json.loads(content)
    return content


def iter_lines(text: str) -> Iterator[str]:
    """Split a reply into stream tokens (line by line, keeping the newlines)."""
    yield from text.splitlines(keepends=True)
