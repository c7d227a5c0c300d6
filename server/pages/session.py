"""Sign-in and sign-out, the `/ui` home redirect, and the vendored static files.

Sign-in stores the pasted API key in the `icims_agents_key` cookie (HttpOnly, SameSite=Lax, so no
other site can post these forms with it); `server.auth` reads the same cookie for the JSON API.
"""

from __future__ import annotations

from fastapi import HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from server.pages.common import COOKIE, page_router, principal_for_key, signed_in
from server.pages.render import STATIC_DIR, render

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


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(request: Request) -> Response:
    form = await request.form()
    key = str(form.get("api_key") or "").strip()
    target = _safe_next(str(form.get("next") or ""))
    principal = await principal_for_key(request, key) if key else None
    if principal is None:
        message = "Paste an API key." if not key else "That API key is not valid. Check it and try again."
        return render(request, "sign_in.html", None, status_code=401, error=message, next=target)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        key,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
        max_age=12 * 3600,
    )
    return response


@router.post("/sign-out")
async def sign_out() -> Response:
    response = RedirectResponse("/ui/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
