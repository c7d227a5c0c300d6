"""Email transports for outreach (the public iCIMS API has no email endpoint, API_NOTES 3.8).

`make_transport(settings)` picks one by `settings.email_transport`: the embedded default
`LocalOutbox` (`.eml` files plus an index under `data_dir/outbox`) or `SMTPTransport` (a real relay).
Both take an `OutgoingEmail` and return a `SendReceipt`; `LocalOutbox.has(message_id)` lets a
re-run see what already went out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tools.email.message import EmailTransport, OutgoingEmail, SendReceipt, TransportError
from tools.email.outbox import LocalOutbox
from tools.email.smtp import SMTPTransport

if TYPE_CHECKING:
    from tools.settings import Settings


def make_transport(settings: Settings) -> EmailTransport:
    if settings.email_transport == "smtp":
        return SMTPTransport.from_settings(settings)
    return LocalOutbox(settings.data_dir / "outbox")


__all__ = [
    "EmailTransport",
    "LocalOutbox",
    "OutgoingEmail",
    "SMTPTransport",
    "SendReceipt",
    "TransportError",
    "make_transport",
]
