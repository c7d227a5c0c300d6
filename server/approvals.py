"""Approvals: the Agent Inbox interrupts waiting in the checkpointer, per principal.

An approval is a thread paused at an Agent Inbox interrupt; its id is the thread id (one pending
interrupt per thread). Everything is read from the checkpointer, so what was pending before a
restart is pending after it, and any process sees the same list.

Roles (server/auth.py): admins and auditors see every approval, recruiters those of the requisitions
they recruit for (the job's `recruiter.id`), hiring managers those of the requisitions they manage
(`hiringmanager.id`). Only admins and the owning recruiter resolve. Another recruiter's approval is
"not found": its existence is not disclosed.

Resolving: the decision is checked against the request's `config` (allow_accept...), an edit is
re-validated with the graph's own pydantic models and rules before the thread is resumed (nothing is
written when it fails), the thread resumes through `graphs.kit.runs.resume` under the approver's
name, and an `approval_decision` audit record says who decided what, when, and what the edit changed.

Methods are synchronous and thread-safe: call them from worker threads (sync FastAPI routes) or, for
short calls, from the event loop.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from graphs.kit.inbox import (
    HumanResponse,
    PendingApproval,
    candidate_thread_ids,
    parse_response,
    pending_for_thread,
)
from graphs.kit.runs import RunResult, resume, run_config
from graphs.kit.threads import trace_id_for
from server.approval_models import (
    ALLOW,
    ApprovalDetail,
    ApprovalSummary,
    Decision,
    DecisionType,
    ResolveResult,
)
from server.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError, Upstream

if TYPE_CHECKING:
    from graphs.kit.kind import JobOwners
    from server.auth import Principal
    from server.service_types import ServiceView, SpecView

__all__ = [
    "ApprovalDetail",
    "ApprovalService",
    "ApprovalSummary",
    "Decision",
    "DecisionType",
    "ResolveResult",
]


def _now() -> datetime:
    return datetime.now(UTC)


def _age_minutes(created_at: str | None, now: datetime) -> float | None:
    if not created_at:
        return None
    try:
        created = datetime.fromisoformat(created_at)
    except ValueError:
        return None
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return round((now - created).total_seconds() / 60, 2)


class ApprovalService:
    def __init__(self, service: ServiceView) -> None:
        self.service = service
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    # -- permissions ------------------------------------------------------------------------------
    @staticmethod
    def can_see(principal: Principal, owners: JobOwners | None) -> bool:
        if principal.reads_everything:
            return True
        if owners is None or principal.recruiter_id is None:
            return False
        if principal.role == "recruiter":
            return owners.recruiter_id == principal.recruiter_id
        if principal.role == "hiring_manager":
            return owners.hiring_manager_id == principal.recruiter_id
        return False

    @staticmethod
    def can_resolve(principal: Principal, owners: JobOwners | None) -> bool:
        if principal.role == "admin":
            return True
        return (
            principal.role == "recruiter"
            and owners is not None
            and principal.recruiter_id is not None
            and owners.recruiter_id == principal.recruiter_id
        )

    # -- reading ----------------------------------------------------------------------------------
    def _pending(self, graph: str | None = None) -> list[tuple[SpecView, PendingApproval]]:
        specs = [self.service.spec(graph)] if graph else list(self.service.specs.values())
        threads = candidate_thread_ids(self.service.checkpointer)
        out: list[tuple[SpecView, PendingApproval]] = []
        for spec in specs:
            for thread in threads:
                if thread.startswith(spec.thread_prefix):
                    out.extend((spec, p) for p in pending_for_thread(spec.graph, thread))
        return out

    def _summary(
        self,
        spec: SpecView,
        pending: PendingApproval,
        principal: Principal,
        owners: JobOwners | None,
        now: datetime,
    ) -> dict[str, Any]:
        request = pending.request
        args = request["action_request"].get("args") or {}
        # What a reviewer counts: shortlisted candidates, outreach drafts, proposed actions; else one
        # thing to decide (an offer: not its clause list).
        items = next(
            (len(args[k]) for k in ("candidates", "drafts", "actions") if isinstance(args.get(k), list)), 1
        )
        job_title = (owners.title if owners else None) or args.get("job_title")
        action = request["action_request"]["action"]
        title = f"{action.replace('_', ' ')}" + (f" for {job_title}" if job_title else "")
        if owners is not None and owners.job_id is not None:
            title += f" (job {owners.job_id})"
        owner_id = owners.recruiter_id if owners else None
        return {
            "id": pending.thread_id,
            "thread_id": pending.thread_id,
            "interrupt_id": pending.interrupt_id,
            "graph": spec.name,
            "action": action,
            "job_id": owners.job_id if owners else None,
            "job_title": job_title,
            "owner_id": owner_id,
            "owner_name": self.service.person_name(owner_id),
            "hiring_manager_id": owners.hiring_manager_id if owners else None,
            "created_at": pending.created_at,
            "age_minutes": _age_minutes(pending.created_at, now),
            "items": items,
            "title": title,
            "can_resolve": self.can_resolve(principal, owners),
            "allowed": {k: bool(request.get("config", {}).get(v, True)) for k, v in ALLOW.items()},
        }

    def _owners(self, spec: SpecView, pending: PendingApproval) -> JobOwners | None:
        if spec.owners_of is not None:
            return spec.owners_of(pending)
        args = pending.request["action_request"].get("args") or {}
        job_id = args.get("job_id")
        if job_id is None:
            job_id = spec.job_id_of_thread(pending.thread_id)
        return self.service.job_owners(int(job_id) if job_id is not None else None)

    def list(
        self,
        principal: Principal,
        *,
        graph: str | None = None,
        job_id: int | None = None,
        owner: int | None = None,
        older_than_minutes: float | None = None,
    ) -> list[ApprovalSummary]:
        """Pending approvals the principal may see, oldest first."""
        now = _now()
        rows: list[ApprovalSummary] = []
        for spec, pending in self._pending(graph):
            owners = self._owners(spec, pending)
            if not self.can_see(principal, owners):
                continue
            row = ApprovalSummary.model_validate(self._summary(spec, pending, principal, owners, now))
            if job_id is not None and row.job_id != job_id:
                continue
            if owner is not None and row.owner_id != owner:
                continue
            if older_than_minutes is not None and (
                row.age_minutes is None or row.age_minutes < older_than_minutes
            ):
                continue
            rows.append(row)
        rows.sort(key=lambda r: r.created_at or "")
        return rows

    def _find(
        self, principal: Principal, approval_id: str
    ) -> tuple[SpecView, PendingApproval, JobOwners | None]:
        spec = self.service.spec_for_thread(approval_id)
        if spec is None:
            raise NotFound(f"no approval {approval_id!r}")
        pending = pending_for_thread(spec.graph, approval_id)
        if not pending:
            state = spec.graph.get_state(run_config(approval_id))
            owners = self.service.job_owners(spec.job_id_of_state(dict(state.values or {})))
            if state.values and self.can_see(principal, owners):
                raise Conflict(f"approval {approval_id!r} is not pending (already resolved)")
            raise NotFound(f"no approval {approval_id!r}")
        owners = self._owners(spec, pending[0])
        if not self.can_see(principal, owners):
            raise NotFound(f"no approval {approval_id!r}")
        return spec, pending[0], owners

    def get(self, principal: Principal, approval_id: str) -> ApprovalDetail:
        spec, pending, owners = self._find(principal, approval_id)
        state = spec.graph.get_state(run_config(approval_id))
        request = dict(pending.request)
        return ApprovalDetail.model_validate(
            {
                **self._summary(spec, pending, principal, owners, _now()),
                "request": request,
                "description": request.get("description", ""),
                "args": request["action_request"].get("args") or {},
                "approval_error": (state.values or {}).get("approval_error"),
            }
        )

    # -- resolving --------------------------------------------------------------------------------
    def _lock(self, thread_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(thread_id, threading.Lock())

    def resolve(self, principal: Principal, approval_id: str, decision: Decision) -> ResolveResult:
        """Validate, resume the thread, audit. Raises ServiceError subclasses (403/404/409/422/502)."""
        if principal.role in ("auditor", "hiring_manager"):
            raise Forbidden(f"the {principal.role} role is read-only: it cannot resolve approvals")
        with self._lock(approval_id):
            spec, pending, owners = self._find(principal, approval_id)
            if not self.can_resolve(principal, owners):
                raise Forbidden("only the requisition's recruiter or an admin can resolve this approval")
            if spec.authorize is not None:
                spec.authorize(principal, pending)
            allowed = pending.request.get("config", {}).get(ALLOW[decision.type], True)
            if not allowed:
                raise Invalid(f"this request does not allow {decision.type!r}")
            raw: dict[str, Any] = {"type": decision.type, "args": None}
            if decision.type == "edit":
                if not decision.args:
                    raise Invalid("an edit needs args (the edited action args)")
                raw["args"] = decision.args
            elif decision.type == "respond":
                text = (
                    decision.note
                    or (decision.args or {}).get("response")
                    or (decision.args or {}).get("text")
                )
                if not text:
                    raise Invalid("a respond decision needs a note (the message)")
                raw["args"] = str(text)
            config = run_config(approval_id)
            values = dict(spec.graph.get_state(config).values or {})
            try:
                response: HumanResponse = parse_response([raw])
                changes = spec.validate_decision(values, response) if spec.validate_decision else {}
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first.get("loc", ()))
                raise Invalid(f"edit not valid: {where}: {first['msg']}" if where else first["msg"]) from None
            except ValueError as exc:
                raise Invalid(f"edit not valid: {exc}") from None
            decided_at = _now().isoformat()
            error: str | None = None
            outcome: RunResult | None = None
            try:
                outcome = resume(
                    spec.graph,
                    approval_id,
                    [{"type": response.type, "args": response.args}],
                    approver=principal.label,
                )
                after_values = outcome.values
            except Exception as exc:  # iCIMS down, quota... the approval itself is recorded in the thread
                error = f"{type(exc).__name__}: {exc}"
                after_values = dict(spec.graph.get_state(config).values or {})
            approval = after_values.get("approval") or {}
            # Still pending with an `approval_error`: the graph refused the answer and asked again,
            # nothing was written. Pending without one: the next step of a multi-step approval
            # (an offer's next approver).
            refused = after_values.get("approval_error")
            if outcome is not None and refused and outcome.pending:
                raise Invalid(refused)
            changes = approval.get("edits") or changes
            writes = [
                {
                    k: w.get(k)
                    for k in ("person_id", "action", "base_id", "workflow_kind", "workflow_id", "status")
                }
                # Triage writes name their action `id` (ai_fields, status, talent_pool).
                | ({"action": w["id"]} if w.get("action") is None and w.get("id") else {})
                for w in after_values.get("writes") or []
            ]
            record = self._audit(
                spec,
                principal,
                approval_id,
                pending,
                owners,
                decision,
                decided_at,
                changes,
                writes,
                error,
                values,
            )
            if error is not None:
                raise Upstream(
                    f"the decision was recorded but applying it failed ({error}); "
                    "starting the run again finishes the approved writes"
                )
            return ResolveResult(
                approval_id=approval_id,
                status="resolved",
                decision=decision.type,
                approver=principal.label,
                decided_at=approval.get("decided_at") or decided_at,
                changes=changes,
                writes=writes,
                audit_seq=record.seq,
            )

    def _audit(
        self,
        spec: SpecView,
        principal: Principal,
        approval_id: str,
        pending: PendingApproval,
        owners: JobOwners | None,
        decision: Decision,
        decided_at: str,
        changes: dict[str, Any],
        writes: list[dict[str, Any]],
        error: str | None,
        values: dict[str, Any],
    ) -> Any:
        trace_id = (values.get("run") or {}).get("trace_id") or trace_id_for(approval_id)
        note = decision.note
        body = {
            "graph": spec.name,
            "approval_id": approval_id,
            "interrupt_id": pending.interrupt_id,
            "job_id": owners.job_id if owners else None,
            "decision": decision.type,
            # Who: the key's id, name and role (never the key itself).
            "approver": {"key_id": principal.key_id, "name": principal.name, "role": principal.role},
            "decided_at": decided_at,
            "changes": changes,
            # Free text may name people: keep its hash only.
            "note_hash": hashlib.sha256(note.encode("utf-8")).hexdigest() if note else None,
            "writes": [
                {"person_id": w["person_id"], "action": w["action"], "status": w["status"]} for w in writes
            ],
            "outcome": "error" if error else "resolved",
        }
        return self.service.audit.append(
            kind="approval_decision",
            key=f"decision:{approval_id}:{pending.interrupt_id}",
            trace_id=trace_id,
            thread_id=approval_id,
            body=body,
        )

    def bulk_resolve(
        self, principal: Principal, approval_ids: list[str], decision: Decision
    ) -> list[ResolveResult]:
        """Resolve each selected approval with the same decision; one result per id, in order.
        Edits are per approval, so a bulk edit is refused."""
        if principal.role in ("auditor", "hiring_manager"):
            raise Forbidden(f"the {principal.role} role is read-only: it cannot resolve approvals")
        if decision.type == "edit":
            raise Invalid("edit approvals one at a time (an edit is specific to its request)")
        statuses = {404: "not_found", 403: "forbidden", 409: "conflict", 422: "invalid"}
        results: list[ResolveResult] = []
        for approval_id in dict.fromkeys(approval_ids):
            try:
                results.append(self.resolve(principal, approval_id, decision))
            except ServiceError as exc:
                results.append(
                    ResolveResult(
                        approval_id=approval_id,
                        status=statuses.get(exc.status_code, "error"),  # type: ignore[arg-type]
                        decision=decision.type,
                        detail=exc.detail,
                    )
                )
        return results
