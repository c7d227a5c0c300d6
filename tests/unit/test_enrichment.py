"""Deterministic enrichment: skills with synonyms and case rules, dated roles, titles -> occupations,
education, certifications, location, iCIMS fields, and exact evidence offsets. All resumes and postings
here are synthetic, written for these tests."""

from __future__ import annotations

from datetime import date

import pytest

from agents.enrichment import (
    canonical_skill,
    enrich,
    find_certifications,
    find_skills,
    map_title,
    profile_source_text,
    requisition_from_job,
    requisition_from_posting,
    tier_from_title,
)
from agents.enrichment.dates import find_spans, gaps, merge, total_years
from agents.enrichment.text import snippet
from agents.models import CandidateProfile, Evidence

AS_OF = date(2024, 6, 1)

DATA_ENGINEER = """Jordan Avery
Springfield, IL 62701 | jordan.avery@example.net | (217) 555-0142

SUMMARY
Senior data engineer who likes tidy pipelines and clear dashboards.

EXPERIENCE
Senior Data Engineer | Prairie Analytics | Jan 2019 - Present
- Built Python ETL pipelines feeding a Postgres warehouse.
- Introduced k8s deployments and code review for the data team.
Data Analyst, Lakeside Credit Union  03/2015 to 12/2018
- Wrote SQL reports and JS dashboards for the risk team.
Intern
06/2013 to 08/2013
Helped the finance team with Excel models.

EDUCATION
B.S. in Computer Science, Midstate University, 2014

CERTIFICATIONS
AWS Certified Solutions Architect, PMP

SKILLS
Python, R, SQL, Go, Docker, Tableau
"""

NURSE = """REGISTERED NURSE
Compassionate RN with a decade at bedside and in clinic settings.
Experience
Charge Nurse 2016 – 2020
Riverbend General Hospital, Medical-surgical unit
Led shift handoffs, medication administration and wound care for 30 beds.
Staff Nurse 2012 – 2017
Oakview Clinic
Triage, vital signs and patient education; trained new hires on Epic EMR.
Education
Bachelor of Science in Nursing, Lakeshore College 2011
Licenses
RN License, State of Ohio; BLS and ACLS current
"""


def _source(profile: CandidateProfile, ev: Evidence, resume: str) -> str:
    return resume if ev.source == "resume" else profile.profile_text or ""


def _all_evidence(profile: CandidateProfile) -> list[Evidence]:
    out: list[Evidence] = [s.evidence for s in profile.skills]
    out += [r.evidence for r in profile.roles if r.evidence]
    out += [e.evidence for e in profile.education if e.evidence]
    out += [c.evidence for c in profile.certifications]
    out += [m.evidence for m in profile.industry_mentions]
    out += profile.years_evidence
    for ev in (
        profile.headline_evidence,
        profile.seniority_evidence,
        profile.location.evidence,
        profile.location.remote_evidence,
    ):
        if ev is not None:
            out.append(ev)
    return out


# ---------------------------------------------------------------- skills


def test_synonyms_map_to_canonical_skills() -> None:
    assert canonical_skill("JS") == "JavaScript"
    assert canonical_skill("Postgres") == "PostgreSQL"
    assert canonical_skill("postgres") == "PostgreSQL"
    assert canonical_skill("k8s") == "Kubernetes"
    assert canonical_skill("Excel") == "Microsoft Excel"
    assert canonical_skill("no such skill at all") is None

    found = {m.skill: m.matched for m in find_skills("Shipped JS widgets backed by Postgres and k8s.")}
    assert found == {"JavaScript": "JS", "PostgreSQL": "Postgres", "Kubernetes": "k8s"}


def test_short_names_need_exact_case_and_a_list() -> None:
    prose = "Led R&D budgets, cleared A/R and A/P, met grade C targets, and helped go to market with Plan B."
    labels = {m.skill for m in find_skills(prose)}
    assert not labels & {"R", "C", "Go"}
    listed = {m.skill for m in find_skills("Languages: Python, R and SQL; also C, C++ and Go, Java.")}
    assert {"Python", "R", "SQL", "C", "C++", "Go", "Java"} <= listed
    assert "R" in {m.skill for m in find_skills("Built forecasting models in R programming.")}


