"""Typed models over recorded iCIMS shapes (API_NOTES 3.1-3.2)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from tools.icims.models import (
    ApplicantWorkflow,
    AssessmentResult,
    Job,
    Person,
    SearchResult,
    SourceWorkflow,
    TalentPool,
    id_from_url,
    record_id,
)

API = "https://api.icims.com/customers/6405"

PERSON = {
    "firstname": "Shari",
    "lastname": "Davis",
    "email": "s@example.com",
    "folder": {"id": "D32006", "value": "Cand:Unreviewed", "formattedvalue": "Cand:Unreviewed"},
    "addresses": [
        {
            "entry": "1001",
            "addresscity": "Boston",
            "addressstate": {"id": "D41001024", "abbrev": "MA", "value": "Massachusetts"},
            "addresstype": {"id": "D84002", "value": "Home", "formattedvalue": "Home"},
            "addressgeo": {"lat": 1},
        }
    ],
    "phones": [{"entry": 5305, "phonenumber": "302-555-5555", "phoneextension": "5"}],
    "workexperience": [{"entry": 1, "workemployer": "Acme", "workstartdate": "2021-03-01"}],
    "education": [{"entry": 2, "school": {"value": "UMass"}, "graduationdate": "2020-05-15"}],
    "updateddate": "2025-01-11 12:00 PM",
    "resume": {"file": f"{API}/people/2/fields/resume/binary"},
    "field29946": "Close to me",
    "field23848": [{"id": "C23892", "value": "x", "formattedvalue": "x"}],
    "hiredate": "2013-04-30",
    "links": [{"rel": "self", "title": "The current profile being viewed.", "url": f"{API}/people/2"}],
}

WORKFLOW = {
    "associatedprofile": {"profile": f"{API}/people/1", "id": 1, "value": "Shari Davis"},
    "baseprofile": {"profile": f"{API}/jobs/1346", "id": "1346", "value": "Junior Counselor"},
    "status": {"id": "D10100", "value": "New Submissions", "formattedvalue": "New Submissions"},
    "source": "Other (Please Specify)",
    "sourcename": "Applicant from previous year",
    "assessmentresults": [
        {"assessmentname": {"value": "AI"}, "assessmentscore": 87.5, "assessmentdate": "2017-05-01 10:30 AM"}
    ],
    "links": [
        {"rel": "self", "title": "The base profile of this workflow.", "url": f"{API}/jobs/1346"},
        {
            "rel": "self",
            "title": "The current profile being viewed.",
            "url": f"{API}/applicantworkflows/19288",
        },
        {"rel": "self", "title": "The associated profile of this workflow.", "url": f"{API}/people/1"},
    ],
}


def test_person_parses_recorded_shape_and_keeps_extras() -> None:
    person = Person.model_validate(PERSON)
    assert person.record_id == 2
    assert person.addresses[0].entry == 1001
    assert person.addresses[0].addressstate is not None
    assert person.addresses[0].addressstate.abbrev == "MA"
    assert person.workexperience[0].workstartdate == date(2021, 3, 1)
    assert person.workexperience[0].workenddate is None
    assert person.education[0].school is not None and person.education[0].school.text == "UMass"
    assert person.updateddate == datetime(2025, 1, 11, 12, 0, tzinfo=UTC)
    assert person.custom_fields == {"field29946": "Close to me", "field23848": PERSON["field23848"]}
    assert person.custom("field29946") == "Close to me"
    assert person.model_extra is not None and person.model_extra["hiredate"] == "2013-04-30"
    # Unknown nested keys survive too (iCIMS may add fields at any time).
    assert person.addresses[0].model_extra == {"addressgeo": {"lat": 1}}


def test_workflow_ids_and_links() -> None:
    workflow = ApplicantWorkflow.model_validate(WORKFLOW)
    assert workflow.record_id == 19288  # the "current profile" link, not the first self link
    assert workflow.job_id == 1346
    assert workflow.person_id == 1
    assert workflow.assessmentresults[0].assessmentdate == datetime(2017, 5, 1, 10, 30, tzinfo=UTC)
    # Stored shape: bare ints become links.
    stored = SourceWorkflow.model_validate({"baseprofile": 301, "associatedprofile": "2"})
    assert stored.talentpool_id == 301
    assert stored.person_id == 2


def test_job_and_talent_pool() -> None:
    job = Job.model_validate(
        {
            "jobid": "2016-1123",
            "numberofpositions": "5",
            "hiringmanager": {"profile": f"{API}/people/327", "id": 327, "value": "S. Fleur"},
            "joblocation": {"companyid": 1800, "id": 23, "value": "826 Boston", "address": f"{API}/x"},
            "field52004": 70000,
        }
    )
    assert job.numberofpositions == 5
    assert job.hiringmanager is not None and job.hiringmanager.id == 327
    assert job.joblocation is not None and job.joblocation.companyid == 1800
    assert job.custom("field52004") == 70000
    pool = TalentPool.model_validate({"title": "Pipeline", "owner": {"id": "3", "value": "Jane"}})
    assert pool.owner is not None and pool.owner.id == 3


def test_assessment_result_round_trips_to_icims_text() -> None:
    result = AssessmentResult(assessmentdate=datetime(2017, 5, 1, 10, 30, tzinfo=UTC), assessmentscore=87.5)
    assert result.to_icims() == {"assessmentdate": "2017-05-01 10:30 AM", "assessmentscore": 87.5}


def test_search_result_and_helpers() -> None:
    row = SearchResult.model_validate({"id": "19287", "self": f"{API}/applicantworkflows/19287"})
    assert row.id == 19287
    assert row.self_url == f"{API}/applicantworkflows/19287"
    assert id_from_url(f"{API}/people/2/") == 2
    assert id_from_url(None) is None
    assert id_from_url(f"{API}/people") is None
    assert record_id({"links": []}) is None
    assert record_id({"links": [{"rel": "self", "url": f"{API}/jobs/5"}]}) == 5


def test_bad_dates_are_validation_errors() -> None:
    with pytest.raises(ValidationError):
        Person.model_validate({"updateddate": "yesterday"})
