"""The message every transport sends, and the transport interface."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, Field


class TransportError(RuntimeError):
    """The transport could not hand the message over (relay refused, disk full...)."""


class OutgoingEmail(BaseModel):
    message_id: str = Field(description="'<...@domain>', deterministic per (campaign, person, step)")
    from_address: str
    from_name: str
    to_address: str
    subject: str
    body: str
    unsubscribe_url: str
    sent_at: str = Field(description="ISO 8601 time stamped on the message")
    # Ids only (no PII): campaign, person, step, run. Carried as X- headers and in the outbox index.
    tags: dict[str, str] = Field(default_factory=dict)

    def to_mime(self) -> EmailMessage:
        from datetime import datetime

        # A URL header must not be folded into encoded words (mail clients would not find the link):
        # RFC 5322 allows 998-character lines.
        msg = EmailMessage(policy=policy.SMTP.clone(max_line_length=998))
        msg["Message-ID"] = self.message_id
        msg["From"] = formataddr((self.from_name, self.from_address))
        msg["To"] = self.to_address
        msg["Subject"] = self.subject
        msg["Date"] = format_datetime(datetime.fromisoformat(self.sent_at))
        # RFC 2369 / RFC 8058: mail clients show an unsubscribe button that posts to the link.
        msg["List-Unsubscribe"] = f"<{self.unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        for key, value in sorted(self.tags.items()):
            msg[f"X-Nurture-{key.title()}"] = value
        msg.set_content(self.body)
        return msg


class SendReceipt(BaseModel):
    message_id: str
    transport: str
    location: str | None = Field(default=None, description="outbox file, or the relay host")
    already_sent: bool = False


@runtime_checkable
class EmailTransport(Protocol):
    name: str

    def send(self, email: OutgoingEmail) -> SendReceipt: ...

    def has(self, message_id: str) -> bool:
        """Whether this transport has provably sent the message (False when it cannot tell)."""
        ...