def test_word_boundaries_and_case_for_product_words() -> None:
    labels = {m.skill for m in find_skills("I excel at closing windows and access control.")}
    assert "Microsoft Excel" not in labels and "Microsoft Windows" not in labels
    assert "Microsoft Access" not in labels
    labels = {m.skill for m in find_skills("Tools: Excel, Word, Access, Outlook.")}
    assert {"Microsoft Excel", "Microsoft Word", "Microsoft Access", "Microsoft Outlook"} <= labels
    # "Java" inside "JavaScript" is not Java.
    assert {m.skill for m in find_skills("JavaScript only")} == {"JavaScript"}


def test_skill_quote_is_the_clause_around_the_mention() -> None:
    text = "Summary line.\n- Built Python ETL pipelines feeding a warehouse. Then other things happened."
    (python, *_rest) = find_skills(text)
    assert python.skill == "Python"
    assert python.evidence.quote == "Built Python ETL pipelines feeding a warehouse."
    start, end = python.evidence.start, python.evidence.end
    assert start is not None and end is not None and text[start:end] == python.evidence.quote
    long_line = "word " * 60 + "Kubernetes " + "word " * 60
    lo, hi = snippet(long_line, long_line.index("Kubernetes"), long_line.index("Kubernetes") + 10)
    assert "Kubernetes" in long_line[lo:hi] and hi - lo <= 100


# ---------------------------------------------------------------- dates and roles


@pytest.mark.parametrize(
    ("text", "start", "end", "current"),
    [
        ("01/2015 to 03/2019", date(2015, 1, 1), date(2019, 3, 1), False),
        ("Jan 2015 - Present", date(2015, 1, 1), date(2024, 6, 1), True),
        ("2012 – 2016", date(2012, 1, 1), date(2016, 1, 1), False),
        ("Sept. 2010 — Dec 2011", date(2010, 9, 1), date(2011, 12, 1), False),
        ("Summer 2009 to Fall 2009", date(2009, 6, 1), date(2009, 9, 1), False),
        ("2018-03 – 2019-04", date(2018, 3, 1), date(2019, 4, 1), False),
        ("March 2020 until current", date(2020, 3, 1), date(2024, 6, 1), True),
    ],
)
def test_date_span_formats(text: str, start: date, end: date, current: bool) -> None:
    line = f"Some Title {text} Some Employer"
    (span,) = find_spans(line, as_of=AS_OF)
    assert (span.start, span.end, span.current) == (start, end, current)
    assert line[span.text_start : span.text_end] == text


def test_no_span_from_phone_numbers_or_lone_years() -> None:
    assert find_spans("Call 617-555-0101 or visit in 2019 and 2020.", as_of=AS_OF) == []


def test_overlapping_roles_merge_before_counting_years() -> None:
    spans = [(date(2012, 1, 1), date(2016, 1, 1)), (date(2014, 1, 1), date(2018, 1, 1))]
    assert merge(spans) == [(date(2012, 1, 1), date(2018, 1, 1))]
    assert total_years(spans) == 6.0
    apart = [(date(2010, 1, 1), date(2012, 1, 1)), (date(2014, 7, 1), date(2016, 1, 1))]
    assert gaps(apart) == [(date(2012, 1, 1), date(2014, 7, 1), 30)]
    assert gaps(apart, min_months=36) == []

    profile = enrich("n1", NURSE, as_of=AS_OF)
    # 2012-2017 and 2016-2020 overlap: 2012-01 .. 2020-01 is eight years, not nine.
    assert profile.years_experience == 8.0


