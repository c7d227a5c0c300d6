"""`make demo` step: an offer drafted, routed, approved step by step, attached in the sandbox, and one
counter-offer analysed."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import typer

from tools.icims.codes import APPLICANT_OFFER

if TYPE_CHECKING:
    from server.demo import DemoContext


def _offer_workflow(ctx: DemoContext) -> int:
    """An application at the Offer status whose job has an occupation code (so a pay band)."""
    from tools.mirror.store import link_id

    soc_field = ctx.settings.field_map["job_soc_code"]
    fallback = None
    for record in ctx.store.iter_records("applicantworkflows"):
        job = ctx.store.get_data("jobs", link_id(record.data.get("baseprofile")) or 0) or {}
        person_id = link_id(record.data.get("associatedprofile"))
        if not job.get(soc_field) or person_id is None or ctx.store.is_erased(person_id):
            continue
        if (record.data.get("status") or {}).get("id") == APPLICANT_OFFER:
            return record.id
        fallback = fallback or record.id
    if fallback is None:
        raise RuntimeError("the demo tenant has no application to make an offer on")
    return fallback


def _band(ctx: DemoContext, workflow_id: int) -> Any:
    from agents.offer import band_for
    from agents.offer.drafting import role_from_fields
    from tools.mirror.store import link_id

    workflow = ctx.store.get_data("applicantworkflows", workflow_id) or {}
    job = ctx.store.get_data("jobs", link_id(workflow.get("baseprofile")) or 0) or {}
    role = role_from_fields(job, ctx.settings.field_map)
    return band_for(role.soc or "", None, role.location)


def _short(value: Any, limit: int = 100) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def demo_step(ctx: DemoContext) -> None:
    from graphs.kit.inbox import pending_for_thread
    from graphs.offer import OfferDeps, build_graph, counter_offer, resume_offer, start_offer
    from tools.checkpoint import open_checkpointer

    workflow_id = _offer_workflow(ctx)
    typer.secho(f"{ctx.step}. Offer for application {workflow_id}: draft, route, approve, attach", bold=True)
    deps = OfferDeps.from_settings(ctx.settings, mirror=ctx.store)
    seq_before = ctx.sandbox.writelog[-1].seq if ctx.sandbox.writelog else 0
    try:
        with open_checkpointer(ctx.settings) as saver:
            graph = build_graph(saver, deps=deps)
            # Propose $2,500 over the band's midpoint: the comp partner must sign off too.
            band = _band(ctx, workflow_id)
            base = Decimal(band.mid) + 2500
            run = start_offer(
                graph,
                workflow_id=workflow_id,
                customer_id=ctx.settings.icims_customer_id,
                terms={"base_salary": str(base), "sign_on_bonus": "5000", "pto_days": 20},
                started_by="demo",
            )
            values = run.values
            typer.echo(f"   band {band.source}: min {band.min} / mid {band.mid} / max {band.max}")
            latest = values["versions"][-1]
            typer.echo(
                f"   draft v{values['version']} ({latest['band_position']}): "
                + ", ".join(f"{k} {v}" for k, v in latest["figures"].items())
            )
            typer.echo("   approval chain:")
            for step in values["chain"]:
                typer.echo(f"     {step['order']}. {step['role']:<13} {'; '.join(step['reasons'])}")
            approvers = {"recruiter": "demo-recruiter", "comp_partner": "demo-comp-partner"}
            while pending := pending_for_thread(graph, run.thread_id):
                role = pending[0].request["action_request"]["args"]["step"]["role"]
                values = resume_offer(
                    graph, run.thread_id, [{"type": "accept"}], approver=approvers.get(role, f"demo-{role}")
                )
                typer.echo(f"   approved: {role:<13} -> offer status {values['status']}")
            typer.echo("   sandbox write log:")
            for entry in ctx.sandbox.writelog:
                if entry.seq > seq_before:
                    typer.echo(f"     #{entry.seq} {entry.method} {entry.path} {_short(entry.body)}")

            text = f"Thanks! I was hoping for {int(base / 1000) + 6}k plus a 10k signing bonus."
            typer.echo(f'   counter-offer: "{text}"')
            countered = counter_offer(graph, run.thread_id, {"text": text})
            analysis = countered.values["negotiation"]["analysis"]
            typer.echo(f"   analysis: {analysis['decision']} (base would be {analysis['band_position']})")
            for change in analysis["changes"]:
                ok = "within authority" if change["within_authority"] else "needs approval"
                typer.echo(f"     {change['term']}: {change['current']} -> {change['requested']} ({ok})")
            for reason in analysis["reasons"]:
                typer.echo(f"     escalation: {reason}")
            typer.echo(f"   suggested reply: {analysis['suggested_reply']}")
            typer.echo("   (the reply waits in the inbox for the recruiter's approval)")
    finally:
        deps.close()
