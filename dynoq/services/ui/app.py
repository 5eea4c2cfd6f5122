"""Mounts the UI on the server's application: a sub-application at ``/ui`` with its own
templates, static files, login and CSRF guard, error pages, and the queue-chart sampler."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp_jinja2
import jinja2
from aiohttp import web

from dynoq.errors import Conflict, DynoqError, InvalidArgument, NotFound, QueueNotFound
from dynoq.runtime.settings import ServerConfig
from dynoq.services import queue_api
from dynoq.services.ui import auth
from dynoq.services.ui.common import WorkflowsMissing
from dynoq.services.ui.diagram import DiagramRenderer
from dynoq.services.ui.sampler import Sampler

log = logging.getLogger("dynoq.ui")

PREFIX = "/ui"
HERE = Path(__file__).parent
SAMPLER = web.AppKey("ui_sampler", Sampler)
RENDERER = web.AppKey("ui_renderer", DiagramRenderer)
TOKENS = web.AppKey("ui_tokens", tuple[str, ...])
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _ms(value: int | float | None) -> str:
    if not value:
        return "-"
    moment = datetime.fromtimestamp(value / 1000, UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _seconds(value: float | None) -> str:
    return _ms(value * 1000) if value else "-"


def _duration(ms: int | float | None) -> str:
    if ms is None or ms < 0:
        return "-"
    if ms < 1000:
        return f"{int(ms)} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    if ms < 3_600_000:
        return f"{int(ms // 60_000)} min {int(ms % 60_000 // 1000)} s"
    return f"{int(ms // 3_600_000)} h {int(ms % 3_600_000 // 60_000)} min"


def _pretty(value: Any) -> str:
    if isinstance(value, bytes):
        return f"<{len(value)} bytes> " + value[:200].hex()
    return json.dumps(value, indent=2, sort_keys=True, default=repr, ensure_ascii=False)


def _q(value: object) -> str:
    return quote(str(value), safe="")


def page(
    request: web.Request, template: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    """The template rendered with what every page shows (CSRF value, notices, login state)."""
    base = {
        "csrf": auth.csrf_value(request),
        "notice": request.query.get("msg", ""),
        "problem": request.query.get("err", ""),
        "logged_in": bool(request.app[TOKENS]),
        "path": request.path,
    }
    return aiohttp_jinja2.render_template(template, request, {**base, **context}, status=status)


def back(url: str, msg: str = "", err: str = "") -> web.HTTPSeeOther:
    """A redirect after a form (post, redirect, get), with a notice for the next page."""
    params = {k: v for k, v in (("msg", msg), ("err", err)) if v}
    sep = "&" if "?" in url else "?"
    return web.HTTPSeeOther(url + (sep + urlencode(params) if params else ""))


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:  # a redirect: answered here, the server's error handler would not
            response = web.Response(status=exc.status, headers=exc.headers)
            for name, morsel in exc.cookies.items():
                response.cookies[name] = morsel
            return response
        message = exc.text if exc.status in (401, 403) and exc.text else exc.reason
        return page(request, "error.html", {"status": exc.status, "message": message}, exc.status)
    except (NotFound, QueueNotFound, WorkflowsMissing) as exc:
        return page(request, "error.html", {"status": 404, "message": str(exc)}, 404)
    except (InvalidArgument, Conflict) as exc:
        return page(request, "error.html", {"status": 400, "message": str(exc)}, 400)
    except DynoqError as exc:
        log.warning("%s %s: %s", request.method, request.path, exc)
        return page(request, "error.html", {"status": 503, "message": str(exc)}, 503)


async def login_form(request: web.Request) -> web.Response:
    if not request.app[TOKENS]:
        raise web.HTTPSeeOther(PREFIX + "/")
    return page(request, "login.html", {"next": request.query.get("next", PREFIX + "/")})


async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    target = str(form.get("next", "")) or PREFIX + "/"
    if not target.startswith(PREFIX + "/"):
        target = PREFIX + "/"  # never send anyone off this UI
    tokens = request.app[TOKENS]
    if not auth.token_accepted(str(form.get("token", "")), tokens):
        return page(request, "login.html", {"next": target, "failed": True}, 401)
    response = web.HTTPSeeOther(target)
    auth.set_cookie(response, auth.TOKEN_COOKIE, str(form["token"]), request.secure)
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    response = web.HTTPSeeOther(PREFIX + "/login")
    response.del_cookie(auth.TOKEN_COOKIE, path=auth.COOKIE_PATH)
    raise response


def build_ui(config: ServerConfig) -> web.Application:
    from dynoq.services.ui import definitions, overview, queues, schedules, workflows

    ui = web.Application(
        middlewares=[error_pages, auth.middleware(config.tokens)],
        client_max_size=config.max_body_bytes,
    )
    ui[TOKENS] = tuple(config.tokens)
    ui[RENDERER] = DiagramRenderer()
    env = aiohttp_jinja2.setup(
        ui,
        loader=jinja2.PackageLoader("dynoq.services.ui", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(ms=_ms, seconds=_seconds, duration=_duration, pretty=_pretty, q=_q)
    ui.router.add_static("/static", HERE / "static", name="static")
    ui.router.add_get("/login", login_form)
    ui.router.add_post("/login", login)
    ui.router.add_post("/logout", logout)
    for module in (overview, queues, workflows, definitions, schedules):
        for method, path, handler in module.ROUTES:
            ui.router.add_route(method, path, handler)
    return ui


def serves(path: str) -> bool:
    """Whether a request path is the UI's (which checks logins itself)."""
    return path == PREFIX or path.startswith(PREFIX + "/")


def mount(app: web.Application, config: ServerConfig, *, sample_interval: float = 10.0) -> None:
    """Serves the UI at ``/ui/`` (and ``/`` redirects there); starts the chart sampler. Call
    after the queue directory's context is added: the sampler uses it."""
    ui = build_ui(config)
    sampler = ui[SAMPLER] = Sampler(app[queue_api.METRICS].registry, sample_interval)

    async def redirect(request: web.Request) -> web.StreamResponse:
        return web.Response(status=302, headers={"Location": PREFIX + "/"})

    async def sampler_context(app: web.Application) -> AsyncIterator[None]:
        sampler.attach(app[queue_api.DIRECTORY])
        stop = asyncio.Event()
        task = asyncio.create_task(sampler.run(stop))
        yield
        stop.set()
        await task

    app.router.add_get("/", redirect)
    app.router.add_get(PREFIX, redirect)
    app.cleanup_ctx.append(sampler_context)
    app.add_subapp(PREFIX, ui)
