"""Benchmark and evaluation figures: printed, and written as JSON under results/ (git-ignored)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel


class Measurement(BaseModel):
    name: str
    value: float
    unit: str
    baseline: str | None = None
    baseline_value: float | None = None
    ratio: float | None = None
    note: str | None = None


def write_results(path: Path, measurements: list[Measurement]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([m.model_dump() for m in measurements], indent=2) + "\n")


def print_results(title: str, measurements: list[Measurement]) -> None:
    print(f"\n{title}")
    for m in measurements:
        line = f"  {m.name:<40} {m.value:>12,.3f} {m.unit}"
        if m.baseline is not None and m.ratio is not None:
            line += f"   ({m.ratio:.2f}x {m.baseline} = {m.baseline_value:,.3f})"
        print(line)
        if m.note:
            print(f"      {m.note}")
