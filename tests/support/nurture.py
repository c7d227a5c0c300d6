"""Shared set-up for the nurture tests (no tests here): a seeded sandbox tenant with two extra talent
pools whose members each exercise one selection rule, a synced mirror, and a campaign on them.

Times are fixed: runs select `AS_OF`, a Tuesday 15:00 UTC (10:00 in New York, 05:00 in Honolulu).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from agents.nurture.models import Campaign
from support.snapshot import synced
from tools.icims.codes import (
    APPLICANT_HIRED,
    APPLICANT_PHONE_SCREEN,
    EMPLOYEE_FOLDER,
    JOB_APPROVED,
    POOL_ACTIVE,
    SOURCE_WORKFLOW_NEEDS_REVIEW,
    SOURCE_WORKFLOW_NOT_INTERESTED,
    list_node,
)

AS_OF = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
CAMPAIGN_ID = "test-campaign"
F = {
    "consent_status": "field51231",
    "consent_expires": "field51232",
    "opt_out": "field51233",
    "do_not_contact": "field51234",
    "last_contacted": "field51235",
    "nurture_campaign": "field51236",
    "nurture_step": "field51237",
}
ELIGIBLE = ("ok1", "ok2", "ok3")
# role -> the exclusion reason the run summary must count it under
EXCLUDED = {
    "opted_out": "opted_out",
    "dnc": "do_not_contact",
    "pending": "no_consent",
    "no_consent_field": "no_consent",
    "expired": "consent_expired",
    "active": "active_application",
    "hired": "hired",
    "not_interested": "not_interested",
    "no_email": "no_email",
    "quiet": "quiet_hours",
    "other_campaign": "global_cap",
    "last_contacted": "global_cap",
}


def node(node_id: str, value: str) -> dict[str, str]:
    return {"id": node_id, "value": value, "formattedvalue": value}


@dataclass
class Scenario:
    box: Any
    settings: Any
    people: dict[str, int]
    pools: tuple[int, int]
    workflows: dict[int, int] = field(default_factory=dict)  # person -> source workflow (pool A)

    @property
    def writelog(self) -> list[Any]:
        return self.box.state.writelog

    def writes(self) -> list[tuple[str, str]]:
        return [(e.method, e.path) for e in self.writelog]


def campaign(pools: tuple[int, int], **changes: Any) -> Campaign:
    data: dict[str, Any] = {
        "id": CAMPAIGN_ID,
        "name": "Test campaign",
        "target": {"pool_ids": list(pools)},
        "steps": [{"day": 0, "template": "intro.v1"}, {"day": 14, "template": "checkin.v1"}],
        "schedule": "0 15 * * 2",
        "caps": {"min_days_between": 7, "max_per_run": 50},
        "signature": {"name": "Jordan Lee", "title": "Talent Partner", "company": "Example Corp"},
    }
    data.update(changes)
    return Campaign.model_validate(data)


def contacted_by_other_campaign(store: Any, people: dict[str, int]) -> None:
    """ "other_campaign" was messaged two days before AS_OF by another campaign (the global cap)."""
    store.record_contact(
        "other-campaign",
        people["other_campaign"],
        0,
        sent_at=AS_OF - timedelta(days=2),
        message_id="<x@y>",
        run_id="r0",
    )


def _eligible(email: str) -> dict[str, Any]:
    return {
        "email": email,
        F["consent_status"]: "Granted",
        F["consent_expires"]: "2030-01-01",
        F["opt_out"]: "No",
        F["do_not_contact"]: "No",
        F["last_contacted"]: None,
        "addresses": [
            {
                "entry": 1,
                "addresscity": "Albany",
                "addressstate": {"id": "D1", "abbrev": "NY", "value": "New York"},
                "addresscountry": {"id": "D2", "abbrev": "US", "value": "United States"},
            }
        ],
    }


@contextmanager
def scenario(sandbox_factory: Any, tmp_path: Any, **settings_overrides: Any) -> Iterator[Scenario]:
    box, settings, (people, pools, workflows) = synced(
        "nurture",
        sandbox_factory,
        tmp_path,
        prepare=_prepare,
        settings=lambda box: box.settings(data_dir=str(tmp_path / "state"), **settings_overrides),
        people=40,
        seed=7,
    )
    yield Scenario(box=box, settings=settings, people=people, pools=pools, workflows=workflows)


def _prepare(box: Any) -> tuple[dict[str, int], tuple[int, int], dict[int, int]]:
    """Every selection rule's member, in iCIMS before the sync (the erased one erased there)."""
    tenant = box.state.tenant
    with_resume = sorted(
        pid
        for (kind, pid, fid) in tenant.binaries
        if kind == "people"
        and fid == "resume"
        and tenant.records["people"][pid].data["folder"]["id"] != EMPLOYEE_FOLDER
    )
    # "erased": erased in iCIMS before the sync, which drops their memberships from the mirror.
    roles = [*ELIGIBLE, *EXCLUDED, "erased"]
    assert len(with_resume) >= len(roles)
    people = dict(zip(roles, with_resume, strict=False))
    pool_a = tenant.add("talentpools", {"title": "Nurture A", "folder": list_node(POOL_ACTIVE)})
    pool_b = tenant.add("talentpools", {"title": "Nurture B", "folder": list_node(POOL_ACTIVE)})
    chosen = set(people.values())
    # Nobody starts with an application or another pool membership: each rule is added on purpose.
    for kind in ("applicantworkflows", "sourceworkflows"):
        for wid, record in list(tenant.records[kind].items()):
            if record.data.get("associatedprofile") in chosen:
                tenant.delete(kind, wid)
    workflows: dict[int, int] = {}
    for role, pid in people.items():
        tenant.patch("people", pid, _eligible(f"{role}@candidates.example"))
        status = list_node(
            SOURCE_WORKFLOW_NOT_INTERESTED if role == "not_interested" else SOURCE_WORKFLOW_NEEDS_REVIEW
        )
        workflows[pid] = tenant.add(
            "sourceworkflows",
            {"baseprofile": pool_a, "associatedprofile": pid, "status": status, "source": "Test"},
        )
    # ok1 is in both pools: selected once, one duplicate membership counted.
    tenant.add(
        "sourceworkflows",
        {
            "baseprofile": pool_b,
            "associatedprofile": people["ok1"],
            "status": list_node(SOURCE_WORKFLOW_NEEDS_REVIEW),
        },
    )
    p = people
    tenant.patch("people", p["opted_out"], {F["opt_out"]: "Yes"})
    tenant.patch("people", p["dnc"], {F["do_not_contact"]: "Yes"})
    tenant.patch("people", p["pending"], {F["consent_status"]: "Pending"})
    tenant.patch("people", p["no_consent_field"], {F["consent_status"]: None, F["consent_expires"]: None})
    tenant.patch("people", p["expired"], {F["consent_expires"]: "2025-06-30"})
    tenant.patch("people", p["no_email"], {"email": None})
    tenant.patch(
        "people", p["last_contacted"], {F["last_contacted"]: (AS_OF - timedelta(days=2)).date().isoformat()}
    )
    tenant.patch(
        "people",
        p["quiet"],
        {
            "addresses": [
                {
                    "entry": 1,
                    "addresscity": "Honolulu",
                    "addressstate": {"id": "D3", "abbrev": "HI", "value": "Hawaii"},
                    "addresscountry": {"id": "D2", "abbrev": "US", "value": "United States"},
                }
            ]
        },
    )
    job = next(j for j, r in tenant.records["jobs"].items() if r.data["folder"]["id"] == JOB_APPROVED)
    tenant.add(
        "applicantworkflows",
        {"baseprofile": job, "associatedprofile": p["active"], "status": list_node(APPLICANT_PHONE_SCREEN)},
    )
    tenant.add(
        "applicantworkflows",
        {"baseprofile": job, "associatedprofile": p["hired"], "status": list_node(APPLICANT_HIRED)},
    )
    assert httpx.post(f"{box.url}/_sandbox/people/{p['erased']}/erase").status_code == 204
    return people, (pool_a, pool_b), workflows
