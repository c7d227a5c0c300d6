"""iCIMS event notifications (API_NOTES 5): payload models, tenant auth, body limits, the durable
event store and routing to handlers (docs/ARCHITECTURE.md "Data flow: one iCIMS event").

Kept import-light: `tools.settings` imports `tools.events.models`.
"""
