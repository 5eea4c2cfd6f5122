"""``dynoq server``: the HTTP API over the queues of one namespace (routes in
:mod:`dynoq.services.queue_api`, described by ``/openapi.json``)."""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

import redis
from aiohttp import web
from aiohttp.typedefs import Middleware
from prometheus_client import CollectorRegistry

from dynoq.backend.connect import ainfo, async_client, translate_error
from dynoq.core.models import QueueStats
from dynoq.errors import (
    ConfigError,
    Conflict,
    DynoqError,
    InvalidArgument,
    NotFound,
    PayloadTooLarge,
    QueueNotFound,
    RedisUnavailable,
)
from dynoq.runtime.metrics import Metrics, QueueGauges
from dynoq.runtime.serving import warn_if_embedded, warn_if_evicting
from dynoq.runtime.settings import ServerConfig
from dynoq.services import queue_api as routes
from dynoq.services import schedule_api, ui
from dynoq.services.conductor import http as conductor_http
from dynoq.services.directory import QueueDirectory
from dynoq.services.http import ApiError, error_response
from dynoq.services.protocol import JsonErrorRunner
from dynoq.workflow import MISSING_EXTRA
from dynoq.workflow import installed as workflows_installed

if TYPE_CHECKING:
    from dynoq.services.conductor.app import EngineFactory

log = logging.getLogger("dynoq.server")

RequestHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]
OPEN_PATHS = frozenset({"/", "/health", "/api/health", conductor_http.TOKEN_PATH})

_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def _as_api_error(exc: BaseException) -> ApiError | None:
    """The API error a handler's exception stands for; None for a bug."""
    match exc:
        case ApiError():
            return exc
        case QueueNotFound():
            return ApiError(404, "queue_not_found", str(exc), "queue")
        case PayloadTooLarge():
            return ApiError(413, "payload_too_large", str(exc), exc.field)
        case InvalidArgument():
            return ApiError(400, "invalid_argument", str(exc), exc.field)
        case NotFound():
            return ApiError(404, "not_found", str(exc))
        case Conflict():
            return ApiError(409, "conflict", str(exc))
        case ConfigError():  # a bad queue name in the path
            return ApiError(400, "invalid_argument", str(exc), "queue")
        case RedisUnavailable():
            return ApiError(503, "redis_unavailable", str(exc))
        # what the workflow engine's plain commands raise, untranslated: as the runner reads it
        case redis.exceptions.RedisError() | redis.exceptions.RedisClusterException():
            return _as_api_error(translate_error(exc))
        case web.HTTPException() if exc.status >= 400:
            code = _HTTP_CODES.get(exc.status, "http_error")
            return ApiError(exc.status, code, exc.reason)
        case DynoqError():
            return ApiError(500, "internal", str(exc))
    return None


@web.middleware
async def timing_middleware(request: web.Request, handler: RequestHandler) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    finally:
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "unmatched"
        request.app[routes.METRICS].request_duration.labels(
            request.method, route, str(status)
        ).observe(time.perf_counter() - started)


@web.middleware
async def error_middleware(request: web.Request, handler: RequestHandler) -> web.StreamResponse:
    try:
        return await handler(request)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        error = _as_api_error(exc)
        if error is None:
            log.exception("unexpected error in %s %s", request.method, request.path)
            error = ApiError(500, "internal", "internal error (see the server log)")
        elif error.status >= 500:
            log.warning("%s %s: %s", request.method, request.path, error.message)
        if conductor_http.is_conductor_path(request.path):
            return conductor_http.error_response(error, exc)
        return error_response(request, error)


def auth_middleware(tokens: Iterable[str]) -> Middleware:
    accepted = [token.encode() for token in tokens]

    @web.middleware
    async def check_token(request: web.Request, handler: RequestHandler) -> web.StreamResponse:
        # the UI checks its own login (a cookie), see dynoq.services.ui.auth
        if request.path not in OPEN_PATHS and not ui.serves(request.path):
            header = request.headers.get("Authorization", "")
            scheme, _, given = header.partition(" ")
            if scheme.lower() != "bearer":
                # Conductor's SDKs send the token (from POST /api/token) as X-Authorization.
                given = request.headers.get("X-Authorization", "")
            # Compare against every token, so the time taken says nothing about which matched.
            matches = [hmac.compare_digest(given.strip().encode(), t) for t in accepted]
            if not given or not any(matches):
                raise ApiError(
                    401,
                    "unauthorized",
                    "a valid 'Authorization: Bearer' (or 'X-Authorization') token is needed",
                )
        return await handler(request)

    return check_token


