"""Who a campaign run may message: target pool members due for their next step, minus everyone a
rule excludes, each exclusion counted by reason.

Rules run in a fixed order and a person is counted under the first that applies, so the counts add
up to the members seen: hard refusals (erased, opted out, do not contact, consent) come before
sequence state (stopped, applied, hired), then targeting, cadence, caps and the send window.
Reads only what is passed in (mirror, contacts, stops): no iCIMS requests.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from agents.nurture.models import Campaign
from agents.nurture.timing import abbrev, person_timezone, quiet_reason
from tools.icims.codes import APPLICANT_HIRED, CLOSED_APPLICATION, PURGED_FOLDER
from tools.mirror.store import link_id
from tools.nurture.store import ALL_CAMPAIGNS, Contact

# Exclusion reasons in the order they are checked (the run summary lists them in this order).
REASONS = (
    "erased",
    "not_in_mirror",
    "opted_out",
    "do_not_contact",
    "no_consent",
    "consent_expired",
    "replied",
    "hired",
    "applied",
    "active_application",
    "not_interested",
    "not_in_segment",
    "no_email",
    "step_limit",
    "not_due",
    "campaign_cap",
    "global_cap",
    "quiet_hours",
    "non_working_day",
    "batch_limit",
)


@dataclass(frozen=True)
class GlobalCaps:
    """Limits across every campaign (settings `nurture_global_*`)."""

    min_days_between: int = 7
    max_per_30_days: int = 3


@dataclass
class Selected:
    person_id: int
    step: int
    template: str
    pool_id: int
    source_workflow_id: int
    email: str
    first_name: str
    timezone: str

    def to_json(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id,
            "step": self.step,
            "template": self.template,
            "pool_id": self.pool_id,
            "source_workflow_id": self.source_workflow_id,
            "timezone": self.timezone,
        }


@dataclass
class Selection:
    selected: list[Selected]
    excluded: dict[str, int]
    members: int
    duplicates: int

    def summary(self) -> dict[str, Any]:
        return {
            "members": self.members,
            "duplicate_memberships": self.duplicates,
            "selected": len(self.selected),
            "excluded": {r: self.excluded[r] for r in REASONS if self.excluded.get(r)},
        }


def _node_id(value: Any) -> str | None:
    return str(value.get("id")) if isinstance(value, dict) and value.get("id") else None


def _date(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _records(mirror: Any, kind: str, column: str, ids: list[int]) -> Iterable[Any]:
    """(id, person_id, base_id, data) rows of `kind` whose `column` is in `ids`, from the mirror."""
    return mirror.rows_where(kind, column, ids)


def pool_members(mirror: Any, pool_ids: Iterable[int]) -> tuple[dict[int, tuple[int, int, str | None]], int]:
    """person id -> (pool id, source workflow id, status id) of their first membership among the
    pools (lowest pool id, then workflow id), and how many extra memberships were folded in."""
    members: dict[int, tuple[int, int, str | None]] = {}
    duplicates = 0
    rows = sorted(
        _records(mirror, "sourceworkflows", "base_id", sorted(set(pool_ids))), key=lambda r: (r.base_id, r.id)
    )
    for row in rows:
        pid = row.person_id if row.person_id is not None else link_id(row.data.get("associatedprofile"))
        if pid is None:
            continue
        if pid in members:
            duplicates += 1
            continue
        members[pid] = (row.base_id, row.id, _node_id(row.data.get("status")))
    return members, duplicates


def select_members(
    campaign: Campaign,
    *,
    now: datetime,
    mirror: Any,
    contacts: Iterable[Contact],
    stops: Mapping[int, Mapping[str, str]],
    field_map: Mapping[str, str],
    caps: GlobalCaps,
    limit: int | None = None,
) -> Selection:
    """Apply every rule to the campaign's target members at `now` (aware)."""
    members, duplicates = pool_members(mirror, campaign.target.pool_ids)
    ids = sorted(members)
    people = {row.id: row.data for row in _records(mirror, "people", "id", ids)}
    erased = mirror.erased_among(ids)
    applications: dict[int, list[str | None]] = {}
    for row in _records(mirror, "applicantworkflows", "person_id", ids):
        applications.setdefault(row.person_id, []).append(_node_id(row.data.get("status")))
    mine: dict[int, list[Contact]] = {}
    anywhere: dict[int, list[datetime]] = {}
    for contact in contacts:
        anywhere.setdefault(contact.person_id, []).append(contact.sent_at)
        if contact.campaign_id == campaign.id:
            mine.setdefault(contact.person_id, []).append(contact)

    fm = field_map
    target = campaign.target
    tags_any = {t.lower() for t in target.tags_any}
    states = {s.upper() for s in target.states}
    countries = {c.upper() for c in target.countries}
    excluded_statuses = set(target.exclude_pool_statuses)
    today = now.date()
    counts: Counter[str] = Counter()
    selected: list[Selected] = []
    batch = limit if limit is not None else campaign.caps.max_per_run

    def reason_for(pid: int) -> str | tuple[str, int] | None:
        person = people.get(pid)
        if pid in erased or (person is not None and _node_id(person.get("folder")) == PURGED_FOLDER):
            return "erased"
        if person is None:
            return "not_in_mirror"
        stopped = stops.get(pid, {})
        reasons = {stopped.get(ALL_CAMPAIGNS), stopped.get(campaign.id)} - {None}
        if person.get(fm["opt_out"]) == "Yes" or "opted_out" in reasons:
            return "opted_out"
        if person.get(fm["do_not_contact"]) == "Yes":
            return "do_not_contact"
        if str(person.get(fm["consent_status"]) or "").lower() != "granted":
            return "no_consent"
        expires = _date(person.get(fm["consent_expires"]))
        if expires is not None and expires < today:
            return "consent_expired"
        for stop in ("replied", "hired", "applied"):
            if stop in reasons and stop in campaign.stop_on:
                return stop
        statuses = applications.get(pid, [])
        if APPLICANT_HIRED in statuses:
            return "hired"
        if any(s not in CLOSED_APPLICATION for s in statuses):
            return "active_application"
        if members[pid][2] in excluded_statuses:
            return "not_interested"
        address = (person.get("addresses") or [{}])[0] or {}
        if states and abbrev(address.get("addressstate")) not in states:
            return "not_in_segment"
        if countries and abbrev(address.get("addresscountry")) not in countries:
            return "not_in_segment"
        if tags_any:
            tags = {
                t.strip().lower() for t in str(person.get(fm.get("enrichment_tags", "")) or "").split(";")
            }
            if not tags & tags_any:
                return "not_in_segment"
        if not str(person.get("email") or "").strip():
            return "no_email"
        sent = sorted(mine.get(pid, []), key=lambda c: c.step)
        step = sent[-1].step + 1 if sent else 0
        if step >= len(campaign.steps):
            return "step_limit"
        if sent:
            first = next((c.sent_at for c in sent if c.step == 0), sent[0].sent_at)
            if now < first + timedelta(days=campaign.steps[step].day):
                return "not_due"
            if now < sent[-1].sent_at + timedelta(days=campaign.caps.min_days_between):
                return "campaign_cap"
        last_any = list(anywhere.get(pid, []))
        recorded = _date(person.get(fm.get("last_contacted", "")))
        if recorded is not None:
            # Contacts made outside this service (or before its state existed) count too.
            last_any.append(datetime(recorded.year, recorded.month, recorded.day, tzinfo=now.tzinfo))
        if last_any:
            if now - max(last_any) < timedelta(days=caps.min_days_between):
                return "global_cap"
            if sum(1 for t in last_any if now - t < timedelta(days=30)) >= caps.max_per_30_days:
                return "global_cap"
        zone = person_timezone(person, campaign.quiet_hours.default_timezone)
        window = quiet_reason(now, zone, campaign.quiet_hours)
        if window is not None:
            return window
        return ("ok", step)

    for pid in ids:
        outcome = reason_for(pid)
        if isinstance(outcome, str):
            counts[outcome] += 1
            continue
        assert outcome is not None
        if len(selected) >= batch:
            counts["batch_limit"] += 1
            continue
        step = outcome[1]
        person = people[pid]
        pool_id, workflow_id, _status = members[pid]
        selected.append(
            Selected(
                person_id=pid,
                step=step,
                template=campaign.steps[step].template,
                pool_id=pool_id,
                source_workflow_id=workflow_id,
                email=str(person.get("email")).strip(),
                first_name=str(person.get("firstname") or "").strip() or "there",
                timezone=person_timezone(person, campaign.quiet_hours.default_timezone),
            )
        )
    return Selection(selected=selected, excluded=dict(counts), members=len(ids), duplicates=duplicates)
