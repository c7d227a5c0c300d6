"""The workflows this service runs, one line per graph package, in the order they open (a graph
may use the deps of one above it: nurture ranks with rediscovery's candidate index)."""

from __future__ import annotations

import importlib
from typing import Any

# "module:attribute": a `graphs.kit.kind.GraphKind`, or a registration function (state) -> GraphSpec.
REGISTERED: tuple[str, ...] = (
    "server.state:rediscovery_spec",
    "server.offers:service_spec",
    "graphs.nurture:service_spec",
    "graphs.triage:service_spec",
)


def registered() -> list[Any]:
    out = []
    for target in REGISTERED:
        module, _, name = target.partition(":")
        out.append(getattr(importlib.import_module(module), name))
    return out
