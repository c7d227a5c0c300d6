"""The packaged reference tables: present, compact, sane, and reproducible from the shared sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.reference import (
    occupations,
    skill_aliases,
    skills,
    tasks,
    tech_matcher,
    tech_skills,
    title_index,
    titles,
    wages,
)
from tools.reference.tables import DATA_DIR

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
SOFTWARE = "15-1252.00"


def test_data_is_packaged_and_compact() -> None:
    assert DATA_DIR.is_relative_to(Path(__file__).resolve().parents[2] / "tools" / "reference")
    files = [p for p in DATA_DIR.iterdir() if p.is_file()]
    assert {p.name for p in files} >= {
        "occupations.csv.gz",
        "titles.csv.gz",
        "tech_skills.csv.gz",
        "tasks.csv.gz",
        "skills.csv.gz",
        "wages.csv.gz",
        "ATTRIBUTION.md",
    }
    assert sum(p.stat().st_size for p in files) < 2 * 1024 * 1024


def test_attribution_names_every_source() -> None:
    text = (DATA_DIR / "ATTRIBUTION.md").read_text(encoding="utf-8")
    for needle in (
        "O*NET 29.2 Database",
        "USDOL/ETA",
        "CC BY 4.0",
        "ESCO",
        "European Union",
        "Bureau of Labor",
    ):
        assert needle in text


def test_occupations_cover_onet() -> None:
    table = occupations()
    assert 900 <= len(table) <= 1100
    software = table[SOFTWARE]
    assert software.title == "Software Developers"
    assert software.job_zone == 4
    assert software.soc == "15-1252"
    assert 0 < len(software.description) <= 200
    assert all(o.job_zone in (None, 1, 2, 3, 4, 5) for o in table.values())
    assert sum(1 for o in table.values() if o.job_zone) >= 900


def test_titles_tasks_and_technologies_are_capped() -> None:
    assert "Software Engineer" in titles()[SOFTWARE]
    assert all(len(v) <= 15 for v in titles().values())
    assert SOFTWARE in title_index()["software engineer"]
    assert 3 <= len(tasks(SOFTWARE)) <= 6
    labels = [s.label for s in tech_skills(SOFTWARE)]
    assert len(labels) <= 30
    assert {"Python", "SQL", "Java", "JavaScript"} <= set(labels)
    assert tech_skills(SOFTWARE)[0].in_demand
    assert tech_skills("99-9999.99") == ()
    assert tasks("99-9999.99") == ()


def test_skill_taxonomy_merges_onet_and_esco() -> None:
    aliases = skill_aliases()
    assert "Python (computer programming)" in aliases["Python"]
    assert "Structured query language" in aliases["SQL"]
    assert "Excel" in aliases["Microsoft Excel"]
    assert all(len(v) <= 12 for v in aliases.values())
    kinds = {s.kind for s in skills().values()}
    assert kinds == {"technology", "digital", "transversal"}
    # A different technology whose acronym collapses onto "React" must not be merged into it.
    assert not any("Real estate" in a for a in aliases["React"])


def test_matcher_finds_labels_in_prose() -> None:
    found = tech_matcher().find("Python developer: SQL, Amazon Web Services, React. Candidates who excel.")
    assert found == ["Python", "SQL", "AWS", "React"]


def test_wages_parse_special_values() -> None:
    software = wages(SOFTWARE)
    assert software is not None and software.soc == "15-1252"
    assert (
        software.a_pct10 and software.a_pct25 and software.a_median and software.a_pct75 and software.a_pct90
    )
    assert software.a_pct10 < software.a_pct25 < software.a_median < software.a_pct75 < software.a_pct90
    assert software.h_median and 40 < software.h_median < 100
    assert software.annual_band() == (software.a_pct25, software.a_pct75)
    chiefs = wages("11-1011")
    assert chiefs is not None and "A_PCT90" in chiefs.top_coded and chiefs.a_pct90 == 239_200
    # Actors: hourly only, so the annual band comes from hourly percentiles.
    actors = wages("27-2011")
    assert actors is not None and actors.a_median is None and actors.hourly_only
    band = actors.annual_band()
    assert band is not None and band[0] < band[1]
    # BLS publishes buyers only at the broad level; the detailed code falls back to it.
    assert wages("13-1021.00") is not None
    assert wages("00-0000") is None


@pytest.mark.skipif(not (SHARED / "onet").is_dir(), reason="needs ../shared/data")
def test_build_reproduces_committed_files(tmp_path: Path) -> None:
    from tools.reference.build import build

    build(SHARED, tmp_path)
    for produced in sorted(tmp_path.iterdir()):
        assert produced.read_bytes() == (DATA_DIR / produced.name).read_bytes(), produced.name
