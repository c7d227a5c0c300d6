"""The copilot's replies without an LLM: each tool's result formatted as text, and the help."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

from prompts.templates import load_template

HELP_TEMPLATE = ("copilot_help", "v1")


def help_text(note: str | None = None) -> str:
    return load_template(*HELP_TEMPLATE).render(note=f"{note}\n\n" if note else "")


def tool_payload(content: Any) -> Any:
    """A ToolMessage's content back as data (tools return JSON; errors are plain text)."""
    if isinstance(content, str):
        with contextlib.suppress(ValueError):
            return json.loads(content)
    return content


def format_result(tool: str, content: Any) -> str:
    """A tool's result as the copilot's reply (no-LLM mode)."""
    payload = tool_payload(content)
    if not isinstance(payload, dict):
        text = str(payload)
        return f"I could not do that: {text.removeprefix('Error: ')}"
    formatter = FORMATTERS.get(tool)
    try:
        return formatter(payload) if formatter else json.dumps(payload, indent=1)
    except (KeyError, TypeError):
        return json.dumps(payload, indent=1, default=str)


def _search(p: dict[str, Any]) -> str:
    f = p.get("filters") or {}
    parts = []
    if f.get("skills"):
        parts.append("skills " + ", ".join(f["skills"]))
    if f.get("occupation"):
        parts.append(f"occupation '{f['occupation']}'")
    if f.get("location"):
        parts.append(f"in {f['location']}")
    if f.get("consent"):
        parts.append(f"consent {f['consent']}")
    total = p.get("total", 0)
    head = (
        f"{total} {'person' if total == 1 else 'people'} in the mirror match{'es' if total == 1 else ''} "
        + ("; ".join(parts) or "everything")
    )
    results = p.get("results") or []
    if not results:
        return head + ". Try fewer filters."
    lines = [head + (f" (showing {len(results)})" if len(results) < p.get("total", 0) else "") + ":"]
    for r in results:
        extra = []
        if r.get("title"):
            extra.append(str(r["title"]))
        if r.get("location"):
            extra.append(str(r["location"]))
        if r.get("consent"):
            extra.append(f"consent {r['consent']}")
        if r.get("do_not_contact"):
            extra.append("do not contact")
        line = f"- {r['name']} (person {r['person_id']})" + (": " + ", ".join(extra) if extra else "")
        for m in r.get("matched_skills") or []:
            line += f"\n  - {m['skill']}: '{m['quote']}'"
        lines.append(line)
    return "\n".join(lines)


def _explain(p: dict[str, Any]) -> str:
    who = f"{p['name']} (person {p['person_id']})"
    lines = [f"{who} scores {p['score']}/100 for {p['job_title']} (job {p['job_id']})."]
    if p.get("reasons"):
        lines.append("Reasons:")
        lines += [f"- {r['text']}" for r in p["reasons"]]
    if p.get("gaps"):
        lines.append("Gaps:")
        lines += [f"- {g}" for g in p["gaps"]]
    if p.get("flags"):
        lines.append("Flags: " + ", ".join(p["flags"]))
    lines.append(f"Rubric {p.get('rubric_version')}. {p.get('note', '')}".strip())
    return "\n".join(lines)


def _rediscovery(p: dict[str, Any]) -> str:
    title = p.get("job_title") or f"job {p['job_id']}"
    if not p.get("pending_approval"):
        return (
            f"Rediscovery for {title} (job {p['job_id']}) found nobody to propose; nothing awaits approval."
        )
    again = " (already waiting; not started again)" if p.get("resumed_existing") else ""
    lines = [
        f"Rediscovery for {title} (job {p['job_id']}) is waiting for approval{again}: "
        f"approval id `{p['approval_id']}`. Shortlist:"
    ]
    for c in p.get("shortlist") or []:
        action = "submit" if c.get("proposed_action") == "submit" else "add to talent pool"
        flags = f" [{', '.join(c['flags'])}]" if c.get("flags") else ""
        lines.append(f"{c['rank']}. {c['name']} (person {c['person_id']}): {c['score']}/100, {action}{flags}")
    lines.append(
        f"{p.get('note', '')} Say 'approve {p['approval_id']}', 'approve {p['approval_id']} without <ids>' "
        f"or 'ignore {p['approval_id']}'."
    )
    return "\n".join(lines)


def _outreach(p: dict[str, Any]) -> str:
    lines = [
        f"Draft for {p['name']} (person {p['person_id']}), {p['job_title']} (job {p['job_id']}):",
        "",
        p["draft"],
        "",
    ]
    lines += [f"Warning: {w}" for w in p.get("warnings") or []]
    lines.append(f"Template {p['template']}. {p.get('note', '')}".strip())
    return "\n".join(lines)


def _approvals(p: dict[str, Any]) -> str:
    rows = p.get("approvals") or []
    if not rows:
        return "No pending approvals you can see."
    lines = [f"{len(rows)} pending approval{'s' if len(rows) != 1 else ''}:"]
    for r in rows:
        if not isinstance(r, dict):
            lines.append(f"- {r}")
            continue
        ident = r.get("approval_id") or r.get("thread_id")
        what = r.get("job_title") or r.get("action") or ""
        job = f" (job {r['job_id']})" if r.get("job_id") is not None else ""
        count = f", {r['candidates']} candidates" if r.get("candidates") is not None else ""
        lines.append(f"- `{ident}`: {what}{job}{count}")
    return "\n".join(lines)


DECISION_WORDS = {
    "accept": "approved",
    "edit": "approved with changes",
    "ignore": "closed without writing",
    "respond": "answered with feedback (nothing written)",
}


def _resolve(p: dict[str, Any]) -> str:
    decision = DECISION_WORDS.get(p.get("decision", ""), p.get("decision"))
    text = f"Approval `{p['approval_id']}` {decision}"
    if p.get("excluded"):
        text += f", leaving out {', '.join(str(i) for i in p['excluded'])}"
    if p.get("error"):
        return text + f", but the graph asked again: {p['error']}"
    if "writes" in p:
        text += f"; {p['writes']} write step{'s' if p['writes'] != 1 else ''} done through the approved run"
    return text + "."


FORMATTERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "search_candidates": _search,
    "explain_score": _explain,
    "start_rediscovery": _rediscovery,
    "draft_outreach": _outreach,
    "list_approvals": _approvals,
    "resolve_approval": _resolve,
}