def test_roles_from_text_with_titles_on_the_line_before_and_after() -> None:
    profile = enrich("p1", DATA_ENGINEER, as_of=AS_OF)
    roles = {r.title: r for r in profile.roles}
    assert set(roles) == {"Senior Data Engineer", "Data Analyst", "Intern"}
    current = roles["Senior Data Engineer"]
    assert current.current and current.end is None and current.start == date(2019, 1, 1)
    assert current.employer == "Prairie Analytics"
    assert roles["Data Analyst"].employer == "Lakeside Credit Union"
    assert roles["Data Analyst"].end == date(2018, 12, 1)
    assert roles["Intern"].start == date(2013, 6, 1)
    assert profile.roles[0].title == "Senior Data Engineer"  # most recent first
    # 2019-01..2024-06 (65) + 2015-03..2018-12 (45) + 2013-06..08 (2) months
    assert profile.years_experience == pytest.approx(112 / 12, abs=0.05)

    nurse = enrich("n1", NURSE, as_of=AS_OF)
    assert [r.title for r in nurse.roles] == ["Charge Nurse", "Staff Nurse"]


def test_schooling_date_ranges_are_not_jobs() -> None:
    text = "Experience\nSept 2011 to May 2015 Bachelor of Arts in History, Hilltop College\n"
    assert enrich("x", text, as_of=AS_OF).roles == []


# ---------------------------------------------------------------- titles and seniority


@pytest.mark.parametrize(
    ("title", "code"),
    [
        ("Senior Software Engineer", "15-1252.00"),
        ("Sr. Accountant", "13-2011.00"),
        ("RN", "29-1141.00"),
        ("Registered Nurses", "29-1141.00"),
        ("Director of Finance", "11-3031.00"),
        ("HR Generalist", "13-1071.00"),
        ("Executive Chef", "35-1011.00"),
        ("Data Scientist II", "15-2051.00"),
    ],
)
def test_titles_map_to_occupations(title: str, code: str) -> None:
    match = map_title(title)
    assert match is not None and match.code == code


def test_generic_titles_stay_unknown() -> None:
    assert map_title("Manager") is None
    assert map_title("Consultant") is None
    assert map_title("") is None


def test_seniority_tiers_from_titles_and_years() -> None:
    assert tier_from_title("Senior Data Engineer")[0] == "senior"  # type: ignore[index]
    assert tier_from_title("Junior Accountant")[0] == "entry"  # type: ignore[index]
    assert tier_from_title("Director of Finance")[0] == "executive"  # type: ignore[index]
    assert tier_from_title("Assistant Store Manager")[0] == "lead"  # type: ignore[index]
    assert tier_from_title("Accountant") is None
    profile = enrich("p1", DATA_ENGINEER, as_of=AS_OF)
    assert profile.seniority == "senior"
    assert profile.seniority_evidence is not None and profile.seniority_evidence.quote == "Senior"
    nurse = enrich("n1", NURSE, as_of=AS_OF)
    assert nurse.seniority == "senior"  # no level word in "REGISTERED NURSE": eight years says senior
    assert nurse.seniority_evidence in nurse.years_evidence


def test_headline_and_occupation() -> None:
    nurse = enrich("n1", NURSE, as_of=AS_OF)
    assert nurse.headline == "REGISTERED NURSE"
    assert nurse.occupation_code == "29-1141.00"
    engineer = enrich("p1", DATA_ENGINEER, as_of=AS_OF)
    # The first line is a name, so the headline is the most recent role.
    assert engineer.headline == "Senior Data Engineer"
    assert engineer.occupation_code is not None and engineer.occupation_code.startswith("15-")


# ---------------------------------------------------------------- education, certifications, place


def test_education_and_certifications() -> None:
    profile = enrich("p1", DATA_ENGINEER, as_of=AS_OF)
    (degree,) = profile.education
    assert (degree.level, degree.field, degree.year) == ("bachelor", "Computer Science", 2014)
    assert profile.highest_degree == "bachelor"
    assert {c.name for c in profile.certifications} == {"AWS Certified", "PMP"}
    nurse = enrich("n1", NURSE, as_of=AS_OF)
    assert nurse.highest_degree == "bachelor"
    assert {"RN license", "BLS", "ACLS"} <= {c.name for c in nurse.certifications}
    found = {h.name for h in find_certifications("Class A CDL, ServSafe Manager, OSHA 30, CompTIA Security+")}
    assert found == {"CDL", "ServSafe", "OSHA 10/30", "CompTIA Security+"}


