"""`icims-agents offer draft|approve|counter|show`: the offer graph from the command line.

Runs on the same checkpointer as the service (SQLite in `data_dir` by default), so an offer drafted
here is pending in the web inbox too, and the reverse.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Annotated, Any

import typer

app = typer.Typer(
    help="Offers: draft, approve step by step, take a counter-offer, show versions.", no_args_is_help=True
)


@contextlib.contextmanager
def _graph() -> Iterator[tuple[Any, Any]]:
    from graphs.offer import OfferDeps, build_graph
    from server.cli_state import state
    from tools.checkpoint import open_checkpointer

    settings = state.settings()
    deps = OfferDeps.from_settings(settings)
    try:
        with open_checkpointer(settings) as saver:
            yield build_graph(saver, deps=deps), settings
    finally:
        deps.close()


def format_offer(view: dict[str, Any], pending: list[Any]) -> str:
    lines = [f"offer {view['thread_id']}: {view['status']} (version {view['version']})"]
    latest = (view.get("versions") or [{}])[-1]
    for label, figure in (latest.get("figures") or {}).items():
        lines.append(f"  {label:<16} {figure}")
    if latest.get("band_position"):
        lines.append(
            f"  band position    {latest['band_position']} (compa-ratio {latest.get('compa_ratio')})"
        )
    lines.append("approval chain:")
    for step in view.get("chain") or []:
        lines.append(f"  {step['role']:<13} {'; '.join(step['reasons'])}")
    for decision in view.get("decisions") or []:
        lines.append(
            f"  v{decision['version']} {decision['role']:<13} {decision['decision']:<7} "
            f"by {decision['approver']}"
        )
    negotiation = view.get("negotiation")
    if negotiation:
        lines.append(
            f"counter-offer {negotiation['n']}: {negotiation['decision']} ({negotiation.get('outcome')})"
        )
        for reason in (negotiation.get("analysis") or {}).get("reasons") or []:
            lines.append(f"  escalation: {reason}")
        reply = negotiation.get("reply") or (negotiation.get("analysis") or {}).get("suggested_reply")
        if reply:
            lines.append(f"  reply: {reply}")
    for write in view.get("writes") or []:
        lines.append(f"  write {write['action']:<14} {write['kind']}/{write['record_id']} {write['status']}")
    if pending:
        args = pending[0].request["action_request"]["args"]
        step = (args.get("step") or {}).get("role") or "counter reply"
        lines.append(f"waiting for: {step} (nothing attached in iCIMS until every step is signed off)")
    return "\n".join(lines)


def _print(graph: Any, thread_id: str, as_json: bool) -> None:
    from graphs.kit.inbox import pending_for_thread
    from graphs.offer import offer_view

    values = dict(graph.get_state({"configurable": {"thread_id": thread_id}}).values or {})
    pending = pending_for_thread(graph, thread_id)
    view = offer_view(values)
    if as_json:
        step = pending[0].request["action_request"]["args"].get("step") if pending else None
        typer.echo(
            json.dumps({**view, "pending_step": (step or {}).get("role")}, ensure_ascii=False, default=str)
        )
    else:
        typer.echo(format_offer(view, pending))


JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
WorkflowOpt = Annotated[int, typer.Option("--workflow", "-w", help="The applicant workflow id.")]


@app.command()
def draft(
    workflow: WorkflowOpt,
    base: Annotated[str | None, typer.Option(help="Base salary, e.g. 135000.")] = None,
    start: Annotated[str | None, typer.Option(help="Start date, YYYY-MM-DD.")] = None,
    sign_on: Annotated[str | None, typer.Option(help="Sign-on bonus.")] = None,
    equity: Annotated[str | None, typer.Option(help="Equity grant value.")] = None,
    level: Annotated[str | None, typer.Option(help="L1..L5.")] = None,
    terms: Annotated[str | None, typer.Option(help="Other terms as JSON, e.g. '{\"pto_days\": 20}'.")] = None,
    restart: Annotated[bool, typer.Option(help="Draft again even if the application has an offer.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Draft an offer for an application and route it: prints the letter's figures and the chain."""
    from graphs.offer import OfferError, start_offer

    given: dict[str, Any] = json.loads(terms) if terms else {}
    for key, value in (
        ("base_salary", base),
        ("start_date", start),
        ("sign_on_bonus", sign_on),
        ("equity_value", equity),
    ):
        if value is not None:
            given[key] = value
    with _graph() as (graph, settings):
        try:
            run = start_offer(
                graph,
                workflow_id=workflow,
                customer_id=settings.icims_customer_id,
                terms=given,
                level=level,
                started_by="cli",
                restart=restart,
            )
        except (OfferError, ValueError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        _print(graph, run.thread_id, as_json)


@app.command()
def approve(
    workflow: WorkflowOpt,
    approver: Annotated[str, typer.Option("--as", help="Who signs off (recorded in the audit log).")],
    base: Annotated[str | None, typer.Option(help="Edit the base salary while approving.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Sign off the pending step (or accept the pending counter-offer reply)."""
    from graphs.kit.inbox import pending_for_thread
    from graphs.offer import offer_thread_id, resume_offer
    from server.cli_resume import thread_lease

    with _graph() as (graph, settings):
        thread_id = offer_thread_id(settings.icims_customer_id, workflow)
        with thread_lease(settings, thread_id):  # one resolver at a time, across processes
            if not pending_for_thread(graph, thread_id):
                typer.echo("error: nothing is waiting for approval on this offer", err=True)
                raise typer.Exit(2)
            edit = {"type": "edit", "args": {"terms": {"base_salary": base}}}
            response = edit if base else {"type": "accept"}
            values = resume_offer(graph, thread_id, [response], approver=approver)
        if values.get("approval_error"):
            typer.echo(f"error: {values['approval_error']}", err=True)
            raise typer.Exit(2)
        _print(graph, thread_id, as_json)


@app.command()
def counter(
    workflow: WorkflowOpt,
    text: Annotated[str | None, typer.Option(help="The candidate's words.")] = None,
    terms: Annotated[
        str | None, typer.Option(help="Structured counter as JSON, e.g. '{\"base_salary\": 140000}'.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Analyse a counter-offer: prints the analysis and the suggested reply (or the escalation)."""
    from graphs.offer import OfferError, counter_offer, offer_thread_id

    if not text and not terms:
        typer.echo("error: give --text or --terms", err=True)
        raise typer.Exit(2)
    with _graph() as (graph, settings):
        thread_id = offer_thread_id(settings.icims_customer_id, workflow)
        try:
            counter_offer(graph, thread_id, {"text": text, "terms": json.loads(terms) if terms else None})
        except (OfferError, ValueError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        _print(graph, thread_id, as_json)


@app.command()
def show(workflow: WorkflowOpt, as_json: JsonOpt = False) -> None:
    """An offer's status, versions, decisions and negotiation."""
    from graphs.offer import offer_thread_id

    with _graph() as (graph, settings):
        thread_id = offer_thread_id(settings.icims_customer_id, workflow)
        if not graph.get_state({"configurable": {"thread_id": thread_id}}).values.get("draft"):
            typer.echo(f"error: no offer for workflow {workflow}", err=True)
            raise typer.Exit(2)
        _print(graph, thread_id, as_json)
