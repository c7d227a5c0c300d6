"""Nurture's infrastructure: the SQLite/SQLAlchemy `store` (campaigns, contacts, stops, deferred
sends, scheduler ticks) and the unsubscribe-link `secret`. The domain logic is `agents.nurture`, the
workflow `graphs.nurture`."""
