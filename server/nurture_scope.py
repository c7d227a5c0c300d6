"""Who may act on a nurture campaign or on a person's sequences, scoped as approvals are.

A campaign belongs to its `owner_id`, else to the owner of its first talent pool in the mirror
(the same rule that puts its drafts in that recruiter's inbox). A recruiter runs, edits and
deletes only the campaigns that belong to them, targets only pools they own (or pools the campaign
already had when an admin gave it to them), and records replies only for people in their scope:
members of their pools or of their campaigns' pools, or applicants to requisitions they recruit
for. A campaign that belongs to nobody, and handing a campaign to another owner, are tenant-wide:
admin only. Auditors and hiring managers change nothing here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from agents.nurture.models import Campaign
from server.auth import Principal
from server.errors import Forbidden
from tools.mirror.store import link_id


def pool_owner(mirror: Any, pool_id: int) -> int | None:
    return link_id((mirror.get_data("talentpools", int(pool_id)) or {}).get("owner"))


def campaign_owner(mirror: Any, campaign: Campaign) -> int | None:
    if campaign.owner_id is not None:
        return campaign.owner_id
    return pool_owner(mirror, campaign.target.pool_ids[0])


def _recruiter(principal: Principal) -> int:
    if principal.role != "recruiter" or principal.recruiter_id is None:
        raise Forbidden(f"the {principal.role} role cannot change nurture campaigns or sequences")
    return principal.recruiter_id


def check_campaign(principal: Principal, mirror: Any, campaign: Campaign) -> None:
    """Run (or act on) this campaign: admins, or the recruiter it belongs to."""
    if principal.is_admin:
        return
    if campaign_owner(mirror, campaign) != _recruiter(principal):
        raise Forbidden(f"campaign {campaign.id!r} is not yours: recruiters run only their own campaigns")


def check_campaign_edit(
    principal: Principal, mirror: Any, existing: Campaign | None, new: Campaign | None
) -> None:
    """Create, replace (`new`) or delete (`new` None) a campaign. A recruiter keeps it theirs and
    adds only pools they own."""
    if principal.is_admin:
        return
    me = _recruiter(principal)
    if existing is not None and campaign_owner(mirror, existing) != me:
        raise Forbidden(f"campaign {existing.id!r} is not yours")
    if new is None:
        return
    if new.owner_id not in (None, me):
        raise Forbidden("only an admin gives a campaign to another owner")
    kept = set(existing.target.pool_ids) if existing is not None else set()
    foreign = [p for p in new.target.pool_ids if p not in kept and pool_owner(mirror, p) != me]
    if foreign:
        raise Forbidden(f"talent pools {foreign} are not yours: an admin adds them to a campaign")
    if campaign_owner(mirror, new) != me:
        raise Forbidden("the campaign would not be yours: set owner_id or list a pool you own first")


def check_person(
    principal: Principal,
    mirror: Any,
    person_id: int,
    campaigns: Iterable[Campaign],
    campaign: Campaign | None = None,
) -> None:
    """Stop a person's sequences (a reply): admins, or a recruiter the person is in scope for (in
    `campaign`, when given, which must be theirs)."""
    if principal.is_admin:
        return
    me = _recruiter(principal)
    if campaign is not None:
        check_campaign(principal, mirror, campaign)
        mine = list(campaign.target.pool_ids)
    else:
        mine = [p for c in campaigns if campaign_owner(mirror, c) == me for p in c.target.pool_ids]
    pools = {row.base_id for row in mirror.rows_where("sourceworkflows", "person_id", [int(person_id)])}
    if pools & set(mine) or (campaign is None and any(pool_owner(mirror, p) == me for p in pools)):
        return
    if campaign is None:
        for row in mirror.rows_where("applicantworkflows", "person_id", [int(person_id)]):
            job = mirror.get_data("jobs", int(row.base_id)) if row.base_id is not None else None
            if job and link_id(job.get("recruiter")) == me:
                return
    raise Forbidden(f"person {person_id} is not in your pools, campaigns or requisitions")
