"""The Conductor-compatible REST API under ``/api``, so Conductor's client SDKs and workers run
against ``dynoq server`` unchanged (point them at ``http://host:port/api``).

Routes live in :mod:`.metadata`, :mod:`.workflows`, :mod:`.bulk`, :mod:`.search`,
:mod:`.tasks`, :mod:`.events`, :mod:`.variables`, :mod:`.admin` and :mod:`.scheduler`; the
server also runs the event handlers. Errors are Conductor's ErrorResponse (:mod:`.http`). With
bearer tokens configured, Conductor's SDKs authenticate by exchanging a token for itself at
``POST /api/token`` (``CONDUCTOR_AUTH_KEY`` any id, ``CONDUCTOR_AUTH_SECRET`` the token) and
sending it as ``X-Authorization``; without tokens ``/api/token`` answers 404, which the SDKs
take as "no authentication".
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

from dynoq.runtime.settings import ServerConfig
from dynoq.services.conductor import admin as conductor_admin
from dynoq.services.conductor import bulk as conductor_bulk
from dynoq.services.conductor import events as conductor_events
from dynoq.services.conductor import metadata as conductor_metadata
from dynoq.services.conductor import scheduler as conductor_scheduler
from dynoq.services.conductor import search as conductor_search
from dynoq.services.conductor import tasks as conductor_tasks
from dynoq.services.conductor import variables as conductor_variables
from dynoq.services.conductor import workflows as conductor_workflows
from dynoq.services.conductor.http import ENGINE, PREFIX, TOKEN_PATH, field, object_body
from dynoq.services.http import ApiError
from dynoq.workflow.engine import WorkflowEngine
from dynoq.workflow.event_processor import EventProcessor
from dynoq.workflow.observer import WorkflowObserver
from dynoq.workflow.system_tasks import HttpTaskRunner

EngineFactory = Callable[[str, str], WorkflowEngine]
CONFIG = web.AppKey("conductor_config", ServerConfig)
HEALTH = {"healthy": True, "healthResults": [], "suppressedHealthResults": []}


async def health(request: web.Request) -> web.Response:
    return web.json_response(HEALTH)


async def token(request: web.Request) -> web.Response:
    """``{keyId, keySecret}`` -> ``{token}``: a configured token is its own secret."""
    tokens = request.app[CONFIG].tokens
    if not tokens:
        raise ApiError(404, "not_found", "authentication is not enabled on this server")
    secret = field(await object_body(request), "keySecret", str, "").encode()
    matches = [hmac.compare_digest(secret, t.encode()) for t in tokens]
    if not any(matches):
        raise ApiError(401, "unauthorized", "unknown keySecret")
    return web.json_response({"token": secret.decode()})


ROUTES: tuple[tuple[str, str, Any], ...] = (
    ("GET", PREFIX + "/health", health),
    ("POST", TOKEN_PATH, token),
    *conductor_metadata.ROUTES,
    *conductor_search.ROUTES,
    *conductor_bulk.ROUTES,
    *conductor_workflows.ROUTES,
    *conductor_tasks.ROUTES,
    *conductor_events.ROUTES,
    *conductor_variables.ROUTES,
    *conductor_admin.ROUTES,
    *conductor_scheduler.ROUTES,
)


def mount(
    app: web.Application,
    config: ServerConfig,
    make_engine: EngineFactory,
    observer: WorkflowObserver | None = None,
) -> None:
    """Adds the routes, and a workflow engine on the server's Redis and namespace (reporting
    to ``observer``, the server's workflow metrics)."""
    app[CONFIG] = config
    for method, path, handler in ROUTES:
        app.router.add_route(method, path, handler)

    async def engine_context(app: web.Application) -> AsyncIterator[None]:
        engine = app[ENGINE] = make_engine(config.redis_url, config.namespace)
        if observer is not None:
            engine.observe(observer)
        stop = asyncio.Event()
        runners = []
        if config.system_tasks:  # the server's system-task worker (HTTP tasks), event handlers
            runners.append(asyncio.create_task(HttpTaskRunner(engine).run(stop)))
            runners.append(asyncio.create_task(EventProcessor(engine).run(stop)))
        yield
        stop.set()
        for runner in runners:
            await runner
        await engine.aclose()

    app.cleanup_ctx.append(engine_context)
