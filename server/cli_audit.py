"""`icims-agents audit ...`: verify the hash chain, export records for reviews, run the bias audit."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="The append-only, hash-chained audit log: verify, export, bias audit.", no_args_is_help=True
)


def _settings():  # type: ignore[no-untyped-def]
    from server.cli_state import state

    return state.settings()


def _open_log():  # type: ignore[no-untyped-def]
    from tools.audit import AuditLog

    return AuditLog.from_settings(_settings())


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            "use an ISO date or datetime, e.g. 2026-06-01", param_hint="--since"
        ) from None
    if isinstance(parsed, date) and not isinstance(parsed, datetime):  # pragma: no cover - fromisoformat
        parsed = datetime(parsed.year, parsed.month, parsed.day)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@app.command("verify")
def verify(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    anchor: Annotated[
        Path | None,
        typer.Option(
            "--anchor",
            help="Check the chain against this anchor file (a copy kept outside the database); "
            "default: the configured anchor file, when it exists.",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Recompute every link of the chain (keyed records with the audit key) and check the anchored
    heads; exit 1 at the first record that does not match."""
    from tools.audit.anchor import audit_anchor_path
    from tools.audit.export import retention_report

    settings = _settings()
    if anchor is not None and not anchor.is_file():
        raise typer.BadParameter(f"{anchor} is not a file", param_hint="--anchor")
    if anchor is None and audit_anchor_path(settings).is_file():
        anchor = audit_anchor_path(settings)
    log = _open_log()
    try:
        report = log.verify(anchor=anchor)
        retention = retention_report(log, settings.audit_retention_days)
    finally:
        log.close()
    out = {
        "ok": report.ok,
        "records": report.records,
        "bad_seq": report.bad_seq,
        "problem": report.problem,
        "plain_records": report.plain_records,
        "anchor": str(anchor) if anchor is not None else None,
        "anchored": report.anchored,
        "retention": retention.to_json(),
    }
    if as_json:
        typer.echo(json.dumps(out))
    elif report.ok:
        typer.echo(
            f"audit chain OK: {report.records} records"
            + (f", {report.anchored} anchored heads match {anchor}" if anchor is not None else ", no anchor")
            + (f" ({report.plain_records} from before the chain was keyed)" if report.plain_records else "")
            + f"; oldest {retention.oldest_recorded_at or '-'}; "
            f"kept at least {retention.retention_days} days (nothing is deleted)"
        )
    else:
        typer.echo(f"audit chain BROKEN at record {report.bad_seq}: {report.problem}", err=True)
    if not report.ok:
        raise typer.Exit(1)


@app.command("export")
def export(
    since: Annotated[
        str | None, typer.Option("--since", help="Only records at or after this ISO date/datetime (UTC).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
    kind: Annotated[str | None, typer.Option("--kind", help="Only this record kind, e.g. triage.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write here instead of stdout.")] = None,
) -> None:
    """Export audit records (hashes included) for a review."""
    from tools.audit.export import write_export

    if fmt not in ("jsonl", "csv"):
        raise typer.BadParameter("choose jsonl or csv", param_hint="--format")
    cutoff = _since(since)
    log = _open_log()
    try:
        records = log.iter_records(since=cutoff, kind=kind)
        if out is None:
            n = write_export(records, sys.stdout, fmt)  # type: ignore[arg-type]
        else:
            with out.open("w", encoding="utf-8", newline="") as fh:
                n = write_export(records, fh, fmt)  # type: ignore[arg-type]
    finally:
        log.close()
    typer.echo(f"{n} record(s) exported" + (f" to {out}" if out else ""), err=True)


@app.command("bias")
def bias(
    demographics: Annotated[
        Path,
        typer.Option(
            "--demographics",
            help="CSV of self-reported demographics (person_id, sex, race_ethnicity), held apart from "
            "the ATS profiles; never used in scoring.",
            exists=True,
            dir_okay=False,
        ),
    ],
    out_dir: Annotated[Path, typer.Option("--out-dir", help="Where to write the CSV, SVG and JSON.")] = Path(
        "results/bias"
    ),
    since: Annotated[str | None, typer.Option("--since", help="Only triage records from this date.")] = None,
    selected: Annotated[
        str, typer.Option("--selected", help="Comma-separated tiers that count as selected.")
    ] = "priority_review",
) -> None:
    """Selection and scoring rates and impact ratios by sex, race/ethnicity and intersections."""
    from tools.audit.bias import compute, outcomes_from_audit, read_demographics, render_svg, write_csv

    tiers = tuple(t.strip() for t in selected.split(",") if t.strip())
    try:
        demo = read_demographics(demographics)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--demographics") from None
    log = _open_log()
    try:
        outcomes = outcomes_from_audit(log, since=_since(since))
    finally:
        log.close()
    report = compute(outcomes, demo, selected_tiers=tiers)
    report.scope = {
        "audit_date": datetime.now(UTC).date().isoformat(),
        "data_source": "triage audit log (historical outcomes) joined with self-reported demographics",
        "since": since,
        "stage": "triage routing suggestion (before any human decision)",
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "bias_report.csv").open("w", newline="", encoding="utf-8") as fh:
        write_csv(report, fh)
    (out_dir / "bias_impact_ratios.svg").write_text(render_svg(report), encoding="utf-8")
    (out_dir / "bias_summary.json").write_text(json.dumps(report.summary(), indent=2), encoding="utf-8")
    summary = report.summary()
    typer.echo(
        f"{report.applicants} applicants (median score {report.median_score}); unknown excluded: "
        + ", ".join(f"{k} {v}" for k, v in report.unknown.items())
    )
    for row in report.family("sex") + report.family("race_ethnicity"):
        sel = "-" if row.selection_impact_ratio is None else f"{row.selection_impact_ratio:.2f}"
        sco = "-" if row.scoring_impact_ratio is None else f"{row.scoring_impact_ratio:.2f}"
        typer.echo(
            f"  {row.family:<15} {row.category:<45} n={row.n:<5} selection {row.selection_rate:.1%} "
            f"(IR {sel})  scoring {row.scoring_rate:.1%} (IR {sco})"
            + ("  [excluded: small]" if row.excluded else "")
        )
    if summary["adverse_impact"]:
        typer.echo("impact ratio below 0.80: " + ", ".join(summary["adverse_impact"]))
    typer.echo(f"written: {out_dir / 'bias_report.csv'}, {out_dir / 'bias_impact_ratios.svg'}")
