"""The workflows this service runs, one line per graph package, in the order they open: a graph may
use the deps of one above it (nurture ranks with rediscovery's candidate index), and an iCIMS event
type handled by several reaches them in this order (a status change: offer, then nurture)."""

from __future__ import annotations

from graphs.kit.kind import GraphKind
from graphs.nurture.kind import KIND as NURTURE
from graphs.offer.kind import KIND as OFFER
from graphs.rediscovery.kind import KIND as REDISCOVERY
from graphs.triage.kind import KIND as TRIAGE

KINDS: tuple[GraphKind, ...] = (
    REDISCOVERY,
    OFFER,
    NURTURE,
    TRIAGE,
)


def registered() -> list[GraphKind]:
    return list(KINDS)
