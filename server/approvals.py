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
name while holding the thread's lease (`server.applying`: one resume per interrupt across
processes; another resolver gets 409), and an `approval_decision` audit record says who decided
what, when, and what the edit changed. When the writes fail after the decision was recorded, the
answer is `applying`, not an error: the approval stays in the list as "approved, applying (retry N,
next at T, last error)" until the worker's reconciler has finished it, with no second approval.

Methods are synchronous and thread-safe: call them from worker threads (sync FastAPI routes) or, for
short calls, from the event loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from graphs.kit.inbox import (
    HumanResponse,
    PendingApproval,
    candidate_thread_ids,
    parse_response,
    pending_for_thread,
)
from graphs.kit.runs import RunResult, approved_unfinished, resume, run_config
from server.applying import ApprovedWrites, error_text
from server.approval_models import (
    ALLOW,
    ApplyingInfo,
    ApprovalDetail,
    ApprovalSummary,
    Decision,
    DecisionType,
    ResolveResult,
)
from server.approval_records import (
    append_decision,
    applying_info,
    applying_summary,
    now,
    owners_for,
    row_owners,
    summary,
    write_rows,
)
from server.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError, Upstream
from tools.leases import LeaseHeld

if TYPE_CHECKING:
    from datetime import datetime

    from graphs.kit.kind import JobOwners
    from server.auth import Principal
    from server.service_types import ServiceView, SpecView
    from tools.applying import Applying

__all__ = [
    "ApprovalDetail",
    "ApprovalService",
    "ApprovalSummary",
    "Decision",
    "DecisionType",
    "ResolveResult",
]


