"""Nurture: keep talent-pool members warm with consent-checked, personal outreach on a schedule.

`models` (campaign definitions), `campaigns` (YAML + API catalogue), `store` (persisted state),
`selection` (who is due, every exclusion counted), `timing` (time zones, quiet hours), `matching`
(ranker + scorer personalisation), `drafting` (Jinja2 templates, optional LLM rewrite),
`moderation`, `tokens` (signed unsubscribe links), `stops` (unsubscribe, replies, applications),
`events` (the event handler) and `scheduler` (the periodic tick). The graph is `graphs/nurture.py`.
"""
