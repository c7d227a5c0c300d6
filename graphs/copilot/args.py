"""The tools' argument schemas: what the LLM sees as each tool's parameters (and what the
deterministic intent parser's calls are validated against)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class SearchArgs(BaseModel):
    skills: list[str] = Field(
        default_factory=list, description="Skills every result must show, e.g. ['Python']."
    )
    location: str | None = Field(default=None, description="City, state abbreviation or 'City, ST'.")
    occupation: str | None = Field(
        default=None, description="Job title or occupation, e.g. 'software developer'."
    )
    consent: Literal["granted", "pending", "withdrawn"] | None = Field(
        default=None, description="Only people whose recorded contact consent has this status."
    )
    limit: int = Field(default=10, ge=1, le=50, description="Return at most this many people.")


class ExplainArgs(BaseModel):
    person_id: int = Field(gt=0, description="iCIMS person id of the candidate.")
    job_id: int = Field(gt=0, description="iCIMS system id of the job (requisition).")


class RediscoverArgs(BaseModel):
    job_id: int = Field(gt=0, description="iCIMS system id of the job (requisition).")
    top_k: int = Field(default=10, ge=1, le=50, description="Shortlist size.")


class OutreachArgs(BaseModel):
    person_id: int = Field(gt=0, description="iCIMS person id of the candidate.")
    job_id: int = Field(gt=0, description="iCIMS system id of the job.")


class ListApprovalsArgs(BaseModel):
    job_id: int | None = Field(default=None, description="Only approvals for this job.")


class ResolveArgs(BaseModel):
    approval_id: str | None = Field(
        default=None, max_length=200, description="The approval (thread) id, e.g. 'rediscovery:1000:1001'."
    )
    job_id: int | None = Field(
        default=None, description="Instead of approval_id: the job's rediscovery approval."
    )
    decision: Literal["accept", "ignore", "respond"] = Field(
        default="accept",
        description="accept = apply the proposed writes; ignore = close without writing; "
        "respond = feedback only.",
    )
    exclude_person_ids: list[int] = Field(
        default_factory=list, description="When accepting: leave these candidates out (an edit)."
    )
    note: str | None = Field(default=None, max_length=2000, description="Feedback text (respond) or a note.")
