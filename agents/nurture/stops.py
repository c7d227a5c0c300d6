"""Which iCIMS events stop a person's sequences: an application (any open one) or a hire.

The stops themselves (unsubscribe, a reply, an event) are stored and audited by the workflow
(`graphs.nurture.stops`, `graphs.nurture.events`); this is the rule they apply."""

from __future__ import annotations

from tools.icims.codes import APPLICANT_HIRED, CLOSED_APPLICATION


def application_stop(status_id: str | None) -> str | None:
    """The stop reason an applicant-workflow status means: hired, applied (any open one), or None."""
    if status_id == APPLICANT_HIRED:
        return "hired"
    if status_id and status_id not in CLOSED_APPLICATION:
        return "applied"
    return None
