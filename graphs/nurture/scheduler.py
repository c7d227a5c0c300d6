"""The periodic nurture job: `tick(state, now)` fires every enabled campaign whose cron schedule
matches `now`'s minute, once per minute however many workers tick, then sends the approved drafts
whose quiet hours have ended.

The worker calls it every minute (the kind's `PeriodicJob("nurture_tick")`); tests call it with a
`now`. A fired run goes as far as its approval (or, under an admin policy, sends); its thread is
`nurture:{customer}:{campaign}:{run}` with the run id taken from the minute. Each (campaign, minute)
is claimed in the nurture store first, so two workers ticking the same minute fire it once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agents.nurture.campaigns import all_campaigns
from agents.nurture.timing import is_due
from graphs.nurture.deps import graph_and_deps
from graphs.nurture.run import send_deferred, start_run


def run_id_for(now: datetime) -> str:
    return "tick-" + now.astimezone(UTC).strftime("%Y%m%dT%H%M")


def tick(state: Any, now: datetime) -> dict[str, Any]:
    """`state`: the service's state (nurture registered) or the nurture kind opened alone."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    graph, deps = graph_and_deps(state)
    fired: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    for campaign in all_campaigns(deps.store, deps.settings.nurture_campaign_dir).values():
        if not campaign.enabled:
            skipped[campaign.id] = "disabled"
        elif not is_due(campaign.schedule, now):
            skipped[campaign.id] = "not due"
        elif not deps.store.claim_tick(campaign.id, now):
            skipped[campaign.id] = "already fired this minute"
        else:
            try:
                thread_id, values = start_run(
                    graph,
                    customer_id=deps.settings.icims_customer_id,
                    campaign_id=campaign.id,
                    run_id=run_id_for(now),
                    as_of=now,
                )
            except Exception as exc:  # one campaign's failure (iCIMS down under a policy) spares the rest
                fired.append({"campaign_id": campaign.id, "error": f"{type(exc).__name__}: {exc}"})
                continue
            fired.append(
                {
                    "campaign_id": campaign.id,
                    "thread_id": thread_id,
                    "selection": values.get("selection") or {},
                    "drafts": len(values.get("drafts") or []),
                    "sends": len(values.get("sends") or []),
                }
            )
    deferred = send_deferred(graph, deps, now=now)
    return {"now": now.astimezone(UTC).isoformat(), "fired": fired, "skipped": skipped, "deferred": deferred}
