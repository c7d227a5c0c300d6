"""The seeded tenant: deterministic, shaped like docs/RECORDS.md, realistic mixes, lazy resumes."""

from __future__ import annotations

import io
import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from pypdf import PdfReader

from sandbox.eval_loader import load_eval_records, load_eval_split
from sandbox.resumes import DOCX_TYPE, PDF_TYPE, TXT_TYPE, docx_text
from sandbox.seed import APPLICANT_STATUSES, SOURCE_STATUSES, SeedSummary, seed_tenant
from sandbox.store import RECORD_KINDS, Tenant
from tools.reference import occupations
from tools.settings import DEFAULT_FIELD_MAP as F

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
EVAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "eval"
PEOPLE = 1000


def seeded(people: int = PEOPLE, seed: int = 7) -> tuple[Tenant, SeedSummary]:
    tenant = Tenant(customer_id=1000)
    return tenant, seed_tenant(tenant, people=people, seed=seed, now=NOW)


@pytest.fixture(scope="module")
def tenant_and_summary() -> tuple[Tenant, SeedSummary]:
    return seeded()


@pytest.fixture(scope="module")
def tenant(tenant_and_summary: tuple[Tenant, SeedSummary]) -> Tenant:
    return tenant_and_summary[0]


def snapshot(tenant: Tenant) -> dict[str, Any]:
    return {
        "records": {
            kind: {rid: (r.data, r.created, r.updated) for rid, r in tenant.records[kind].items()}
            for kind in RECORD_KINDS
        },
        "demographics": tenant.demographics,
        "list_nodes": tenant.list_nodes,
        "next_id": tenant.next_id,
        "files": sorted(tenant.binaries),
        "texts": sorted(tenant.texts),
    }


def resume_people(tenant: Tenant, content_type: str, limit: int = 3) -> list[int]:
    out = []
    for key in sorted(tenant.binaries):
        if len(out) >= limit:
            break
        binary = tenant.get_binary(*key)
        if binary is not None and binary.content_type == content_type:
            out.append(key[1])
    return out


# ---------------------------------------------------------------- determinism and size


def test_same_seed_same_tenant() -> None:
    first, summary_a = seeded(300, seed=11)
    second, summary_b = seeded(300, seed=11)
    assert summary_a == summary_b
    assert snapshot(first) == snapshot(second)
    for key in sorted(first.texts)[:5]:
        assert first.get_text(*key) == second.get_text(*key)
        assert first.get_binary(*key) == second.get_binary(*key)


def test_different_seed_different_tenant() -> None:
    first, _ = seeded(300, seed=11)
    second, _ = seeded(300, seed=12)
    assert snapshot(first)["records"]["people"] != snapshot(second)["records"]["people"]


def test_counts(tenant_and_summary: tuple[Tenant, SeedSummary]) -> None:
    tenant, summary = tenant_and_summary
    assert tenant.count("people") == summary.people == PEOPLE
    assert summary.employees + summary.candidates == PEOPLE
    assert tenant.count("jobs") == summary.jobs == PEOPLE // 20
    assert tenant.count("talentpools") == summary.talentpools == PEOPLE // 100
    assert tenant.count("companies") == summary.companies >= 3
    assert tenant.count("applicantworkflows") == summary.applicantworkflows > 0
    assert tenant.count("sourceworkflows") == summary.sourceworkflows > 0
    assert len(tenant.demographics) == summary.candidates
    assert 0.85 <= summary.resumes / summary.candidates <= 0.95
    small, small_summary = seeded(40)
    assert small.count("people") == 40
    assert small_summary.jobs == 5 and small_summary.talentpools == 3


def test_thousand_people_seed_fast() -> None:
    started = time.perf_counter()
    seeded(PEOPLE, seed=3)
    assert time.perf_counter() - started < 5


# ---------------------------------------------------------------- shapes


def is_node(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"id", "value", "formattedvalue"}


