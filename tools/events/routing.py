"""Which handlers an iCIMS event goes to, by event type, in order.

The table is not kept here: the server builds an `EventRoutes` from the graph kinds it registered
(each kind declares the event types it handles) and binds it to the queue, so `tools/` never names
what runs above it. `settings.events_handlers` may point a handler name at another function
("module:function", imported when an event first needs it): an operator's replacement, or a test's.
A handler that cannot be found makes its events dead letters (with the reason) instead of stopping
the worker.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# (the stored event: tools.events.store.StoredEvent, the runtime the queue is bound to) -> the outcome.
Handler = Callable[[Any, Any], dict[str, Any]]


class HandlerUnavailable(RuntimeError):
    """The handler's module or function cannot be imported: retrying will not help."""


@dataclass(frozen=True)
class EventRoutes:
    handlers: Mapping[str, Handler] = field(default_factory=dict)
    by_type: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, entries: Iterable[tuple[str, str, Handler | None]]) -> EventRoutes:
        """From (event type, handler name, handler) triples, in the order the handlers run; a None
        handler routes the name without one (only `settings.events_handlers` can then supply it)."""
        handlers: dict[str, Handler] = {}
        by_type: dict[str, tuple[str, ...]] = {}
        for event_type, name, handler in entries:
            if handler is not None:
                handlers[name] = handler
            if name not in by_type.get(event_type, ()):
                by_type[event_type] = (*by_type.get(event_type, ()), name)
        return cls(handlers, by_type)

    def routes(self, event_type: str) -> tuple[str, ...]:
        return tuple(self.by_type.get(event_type, ()))

    def resolve(self, name: str, overrides: Mapping[str, str] | None = None) -> Handler:
        target = (overrides or {}).get(name)
        if target:
            return _import(target)
        handler = self.handlers.get(name)
        if handler is None:
            raise HandlerUnavailable(f"no handler registered as {name!r}")
        return handler


def _import(target: str) -> Handler:
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