def test_high_school_outside_education_is_a_workplace() -> None:
    text = "Experience\nMath Teacher, Lincoln High School 2015 - 2019\n"
    assert enrich("t", text, as_of=AS_OF).highest_degree is None


def test_location_and_remote_preference_from_resume_text() -> None:
    text = "Casey Lin\nDenver, CO 80202 | casey@example.org\nOpen to a fully remote role.\n"
    profile = enrich("c", text, as_of=AS_OF)
    assert (profile.location.city, profile.location.state) == ("Denver", "CO")
    assert profile.location.remote_preference == "Remote"
    assert profile.location.remote_evidence is not None


def test_industry_ignores_the_education_section() -> None:
    nurse = enrich("n1", NURSE, as_of=AS_OF)
    assert nurse.industries[0] == "healthcare"
    assert "education" not in nurse.industries


# ---------------------------------------------------------------- iCIMS fields

FIELDS = {
    "addresses": [
        {
            "entry": 1,
            "addresscity": "Springfield",
            "addressstate": {"id": "D1", "abbrev": "IL", "value": "Illinois"},
            "addresscountry": {"id": "D2", "abbrev": "US", "value": "United States"},
        }
    ],
    "workexperience": [
        {
            "entry": 2,
            "workemployer": "Prairie Analytics",
            "worktitle": "Data Engineer",
            "workstartdate": "2019-01-01",
            "workdescription": "Maintains Airflow DAGs and dbt models.",
        },
        {
            "entry": 3,
            "workemployer": "Corn Belt Foods",
            "worktitle": "Accountant",
            "workstartdate": "2008-02-01",
            "workenddate": "2011-05-01",
        },
    ],
    "education": [
        {
            "entry": 4,
            "school": {"value": "Midstate University"},
            "degree": {"value": "Master of Business Administration"},
            "major": {"value": "Finance"},
            "graduationdate": "2012-05-15",
        }
    ],
    "field51238": "Hybrid",
}


def test_fields_add_roles_education_place_and_remote_with_profile_evidence() -> None:
    profile = enrich("p1", DATA_ENGINEER, FIELDS, as_of=AS_OF)
    assert profile.profile_text == profile_source_text(FIELDS)
    titles = [r.title for r in profile.roles]
    # "Data Engineer" from 2019-01 is the resume's current role: counted once.
    assert titles.count("Data Engineer") + titles.count("Senior Data Engineer") == 1
    accountant = next(r for r in profile.roles if r.title == "Accountant")
    assert accountant.evidence is not None and accountant.evidence.source == "profile"
    assert accountant.occupation_code == "13-2011.00"
    assert profile.highest_degree == "master"
    mba = next(e for e in profile.education if e.level == "master")
    assert (mba.field, mba.school, mba.year) == ("Finance", "Midstate University", 2012)
    assert profile.location.city == "Springfield" and profile.location.state == "IL"
    assert profile.location.country == "US"
    assert profile.location.remote_preference == "Hybrid"  # the iCIMS field wins over the resume
    assert "Apache Airflow" in {s.skill for s in profile.skills}  # from the work description
    # Three more years from the field-only accountant role.
    assert profile.years_experience == pytest.approx(112 / 12 + 39 / 12, abs=0.05)


def test_fields_only_profile_without_resume() -> None:
    profile = enrich("p9", None, FIELDS, as_of=AS_OF)
    assert profile.text_hash is None
    assert profile.headline == "Data Engineer"
    assert profile.years_experience is not None and profile.years_experience > 5
    assert profile.location.remote_preference == "Hybrid"


def test_every_evidence_quote_is_an_exact_substring() -> None:
    for resume, fields in ((DATA_ENGINEER, FIELDS), (NURSE, None)):
        profile = enrich("p", resume, fields, as_of=AS_OF)
        evidence = _all_evidence(profile)
        assert len(evidence) > 10
        for ev in evidence:
            assert ev.verified
            assert ev.start is not None and ev.end is not None
            assert _source(profile, ev, resume)[ev.start : ev.end] == ev.quote


def test_enrich_is_deterministic() -> None:
    a = enrich("p1", DATA_ENGINEER, FIELDS, as_of=AS_OF)
    b = enrich("p1", DATA_ENGINEER, FIELDS, as_of=AS_OF)
    assert a == b
    assert a.extractor_version == "deterministic-1"


