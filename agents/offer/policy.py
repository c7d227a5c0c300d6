"""Offer policy data: pay bands by SOC / level / location tier, and the approval policy.

The defaults live in `data/` (bands built by `python -m agents.offer.build_bands` from the packaged BLS
OEWS table; `approval_policy.yaml`; `band_method.yaml`). A tenant replaces them by pointing
`ICIMS_AGENTS_OFFER_POLICY_DIR` at a folder holding files with the same names (any file missing there
falls back to the default).
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from agents.offer.models import ApprovalPolicy, BandMethod, PayBand, Policy

DATA_DIR = Path(__file__).resolve().parent / "data"
POLICY_DIR_ENV = "ICIMS_AGENTS_OFFER_POLICY_DIR"
BANDS_FILE = "pay_bands.csv.gz"
APPROVAL_FILE = "approval_policy.yaml"
METHOD_FILE = "band_method.yaml"
BANDS_SOURCE = "BLS OEWS May 2024"

_STATE = re.compile(r",\s*([A-Za-z]{2})\s*(?:\d{5}(?:-\d{4})?)?\s*$")


def _pick(name: str, folder: Path | None) -> Path:
    if folder is not None and (folder / name).exists():
        return folder / name
    return DATA_DIR / name


def _yaml(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_policy(folder: str | Path | None = None) -> Policy:
    """The policy in force: `folder`, else $ICIMS_AGENTS_OFFER_POLICY_DIR, else the packaged defaults."""
    chosen = folder if folder is not None else os.environ.get(POLICY_DIR_ENV) or None
    return _load(str(Path(chosen).resolve()) if chosen else None)


@cache
def _load(folder: str | None) -> Policy:
    base = Path(folder) if folder else None
    return Policy(
        approval=ApprovalPolicy.model_validate(_yaml(_pick(APPROVAL_FILE, base))),
        method=BandMethod.model_validate(_yaml(_pick(METHOD_FILE, base))),
        bands_path=str(_pick(BANDS_FILE, base)),
        bands_source=BANDS_SOURCE,
    )


@cache
def _bands(path: str) -> dict[tuple[str, str, str], tuple[Decimal, Decimal, Decimal]]:
    raw = Path(path).read_bytes()
    text = (gzip.decompress(raw) if path.endswith(".gz") else raw).decode("utf-8")
    return {
        (row["soc"], row["level"], row["tier"]): (
            Decimal(row["min"]),
            Decimal(row["mid"]),
            Decimal(row["max"]),
        )
        for row in csv.DictReader(io.StringIO(text))
    }


def location_state(location: str | dict[str, Any] | None) -> str | None:
    """ "Austin, TX" (or an iCIMS joblocation {value: ...}) -> "TX"."""
    if isinstance(location, dict):
        location = location.get("value")
    if not location:
        return None
    match = _STATE.search(str(location))
    return match.group(1).upper() if match else None


def tier_for(location: str | dict[str, Any] | None, method: BandMethod) -> str:
    if isinstance(location, dict):
        location = location.get("value")
    text = " ".join(str(location or "").split())
    if not text:
        return method.default_tier
    if text.casefold() == "remote":
        return method.remote_tier
    city = _STATE.sub("", text).strip().casefold()
    state = location_state(text)
    for tier, cities in method.cities.items():
        for entry in cities:
            entry_city, _, entry_state = entry.rpartition(",")
            if entry_city.strip().casefold() == city and entry_state.strip().upper() == state:
                return tier
    for tier, states in method.states.items():
        if state in states:
            return tier
    return method.default_tier


def band_for(
    soc: str, level: str | None, location: str | dict[str, Any] | None, *, policy: Policy | None = None
) -> PayBand:
    """The pay band for an occupation (SOC or O*NET-SOC code), level (L1..L5) and location ("City, ST").

    A detailed SOC code BLS only publishes at the broad level falls back to its broad group, as
    `tools.reference.tables.wages` does. Raises LookupError for an unknown code or level.
    """
    policy = policy or load_policy()
    level = level or policy.method.default_level
    if level not in policy.method.levels:
        raise LookupError(f"unknown level {level!r}; policy levels are {', '.join(policy.method.levels)}")
    tier = tier_for(location, policy.method)
    table = _bands(policy.bands_path)
    code = soc.strip()[:7]
    for candidate in (code, code[:6] + "0"):
        found = table.get((candidate, level, tier))
        if found is not None:
            low, mid, high = found
            return PayBand(
                min=low,
                mid=mid,
                max=high,
                source=f"{policy.bands_source} {candidate} {level} {tier} ({Path(policy.bands_path).name})",
                soc=candidate,
                level=level,
                tier=tier,
            )
    raise LookupError(f"no pay band for SOC {soc!r}")
