"""Typed views of iCIMS JSON (API_NOTES 3-4, docs/RECORDS.md).

iCIMS may add fields at any time and asks clients to treat payloads as maps (API_NOTES 2), so every
model uses `extra="allow"`: unknown keys never fail validation and are kept (tenant custom fields
`fieldNNNN` among them, see `custom_fields`). Ids arrive as ints or as numeric strings; both become
int. Profile bodies carry no top-level id: it lives in the `links` self url (`record_id`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from tools.icims.formats import format_date, format_datetime, parse_datetime

__all__ = [
    "Address",
    "ApplicantWorkflow",
    "AssessmentResult",
    "Company",
    "Education",
    "FileRef",
    "ICIMSModel",
    "Job",
    "JobLocation",
    "Link",
    "ListNode",
    "Person",
    "Phone",
    "ProfileLink",
    "Region",
    "SearchResult",
    "SourceWorkflow",
    "TalentPool",
    "WorkExperience",
    "id_from_url",
    "record_id",
]

_CUSTOM_FIELD = re.compile(r"^field\d+$")
_TRAILING_ID = re.compile(r"/(\d+)/?(?:[?#].*)?$")


def _to_int(value: Any) -> Any:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


def _to_datetime(value: Any) -> Any:
    if isinstance(value, str):
        return parse_datetime(value) if value.strip() else None
    return value


def _to_date(value: Any) -> Any:
    if isinstance(value, str):
        return parse_datetime(value).date() if value.strip() else None
    return value


IntId = Annotated[int, BeforeValidator(_to_int)]
# An id a client names a record by: positive, and within the stores' 64-bit integer columns. A larger
# one names no record but would crash the lookup (SQLite OverflowError) instead of a clear 422.
RecordId = Annotated[int, Field(ge=1, le=2**63 - 1)]
# Dumped back in iCIMS text so `model_dump()` output can be PATCHed as is.
ICIMSDateTime = Annotated[
    datetime, BeforeValidator(_to_datetime), PlainSerializer(format_datetime, when_used="json-unless-none")
]
ICIMSDate = Annotated[
    date, BeforeValidator(_to_date), PlainSerializer(format_date, when_used="json-unless-none")
]


def id_from_url(url: str | None) -> int | None:
    """`https://api.icims.com/customers/6405/people/2` -> 2."""
    if not url:
        return None
    match = _TRAILING_ID.search(url)
    return int(match.group(1)) if match else None


def record_id(data: Mapping[str, Any]) -> int | None:
    """A served record's own id, from its `links`.

    Workflows carry three `rel: "self"` links (the workflow, its base and associated profiles) told
    apart only by `title`; the record's own link is the "current profile" one, which iCIMS lists first.
    """
    links = [link for link in data.get("links") or [] if isinstance(link, Mapping)]
    selves = [link for link in links if link.get("rel") == "self"]
    for link in selves:
        if "current" in str(link.get("title", "")).lower():
            return id_from_url(link.get("url"))
    return id_from_url(selves[0].get("url")) if selves else None


class ICIMSModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    @property
    def custom_fields(self) -> dict[str, Any]:
        """Tenant custom fields (`fieldNNNN`) present in the payload."""
        return {k: v for k, v in (self.model_extra or {}).items() if _CUSTOM_FIELD.match(k)}

    def custom(self, field_id: str, default: Any = None) -> Any:
        return (self.model_extra or {}).get(field_id, default)


class ListNode(ICIMSModel):
    """A list value (folder, status, phone type): `{"id": "D32006", "value", "formattedvalue"}`."""

    id: str | None = None
    value: str | None = None
    formattedvalue: str | None = None

    @property
    def text(self) -> str | None:
        return self.formattedvalue or self.value


class Region(ICIMSModel):
    """State or country: `{"id": "D41001024", "abbrev": "MA", "value": "Massachusetts"}`."""

    id: str | None = None
    abbrev: str | None = None
    value: str | None = None


class ProfileLink(ICIMSModel):
    """A link to another profile: `{"profile": "<api url>", "id": 327, "value": "Display Name"}`.
    Workflows are stored with a bare int; it validates to `ProfileLink(id=...)`."""

    profile: str | None = None
    id: IntId | None = None
    value: str | None = None

    @classmethod
    def _from_bare(cls, value: Any) -> Any:
        if isinstance(value, int | str) and not isinstance(value, bool):
            return {"id": value}
        return value


ProfileRef = Annotated[ProfileLink, BeforeValidator(ProfileLink._from_bare)]


class Link(ICIMSModel):
    rel: str | None = None
    title: str | None = None
    url: str | None = None


class FileRef(ICIMSModel):
    """A file field in profile JSON: `{"file": "<.../fields/{fieldId}/binary>"}`."""

    file: str | None = None


class Address(ICIMSModel):
    entry: IntId | None = None
    addressstreet1: str | None = None
    addressstreet2: str | None = None
    addresscity: str | None = None
    addressstate: Region | None = None
    addresszip: str | None = None
    addresscountry: Region | None = None
    addresstype: ListNode | None = None


class Phone(ICIMSModel):
    entry: IntId | None = None
    phonenumber: str | None = None
    phoneextension: str | None = None
    phonetype: ListNode | None = None


class WorkExperience(ICIMSModel):
    entry: IntId | None = None
    workemployer: str | None = None
    worktitle: str | None = None
    workstartdate: ICIMSDate | None = None
    workenddate: ICIMSDate | None = None  # absent = current job
    workdescription: str | None = None


class Education(ICIMSModel):
    entry: IntId | None = None
    school: ListNode | None = None
    degree: ListNode | None = None
    major: ListNode | None = None
    graduationdate: ICIMSDate | None = None


class _Record(ICIMSModel):
    createddate: ICIMSDateTime | None = None
    updateddate: ICIMSDateTime | None = None
    links: list[Link] = Field(default_factory=list)

    @property
    def record_id(self) -> int | None:
        return record_id({"links": [link.model_dump() for link in self.links]})


class Person(_Record):
    firstname: str | None = None
    middlename: str | None = None
    lastname: str | None = None
    email: str | None = None
    folder: ListNode | None = None
    addresses: list[Address] = Field(default_factory=list)
    phones: list[Phone] = Field(default_factory=list)
    workexperience: list[WorkExperience] = Field(default_factory=list)
    education: list[Education] = Field(default_factory=list)
    source: str | ListNode | None = None
    resume: FileRef | None = None

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.firstname, self.lastname) if p)


class JobLocation(ICIMSModel):
    companyid: IntId | None = None
    id: IntId | None = None
    value: str | None = None
    address: str | None = None


class Job(_Record):
    jobid: str | None = None  # the human job number ("2025-1001"), not the system id
    jobtitle: str | None = None
    folder: ListNode | None = None
    recruiter: ProfileRef | None = None
    hiringmanager: ProfileRef | None = None
    joblocation: JobLocation | None = None
    numberofpositions: int | None = None
    overview: str | None = None
    responsibilities: str | None = None
    qualifications: str | None = None
    positiontype: ListNode | None = None


class TalentPool(_Record):
    title: str | None = None
    externalid: str | None = None
    folder: ListNode | None = None
    overview: str | None = None
    owner: ProfileRef | None = None


class Company(_Record):
    name: str | None = None
    folder: ListNode | None = None
    addresses: list[Address] = Field(default_factory=list)


class AssessmentResult(ICIMSModel):
    """One `assessmentresults` entry of a recruiting workflow (API_NOTES 3.2)."""

    assessmentname: ListNode | None = None
    assessmentdate: ICIMSDateTime | None = None
    assessmentscore: float | None = None
    assessmentresult: str | ListNode | None = None
    assessmentnotes: str | None = None
    assessmentstatus: ListNode | None = None
    assessmenturl: str | None = None

    def to_icims(self) -> dict[str, Any]:
        """The PATCH shape: iCIMS text dates, unset fields left out."""
        return self.model_dump(mode="json", exclude_none=True)


class _Workflow(_Record):
    baseprofile: ProfileRef | None = None
    associatedprofile: ProfileRef | None = None
    status: ListNode | None = None
    source: str | ListNode | None = None
    sourcename: str | None = None

    @property
    def person_id(self) -> int | None:
        return self.associatedprofile.id if self.associatedprofile else None


class ApplicantWorkflow(_Workflow):
    """Person <-> job (recruiting workflow)."""

    assessmentresults: list[AssessmentResult] = Field(default_factory=list)

    @property
    def job_id(self) -> int | None:
        return self.baseprofile.id if self.baseprofile else None


class SourceWorkflow(_Workflow):
    """Person <-> talent pool (talent pool membership)."""

    sourceorigin: ListNode | None = None
    sourceperson: ProfileRef | None = None
    vendorname: str | None = None

    @property
    def talentpool_id(self) -> int | None:
        return self.baseprofile.id if self.baseprofile else None


class SearchResult(ICIMSModel):
    """A Search API row: `{"id": 19287, "self": "<url>"}` (ids are sometimes strings)."""

    id: IntId
    self_url: str | None = Field(default=None, alias="self")