class ApprovalService:
    def __init__(self, service: ServiceView) -> None:
        self.service = service
        self.applying = ApprovedWrites(service)

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
        moment: datetime,
    ) -> dict[str, Any]:
        can = self.can_resolve(principal, owners)
        return summary(self.service, spec, pending, owners, can_resolve=can, moment=moment)

    def _applying(
        self, graph: str | None, skip: set[str]
    ) -> list[tuple[SpecView, Applying, JobOwners | None]]:
        """Approved decisions whose writes are still being applied (not the ones pending again)."""
        out = []
        for row in self.applying.rows(graph):
            spec = self.service.specs.get(row.graph)
            if spec is None or row.thread_id in skip or not approved_unfinished(spec.graph, row.thread_id):
                continue
            out.append((spec, row, row_owners(self.service, spec, row)))
        return out

    def list(
        self,
        principal: Principal,
        *,
        graph: str | None = None,
        job_id: int | None = None,
        owner: int | None = None,
        older_than_minutes: float | None = None,
    ) -> list[ApprovalSummary]:
        """Approvals the principal may see, oldest first: those pending, and those approved whose
        writes are still being applied (`status` "applying")."""
        moment = now()
        found: list[tuple[JobOwners | None, dict[str, Any]]] = []
        for spec, pending in self._pending(graph):
            owners = owners_for(self.service, spec, pending)
            found.append((owners, self._summary(spec, pending, principal, owners, moment)))
        seen = {item["id"] for _, item in found}
        for spec, row, owners in self._applying(graph, seen):
            found.append((owners, applying_summary(self.service, spec, row, owners, moment=moment)))
        rows: list[ApprovalSummary] = []
        for owners, item in found:
            if not self.can_see(principal, owners):
                continue
            row = ApprovalSummary.model_validate(item)
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
                if self.applying.busy(approval_id):
                    raise Conflict(
                        f"approval {approval_id!r} is being resolved elsewhere; look again in a moment"
                    )
                row = self.applying.row(approval_id)
                if row is not None and approved_unfinished(spec.graph, approval_id):
                    raise Conflict(f"approval {approval_id!r} is {applying_info(row)['text']}")
                raise Conflict(f"approval {approval_id!r} is not pending (already resolved)")
            raise NotFound(f"no approval {approval_id!r}")
        owners = owners_for(self.service, spec, pending[0])
        if not self.can_see(principal, owners):
            raise NotFound(f"no approval {approval_id!r}")
        return spec, pending[0], owners

    def get(self, principal: Principal, approval_id: str) -> ApprovalDetail:
        spec = self.service.spec_for_thread(approval_id)
        row = self.applying.row(approval_id) if spec is not None else None
        if spec is not None and row is not None and not pending_for_thread(spec.graph, approval_id):
            owners = row_owners(self.service, spec, row)
            if approved_unfinished(spec.graph, approval_id) and self.can_see(principal, owners):
                # Approved, writes still being applied: nothing to decide, only its progress to show.
                item = applying_summary(self.service, spec, row, owners, moment=now())
                args = {"job_id": item["job_id"], "job_title": item["job_title"]}
                return ApprovalDetail.model_validate(
                    {**item, "request": {}, "description": "", "args": args, "approval_error": None}
                )
        spec, pending, owners = self._find(principal, approval_id)
        state = spec.graph.get_state(run_config(approval_id))
        request = dict(pending.request)
        return ApprovalDetail.model_validate(
            {
                **self._summary(spec, pending, principal, owners, now()),
                "request": request,
                "description": request.get("description", ""),
                "args": request["action_request"].get("args") or {},
                "approval_error": (state.values or {}).get("approval_error"),
            }
        )

    # -- resolving --------------------------------------------------------------------------------
    def resolve(self, principal: Principal, approval_id: str, decision: Decision) -> ResolveResult:
        """Validate, resume the thread under its lease, audit. Raises ServiceError subclasses
        (403/404/409/422; 502 only when the decision itself could not be recorded)."""
        if principal.role in ("auditor", "hiring_manager"):
            raise Forbidden(f"the {principal.role} role is read-only: it cannot resolve approvals")
        self._find(principal, approval_id)  # who may know it exists comes before who holds it
        try:
            with self.applying.hold(approval_id):
                return self._resolve_held(principal, approval_id, decision)
        except LeaseHeld:
            raise Conflict(
                f"approval {approval_id!r} is being resolved elsewhere; look again in a moment"
            ) from None

    def _response(self, decision: Decision) -> HumanResponse:
        raw: dict[str, Any] = {"type": decision.type, "args": None}
        if decision.type == "edit":
            if not decision.args:
                raise Invalid("an edit needs args (the edited action args)")
            raw["args"] = decision.args
        elif decision.type == "respond":
            text = decision.note or (decision.args or {}).get("response") or (decision.args or {}).get("text")
            if not text:
                raise Invalid("a respond decision needs a note (the message)")
            raw["args"] = str(text)
        return parse_response([raw])

    def _resolve_held(self, principal: Principal, approval_id: str, decision: Decision) -> ResolveResult:
        # Read again under the lease: what was pending may have been answered meanwhile.
        spec, pending, owners = self._find(principal, approval_id)
        if not self.can_resolve(principal, owners):
            raise Forbidden("only the requisition's recruiter or an admin can resolve this approval")
        if spec.authorize is not None:
            spec.authorize(principal, pending)
        if not pending.request.get("config", {}).get(ALLOW[decision.type], True):
            raise Invalid(f"this request does not allow {decision.type!r}")
        config = run_config(approval_id)
        values = dict(spec.graph.get_state(config).values or {})
        try:
            response = self._response(decision)
            changes = spec.validate_decision(values, response) if spec.validate_decision else {}
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            raise Invalid(f"edit not valid: {where}: {first['msg']}" if where else first["msg"]) from None
        except ValueError as exc:
            raise Invalid(f"edit not valid: {exc}") from None
        decided_at = now().isoformat()
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
        except Exception as exc:  # iCIMS down, quota...: the decision may be recorded in the thread
            error = error_text(exc)
            after_values = dict(spec.graph.get_state(config).values or {})
        approval = after_values.get("approval") or {}
        # Still pending with an `approval_error`: the graph refused the answer and asked again,
        # nothing was written. Pending without one: the next step of a multi-step approval
        # (an offer's next approver).
        refused = after_values.get("approval_error")
        if outcome is not None and refused and outcome.pending:
            raise Invalid(refused)
        changes = approval.get("edits") or changes
        writes = write_rows(after_values)
        applying = error is not None and approved_unfinished(spec.graph, approval_id)
        record = append_decision(
            self.service.audit,
            graph=spec.name,
            approval_id=approval_id,
            interrupt_id=pending.interrupt_id,
            job_id=owners.job_id if owners else None,
            approver={"key_id": principal.key_id, "name": principal.name, "role": principal.role},
            decision=decision.type,
            note=decision.note,
            decided_at=decided_at,
            changes=changes,
            writes=writes,
            outcome="applying" if applying else "error" if error else "resolved",
            values=values,
        )
        info: ApplyingInfo | None = None
        if error is not None:
            if not applying:
                raise Upstream(
                    f"the decision could not be recorded ({error}); nothing was written and the "
                    "approval is still pending: try again"
                )
            row = self.applying.failed(spec, approval_id, pending, error)
            info = ApplyingInfo.model_validate(applying_info(row))
        return ResolveResult(
            approval_id=approval_id,
            status="applying" if info is not None else "resolved",
            decision=decision.type,
            approver=principal.label,
            decided_at=approval.get("decided_at") or decided_at,
            changes=changes,
            writes=writes,
            audit_seq=record.seq,
            detail=f"the decision is recorded; {info.text}: the worker finishes the writes" if info else None,
            applying=info,
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
