"""Which handlers an event goes to (docs/AGENTS_CONTRACT.md): `AssessmentEvent` (application
complete) -> triage; `WorkFlowStatusChangeEvent` -> offer and nurture, each of which checks the
workflow's real status itself. Handlers are imported lazily, when an event first needs them, so a
missing agent makes its events dead letters (with the reason) instead of stopping the worker.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

HANDLERS: dict[str, str] = {
    "triage": "agents.triage.handler:handle_event",
    "offer": "agents.offer.events:handle_event",
    "nurture": "agents.nurture.events:handle_event",
}

ROUTES: dict[str, tuple[str, ...]] = {
    "AssessmentEvent": ("triage",),
    "WorkFlowStatusChangeEvent": ("offer", "nurture"),
}

Handler = Callable[[Any, Any], dict[str, Any]]


class HandlerUnavailable(RuntimeError):
    """The handler's module or function cannot be imported: retrying will not help."""


def routes(event_type: str) -> tuple[str, ...]:
    return ROUTES.get(event_type, ())


def resolve(name: str, overrides: Mapping[str, str] | None = None) -> Handler:
    target = (overrides or {}).get(name) or HANDLERS.get(name)
    if not target:
        raise HandlerUnavailable(f"no handler registered as {name!r}")
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise HandlerUnavailable(f"handler {target} is not installed ({exc.name} not found)") from None
        raise
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise HandlerUnavailable(f"handler {target}: {attr} is not a function")
    return fn
