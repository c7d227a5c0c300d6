"""iCIMS event notifications (API_NOTES 5): payload models, tenant auth, body limits, the durable
event store and routing to handlers (docs/AGENTS_CONTRACT.md "Events").

Kept import-light: `tools.settings` imports `tools.events.models`.
"""
