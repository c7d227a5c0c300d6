"""The write step every graph uses: idempotent writes to iCIMS, recorded in the ledger, mirrored.

`WriteBack.apply` ensures an approved candidate's workflow, then PATCHes the AI fields;
`apply_person_fields` / `set_fields` read-compare-write custom fields on any record; `attach_binary`
uploads a file once; `entry` / `record` are the ledger guard for effects iCIMS cannot read back
(an email send). After each confirmed write the mirror row it changed is updated in place
(`MirrorStore.write_through`), so the service never reads its own stale past before the next sync.

iCIMS has no idempotency keys and allows one workflow per person and job or talent pool (API_NOTES
3.2, 6.3). Each step is recorded in the `IdempotencyLedger` as soon as iCIMS confirms it, keyed by
(thread, run, candidate, action), so a run that crashed mid-way and is resumed (LangGraph re-runs the write
node from its top) repeats nothing that is done:

1. ledger says done -> nothing is sent;
2. the workflow id comes from the ledger, else the mirror, else a create; a create refused with 400
   while the workflow turns out to exist (found by one Search) counts as already done;
3. the field PATCH is marked `patching` before it is sent; if a crash leaves that mark, the re-run
   reads the workflow first and sends the PATCH only if the values differ (read-compare-write).

Person fields (`apply_person_fields`, the enrichment tags) live on the person, not on a workflow of
this run, so they are always read first and PATCHed only when they differ; the ledger entry
(action `person_fields:<name>`) makes a resumed run skip them once done.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from tools.audit import IdempotencyLedger
from tools.icims.budget import Priority
from tools.icims.client import BinaryFile
from tools.icims.codes import (
    APPLICANT_NEW_SUBMISSION,
    SOURCE_ORIGIN_WEB_SERVICES,
    SOURCE_WORKFLOW_NEEDS_REVIEW,
    list_node,
)
from tools.icims.errors import ICIMSBadRequest, ICIMSNotFound
from tools.icims.formats import same_value
from tools.icims.search import F, and_

Action = Literal["add_to_pool", "submit"]
WriteStatus = Literal["done", "already_done", "skipped", "failed"]

# action -> (workflow kind, search entity, search name of the base profile)
WORKFLOW_FOR_ACTION: dict[str, tuple[str, str, str]] = {
    "submit": ("applicantworkflows", "applicantworkflow", "job"),
    "add_to_pool": ("sourceworkflows", "sourceworkflow", "talentpool"),
}
SOURCE_LABEL = "AI Rediscovery"
WORKFLOW_KINDS = ("applicantworkflows", "sourceworkflows")


@dataclass(frozen=True)
class WriteRequest:
    person_id: int
    action: Action
    base_id: int  # the job (submit) or talent pool (add_to_pool)
    fields: Mapping[str, Any]  # custom field id -> value


@dataclass
class WriteOutcome:
    person_id: int
    action: str
    base_id: int
    workflow_kind: str
    workflow_id: int | None = None
    created: bool = False
    patched: bool = False
    status: WriteStatus = "done"
    detail: str | None = None
    steps: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


StepHook = Callable[[str, WriteOutcome], None]


@dataclass
class FieldsOutcome:
    """A read-compare-write of custom fields on the person profile."""

    person_id: int
    fields: dict[str, Any]
    status: WriteStatus = "done"
    patched: bool = False  # this run's PATCH set the values (False: they already held them)
    detail: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "fields": dict(self.fields),
            "status": self.status,
            "patched": self.patched,
            "detail": self.detail,
        }


@dataclass
class RecordWrite:
    """A read-compare-write of fields on any record, or a binary upload."""

    action: str
    kind: str
    record_id: int
    status: WriteStatus = "done"
    sent: bool = False  # this attempt sent the write (False: the ledger or iCIMS already had it)
    detail: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        extra = out.pop("extra")
        return {**out, **extra}


class WriteBack:
    def __init__(
        self,
        client: Any,  # tools.icims.client.ICIMSClient (duck-typed so tests can wrap it)
        ledger: IdempotencyLedger,
        thread_id: str,
        run_id: str,
        *,
        mirror: Any = None,  # tools.mirror.MirrorStore, to find workflows iCIMS already has
        on_step: StepHook | None = None,
        on_record_step: Callable[[str, RecordWrite], None] | None = None,
        priority: Priority = Priority.WRITE,
    ) -> None:
        self.client = client
        self.ledger = ledger
        self.thread_id = thread_id
        self.run_id = run_id
        self.mirror = mirror
        self.on_step = on_step
        self.on_record_step = on_record_step
        self.priority = priority

    def _step(self, name: str, outcome: WriteOutcome) -> None:
        outcome.steps.append(name)
        if self.on_step is not None:
            self.on_step(name, outcome)

    async def apply(self, request: WriteRequest) -> WriteOutcome:
        kind = WORKFLOW_FOR_ACTION[request.action][0]
        outcome = WriteOutcome(
            person_id=request.person_id, action=request.action, base_id=request.base_id, workflow_kind=kind
        )
        key = (self.thread_id, self.run_id, str(request.person_id), request.action)
        entry = self.ledger.get(*key)
        if entry is not None and entry.state in ("done", "failed"):
            outcome.workflow_id = entry.workflow_id
            outcome.created = entry.created
            outcome.status = "already_done" if entry.state == "done" else "failed"
            outcome.detail = entry.detail.get("reason") if entry.state == "failed" else "ledger: done"
            return outcome
        if self.mirror is not None and self.mirror.is_erased(request.person_id):
            # Erasure wins over an approval given before it arrived.
            outcome.status = "skipped"
            outcome.detail = "person erased"
            return outcome

        workflow_id = entry.workflow_id if entry is not None else None
        outcome.created = entry.created if entry is not None else False
        if workflow_id is None:
            try:
                workflow_id, outcome.created = await self._ensure_workflow(request, kind)
            except (ICIMSNotFound, ICIMSBadRequest) as exc:
                # Permanent refusals (the person, job or pool is gone; the body is invalid): record and
                # move on; retrying cannot help and the other candidates still deserve their writes.
                self.ledger.record(*key, state="failed", workflow_kind=kind, detail={"reason": exc.message})
                outcome.status = "failed"
                outcome.detail = exc.message
                return outcome
            self.ledger.record(
                *key, state="workflow", workflow_kind=kind, workflow_id=workflow_id, created=outcome.created
            )
            self._step("workflow_created" if outcome.created else "workflow_found", outcome)
            if outcome.created:
                self._mirror_new_workflow(request, kind, workflow_id)
        outcome.workflow_id = workflow_id

        changes = dict(request.fields)
        if changes:
            needs_patch = True
            if entry is not None and entry.state == "patching":
                # A PATCH may have landed before the crash: read first, write only what differs.
                served = await self.client.get_profile(
                    kind, workflow_id, fields=list(changes), priority=self.priority
                )
                needs_patch = not all(same_value(served.get(k), v) for k, v in changes.items())
            if needs_patch:
                self.ledger.record(*key, state="patching")
                await self.client.update_workflow(kind, workflow_id, changes, priority=self.priority)
                outcome.patched = True
                self._through(kind, workflow_id, changes)
                self._step("patched", outcome)
        self.ledger.record(*key, state="done")
        self._step("done", outcome)
        return outcome

    async def apply_person_fields(
        self,
        person_id: int,
        fields: Mapping[str, Any],
        *,
        name: str = "enrichment_tags",
        outcome: WriteOutcome | None = None,
    ) -> FieldsOutcome:
        """Set custom fields on the person profile: read, compare, PATCH only what differs, once.

        `outcome` (the candidate's workflow write) is passed to the step hook after the PATCH."""
        result = FieldsOutcome(person_id=person_id, fields=dict(fields))
        key = (self.thread_id, self.run_id, str(person_id), f"person_fields:{name}")
        entry = self.ledger.get(*key)
        if entry is not None and entry.state in ("done", "failed"):
            result.status = "already_done" if entry.state == "done" else "failed"
            result.patched = bool(entry.detail.get("patched"))
            result.detail = entry.detail.get("reason") if entry.state == "failed" else "ledger: done"
            return result
        if self.mirror is not None and self.mirror.is_erased(person_id):
            result.status, result.detail = "skipped", "person erased"
            return result
        if not fields:
            result.status, result.detail = "skipped", "nothing to write"
            return result
        try:
            served = await self.client.get_profile(
                "people", person_id, fields=list(fields), priority=self.priority
            )
            if all(same_value(served.get(k), v) for k, v in fields.items()):
                # Already holds the values: written by an earlier attempt of this run when the
                # ledger says a PATCH was under way, else by someone before us.
                result.patched = entry is not None and entry.state == "patching"
            else:
                self.ledger.record(*key, state="patching")
                await self.client.update_profile("people", person_id, dict(fields), priority=self.priority)
                result.patched = True
                self._through("people", person_id, fields)
                if outcome is not None:
                    self._step("person_fields_patched", outcome)
        except (ICIMSNotFound, ICIMSBadRequest) as exc:
            self.ledger.record(*key, state="failed", detail={"reason": exc.message})
            result.status, result.detail = "failed", exc.message
            return result
        self.ledger.record(*key, state="done", detail={"patched": result.patched})
        return result

    # -- the ledger guard --------------------------------------------------------------------------
    def entry(self, candidate_id: int | str, action: str) -> Any:
        return self.ledger.get(self.thread_id, self.run_id, str(candidate_id), action)

    def record(self, candidate_id: int | str, action: str, **values: Any) -> Any:
        return self.ledger.record(self.thread_id, self.run_id, str(candidate_id), action, **values)

    def _done_before(self, candidate_id: str, action: str, outcome: RecordWrite) -> Any:
        entry = self.entry(candidate_id, action)
        if entry is not None and entry.state in ("done", "failed"):
            outcome.status = "already_done" if entry.state == "done" else "failed"
            outcome.detail = "ledger: done" if entry.state == "done" else entry.detail.get("reason")
        return entry

    def _erased(self, person_id: int | None) -> bool:
        return person_id is not None and self.mirror is not None and self.mirror.is_erased(person_id)

    # -- any record ---------------------------------------------------------------------------------
    async def set_fields(
        self,
        kind: str,
        record_id: int,
        fields: Mapping[str, Any],
        *,
        name: str,
        person_id: int | None = None,
        candidate: str | None = None,
        read_first: bool = True,
    ) -> RecordWrite:
        """Read, compare, PATCH only if the values differ, once (a status, custom fields).

        `candidate` names the ledger entry's subject (default `{kind}:{record_id}`). With
        `read_first=False` the read is skipped unless an earlier attempt's PATCH is unconfirmed (the
        ledger says `patching`): for values only this run computes (a fresh score), where the read
        would cost a request and find nothing to spare."""
        outcome = RecordWrite("set_fields", kind, record_id, extra={"fields": dict(fields)})
        candidate, action = candidate if candidate is not None else f"{kind}:{record_id}", name
        entry = self._done_before(candidate, action, outcome)
        if outcome.status != "done":
            return outcome
        if self._erased(person_id if person_id is not None else (record_id if kind == "people" else None)):
            outcome.status, outcome.detail = "skipped", "person erased"
            return outcome
        if not fields:
            outcome.status, outcome.detail = "skipped", "nothing to write"
            return outcome
        try:
            differs = True
            if read_first or (entry is not None and entry.state == "patching"):
                served = await self.client.get_profile(
                    kind, record_id, fields=list(fields), priority=self.priority
                )
                differs = not all(same_value(served.get(k), v) for k, v in fields.items())
            if differs:
                self.record(candidate, action, state="patching")
                if kind in WORKFLOW_KINDS:
                    await self.client.update_workflow(kind, record_id, dict(fields), priority=self.priority)
                else:
                    await self.client.update_profile(kind, record_id, dict(fields), priority=self.priority)
                outcome.sent = True
                self._through(kind, record_id, fields)
                self._record_step("fields_patched", outcome)
            elif entry is not None and entry.state == "patching":
                # An earlier attempt's PATCH landed before it crashed: the mirror has not seen it.
                self._through(kind, record_id, fields)
        except (ICIMSNotFound, ICIMSBadRequest) as exc:
            self.record(candidate, action, state="failed", detail={"reason": exc.message})
            outcome.status, outcome.detail = "failed", exc.message
            return outcome
        self.record(candidate, action, state="done", detail={"sent": outcome.sent})
        return outcome

    async def set_status(
        self,
        kind: str,
        workflow_id: int,
        status_id: str,
        *,
        name: str,
        person_id: int | None = None,
        candidate: str | None = None,
        allowed: Callable[[str | None], str | None] | None = None,
    ) -> RecordWrite:
        """Move a workflow to `status_id`, once. Its current status is read first (someone may have
        moved it since): already there, nothing is sent; `allowed(current)` returning a reason leaves
        it where it is (status `skipped`, recorded done so a re-run does not ask again)."""
        outcome = RecordWrite("set_status", kind, workflow_id, extra={"status_id": status_id})
        key = (candidate if candidate is not None else f"{kind}:{workflow_id}", name)
        self._done_before(*key, outcome)
        if outcome.status != "done":
            return outcome
        if self._erased(person_id):
            outcome.status, outcome.detail = "skipped", "person erased"
            return outcome
        state = "done"  # the ledger entry this attempt leaves
        detail: dict[str, Any] = {"sent": False}
        try:
            served = await self.client.get_workflow(kind, workflow_id, priority=self.priority)
            current = (served.get("status") or {}).get("id")
            reason = None if current == status_id or allowed is None else allowed(current)
            if current == status_id:
                outcome.detail = "already in that status"
            elif reason is not None:
                outcome.status, outcome.detail = "skipped", reason
                detail = {"skipped": reason}
            else:
                self.record(*key, state="patching")
                await self.client.set_workflow_status(kind, workflow_id, status_id, priority=self.priority)
                outcome.sent = detail["sent"] = True
                self._through(kind, workflow_id, {"status": list_node(status_id)})
                self._record_step("status_set", outcome)
        except (ICIMSNotFound, ICIMSBadRequest) as exc:
            state, detail = "failed", {"reason": exc.message}
            outcome.status, outcome.detail = "failed", exc.message
        self.record(*key, state=state, detail=detail)
        return outcome

    async def attach_binary(
        self,
        kind: str,
        record_id: int,
        field_id: str,
        file: BinaryFile,
        *,
        name: str,
        person_id: int | None = None,
    ) -> RecordWrite:
        """Upload a file into a binary field, once; after a crash between send and record, iCIMS's
        stored file is compared (SHA-256) before sending again."""
        digest = hashlib.sha256(file.content).hexdigest()
        outcome = RecordWrite(name, kind, record_id, extra={"field": field_id, "sha256": digest})
        candidate, action = str(record_id), f"{name}:{field_id}"
        entry = self._done_before(candidate, action, outcome)
        if outcome.status != "done":
            return outcome
        if self._erased(person_id if person_id is not None else (record_id if kind == "people" else None)):
            outcome.status, outcome.detail = "skipped", "person erased"
            return outcome
        try:
            if entry is not None and entry.state == "patching":
                stored = await self.client.get_binary(kind, record_id, field_id, priority=self.priority)
                if stored is not None and hashlib.sha256(stored.content).hexdigest() == digest:
                    self.record(candidate, action, state="done", detail={"sha256": digest, "sent": False})
                    return outcome
            self.record(candidate, action, state="patching", detail={"sha256": digest})
            await self.client.upload_binary(kind, record_id, field_id, file, priority=self.priority)
        except (ICIMSNotFound, ICIMSBadRequest) as exc:
            self.record(candidate, action, state="failed", detail={"reason": exc.message})
            outcome.status, outcome.detail = "failed", exc.message
            return outcome
        outcome.sent = True
        self._record_step(f"{name}_attached", outcome)
        self.record(candidate, action, state="done", detail={"sha256": digest, "sent": True})
        self._record_step(f"{name}_recorded", outcome)
        return outcome

    def _record_step(self, name: str, outcome: RecordWrite) -> None:
        if self.on_record_step is not None:
            self.on_record_step(name, outcome)

    # -- write-through ------------------------------------------------------------------------------
    def _through(self, kind: str, record_id: int, fields: Mapping[str, Any], **links: Any) -> None:
        if self.mirror is not None and hasattr(self.mirror, "write_through"):
            self.mirror.write_through(kind, int(record_id), fields, **links)

    def _mirror_new_workflow(self, request: WriteRequest, kind: str, workflow_id: int) -> None:
        status = APPLICANT_NEW_SUBMISSION if request.action == "submit" else SOURCE_WORKFLOW_NEEDS_REVIEW
        fields: dict[str, Any] = {"status": {"id": status}, "source": SOURCE_LABEL}
        if request.action == "add_to_pool":
            fields["sourceorigin"] = {"id": SOURCE_ORIGIN_WEB_SERVICES}
        self._through(kind, workflow_id, fields, person_id=request.person_id, base_id=request.base_id)

    async def _ensure_workflow(self, request: WriteRequest, kind: str) -> tuple[int, bool]:
        """(workflow id, created by us)."""
        if self.mirror is not None:
            existing = self.mirror.workflows(kind, person_id=request.person_id, base_id=request.base_id)
            if existing:
                return existing[0].id, False
        try:
            if request.action == "submit":
                new_id = await self.client.create_applicant_workflow(
                    request.base_id, request.person_id, source=SOURCE_LABEL, priority=self.priority
                )
            else:
                new_id = await self.client.create_source_workflow(
                    request.base_id, request.person_id, source=SOURCE_LABEL, priority=self.priority
                )
            return new_id, True
        except ICIMSBadRequest:
            # One workflow per person and base profile: a 400 on create usually means it exists already
            # (created by an earlier attempt whose reply was lost, or by a recruiter since the last
            # sync). Only a Search that finds it makes it "already done"; otherwise the 400 stands.
            found = await self._find_workflow(request)
            if found is None:
                raise
            return found, False

    async def _find_workflow(self, request: WriteRequest) -> int | None:
        kind, entity, base = WORKFLOW_FOR_ACTION[request.action]
        query = and_(
            F(f"{entity}.person.id").eq(request.person_id), F(f"{entity}.{base}.id").eq(request.base_id)
        )
        ids = await self.client.search(kind, query, priority=self.priority)
        return min(ids) if ids else None
