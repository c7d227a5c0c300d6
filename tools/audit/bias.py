"""Bias audit of triage (REFERENCES 5.1, 5.3, 5.4): selection and scoring rates and impact ratios by
sex, race/ethnicity and their intersections, from the audit log joined with self-reported
demographics that are held apart (a file exported from the ATS's EEO store) and never reach scoring.

- selection rate(c) = selected(c) / N(c), where "selected" = routed to a selected tier (priority
  review by default);
- scoring rate(c) = share of c scoring strictly above the median score of the full sample;
- impact ratio(c) = rate(c) / the highest rate among the categories compared;
- unknown or declined categories are left out of the rates and counted;
- a category under 2% of the known data is excluded from the impact ratios, with the reason, N and
  rates still reported (LL144 §5-301(d));
- adverse impact is flagged at IR < 0.80 (29 CFR 1607.4(D)), with a chi-square p-value of the
  category against the reference (highest-rate) category, since four-fifths is a rule of thumb.
"""

from __future__ import annotations

import csv
import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tools.audit.log import AuditLog

UNKNOWN_VALUES = frozenset({"", "unknown", "declined to self-identify", "declined", "not specified", "none"})
FAMILIES = ("sex", "race_ethnicity", "sex_x_race_ethnicity")
SMALL_GROUP_SHARE = 0.02
ADVERSE_IR = 0.80
CSV_COLUMNS = (
    "family",
    "category",
    "n",
    "selected",
    "selection_rate",
    "selection_impact_ratio",
    "selection_p_value",
    "above_median",
    "scoring_rate",
    "scoring_impact_ratio",
    "scoring_p_value",
    "excluded",
    "adverse_impact",
)


@dataclass(frozen=True)
class Outcome:
    """One scored application as the audit log recorded it (ids, score, tier; no demographics)."""

    person_id: int
    job_id: int
    workflow_id: int
    score: int
    tier: str


@dataclass
class CategoryRow:
    family: str
    category: str
    n: int
    selected: int
    above_median: int
    selection_rate: float
    scoring_rate: float
    selection_impact_ratio: float | None = None
    scoring_impact_ratio: float | None = None
    selection_p_value: float | None = None
    scoring_p_value: float | None = None
    excluded: str | None = None

    @property
    def adverse_impact(self) -> bool:
        ratios = [r for r in (self.selection_impact_ratio, self.scoring_impact_ratio) if r is not None]
        return any(r < ADVERSE_IR for r in ratios)

    def csv_row(self) -> list[Any]:
        def num(value: float | None) -> str:
            return "" if value is None else f"{value:.4f}"

        return [
            self.family,
            self.category,
            self.n,
            self.selected,
            num(self.selection_rate),
            num(self.selection_impact_ratio),
            num(self.selection_p_value),
            self.above_median,
            num(self.scoring_rate),
            num(self.scoring_impact_ratio),
            num(self.scoring_p_value),
            self.excluded or "",
            "yes" if self.adverse_impact else "no",
        ]


@dataclass
class BiasReport:
    applicants: int
    median_score: float | None
    selected_tiers: tuple[str, ...]
    unknown: dict[str, int]
    rows: list[CategoryRow] = field(default_factory=list)
    without_demographics: int = 0
    scope: dict[str, Any] = field(default_factory=dict)

    def family(self, name: str) -> list[CategoryRow]:
        return [r for r in self.rows if r.family == name]

    def row(self, family: str, category: str) -> CategoryRow:
        return next(r for r in self.rows if r.family == family and r.category == category)

    def summary(self) -> dict[str, Any]:
        return {
            "applicants": self.applicants,
            "median_score": self.median_score,
            "selected_tiers": list(self.selected_tiers),
            "unknown_excluded": self.unknown,
            "without_demographics": self.without_demographics,
            "adverse_impact": [
                f"{r.family}:{r.category}" for r in self.rows if r.adverse_impact and not r.excluded
            ],
            "small_groups_excluded": [
                {"family": r.family, "category": r.category, "n": r.n, "reason": r.excluded}
                for r in self.rows
                if r.excluded
            ],
            **self.scope,
        }


def _known(value: str | None) -> str | None:
    text = (value or "").strip()
    return None if text.casefold() in UNKNOWN_VALUES else text


def _chi_square_p(a_hit: int, a_n: int, b_hit: int, b_n: int) -> float | None:
    """Two-sided p-value of a 2x2 chi-square test (1 df, no continuity correction)."""
    total, hits = a_n + b_n, a_hit + b_hit
    misses = total - hits
    if a_n == 0 or b_n == 0 or hits == 0 or misses == 0:
        return None
    chi2 = 0.0
    for observed, row_n, col in (
        (a_hit, a_n, hits),
        (a_n - a_hit, a_n, misses),
        (b_hit, b_n, hits),
        (b_n - b_hit, b_n, misses),
    ):
        expected = row_n * col / total
        chi2 += (observed - expected) ** 2 / expected
    return math.erfc(math.sqrt(chi2 / 2))