def build_app(
    config: ServerConfig,
    registry: CollectorRegistry | None = None,
    *,
    workflow_engine: EngineFactory | None = None,
) -> web.Application:
    """The API as an aiohttp application; it connects to Redis on startup. ``workflow_engine``
    makes the engine of the Conductor API from the Redis URL and namespace (default:
    ``WorkflowEngine.from_url``); without the workflow extra there is no ``/api``."""
    middlewares: list[Middleware] = [timing_middleware, error_middleware]
    if config.tokens:
        middlewares.append(auth_middleware(config.tokens))
    app = web.Application(middlewares=middlewares, client_max_size=config.max_body_bytes)
    metrics = Metrics(registry if registry is not None else CollectorRegistry())
    app[routes.CONFIG] = config
    app[routes.METRICS] = metrics
    for method, path, handler in routes.ROUTES:
        app.router.add_route(method, path, handler)
    app.cleanup_ctx.append(_redis_context)
    _mount_workflows(app, config, workflow_engine, metrics)
    schedule_api.mount(app, config)
    ui.mount(app, config)
    return app


def _mount_workflows(
    app: web.Application,
    config: ServerConfig,
    workflow_engine: EngineFactory | None,
    metrics: Metrics,
) -> None:
    if not workflows_installed():
        log.warning("no /api (the Conductor workflow API): %s", MISSING_EXTRA)
        return
    # Imported here: the engine needs the workflow extra, which a queue-only install lacks.
    from dynoq.services.conductor import app as conductor
    from dynoq.services.workflow_metrics import WorkflowMetrics
    from dynoq.workflow.engine import WorkflowEngine

    conductor.mount(
        app, config, workflow_engine or WorkflowEngine.from_url, WorkflowMetrics(metrics.registry)
    )


def redis_health(info: dict[str, Any]) -> dict[str, Any]:
    """INFO of one server, or of a cluster's nodes (a dict per node) added up: memory and
    evictions summed, the policy of any node that evicts."""
    nodes = [v for v in info.values() if isinstance(v, dict) and "redis_version" in v] or [info]
    policies = [str(n.get("maxmemory_policy", "")) for n in nodes]
    return {
        "used_memory": sum(int(n.get("used_memory", 0)) for n in nodes),
        "maxmemory": sum(int(n.get("maxmemory", 0)) for n in nodes),
        "evicted_keys": sum(int(n.get("evicted_keys", 0)) for n in nodes),
        "maxmemory_policy": next((p for p in policies if p != "noeviction"), "noeviction"),
    }


async def _redis_context(app: web.Application) -> AsyncIterator[None]:
    config = app[routes.CONFIG]
    client = async_client(config.redis_url)
    defaults = {
        "shards": config.queue_shards,
        "unack_timeout": config.queue_unack_timeout,
        "max_deliveries": config.queue_max_deliveries,
    }
    directory = QueueDirectory(client, config.namespace, defaults)
    app[routes.DIRECTORY] = directory

    async def all_stats() -> list[tuple[str, QueueStats]]:
        out = []
        for entry in await directory.entries():
            queue = await directory.get(entry.name)
            out.append((entry.name, await queue.stats()))
        return out

    async def redis_info() -> dict[str, Any]:
        return redis_health(await ainfo(client))

    app[routes.GAUGES] = QueueGauges(
        all_stats, app[routes.METRICS].registry, config.gauge_ttl, redis_info
    )
    yield
    await directory.aclose()
    await client.aclose()


async def run(
    config: ServerConfig,
    *,
    registry: CollectorRegistry | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Serves the API on ``config.host:config.port`` until ``stop`` is set."""
    stop = stop or asyncio.Event()
    warn_if_embedded(config.redis_url)
    warn_if_evicting(config.redis_url)
    runner = JsonErrorRunner(build_app(config, registry), access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, config.host, config.port)
        await site.start()
        log.info("dynoq server listening on http://%s:%d", config.host, config.port)
        await stop.wait()
        log.info("dynoq server stopping")
    finally:
        await runner.cleanup()