# ---------------------------------------------------------------- requisitions

POSTING = """Platform Data Engineer
About us
We run analytics for regional credit unions; this is a hybrid role based in Madison, WI.
What you'll do
- Own batch pipelines written in Python.
Requirements
- 5+ years of experience in data engineering
- Strong SQL and Postgres skills
- Experience with Docker and Kubernetes
- Bachelor's or Master's degree in Computer Science or a related field
Nice to have
- Terraform and AWS
- Experience with Kafka is a plus
"""


def test_requisition_from_posting_splits_must_and_nice() -> None:
    req = requisition_from_posting("q1", "Senior Data Engineer", POSTING)
    assert req.job_id == "q1" and req.title == "Senior Data Engineer"
    must = [s for s in req.must_have if s in ("SQL", "PostgreSQL", "Docker", "Kubernetes")]
    assert must == ["SQL", "PostgreSQL", "Docker", "Kubernetes"]
    assert "data engineering" in req.must_have
    assert "computer science" not in req.must_have  # a degree field, not a skill
    assert {"IBM Terraform", "AWS", "Apache Kafka"} <= set(req.nice_to_have)
    assert "Python" in req.nice_to_have  # named under responsibilities, not requirements
    assert req.min_years == 5.0
    assert req.education == "bachelor"  # the lowest degree named
    assert req.seniority == "senior"
    assert req.remote == "Hybrid"
    assert (req.location.city, req.location.state) == ("Madison", "WI")
    assert req.occupation_code == "15-1243.00"
    for ev in req.evidence.values():
        assert ev.start is not None and POSTING[ev.start : ev.end] == ev.quote


def test_requisition_inline_headings_and_lowercase_text() -> None:
    text = (
        "minimum qualifications: experience with sql and python. "
        "preferred qualifications: experience with tableau."
    )
    req = requisition_from_posting("q2", "data analyst", text)
    assert req.must_have == ["SQL", "Python"]
    assert req.nice_to_have == ["Tableau"]
    assert req.occupation_code == "15-2051.01"


def test_requisition_from_job_fields() -> None:
    fields = {
        "jobid": "2025-1001",
        "jobtitle": "Data Analyst",
        "joblocation": {"companyid": 501, "id": 23, "value": "Boston, MA"},
        "overview": "We are hiring a Data Analyst for a hybrid role based in Boston, MA.",
        "responsibilities": "- Build weekly reports.",
        "qualifications": (
            "- Bachelor's degree in a related field.\n- 3+ years of experience as a Data Analyst."
        ),
        "field52001": "SQL; Python; Postgres",
        "field52002": "Tableau; Patient care",
        "field52003": "15-2051.01",
        "field52006": "Hybrid",
    }
    req = requisition_from_job("1001", fields)
    assert req.job_id == "1001" and req.title == "Data Analyst"
    assert req.must_have == ["SQL", "Python", "PostgreSQL"]
    assert req.nice_to_have == ["Tableau", "patient care"]
    assert req.occupation_code == "15-2051.01"
    assert req.occupation_title == "Business Intelligence Analysts"
    assert req.remote == "Hybrid"
    assert (req.location.city, req.location.state) == ("Boston", "MA")
    assert req.min_years == 3.0 and req.education == "bachelor"
    assert "Build weekly reports." in req.description

    other = requisition_from_job(
        "1002",
        {
            "jobtitle": "Nurse",
            "joblocation": {"value": "Harbor Health - Boston"},
            "field52001": "Patient care",
        },
    )
    assert other.location.city == "Boston"
    assert other.must_have == ["patient care"]
    assert other.occupation_code == "29-1141.00"
    assert other.remote is None


def test_requisition_from_job_without_skill_fields_parses_the_text() -> None:
    fields = {
        "jobtitle": "Backend Developer",
        "qualifications": "Requirements:\n- Go and Redis\nPreferred:\n- gRPC",
    }
    req = requisition_from_job("1003", fields)
    assert "Redis" in req.must_have
    assert req.occupation_code == "15-1252.00"