def test_no_top_level_ids_or_links(tenant: Tenant) -> None:
    for kind in RECORD_KINDS:
        for record in tenant.records[kind].values():
            assert "id" not in record.data and "links" not in record.data
            assert all(value not in (None, "", []) for value in record.data.values())


def test_people_shape(tenant: Tenant) -> None:
    folders = Counter()
    for record in tenant.records["people"].values():
        data = record.data
        assert data["firstname"] and data["lastname"] and "@" in data["email"]
        assert is_node(data["folder"])
        folders[data["folder"]["id"]] += 1
        (address,) = data["addresses"]
        assert isinstance(address["entry"], int)
        assert set(address["addressstate"]) == {"id", "abbrev", "value"}
        assert address["addresscountry"]["abbrev"] == "US" and len(address["addresszip"]) == 5
        assert is_node(address["addresstype"])
        assert all(isinstance(p["entry"], int) and is_node(p["phonetype"]) for p in data["phones"])
        if data["folder"]["id"] == "D32010":
            continue
        assert 2 <= len(data["workexperience"]) <= 5
        for role in data["workexperience"]:
            assert role["workemployer"] and role["worktitle"] and role["workdescription"]
            assert role["workstartdate"] <= role.get("workenddate", "9999")
        for school in data.get("education", []):
            assert set(school["school"]) == set(school["degree"]) == {"value"}
        assert data[F["consent_status"]] in ("Granted", "Pending", "Withdrawn")
        assert data[F["opt_out"]] in ("Yes", "No") and data[F["do_not_contact"]] in ("Yes", "No")
    assert set(folders) == {"D32006", "D32007", "D32010"}


def test_jobs_shape(tenant: Tenant) -> None:
    codes = occupations()
    folders = Counter()
    for job_id, record in tenant.records["jobs"].items():
        data = record.data
        assert data["jobid"] == f"{record.created.year}-{job_id}"
        folders[data["folder"]["value"]] += 1
        assert is_node(data["positiontype"])
        for key in ("recruiter", "hiringmanager"):
            link = data[key]
            person = tenant.get("people", link["id"])
            assert person is not None and person.data["folder"]["id"] == "D32010"
            assert link["profile"].endswith(f"/customers/1000/people/{link['id']}")
        location = data["joblocation"]
        assert tenant.get("companies", location["companyid"]) is not None
        assert location["address"].endswith(
            f"/companies/{location['companyid']}/fields/addresses/{location['id']}"
        )
        assert data["overview"] and data["responsibilities"] and data["qualifications"]
        assert 3 <= len(data[F["job_must_have_skills"]].split("; ")) <= 5
        assert data[F["job_soc_code"]] in codes
        assert 0 < data[F["job_salary_min"]] < data[F["job_salary_max"]]
        assert data[F["job_remote"]] in ("Remote", "Hybrid", "On-site")
    assert folders["Approved"] > len(tenant.records["jobs"]) / 2
    assert folders["Closed"] and folders["Filled"]


def test_anchor_software_job_has_python_skills_and_bls_band() -> None:
    tenant, _ = seeded(2000)
    jobs = [r.data for r in tenant.records["jobs"].values() if r.data[F["job_soc_code"]] == "15-1252.00"]
    assert jobs
    skills = {s for job in jobs for s in job[F["job_must_have_skills"]].split("; ")}
    assert skills & {"Python", "SQL", "Java", "JavaScript", "C++"}
    assert all(job[F["job_salary_min"]] == 103_050 and job[F["job_salary_max"]] == 169_000 for job in jobs)


