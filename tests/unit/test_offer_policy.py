"""Offer policy data: pay bands (edges, levels, tiers, build determinism) and the approval policy."""

from __future__ import annotations

import gzip
from decimal import Decimal

import pytest

from agents.offer import band_for, load_policy
from agents.offer.build_bands import main as build_main
from agents.offer.policy import DATA_DIR, location_state, tier_for
from tools.reference.tables import wages


def test_l3_national_band_is_bls_percentiles() -> None:
    band = band_for("15-1252.00", "L3", "Austin, TX")
    wage = wages("15-1252")
    assert wage is not None and wage.annual_band() is not None
    low, high = wage.annual_band()  # type: ignore[misc]
    assert band.tier == "T2"
    assert abs(band.min - low) <= 50 and abs(band.max - high) <= 50
    assert abs(band.mid - wage.a_median) <= 50  # type: ignore[operator]
    assert "BLS OEWS May 2024" in band.source and "15-1252" in band.source


def test_levels_and_tiers_scale_monotonically() -> None:
    mids = [band_for("15-1252", level, "Austin, TX").mid for level in ("L1", "L2", "L3", "L4", "L5")]
    assert mids == sorted(mids) and len(set(mids)) == 5
    t1 = band_for("15-1252", "L3", "San Francisco, CA")
    t3 = band_for("15-1252", "L3", "Tulsa, OK")
    national = band_for("15-1252", "L3", "Remote")
    assert (t1.tier, t3.tier, national.tier) == ("T1", "T3", "T2")
    assert t3.mid < national.mid < t1.mid


def test_broad_fallback_and_unknown() -> None:
    assert band_for("13-1021", "L2", {"value": "Denver, CO"}).soc == "13-1020"
    with pytest.raises(LookupError):
        band_for("99-9999", "L3", "Austin, TX")
    with pytest.raises(LookupError):
        band_for("15-1252", "L9", "Austin, TX")


@pytest.mark.parametrize(
    ("amount", "position"),
    [
        ("min", "in_band"),
        ("mid", "in_band"),
        ("max", "above_mid"),
        ("max+0.01", "above_max"),
        ("min-0.01", "below_min"),
        ("mid+0.01", "above_mid"),
    ],
)
def test_band_edges(amount: str, position: str) -> None:
    band = band_for("15-1252", "L3", "Austin, TX")
    name, _, delta = amount.partition("+") if "+" in amount else amount.partition("-")
    value = getattr(band, name) + (Decimal(delta) if "+" in amount else -Decimal(delta or 0))
    assert band.position(value) == position


def test_location_parsing() -> None:
    method = load_policy().method
    assert location_state("Brooklyn, NY 11201") == "NY"
    assert location_state({"value": "Seattle, WA"}) == "WA"
    assert location_state("Remote") is None
    assert tier_for("seattle, wa", method) == "T1"
    assert tier_for("Portland, OR", method) == "T2"


def test_policy_override_folder(tmp_path, monkeypatch) -> None:
    (tmp_path / "approval_policy.yaml").write_text(
        (DATA_DIR / "approval_policy.yaml").read_text().replace("sign_on: 20000", "sign_on: 5000")
    )
    monkeypatch.setenv("ICIMS_AGENTS_OFFER_POLICY_DIR", str(tmp_path))
    policy = load_policy()
    assert policy.approval.caps.sign_on == 5000
    assert policy.bands_path.endswith("pay_bands.csv.gz")  # falls back to the packaged bands
    monkeypatch.delenv("ICIMS_AGENTS_OFFER_POLICY_DIR")
    assert load_policy().approval.caps.sign_on == 20000


def test_build_is_deterministic_and_matches_committed(tmp_path) -> None:
    build_main(["--out", str(tmp_path)])
    assert (tmp_path / "pay_bands.csv.gz").read_bytes() == (DATA_DIR / "pay_bands.csv.gz").read_bytes()
    header = gzip.decompress((tmp_path / "pay_bands.csv.gz").read_bytes()).decode().splitlines()[0]
    assert header == "soc,level,tier,min,mid,max,basis,top_coded"
    attribution = (DATA_DIR / "ATTRIBUTION.md").read_text()
    assert "BLS" in attribution and "illustrative" in attribution
