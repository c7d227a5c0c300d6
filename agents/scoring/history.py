"""Past applications (mirrored applicant workflows) as rediscovery signals."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from agents.models import HistorySignal
from tools.icims.codes import (
    APPLICANT_HIRED,
    APPLICANT_INTERVIEW,
    APPLICANT_NEW_SUBMISSION,
    APPLICANT_OFFER,
    APPLICANT_PHONE_SCREEN,
    APPLICANT_REJECTED,
    APPLICANT_REVIEWED,
    APPLICANT_WITHDRAWN,
)

Disposition = Literal["open", "rejected", "withdrawn", "hired"]


@dataclass(frozen=True, slots=True)
class Status:
    label: str
    stage_rank: int
    disposition: Disposition


# Applicant workflow statuses of the tenant (`tools.icims.codes`). Rejected/Withdrawn are terminal and
# say nothing about how far the person got; see `history_from_workflows` for how that is recovered.
STATUSES: dict[str, Status] = {
    APPLICANT_NEW_SUBMISSION: Status("New Submissions", 0, "open"),
    APPLICANT_REVIEWED: Status("Reviewed", 1, "open"),
    APPLICANT_PHONE_SCREEN: Status("Phone Screen", 2, "open"),
    APPLICANT_INTERVIEW: Status("Interview", 3, "open"),
    APPLICANT_OFFER: Status("Offer", 4, "open"),
    APPLICANT_HIRED: Status("Hired", 5, "hired"),
    APPLICANT_REJECTED: Status("Rejected", 1, "rejected"),
    APPLICANT_WITHDRAWN: Status("Withdrawn", 0, "withdrawn"),
}
STAGE_LABELS = ("New", "Reviewed", "Phone Screen", "Interview", "Offer", "Hired")
_BY_LABEL = {s.label.casefold(): (sid, s) for sid, s in STATUSES.items()}
_BY_LABEL.update(
    {
        "new": (APPLICANT_NEW_SUBMISSION, STATUSES[APPLICANT_NEW_SUBMISSION]),
        "phone screen": (APPLICANT_PHONE_SCREEN, STATUSES[APPLICANT_PHONE_SCREEN]),
    }
)
# Keys under which a workflow may carry earlier statuses (a status-history export or the sync's notes).
_HISTORY_KEYS = ("statushistory", "status_history", "history", "previousstatuses", "furtheststatus")


def _status_of(node: Any) -> tuple[str, Status] | None:
    if isinstance(node, Mapping):
        if "status" in node and not ("id" in node or "value" in node):
            return _status_of(node["status"])
        sid = node.get("id")
        if isinstance(sid, str) and sid in STATUSES:
            return sid, STATUSES[sid]
        value = node.get("value") or node.get("formattedvalue")
        if isinstance(value, str):
            return _BY_LABEL.get(value.strip().casefold()) or (_label_guess(value) if value.strip() else None)
        return None
    if isinstance(node, str):
        text = node.strip()
        if text in STATUSES:
            return text, STATUSES[text]
        return _BY_LABEL.get(text.casefold()) or _label_guess(text)
    return None


def _label_guess(text: str) -> tuple[str, Status] | None:
    t = text.casefold()
    for word, sid in (
        ("hire", APPLICANT_HIRED),
        ("offer", APPLICANT_OFFER),
        ("interview", APPLICANT_INTERVIEW),
        ("phone", APPLICANT_PHONE_SCREEN),
        ("screen", APPLICANT_PHONE_SCREEN),
        ("reject", APPLICANT_REJECTED),
        ("declin", APPLICANT_REJECTED),
        ("withdr", APPLICANT_WITHDRAWN),
        ("review", APPLICANT_REVIEWED),
        ("new", APPLICANT_NEW_SUBMISSION),
    ):
        if word in t:
            return sid, STATUSES[sid]
    return None


def _link_id(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("id")
    if value is None:
        return None
    return str(value)


def _when(workflow: Mapping[str, Any]) -> date | None:
    for key in ("updateddate", "updated", "createddate", "created"):
        value = workflow.get(key)
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str) and value.strip():
            m = re.match(r"(\d{4})-(\d{2})-(\d{2})", value.strip())
            if m:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    return None


def _earlier(workflow: Mapping[str, Any]) -> Iterable[Any]:
    for key in _HISTORY_KEYS:
        value = workflow.get(key)
        if isinstance(value, list):
            yield from value
        elif value is not None:
            yield value


def history_from_workflows(workflows: list[dict]) -> list[HistorySignal]:
    """One signal per applicant workflow, newest first.

    `stage_rank` is the furthest stage reached: the current status, or for Rejected/Withdrawn the
    furthest earlier status when the workflow carries a status history (`statushistory`, `history`
    or `furtheststatus`); without one a rejection counts as reviewed and a withdrawal as new."""
    signals: list[HistorySignal] = []
    for workflow in workflows:
        if not isinstance(workflow, Mapping):
            continue
        found = _status_of(workflow.get("status"))
        if found is None:
            continue
        sid, status = found
        stage = status.stage_rank
        for node in _earlier(workflow):
            earlier = _status_of(node)
            if earlier is not None and earlier[1].disposition in ("open", "hired"):
                stage = max(stage, earlier[1].stage_rank)
        job = _link_id(workflow.get("baseprofile")) or _link_id(workflow.get("job")) or "?"
        signals.append(
            HistorySignal(
                job_id=job,
                status=sid,
                stage_rank=stage,
                disposition=status.disposition,
                updated=_when(workflow),
                status_label=status.label,
            )
        )
    signals.sort(key=lambda s: (s.updated or date.min, s.stage_rank), reverse=True)
    return signals


def history_text(history: list[HistorySignal]) -> str:
    """The rendering that `source="workflow"` evidence quotes (one line per past application)."""
    return "".join(history_line(signal) + "\n" for signal in history)


def history_line(signal: HistorySignal) -> str:
    label = signal.status_label or (
        STATUSES[signal.status].label if signal.status in STATUSES else signal.status
    )
    when = signal.updated.isoformat() if signal.updated else "date unknown"
    furthest = STAGE_LABELS[min(max(signal.stage_rank, 0), 5)]
    return f"job {signal.job_id}: {label} (furthest stage {furthest}, {when})"
