"""What the sync and rediscover commands print (and `make demo`, which runs both): the JSON
shapes of `--json` and the tables shown otherwise."""

from __future__ import annotations


def sync_summary(report) -> dict:
    """The one-line JSON shape documented for `sync --json`."""
    return {
        "records": dict(report.records),
        "changed": report.changed,
        "requests": report.requests,
        "seconds": round(report.seconds, 2),
    }


def format_sync_summary(summary: dict) -> str:
    rows = [f"  {kind:<20} {count:>8,}" for kind, count in summary["records"].items()]
    return "\n".join(
        [
            "Synced records:",
            *rows,
            f"  {'changed':<20} {summary['changed']:>8,}",
            f"  {'iCIMS requests':<20} {summary['requests']:>8,}",
            f"  {'seconds':<20} {summary['seconds']:>8.2f}",
        ]
    )


def rediscover_report(run) -> dict:
    """The JSON shape of `rediscover --json`: thread id, job, shortlist and (with --approve) writes."""
    values = run.values
    job = values.get("job") or {}
    return {
        "thread_id": run.thread_id,
        "job_id": job.get("id"),
        "job_title": job.get("title"),
        "pending": bool(run.pending),
        "resumed_existing": run.resumed_existing,
        "continued": run.continued,
        "shortlist": [
            {
                "rank": c["rank"],
                "person_id": c["person_id"],
                "name": c["name"],
                "score": c["score"],
                "proposed_action": c["proposed_action"],
                "pool_id": c["pool_id"],
                "reasons": [_reason_line(r) for r in c["reasons"]],
                "gaps": [g["text"] for g in c["gaps"]],
                "flags": c["flags"],
                "summary": c["summary"],
                "outreach_line": c["outreach_line"],
            }
            for c in run.shortlist
        ],
    }


def _reason_line(reason: dict) -> str:
    # Imported on use: the graph package is heavy, and most commands never print a shortlist.
    from graphs.rediscovery import reason_line

    return reason_line(reason)


def format_rediscover_report(report: dict, *, reasons: int = 3) -> str:
    lines = [f"Rediscovery for job {report['job_id']}: {report['job_title']}"]
    if report["continued"]:
        lines.append("  (an approved run for this requisition had stopped while writing; it is now finished)")
    elif report["resumed_existing"]:
        lines.append("  (a run for this requisition was already waiting for approval; showing it)")
    if not report["shortlist"]:
        lines.append("  no candidates found in the mirror")
    for c in report["shortlist"]:
        action = "submit to job" if c["proposed_action"] == "submit" else f"add to pool {c['pool_id']}"
        flags = f"  [{', '.join(c['flags'])}]" if c["flags"] else ""
        lines.append(
            f"{c['rank']:>3}. {c['score']:>3}  {c['name']} (person {c['person_id']}) -> {action}{flags}"
        )
        lines.extend(f"        {text}" for text in c["reasons"][:reasons])
        if c["gaps"]:
            lines.append(f"        gaps: {'; '.join(c['gaps'][:3])}")
    lines.append(f"thread: {report['thread_id']}")
    if "writes" in report:
        lines.append(format_writes(report["writes"]))
    elif report["pending"]:
        lines.append(
            "status: waiting for approval (nothing written to iCIMS); rerun with --approve to accept"
        )
    return "\n".join(lines)


def format_writes(writes: list[dict]) -> str:
    lines = [f"writes applied: {sum(1 for w in writes if w['status'] == 'done')} of {len(writes)}"]
    for w in writes:
        made = "created" if w["created"] else "existing"
        lines.append(
            f"  person {w['person_id']:>6} {w['action']:<12} {w['workflow_kind']}/{w['workflow_id']} "
            f"({made}{', fields patched' if w['patched'] else ''}) {w['status']}"
            + (f": {w['detail']}" if w.get("detail") else "")
        )
    return "\n".join(lines)
