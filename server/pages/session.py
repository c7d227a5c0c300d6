"""Sign-in and sign-out, the `/ui` home redirect, and the vendored static files.

Sign-in trades the pasted API key for a server-side session (`server.auth.KeyStore.open_session`):
the cookie holds only the session's random id (HttpOnly, SameSite=Strict, Secure over https), never
the key; sign-out deletes the session. Wrong keys count against the client's throttle (429 with
Retry-After once it is spent).
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from server.auth import SESSION_TTL_SECONDS
from server.pages.common import COOKIE, call, page_router, principal_for_key, service_of, signed_in
from server.pages.render import STATIC_DIR, render
from server.security import Throttled, session_cookie

router = page_router()

STATIC_FILES = {
    "app.css": "text/css",
    "htmx.min.js": "text/javascript",
    "htmx.LICENSE.txt": "text/plain",
}


@router.get("/static/{name}")
def static(name: str) -> FileResponse:
    if name not in STATIC_FILES:
        raise HTTPException(404, "no such file")
    return FileResponse(
        STATIC_DIR / name, media_type=STATIC_FILES[name], headers={"Cache-Control": "max-age=3600"}
    )


def _safe_next(target: str | None) -> str:
    # Only local paths: never redirect off-site after sign-in.
    return target if target and target.startswith("/ui") and not target.startswith("//") else "/ui/inbox"


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    return RedirectResponse("/ui/inbox", status_code=303)


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_form(request: Request, next: str | None = None) -> Response:
    return render(request, "sign_in.html", await signed_in(request), next=_safe_next(next))


def _cookie_options(request: Request) -> dict[str, Any]:
    return {"httponly": True, "samesite": "strict", "secure": request.url.scheme == "https", "path": "/"}


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(request: Request) -> Response:
    form = await request.form()
    key = str(form.get("api_key") or "").strip()
    target = _safe_next(str(form.get("next") or ""))
    try:
        principal = await principal_for_key(request, key) if key else None
    except Throttled as exc:
        message = f"Too many wrong keys from this computer. Try again in {exc.retry_after} s."
        page = render(request, "sign_in.html", None, status_code=429, error=message, next=target)
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    if principal is None:
        message = "Paste an API key." if not key else "That API key is not valid. Check it and try again."
        return render(request, "sign_in.html", None, status_code=401, error=message, next=target)
    keys = service_of(request).keys
    # A new id at every sign-in: a session id planted before sign-in is never promoted.
    await call(keys.close_session, session_cookie(request))
    session = await call(keys.open_session, principal)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, session, max_age=SESSION_TTL_SECONDS, **_cookie_options(request))
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    await call(service_of(request).keys.close_session, session_cookie(request))
    response = RedirectResponse("/ui/sign-in", status_code=303)
    response.delete_cookie(COOKIE, **_cookie_options(request))
    return response
