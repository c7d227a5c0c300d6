"""SMTP relay transport (settings `smtp_*`). Tested against aiosmtpd on 127.0.0.1.

SMTP has no idempotency: whether a relay got a message whose reply was lost cannot be asked. The
caller's ledger marks a send as under way before calling `send`, and never repeats one left in that
state (at most once), so `has` answers False.
"""

from __future__ import annotations

import smtplib
import ssl
from typing import TYPE_CHECKING

from tools.email.message import OutgoingEmail, SendReceipt, TransportError

if TYPE_CHECKING:
    from tools.settings import Settings


class SMTPTransport:
    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 30.0,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> SMTPTransport:
        return cls(
            settings.smtp_host,
            settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            starttls=settings.smtp_starttls,
            timeout=settings.smtp_timeout_seconds,
        )

    def has(self, message_id: str) -> bool:
        return False

    def send(self, email: OutgoingEmail) -> SendReceipt:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                refused = smtp.send_message(email.to_mime())
        except (smtplib.SMTPException, OSError) as exc:
            raise TransportError(f"SMTP relay {self.host}:{self.port} refused the message: {exc}") from exc
        if refused:
            raise TransportError(f"SMTP relay refused {len(refused)} recipient(s)")
        return SendReceipt(
            message_id=email.message_id, transport=self.name, location=f"{self.host}:{self.port}"
        )
