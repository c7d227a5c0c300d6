"""The pages' templates and what they render with: the Jinja2 environment over `server/templates`,
the helpers the templates call (`field`, `age`, `short_time`, `reason_label`, `is_unverified`), and
`render` / `error_page`, which every page answers through."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

SERVER_DIR = Path(__file__).resolve().parent.parent
STATIC_DIR = SERVER_DIR / "static"
ROLE_LABELS = {
    "recruiter": "Recruiter",
    "hiring_manager": "Hiring manager",
    "admin": "Admin",
    "auditor": "Auditor",
}
ACTION_LABELS = {"submit": "Submit to this job", "add_to_pool": "Add to talent pool"}
ERROR_TITLES = {
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    409: "Already resolved",
    422: "Not accepted",
    503: "Unavailable",
}

templates = Jinja2Templates(directory=str(SERVER_DIR / "templates"))


def field(obj: Any, *names: str, default: Any = None) -> Any:
    """The first present, non-None attribute or key of `obj` among `names` (models or dicts)."""
    for name in names:
        value = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
        if value is not None:
            return value
    return default


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def age(value: Any, now: datetime | None = None) -> str:
    """'just now', '12 min', '3 h', '2 d' since an ISO timestamp (or '' when unknown)."""
    when = _parse_time(value)
    if when is None:
        return ""
    seconds = max(0, int(((now or datetime.now(UTC)) - when).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def short_time(value: Any) -> str:
    when = _parse_time(value)
    return when.strftime("%Y-%m-%d %H:%M UTC") if when else ""


def is_unverified(reason: dict[str, Any]) -> bool:
    evidence = reason.get("evidence") or {}
    return bool(reason.get("flagged") or (evidence.get("quote") and not evidence.get("verified")))


def reason_label(reason: dict[str, Any]) -> str:
    """A reason's label without points or quote: "+12 must-have Python: 'q'" -> "must-have Python"."""
    text = str(reason.get("text") or "").strip()
    for sep in (": '", ': "'):
        text = text.split(sep, 1)[0]
    text = re.sub(r"^[+-]?\d+(\.\d+)?\s+", "", text).strip()
    return text or str(reason.get("criterion") or "").replace("_", " ")


templates.env.globals.update(
    field=field,
    reason_label=reason_label,
    age=age,
    short_time=short_time,
    is_unverified=is_unverified,
    ROLE_LABELS=ROLE_LABELS,
    ACTION_LABELS=ACTION_LABELS,
)


def role(principal: Any) -> str:
    return str(field(principal, "role", default=""))


def can_resolve(principal: Any) -> bool:
    return role(principal) in ("recruiter", "admin")


def can_audit(principal: Any) -> bool:
    return role(principal) in ("auditor", "admin")


def render(
    request: Request, name: str, principal: Any = None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    context.setdefault("notice", request.query_params.get("notice"))
    context.setdefault("error", None)
    return templates.TemplateResponse(
        request,
        name,
        {
            "principal": principal,
            "can_resolve": bool(principal) and can_resolve(principal),
            "can_audit": bool(principal) and can_audit(principal),
            "path": request.url.path,
            **context,
        },
        status_code=status_code,
    )


def error_page(request: Request, principal: Any, status: int, message: str) -> HTMLResponse:
    return render(
        request,
        "error.html",
        principal,
        status_code=status,
        title=ERROR_TITLES.get(status, "Something went wrong"),
        message=message,
        status=status,
    )
