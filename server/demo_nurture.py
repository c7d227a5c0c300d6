"""`make demo` step: a nurture run of the shipped `talent-community` campaign on the demo tenant.

It selects the pools' members (every exclusion counted), drafts personal messages matched to open
requisitions, pauses at the approval, approves one draft (an edit keeping only it), sends it to the
local outbox and records the contact in iCIMS; then prints the outbox file and the sandbox's write
log lines. Quiet hours apply in each candidate's time zone: when the demo runs at night in New
York, the run is dated at 10:00 New York time on the next working day instead.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import typer

from agents.nurture.timing import quiet_reason

if TYPE_CHECKING:
    from agents.nurture.models import Campaign
    from server.demo import DemoContext

CAMPAIGN = "talent-community"


def send_window(now: datetime, campaign: Campaign) -> datetime:
    """`now`, or 10:00 in the campaign's default zone on its next working day when `now` is quiet."""
    from zoneinfo import ZoneInfo

    rules = campaign.quiet_hours
    if quiet_reason(now, rules.default_timezone, rules) is None:
        return now
    local = now.astimezone(ZoneInfo(rules.default_timezone))
    for days in range(8):
        candidate = (local + timedelta(days=days)).replace(hour=10, minute=0, second=0, microsecond=0)
        if candidate > local and quiet_reason(candidate, rules.default_timezone, rules) is None:
            return candidate.astimezone(UTC)
    raise RuntimeError("the campaign has no working day")


def demo_step(ctx: DemoContext, *, embeddings: Any = None) -> None:
    """`embeddings`: tests pass `HashEmbeddings` (default: the packaged MiniLM)."""
    from graphs.kit.inbox import pending_for_thread
    from graphs.nurture import NurtureDeps, build_graph, resume_run, start_run
    from tools.checkpoint import open_checkpointer

    deps = NurtureDeps.from_settings(ctx.settings, mirror=ctx.store, embeddings=embeddings)
    campaign = deps.campaign(CAMPAIGN)
    as_of = send_window(datetime.now(UTC), campaign)
    deps.clock = lambda: as_of
    typer.secho(
        f"{ctx.step}. Nurture: campaign {campaign.id!r} ({campaign.name}) on pools "
        f"{campaign.target.pool_ids}, at {as_of:%a %Y-%m-%d %H:%M} UTC",
        bold=True,
    )
    try:
        with open_checkpointer(ctx.settings) as saver:
            graph = build_graph(saver, deps=deps)
            thread_id, values = start_run(
                graph,
                customer_id=ctx.settings.icims_customer_id,
                campaign_id=CAMPAIGN,
                run_id="demo",
                as_of=as_of,
            )
            selection = values["selection"]
            excluded = ", ".join(f"{k} {v}" for k, v in selection["excluded"].items()) or "none"
            typer.echo(
                f"   {selection['members']} pool members, {selection['selected']} due and contactable; "
                f"excluded: {excluded}"
            )
            drafts = values.get("drafts") or []
            if not pending_for_thread(graph, thread_id):
                typer.echo("   nothing to approve (no member is due)")
                return
            typer.echo(f"   {len(drafts)} drafts wait for approval in the inbox (thread {thread_id}):")
            for d in drafts[:8]:
                mod = d["moderation"]
                status = "HELD: " + "; ".join(mod["problems"]) if mod["held"] else "ok"
                role = (d.get("role") or {}).get("title") or "no role named"
                typer.echo(f"     person {d['person_id']:>5} {d['template']:<10} {role:<38} {status}")
            # One whose candidate may be written to now (their own time zone's quiet hours and
            # working days): the demo shows a send, not a deferral.
            zones = {s["person_id"]: s["timezone"] for s in values.get("selected") or []}
            sendable = [d for d in drafts if not d["moderation"]["held"]]
            chosen = next(
                (
                    d
                    for d in sendable
                    if quiet_reason(as_of, zones.get(d["person_id"], "UTC"), campaign.quiet_hours) is None
                ),
                sendable[0],
            )
            typer.echo(f"   draft for person {chosen['person_id']}:\n     Subject: {chosen['subject']}")
            for line in chosen["body"].splitlines():
                typer.echo(f"     | {line}")
            before = len(ctx.sandbox.writelog)
            typer.echo(
                f"   the recruiter approves one draft (person {chosen['person_id']}); the rest are dropped"
            )
            values = resume_run(
                graph,
                thread_id,
                [{"type": "edit", "args": {"drafts": [{"person_id": chosen["person_id"]}]}}],
                approver="demo-recruiter",
            )
            for send in values.get("sends") or []:
                icims = send.get("icims") or {}
                typer.echo(
                    f"   sent: person {send['person_id']} step {send['step']} via {send['transport']}: "
                    f"{send['status']}; iCIMS person fields {icims.get('person_fields', {}).get('status')}, "
                    f"pool status {icims.get('pool_status', {}).get('status')}"
                )
            for row in deps.transport.index():
                typer.echo(f"   outbox: {deps.transport.folder / row['file']} ({row['message_id']})")
            typer.echo("   sandbox write log:")
            for entry in ctx.sandbox.writelog[before:]:
                typer.echo(f"     {entry.seq:>4} {entry.method} {entry.path} {entry.body}")
            audit = values.get("audit_record") or {}
            typer.echo(f"   audit record {audit.get('seq')} ({audit.get('key')})")
    finally:
        deps.close()
