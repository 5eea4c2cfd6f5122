"""Who may use the UI, and that a state change came from the UI's own page.

With tokens configured, the UI asks for one once (``/ui/login``) and keeps it in an HttpOnly,
SameSite=Strict cookie. Every page gets a random CSRF value in a second cookie; each form that
changes state carries it in a hidden field and the two must match (a page of another site can
neither read the cookie nor, with SameSite=Strict, send it), and a POST whose ``Origin`` names
another host is refused outright.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlencode, urlsplit

from aiohttp import web
from aiohttp.typedefs import Middleware

TOKEN_COOKIE = "dynoq_ui_token"
CSRF_COOKIE = "dynoq_ui_csrf"
CSRF_FIELD = "csrf"
COOKIE_PATH = "/ui"
CSRF_KEY = web.RequestKey("ui_csrf", str)
OPEN_PATHS = frozenset({"/ui/login", "/ui/static"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def token_accepted(given: str, tokens: Sequence[str]) -> bool:
    # compare with every token, so the time taken says nothing about which one matched
    matches = [hmac.compare_digest(given.encode(), t.encode()) for t in tokens]
    return bool(given) and any(matches)


def request_token(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() == "bearer" and given.strip():
        return given.strip()
    return request.cookies.get(TOKEN_COOKIE, "")


def csrf_value(request: web.Request) -> str:
    """The CSRF value of this browser (made on its first page)."""
    value = request.get(CSRF_KEY)
    if not value:
        value = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        request[CSRF_KEY] = value
    return value


def set_cookie(response: web.StreamResponse, name: str, value: str, secure: bool) -> None:
    response.set_cookie(
        name, value, path=COOKIE_PATH, httponly=True, samesite="Strict", secure=secure
    )


def _is_open(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in OPEN_PATHS)


def same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.host


def middleware(tokens: Sequence[str]) -> Middleware:
    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if (
            tokens
            and not _is_open(request.path)
            and not token_accepted(request_token(request), tokens)
        ):
            if request.method == "GET":
                raise web.HTTPSeeOther("/ui/login?" + urlencode({"next": request.path_qs}))
            raise web.HTTPUnauthorized(text="log in at /ui/login first")
        if request.method == "POST":
            form = await request.post()
            sent = str(form.get(CSRF_FIELD, ""))
            kept = request.cookies.get(CSRF_COOKIE, "")
            if not same_origin(request) or not kept or not hmac.compare_digest(sent, kept):
                raise web.HTTPForbidden(
                    text="this form did not come from this UI (reload the page and try again)"
                )
        response = await handler(request)
        if CSRF_COOKIE not in request.cookies:
            set_cookie(response, CSRF_COOKIE, csrf_value(request), request.secure)
        return response

    return guard