def test_workflows_link_existing_records(tenant: Tenant) -> None:
    statuses = Counter()
    pairs = set()
    for record in tenant.records["applicantworkflows"].values():
        data = record.data
        job, person = tenant.get("jobs", data["baseprofile"]), tenant.get("people", data["associatedprofile"])
        assert isinstance(data["baseprofile"], int) and job is not None and person is not None
        assert person.data["folder"]["id"] in ("D32006", "D32007")
        assert record.created >= job.created and record.created >= person.created
        assert is_node(data["status"]) and data["source"] and data["sourcename"]
        statuses[data["status"]["id"]] += 1
        pairs.add((data["baseprofile"], data["associatedprofile"]))
    assert len(pairs) == len(tenant.records["applicantworkflows"])
    assert set(statuses) == {s["id"] for s in APPLICANT_STATUSES}
    pool_statuses = set()
    for record in tenant.records["sourceworkflows"].values():
        data = record.data
        assert tenant.get("talentpools", data["baseprofile"]) is not None
        assert tenant.get("people", data["associatedprofile"]) is not None
        assert data["sourceorigin"]["id"] == "D37002040003"
        pool_statuses.add(data["status"]["id"])
    assert pool_statuses == {s["id"] for s in SOURCE_STATUSES}
    for record in tenant.records["talentpools"].values():
        assert record.data["folder"]["id"] == "D37002024001" and record.data["owner"]["id"]


def test_filled_jobs_have_a_hire(tenant: Tenant) -> None:
    hired_jobs = {
        r.data["baseprofile"]
        for r in tenant.records["applicantworkflows"].values()
        if r.data["status"]["id"] == "D10105"
    }
    applied_jobs = {r.data["baseprofile"] for r in tenant.records["applicantworkflows"].values()}
    for job_id, record in tenant.records["jobs"].items():
        if record.data["folder"]["id"] == "D31004" and job_id in applied_jobs:
            assert job_id in hired_jobs


def test_timestamps_are_historic(tenant: Tenant) -> None:
    cutoff = NOW - timedelta(hours=1)
    earliest = NOW - timedelta(days=365 * 3 + 2)
    for kind in RECORD_KINDS:
        for rid, record in tenant.records[kind].items():
            assert earliest <= record.created <= record.updated < cutoff, (kind, rid)
            assert record.created.second == 0 and record.created.tzinfo is not None
        # Like iCIMS, ids are handed out in creation order.
        by_created = sorted(tenant.records[kind].items(), key=lambda item: (item[1].created, item[0]))
        assert [rid for rid, _r in by_created] == sorted(tenant.records[kind]), kind


def test_realistic_mixes(tenant: Tenant) -> None:
    candidates = [r.data for r in tenant.records["people"].values() if r.data["folder"]["id"] != "D32010"]
    consent = Counter(p[F["consent_status"]] for p in candidates)
    assert consent["Granted"] > 0.7 * len(candidates) and consent["Pending"] and consent["Withdrawn"]
    expired = [p for p in candidates if p.get(F["consent_expires"], "9999") < NOW.date().isoformat()]
    assert expired
    opted_out = sum(p[F["opt_out"]] == "Yes" for p in candidates) / len(candidates)
    assert 0.02 <= opted_out <= 0.09
    sexes = Counter(d["sex"] for d in tenant.demographics.values())
    races = Counter(d["race_ethnicity"] for d in tenant.demographics.values())
    assert sexes["Declined to self-identify"] + sexes["Unknown"] > 0.05 * len(candidates)
    assert races["Declined to self-identify"] + races["Unknown"] > 0.05 * len(candidates)
    assert len(races) >= 6


def test_demographics_never_in_profiles(tenant: Tenant) -> None:
    # "White" is also a surname, and "Unknown" too generic to test for.
    values = {v for d in tenant.demographics.values() for v in d.values()} - {"Unknown", "White"}
    assert "Female" in values and "Black or African American" in values
    for record in tenant.records["people"].values():
        text = json.dumps(record.data)
        assert "sex" not in record.data and "race_ethnicity" not in record.data
        assert not any(f'"{value}"' in text for value in values)


# ---------------------------------------------------------------- resumes


def test_resumes_are_lazy_until_fetched() -> None:
    tenant, summary = seeded(200)
    assert summary.resumes == len(tenant.binaries) == len(tenant.texts)
    assert all(callable(v) for v in tenant.binaries.values())
    assert all(key[0] == "people" and key[2] == "resume" for key in tenant.binaries)


