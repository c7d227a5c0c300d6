"""Nurture: keep talent-pool members warm with consent-checked, personal outreach on a schedule.

Pure domain logic: `models` (campaign definitions), `campaigns` (YAML + API catalogue), `selection`
(who is due, every exclusion counted), `timing` (time zones, quiet hours, cron), `matching` (ranker
+ scorer personalisation), `drafting` (Jinja2 templates, optional LLM rewrite), `moderation`,
`tokens` (signed unsubscribe links) and `stops` (which events stop a sequence). The workflow (graph,
scheduler, event handler, stops) is `graphs.nurture`; the store is `tools.nurture.store`.
"""
