"""The periodic nurture job: `tick(state, now)` fires every enabled campaign whose cron schedule
matches `now`'s minute (evaluated with `huey.crontab`), once per minute however many workers tick.

The worker calls it every minute (`tools.queue.PERIODIC["nurture_tick"]`); tests call it with a
`now`. A fired run goes as far as its approval (or, under an admin policy, sends); its thread is
`nurture:{customer}:{campaign}:{run}` with the run id taken from the minute. Each (campaign, minute)
is claimed in the nurture store first, so two workers ticking the same minute fire it once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agents.nurture.campaigns import all_campaigns
from agents.nurture.models import parse_cron


def is_due(schedule: str | None, now: datetime) -> bool:
    from huey import crontab

    if not schedule:
        return False
    # huey's crontab compares naive fields: evaluate in UTC.
    return bool(crontab(**parse_cron(schedule))(now.astimezone(UTC).replace(tzinfo=None)))


def run_id_for(now: datetime) -> str:
    return "tick-" + now.astimezone(UTC).strftime("%Y%m%dT%H%M")


def tick(state: Any, now: datetime) -> dict[str, Any]:
    from graphs.nurture import start_run

    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    deps = state.deps["nurture"]
    graph = state.graphs["nurture"]
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
    from graphs.nurture import send_deferred

    deferred = send_deferred(graph, deps, now=now)
    return {"now": now.astimezone(UTC).isoformat(), "fired": fired, "skipped": skipped, "deferred": deferred}
