"""``/api/event``: event handlers, as Conductor's EventResource (the processor that runs them
is :mod:`dynoq.workflow.event_processor`)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from dynoq.services.conductor.http import (
    PREFIX,
    engine,
    invalid,
    json_body,
    object_body,
    ok,
    query_flag,
    query_int,
)
from dynoq.workflow.events import EventHandlerStore


def _store(request: web.Request) -> EventHandlerStore:
    return EventHandlerStore(engine(request).client, engine(request).namespace)


async def add(request: web.Request) -> web.Response:
    """An EventHandler (Orkes' clients send a list of them); 409 when one of a name exists."""
    body = await json_body(request)
    handlers = body if isinstance(body, list) else [body]
    for handler in handlers:
        if not isinstance(handler, dict):
            raise invalid("the body must be an EventHandler object or a list of them")
    for handler in handlers:
        await _store(request).add(handler)
    return ok()


async def update(request: web.Request) -> web.Response:
    """An EventHandler replacing the one of its name; 404 when there is none."""
    await _store(request).update(await object_body(request))
    return ok()


async def list_all(request: web.Request) -> web.Response:
    return web.json_response(await _store(request).all())


async def for_event(request: web.Request) -> web.Response:
    """The handlers of an event (``?activeOnly=true``)."""
    active_only = query_flag(request, "activeOnly", True)
    found = await _store(request).for_event(request.match_info["event"], active_only)
    return web.json_response(found)


async def remove(request: web.Request) -> web.Response:
    await _store(request).remove(request.match_info["name"])
    return ok()


async def executions(request: web.Request) -> web.Response:
    """dynoq's own: the last EventExecutions of a handler, newest first (``?count=100``)."""
    count = max(1, min(query_int(request, "count", 100) or 100, 1000))
    return web.json_response(await _store(request).executions(request.match_info["name"], count))


E = PREFIX + "/event"
ROUTES: tuple[tuple[str, str, Any], ...] = (
    ("POST", E, add),
    ("PUT", E, update),
    ("GET", E, list_all),
    ("GET", E + "/{name}/executions", executions),
    ("GET", E + "/{event}", for_event),
    ("DELETE", E + "/{name}", remove),
)
