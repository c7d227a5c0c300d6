"""Idempotent offer write-back: attach the letter PDF to the candidate, set the offer fields.

Like `graphs/kit/write.py`, every write is recorded in the `IdempotencyLedger` under (thread, run,
record, action) as soon as iCIMS confirms it, and marked `patching` before it is sent. A resumed run
(LangGraph re-runs the write node from its top) therefore sends nothing already done, and after a
crash between send and record it reads iCIMS first (the stored file's SHA-256, the fields' values)
and sends again only what differs. The client is passed in: this module holds no connection.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from tools.icims.budget import Priority
from tools.icims.client import BinaryFile
from tools.icims.errors import ICIMSBadRequest, ICIMSNotFound
from tools.icims.formats import same_value

Status = Literal["done", "already_done", "skipped", "failed"]


@dataclass
class OfferWrite:
    action: str
    kind: str
    record_id: int
    status: Status = "done"
    sent: bool = False  # this attempt sent the write (False: the ledger or iCIMS already had it)
    detail: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "kind": self.kind,
            "record_id": self.record_id,
            "status": self.status,
            "sent": self.sent,
            "detail": self.detail,
            **self.extra,
        }


class OfferWriteBack:
    def __init__(
        self,
        client: Any,  # tools.icims.client.ICIMSClient
        ledger: Any,  # tools.audit.IdempotencyLedger
        thread_id: str,
        run_id: str,
        *,
        is_erased: Callable[[int], bool] | None = None,
        on_step: Callable[[str, OfferWrite], None] | None = None,
        priority: Priority = Priority.WRITE,
    ) -> None:
        self.client = client
        self.ledger = ledger
        self.thread_id = thread_id
        self.run_id = run_id
        self.is_erased = is_erased
        self.on_step = on_step
        self.priority = priority

    def _step(self, name: str, outcome: OfferWrite) -> None:
        if self.on_step is not None:
            self.on_step(name, outcome)

    def _done_before(self, key: tuple[str, str, str, str], outcome: OfferWrite) -> Any:
        entry = self.ledger.get(*key)
        if entry is not None and entry.state in ("done", "failed"):
            outcome.status = "already_done" if entry.state == "done" else "failed"
            outcome.detail = "ledger: done" if entry.state == "done" else entry.detail.get("reason")
        return entry

    async def attach_letter(self, person_id: int, field_id: str, content: bytes, filename: str) -> OfferWrite:
        """PATCH the person's binary field with the letter (multipart), once."""
        digest = hashlib.sha256(content).hexdigest()
        outcome = OfferWrite(
            "attach_letter", "people", person_id, extra={"field": field_id, "sha256": digest}
        )
        key = (self.thread_id, self.run_id, str(person_id), f"offer_letter:{field_id}")
        entry = self._done_before(key, outcome)
        if outcome.status != "done":
            return outcome
        if self.is_erased is not None and self.is_erased(person_id):
            outcome.status, outcome.detail = "skipped", "person erased"
            return outcome
        try:
            if entry is not None and entry.state == "patching":
                # The upload may have landed before a crash: compare what iCIMS holds first.
                stored = await self.client.get_binary("people", person_id, field_id, priority=self.priority)
                if stored is not None and hashlib.sha256(stored.content).hexdigest() == digest:
                    self.ledger.record(*key, state="done", detail={"sha256": digest, "sent": False})
                    return outcome
            self.ledger.record(*key, state="patching", detail={"sha256": digest})
            await self.client.upload_binary(
                "people",
                person_id,
                field_id,
                BinaryFile(content=content, content_type="application/pdf", filename=filename),
                priority=self.priority,
            )
        except (ICIMSNotFound, ICIMSBadRequest) as exc:
            self.ledger.record(*key, state="failed", detail={"reason": exc.message})
            outcome.status, outcome.detail = "failed", exc.message
            return outcome
        outcome.sent = True
        self._step("letter_attached", outcome)
        self.ledger.record(*key, state="done", detail={"sha256": digest, "sent": True})
        self._step("letter_recorded", outcome)
        return outcome

    async def set_fields(self, kind: str, record_id: int, fields: Mapping[str, Any]) -> OfferWrite:
        """Read, compare, PATCH only if the values differ, once (offer status and custom fields)."""
        outcome = OfferWrite("set_fields", kind, record_id, extra={"fields": dict(fields)})
        key = (self.thread_id, self.run_id, f"{kind}:{record_id}", "offer_fields")
        self._done_before(key, outcome)
        if outcome.status != "done":
            return outcome
        if not fields:
            outcome.status, outcome.detail = "skipped", "nothing to write"
            return outcome
        try:
            served = await self.client.get_profile(
                kind, record_id, fields=list(fields), priority=self.priority
            )
            if not all(same_value(served.get(k), v) for k, v in fields.items()):
                self.ledger.record(*key, state="patching")
                if kind in ("applicantworkflows", "sourceworkflows"):
                    await self.client.update_workflow(kind, record_id, dict(fields), priority=self.priority)
                else:
                    await self.client.update_profile(kind, record_id, dict(fields), priority=self.priority)
                outcome.sent = True
                self._step("fields_patched", outcome)
        except (ICIMSNotFound, ICIMSBadRequest) as exc:
            self.ledger.record(*key, state="failed", detail={"reason": exc.message})
            outcome.status, outcome.detail = "failed", exc.message
            return outcome
        self.ledger.record(*key, state="done", detail={"sent": outcome.sent})
        return outcome
