"""`icims-agents nurture ...`: list campaigns, run one now (to its approval, or `--approve` to accept
as the CLI user), fire the scheduler once, and read the local outbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from server.cli_state import state

app = typer.Typer(help="Nurture campaigns: list, run, tick, outbox.", no_args_is_help=True)


def _open() -> Any:
    from server.state import open_service

    return open_service(state.settings())


def format_run(values: dict[str, Any], *, pending: bool) -> str:
    selection = values.get("selection") or {}
    excluded = ", ".join(f"{k} {v}" for k, v in (selection.get("excluded") or {}).items()) or "none"
    lines = [
        f"members {selection.get('members', 0)}, selected {selection.get('selected', 0)}, "
        f"duplicate memberships {selection.get('duplicate_memberships', 0)}; excluded: {excluded}"
    ]
    for d in values.get("drafts") or []:
        mod = d["moderation"]
        status = "HELD: " + "; ".join(mod["problems"]) if mod["held"] else "ok"
        role = (d.get("role") or {}).get("title") or "-"
        lines.append(
            f"  person {d['person_id']:>6} step {d['step']} {d['template']:<12} role {role!r}: {status}"
        )
        lines.append(f"    subject: {d['subject']}")
    for s in values.get("sends") or []:
        lines.append(
            f"  sent? person {s['person_id']:>6} step {s['step']}: {s['status']}"
            + (f" ({s['detail']})" if s.get("detail") else "")
        )
    if pending:
        lines.append("status: waiting for approval (nothing sent); rerun with --approve to accept")
    return "\n".join(lines)


@app.command("list")
def list_campaigns() -> None:
    """Campaigns (YAML and API-defined) as JSON lines."""
    from agents.nurture.campaigns import all_campaigns
    from tools.nurture.store import NurtureStore

    settings = state.settings()
    store = NurtureStore.from_settings(settings)
    try:
        for campaign in all_campaigns(store, settings.nurture_campaign_dir).values():
            typer.echo(
                json.dumps(
                    {
                        "id": campaign.id,
                        "name": campaign.name,
                        "enabled": campaign.enabled,
                        "schedule": campaign.schedule,
                        "pools": campaign.target.pool_ids,
                        "steps": [f"day {s.day}: {s.template}" for s in campaign.steps],
                    }
                )
            )
    finally:
        store.close()


@app.command("run")
def run(
    campaign: Annotated[str, typer.Option("--campaign", help="Campaign id.")],
    approve: Annotated[
        bool, typer.Option("--approve", help="Accept the drafts (send the ones not held).")
    ] = False,
    run_id: Annotated[str | None, typer.Option("--run-id", help="Run id (default: a new one).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run's result as JSON.")] = False,
) -> None:
    """Select, draft and wait for approval now (the scheduler does the same on the cron)."""
    from graphs.kit.inbox import pending_for_thread
    from graphs.nurture import resume_run, start_run
    from server.cli_resume import resolve_pending, thread_lease

    with _open() as service:
        graph = service.graphs["nurture"]
        try:
            thread_id, values = start_run(
                graph, customer_id=service.settings.icims_customer_id, campaign_id=campaign, run_id=run_id
            )
        except LookupError as exc:
            raise typer.BadParameter(str(exc), param_hint="--campaign") from None
        if approve and pending_for_thread(graph, thread_id):
            accept, settings = {"type": "accept"}, service.settings
            with thread_lease(settings, thread_id):
                answered = resolve_pending(
                    settings, service.audit, graph, "nurture", thread_id, accept, resume_run
                )
                values = answered if answered is not None else values
        pending = bool(pending_for_thread(graph, thread_id))
        if as_json:
            keys = ("selection", "drafts", "approval", "sends", "audit_record")
            typer.echo(
                json.dumps({"thread_id": thread_id, "pending": pending, **{k: values.get(k) for k in keys}})
            )
        else:
            typer.echo(f"thread {thread_id}")
            typer.echo(format_run(values, pending=pending))


@app.command("tick")
def tick(
    now: Annotated[
        str | None, typer.Option(help="ISO time to evaluate the schedules at (default: now).")
    ] = None,
) -> None:
    """Fire the campaigns whose cron matches this minute, once (what the worker does every minute)."""
    from graphs.nurture.scheduler import tick as run_tick

    when = datetime.fromisoformat(now) if now else datetime.now(UTC)
    with _open() as service:
        typer.echo(json.dumps(run_tick(service, when)))


@app.command("outbox")
def outbox(limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 20) -> None:
    """The local outbox index (ids, files, times) as JSON lines."""
    from tools.email import LocalOutbox

    box = LocalOutbox(state.settings().data_dir / "outbox")
    for row in list(reversed(box.index()))[:limit]:
        typer.echo(json.dumps(row))