def test_pdf_resume_matches_text(tenant: Tenant) -> None:
    person_ids = resume_people(tenant, PDF_TYPE)
    assert person_ids
    for person_id in person_ids:
        text = tenant.get_text("people", person_id, "resume")
        binary = tenant.get_binary("people", person_id, "resume")
        assert text and binary and binary.filename.endswith(".pdf")
        extracted = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(binary.content)).pages)
        first_line = text.split("\n", 1)[0]
        person = tenant.get("people", person_id)
        assert person is not None
        assert first_line == f"{person.data['firstname']} {person.data['lastname']}"
        assert first_line in extracted
        assert person.data["email"] in extracted


def test_docx_and_txt_resumes_match_text(tenant: Tenant) -> None:
    docx_ids = resume_people(tenant, DOCX_TYPE)
    txt_ids = resume_people(tenant, TXT_TYPE)
    assert docx_ids and txt_ids
    for person_id in docx_ids:
        binary = tenant.get_binary("people", person_id, "resume")
        assert binary is not None
        Document(io.BytesIO(binary.content))
        assert docx_text(binary.content) == tenant.get_text("people", person_id, "resume")
    for person_id in txt_ids:
        binary = tenant.get_binary("people", person_id, "resume")
        assert binary is not None
        assert binary.content.decode("utf-8") == tenant.get_text("people", person_id, "resume")


def test_resume_text_reflects_profile(tenant: Tenant) -> None:
    person_id = next(iter(sorted(tenant.texts)))[1]
    text = tenant.get_text("people", person_id, "resume")
    person = tenant.get("people", person_id)
    assert text is not None and person is not None
    for role in person.data["workexperience"]:
        assert role["worktitle"] in text and role["workemployer"] in text
    assert "EXPERIENCE" in text and "SKILLS" in text


# ---------------------------------------------------------------- evaluation split


def test_eval_loader_without_data_adds_nothing(tmp_path: Path) -> None:
    tenant = Tenant(customer_id=1000)
    assert load_eval_split(tenant, tmp_path / "missing", seed=7, now=NOW) == 0
    assert tenant.count("people") == 0


@pytest.mark.skipif(not (EVAL / "pool.jsonl").is_file(), reason="needs ../shared/data/eval")
def test_eval_loader_adds_pool_and_queries() -> None:
    tenant, summary = seeded(100)
    loaded = load_eval_records(tenant, EVAL, seed=7, now=NOW)
    pool = [
        json.loads(line) for line in (EVAL / "pool.jsonl").read_text(encoding="utf-8").splitlines() if line
    ]
    queries = (EVAL / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(loaded.people) == len([row for row in pool if row["text"].strip()])
    assert len(loaded.jobs) == len([line for line in queries if line.strip()])
    assert tenant.count("people") == summary.people + len(loaded.people)
    row = pool[0]
    person_id = loaded.people[row["candidate_id"]]
    assert tenant.get_text("people", person_id, "resume") == row["text"]
    binary = tenant.get_binary("people", person_id, "resume")
    assert binary is not None and binary.content.decode("utf-8") == row["text"]
    person = tenant.get("people", person_id)
    assert person is not None
    served = json.dumps(person.data)
    assert row["candidate_id"] not in served and row["category"] not in served
    assert person.data[F["consent_status"]] == "Granted" and person.data[F["opt_out"]] == "No"
    for kind in ("people", "jobs"):
        for record in tenant.records[kind].values():
            assert record.created <= record.updated < NOW - timedelta(hours=1)
    again = Tenant(customer_id=1000)
    seed_tenant(again, people=100, seed=7, now=NOW)
    assert load_eval_records(again, EVAL, seed=7, now=NOW) == loaded
    assert snapshot(again)["records"] == snapshot(tenant)["records"]