def compute(
    outcomes: Iterable[Outcome],
    demographics: Mapping[int, Mapping[str, str]],
    *,
    selected_tiers: Iterable[str] = ("priority_review",),
    small_group_share: float = SMALL_GROUP_SHARE,
) -> BiasReport:
    items = list(outcomes)
    chosen = tuple(selected_tiers)
    median = statistics.median(o.score for o in items) if items else None
    report = BiasReport(
        applicants=len(items),
        median_score=median,
        selected_tiers=chosen,
        unknown=dict.fromkeys(FAMILIES, 0),
    )
    groups: dict[str, dict[str, list[Outcome]]] = {f: {} for f in FAMILIES}
    for outcome in items:
        demo = demographics.get(outcome.person_id)
        if demo is None:
            report.without_demographics += 1
        sex = _known((demo or {}).get("sex"))
        race = _known((demo or {}).get("race_ethnicity"))
        for family, value in (
            ("sex", sex),
            ("race_ethnicity", race),
            ("sex_x_race_ethnicity", f"{sex} / {race}" if sex and race else None),
        ):
            if value is None:
                report.unknown[family] += 1
            else:
                groups[family].setdefault(value, []).append(outcome)
    for family in FAMILIES:
        known = sum(len(v) for v in groups[family].values())
        rows = []
        for category, members in sorted(groups[family].items()):
            n = len(members)
            selected = sum(1 for o in members if o.tier in chosen)
            above = sum(1 for o in members if median is not None and o.score > median)
            row = CategoryRow(family, category, n, selected, above, selected / n, above / n)
            if known and n / known < small_group_share:
                row.excluded = (
                    f"under {small_group_share:.0%} of the known data ({n} of {known}): "
                    "excluded from impact ratios"
                )
            rows.append(row)
        compared = [r for r in rows if r.excluded is None]
        for rate, ratio, p_value, hits in (
            ("selection_rate", "selection_impact_ratio", "selection_p_value", "selected"),
            ("scoring_rate", "scoring_impact_ratio", "scoring_p_value", "above_median"),
        ):
            if not compared:
                continue
            reference = max(compared, key=lambda r, k=rate: getattr(r, k))
            top = getattr(reference, rate)
            for row in compared:
                setattr(row, ratio, getattr(row, rate) / top if top > 0 else None)
                if row is not reference:
                    setattr(
                        row,
                        p_value,
                        _chi_square_p(getattr(row, hits), row.n, getattr(reference, hits), reference.n),
                    )
        report.rows.extend(rows)
    return report


def outcomes_from_audit(log: AuditLog, *, since: Any = None) -> list[Outcome]:
    """The latest triage result per application (workflow) in the audit log."""
    latest: dict[int, Outcome] = {}
    for record in log.iter_records(since=since, kind="triage"):
        body = record.body
        outputs = body.get("outputs") or {}
        try:
            outcome = Outcome(
                person_id=int(body["person_id"]),
                job_id=int(body["job_id"]),
                workflow_id=int(body["workflow_id"]),
                score=int(outputs["score"]),
                tier=str(outputs["tier"]),
            )
        except (KeyError, TypeError, ValueError):
            continue
        latest[outcome.workflow_id] = outcome
    return list(latest.values())


def read_demographics(path: Path | str) -> dict[int, dict[str, str]]:
    """A CSV with `person_id`, `sex`, `race_ethnicity` (self-reported; other columns ignored)."""
    out: dict[int, dict[str, str]] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"person_id", "sex", "race_ethnicity"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        for line, row in enumerate(reader, start=2):
            try:
                pid = int(str(row["person_id"]).strip())
            except ValueError:
                raise ValueError(f"{path}:{line}: person_id {row['person_id']!r} is not a number") from None
            out[pid] = {"sex": row.get("sex") or "", "race_ethnicity": row.get("race_ethnicity") or ""}
    return out


def write_csv(report: BiasReport, out: IO[str]) -> None:
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in report.rows:
        writer.writerow(row.csv_row())


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def render_svg(report: BiasReport, family: str = "sex_x_race_ethnicity") -> str:
    """A horizontal bar chart of selection and scoring impact ratios per category with the 0.80 line
    (plain SVG: no plotting library needed)."""
    rows = report.family(family)
    bar, gap, label_w, plot_w = 9, 8, 330, 420
    top = 60
    height = top + len(rows) * (2 * bar + gap) + 60
    width = label_w + plot_w + 80
    x0 = label_w

    def x(ratio: float) -> float:
        return x0 + plot_w * max(0.0, min(ratio, 1.2)) / 1.2

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="10" y="22" font-size="15" font-weight="bold">Impact ratios by {_esc(family)} '
        f"({report.applicants} applicants, {report.unknown.get(family, 0)} unknown excluded)</text>",
        f'<rect x="{x0}" y="34" width="12" height="10" fill="#3b6ea8"/>'
        f'<text x="{x0 + 16}" y="43">selection</text>'
        f'<rect x="{x0 + 90}" y="34" width="12" height="10" fill="#e08a2c"/>'
        f'<text x="{x0 + 106}" y="43">scoring (above median)</text>',
    ]
    y = top
    for row in rows:
        label = row.category + (" (excluded: small group)" if row.excluded else "") + f"  n={row.n}"
        parts.append(f'<text x="{x0 - 6}" y="{y + bar + 4}" text-anchor="end">{_esc(label)}</text>')
        for offset, ratio, color in (
            (0, row.selection_impact_ratio, "#3b6ea8"),
            (bar, row.scoring_impact_ratio, "#e08a2c"),
        ):
            if ratio is None:
                continue
            parts.append(
                f'<rect x="{x0}" y="{y + offset}" width="{x(ratio) - x0:.1f}" height="{bar - 1}" '
                f'fill="{color}"><title>{ratio:.2f}</title></rect>'
            )
        y += 2 * bar + gap
    for tick in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2):
        parts.append(f'<text x="{x(tick):.1f}" y="{y + 16}" text-anchor="middle">{tick:.1f}</text>')
    parts.append(
        f'<line x1="{x(ADVERSE_IR):.1f}" y1="{top - 4}" x2="{x(ADVERSE_IR):.1f}" y2="{y + 2}" '
        'stroke="#c0392b" stroke-dasharray="4,3"/>'
        f'<text x="{x(ADVERSE_IR) + 4:.1f}" y="{y + 34}" fill="#c0392b">four-fifths (0.80)</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts)
