"""Event notifications (API_NOTES 5): gzip'd JSON POSTs to a registered URL, signed per its auth mode.

Every event is numbered and kept with each delivery attempt (status, reply body and headers). There
are no automatic retries, as in iCIMS; `fire(n)` re-sends event n byte for byte to test duplicate
handling. Deliveries run as tasks on the server's event loop; `wait_idle()` lets a caller (the
`?wait=true` admin endpoints) return only once they finished, so tests need no sleeps.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import httpx
from pydantic import BaseModel, model_validator

from sandbox.auth import sign_headers

EVENT_TYPES = ("WorkFlowStatusChangeEvent", "AssessmentEvent", "JobPostToWebEvent", "JobUnpostToWebEvent")
MAX_REPLY_CHARS = 65_536


class WebhookConfig(BaseModel):
    url: str
    auth: Literal["none", "basic", "hmac", "oauth"] = "none"
    username: str | None = None
    password: str | None = None
    hmac_user: str | None = None
    hmac_secret: str | None = None
    token_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    timeout_seconds: float = 30.0  # iCIMS gives partners about 30 s (API_NOTES 5)

    @model_validator(mode="after")
    def _credentials_for_mode(self) -> WebhookConfig:
        needed = {
            "basic": ("username", "password"),
            "hmac": ("hmac_user", "hmac_secret"),
            "oauth": ("token_url", "client_id", "client_secret"),
        }.get(self.auth, ())
        missing = [name for name in needed if not getattr(self, name)]
        if missing:
            raise ValueError(f"auth {self.auth!r} needs {', '.join(missing)}")
        return self


@dataclass
class Delivery:
    event: int
    attempt: int
    time: datetime
    request_headers: dict[str, str]
    status_code: int | None = None
    reply_body: str = ""
    reply_headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "attempt": self.attempt,
            "time": self.time.isoformat(),
            "status_code": self.status_code,
            "reply_body": self.reply_body,
            "reply_headers": self.reply_headers,
            "request_headers": self.request_headers,
            "error": self.error,
        }


@dataclass
class EventRecord:
    n: int
    payload: dict[str, Any]
    links: list[dict[str, str]]
    created: datetime
    deliveries: list[Delivery] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "event": self.payload,
            "created": self.created.isoformat(),
            "deliveries": [d.to_json() for d in self.deliveries],
        }


def status_number(code: str) -> str:
    """Events carry numeric status ids (`"1753"`), profiles `D…`/`C…` codes; the sandbox maps a code
    to its digits (`C51218` -> `"51218"`) [I: the real mapping is internal to iCIMS]."""
    digits = re.sub(r"\D", "", code or "")
    return digits or (code or "")


def build_payload(
    *,
    event_type: str,
    customer_id: int,
    base: str,
    system_id: int,
    user_id: int | None = None,
    person_id: int | None = None,
    job_id: int | None = None,
    old_status: str | None = None,
    new_status: str | None = None,
    extra: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The section 5 payload: every value a string, links to the related API resources."""
    api = f"{base}/customers/{customer_id}"
    payload: dict[str, Any] = {
        "customerId": str(customer_id),
        "systemId": str(system_id),
        "eventType": event_type,
    }
    if user_id is not None:
        payload["userId"] = str(user_id)
    links: list[dict[str, str]] = []
    if event_type in ("WorkFlowStatusChangeEvent", "AssessmentEvent"):
        if person_id is not None:
            payload["personId"] = str(person_id)
        if job_id is not None:
            payload["jobId"] = str(job_id)
        if event_type == "WorkFlowStatusChangeEvent":
            payload["oldStatus"] = status_number(old_status or "")
            payload["newStatus"] = status_number(new_status or "")
        links.append(
            {
                "rel": "applicantWorkflow",
                "title": "Applicant Workflow",
                "url": f"{api}/applicantworkflows/{system_id}",
            }
        )
        if job_id is not None:
            links.append({"rel": "job", "title": "Job Profile", "url": f"{api}/jobs/{job_id}"})
        if person_id is not None:
            links.append({"rel": "person", "title": "Person Profile", "url": f"{api}/people/{person_id}"})
    else:
        links.append({"rel": "job", "title": "Job Profile", "url": f"{api}/jobs/{system_id}"})
    if user_id is not None:
        links.append({"rel": "user", "title": "Posting User", "url": f"{api}/people/{user_id}"})
    for key, value in (extra or {}).items():
        payload[key] = str(value)
    payload["links"] = links
    return payload


