"""From an approval page's form to the reviewer's `Decision`, per graph: an offer's and a nurture
run's forms are read by their own service modules, a triage approval keeps or edits its proposed
actions, and a rediscovery shortlist keeps candidates and changes their actions. Every graph shares
Send feedback and Ignore. A form that cannot become a decision raises `FormRefused`, and the page
shows it again with the message."""

from __future__ import annotations

from typing import Any

from agents.triage.decision import DecisionError, page_edit
from server.approvals import Decision
from server.nurture import page_decision as nurture_decision
from server.offers import page_decision as offer_decision
from server.pages.common import int_or_none


class FormRefused(Exception):
    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def decision(type_: str, args: dict[str, Any] | None = None, note: str | None = None) -> Decision:
    return Decision(type=type_, args=args, note=note)  # type: ignore[arg-type]


def edited_candidates(form: Any, candidates: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], bool]:
    """(the kept candidates with their actions, whether anything differs from the proposal)."""
    kept = {str(v) for v in form.getlist("keep")}
    out: list[dict[str, Any]] = []
    changed = False
    for c in candidates:
        pid = str(c["person_id"])
        if pid not in kept:
            changed = True
            continue
        action = str(form.get(f"action_{pid}") or c.get("proposed_action"))
        pool = int_or_none(form.get(f"pool_{pid}"))
        if action != "add_to_pool":
            pool = None
        elif pool is None:
            pool = c.get("pool_id")
        if (action, pool) != (c.get("proposed_action"), c.get("pool_id")):
            changed = True
        out.append({"person_id": c["person_id"], "proposed_action": action, "pool_id": pool})
    return out, changed


def _triage_decision(form: Any, args: dict[str, Any], note: str | None) -> Decision:
    ids = [str(a["id"]) for a in args.get("actions") or []]
    try:
        edit = page_edit(
            args.get("actions") or [],
            [str(v) for v in form.getlist("keep")],
            tiers={i: str(form.get(f"tier_{i}") or "") for i in ids},
            statuses={i: str(form.get(f"status_{i}") or "") for i in ids},
            suggested_tier=str(args.get("tier") or ""),
        )
    except DecisionError as exc:
        raise FormRefused(str(exc)) from None
    return decision("edit", edit, note) if edit else decision("accept", None, note)


def _shortlist_decision(form: Any, candidates: list[dict[str, Any]], note: str | None) -> Decision:
    kept, changed = edited_candidates(form, candidates)
    if not kept:
        raise FormRefused(
            "No candidate is selected. Keep at least one, or choose Ignore to close without writing."
        )
    return decision("edit", {"candidates": kept}, note) if changed else decision("accept", None, note)


def form_decision(graph: Any, form: Any, args: dict[str, Any], candidates: list[dict[str, Any]]) -> Decision:
    """The decision the approval page's form asks for (the form's `decision` and `note` fields,
    plus the graph's own edit fields)."""
    choice = str(form.get("decision") or "")
    note = str(form.get("note") or "").strip() or None
    if graph in ("offer", "nurture"):
        read = offer_decision if graph == "offer" else nurture_decision
        try:
            return read(form, args)
        except ValueError as exc:
            raise FormRefused(str(exc)) from None
    if graph == "triage" and choice == "approve":
        return _triage_decision(form, args, note)
    if choice == "approve":
        return _shortlist_decision(form, candidates, note)
    if choice == "respond":
        if not note:
            raise FormRefused("Write the feedback to send back before choosing Send feedback.")
        return decision("respond", None, note)
    if choice == "ignore":
        return decision("ignore", None, note)
    raise FormRefused("Choose Approve, Send feedback or Ignore.", 400)
