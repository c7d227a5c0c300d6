"""iCIMS list-value codes this project reads and writes, once (docs/RECORDS.md "Record shapes";
../shared/icims/API_NOTES). Folders, workflow statuses and source origins are tenant-configured in a
real iCIMS; these are the default tenant's codes, which the sandbox serves and seeds too."""

from __future__ import annotations

# Person folders
CANDIDATE_UNREVIEWED = "D32006"
CANDIDATE_REVIEWED = "D32007"
EMPLOYEE_FOLDER = "D32010"
PURGED_FOLDER = "D32099"

# Job folders
JOB_APPROVED = "D31001"  # open: accepting candidates
JOB_CLOSED = "D31003"
JOB_FILLED = "D31004"
OPEN_JOB_FOLDERS = frozenset({JOB_APPROVED})

# Talent pool folder
POOL_ACTIVE = "D37002024001"

# Applicant workflow statuses
APPLICANT_NEW_SUBMISSION = "D10100"
APPLICANT_REVIEWED = "C51218"
APPLICANT_PHONE_SCREEN = "C51219"
APPLICANT_INTERVIEW = "C51220"
APPLICANT_OFFER = "C51221"
APPLICANT_HIRED = "D10105"
APPLICANT_REJECTED = "C51222"
APPLICANT_WITHDRAWN = "C51223"
CLOSED_APPLICATION = frozenset({APPLICANT_REJECTED, APPLICANT_WITHDRAWN})

# Source (talent pool) workflow statuses and origin
SOURCE_WORKFLOW_NEEDS_REVIEW = "D37002021001"
SOURCE_WORKFLOW_CONTACTED = "D37002021002"
SOURCE_WORKFLOW_ENGAGED = "D37002021003"
SOURCE_WORKFLOW_NOT_INTERESTED = "D37002021004"
SOURCE_ORIGIN_WEB_SERVICES = "D37002040003"

# Display labels, as the default tenant names them.
LABELS: dict[str, str] = {
    CANDIDATE_UNREVIEWED: "Cand:Unreviewed",
    CANDIDATE_REVIEWED: "Cand:Reviewed",
    EMPLOYEE_FOLDER: "Employee",
    PURGED_FOLDER: "Purged",
    JOB_APPROVED: "Approved",
    JOB_CLOSED: "Closed",
    JOB_FILLED: "Filled",
    POOL_ACTIVE: "Active",
    APPLICANT_NEW_SUBMISSION: "New Submissions",
    APPLICANT_REVIEWED: "Reviewed",
    APPLICANT_PHONE_SCREEN: "Phone Screen",
    APPLICANT_INTERVIEW: "Interview",
    APPLICANT_OFFER: "Offer",
    APPLICANT_HIRED: "Hired",
    APPLICANT_REJECTED: "Rejected",
    APPLICANT_WITHDRAWN: "Withdrawn",
    SOURCE_WORKFLOW_NEEDS_REVIEW: "Needs Review",
    SOURCE_WORKFLOW_CONTACTED: "Contacted",
    SOURCE_WORKFLOW_ENGAGED: "Engaged",
    SOURCE_WORKFLOW_NOT_INTERESTED: "Not Interested",
    SOURCE_ORIGIN_WEB_SERVICES: "Web Services",
}


def list_node(code: str) -> dict[str, str]:
    """`{"id", "value", "formattedvalue"}` as iCIMS serves a list value."""
    label = LABELS.get(code, code)
    return {"id": code, "value": label, "formattedvalue": label}