def link_header(links: list[dict[str, str]]) -> str:
    return ", ".join(f'<{link["url"]}>; rel="{link["rel"]}"; title="{link["title"]}"' for link in links)


class Webhooks:
    def __init__(self, clock: Callable[[], datetime]):
        self.clock = clock
        self.config: WebhookConfig | None = None
        self.events: list[EventRecord] = []
        self._pending: set[asyncio.Task[Delivery]] = set()
        self._oauth_token: tuple[str, datetime] | None = None

    def configure(self, config: WebhookConfig | None) -> None:
        self.config = config
        self._oauth_token = None

    def record(self, payload: dict[str, Any]) -> EventRecord:
        event = EventRecord(len(self.events) + 1, payload, list(payload.get("links", [])), self.clock())
        self.events.append(event)
        return event

    def event(self, n: int) -> EventRecord | None:
        return self.events[n - 1] if 1 <= n <= len(self.events) else None

    def send(self, event: EventRecord) -> asyncio.Task[Delivery] | None:
        """Start a delivery on the running loop; None when no webhook is registered."""
        if self.config is None:
            return None
        task = asyncio.get_running_loop().create_task(self._deliver(event, self.config))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return task

    async def wait_idle(self, timeout: float = 60.0) -> None:
        """Return when every delivery started so far (and any they started) has finished."""
        async with asyncio.timeout(timeout):
            while self._pending:
                await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._pending):
            task.cancel()
        await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def _deliver(self, event: EventRecord, config: WebhookConfig) -> Delivery:
        # mtime=0 keeps the gzip bytes identical across re-sends of the same event.
        body = gzip.compress(json.dumps(event.payload, separators=(",", ":")).encode(), mtime=0)
        headers = {"content-type": "application/json", "content-encoding": "gzip"}
        if event.links:
            headers["link"] = link_header(event.links)
        delivery = Delivery(event.n, len(event.deliveries) + 1, self.clock(), request_headers={})
        event.deliveries.append(delivery)
        try:
            async with httpx.AsyncClient(timeout=config.timeout_seconds) as client:
                headers.update(await self._auth_headers(client, config, body))
                delivery.request_headers = {k: v for k, v in headers.items() if k != "authorization"}
                reply = await client.post(config.url, content=body, headers=headers)
            delivery.status_code = reply.status_code
            delivery.reply_body = reply.text[:MAX_REPLY_CHARS]
            delivery.reply_headers = dict(reply.headers)
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            delivery.error = f"{type(exc).__name__}: {exc}"
        return delivery

    async def _auth_headers(
        self, client: httpx.AsyncClient, config: WebhookConfig, body: bytes
    ) -> dict[str, str]:
        if config.auth == "basic":
            raw = f"{config.username}:{config.password}".encode()
            return {"authorization": "Basic " + base64.b64encode(raw).decode()}
        if config.auth == "hmac":
            url = httpx.URL(config.url)
            now = self.clock()
            signed = sign_headers(
                user=config.hmac_user or "",
                secret=config.hmac_secret or "",
                method="POST",
                path=url.path,
                query=url.query.decode(),
                host=url.netloc.decode(),
                body=body,
                icims_date=now.strftime("%Y-%m-%dT%H:%M:%S+0000"),
            )
            return signed
        if config.auth == "oauth":
            return {"authorization": f"Bearer {await self._oauth(client, config)}"}
        return {}

    async def _oauth(self, client: httpx.AsyncClient, config: WebhookConfig) -> str:
        """Client credentials against the partner's token URL; cached until shortly before expiry."""
        now = self.clock()
        if self._oauth_token is not None and self._oauth_token[1] > now:
            return self._oauth_token[0]
        reply = await client.post(
            config.token_url or "",
            data={
                "grant_type": "client_credentials",
                "client_id": config.client_id or "",
                "client_secret": config.client_secret or "",
            },
        )
        reply.raise_for_status()
        data = reply.json()
        token = str(data["access_token"])
        lifetime = max(0, int(data.get("expires_in", 3600)) - 60)
        self._oauth_token = (token, now + timedelta(seconds=lifetime))
        return token
