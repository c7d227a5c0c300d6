"""Server-rendered web pages: sign-in, approvals inbox and detail, requisition shortlists, copilot
chat and the audit log, one module per family of pages.

Plain HTML forms that post to these routes, which call the same `ApprovalService` as the JSON API,
so every page reads and works without JavaScript. htmx (vendored in `server/static`, 0BSD) only
boosts links and forms into partial page swaps.

Every route lives under `/ui` (`router`, which the app includes). Sign-in trades the pasted API key
for a server-side session whose random id is the `COOKIE` cookie (HttpOnly, SameSite=Strict);
`server.auth` reads the same cookie for the JSON API, and `server.security` refuses any
state-changing request riding on it that does not come from these pages (CSRF).
"""

from __future__ import annotations

from fastapi import APIRouter

from server.pages import approval, audit, copilot, inbox, requisitions, session
from server.pages.common import COOKIE
from server.pages.render import age, field, reason_label, short_time, templates

__all__ = ["COOKIE", "age", "field", "reason_label", "router", "short_time", "templates"]

router = APIRouter(include_in_schema=False)
for pages in (session, inbox, approval, requisitions, copilot, audit):
    router.include_router(pages.router)
