"""``/v1/schedules``: schedules over HTTP (the JSON form of :mod:`dynoq.core.schedule`, times
in Unix seconds). Bad expressions, zones and fields are 400s naming the field."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from dynoq.backend.connect import async_client
from dynoq.core.schedule import Schedule, check_schedule_name, schedule_from_doc, schedule_to_doc
from dynoq.runtime.schedules import Schedules
from dynoq.runtime.settings import ServerConfig
from dynoq.services.http import bad_input, only_fields, query_int, read_body, respond

SCHEDULES = web.AppKey("schedules", Schedules)
S = "/v1/schedules/{name}"


def schedules(request: web.Request) -> Schedules:
    return request.app[SCHEDULES]


async def _view(store: Schedules, schedule: Schedule, now_ms: int) -> dict[str, Any]:
    doc = schedule_to_doc(schedule)
    last = (await store.last_fires([schedule.name])).get(schedule.name, {})
    fired = last.get("scheduledTime")
    doc["last_fire"] = fired / 1000 if fired else None
    nxt = None if schedule.paused else schedule.timing.next_fire(now_ms)
    doc["next_fire"] = nxt / 1000 if nxt else None
    return doc


def _name(request: web.Request) -> str:
    return check_schedule_name(request.match_info["name"])


async def list_schedules(request: web.Request) -> web.Response:
    store = schedules(request)
    now_ms = await store.now_ms()
    listed = await store.all()
    last = await store.last_fires(s.name for s in listed)
    out = []
    for schedule in listed:
        doc = schedule_to_doc(schedule)
        fired = last.get(schedule.name, {}).get("scheduledTime")
        doc["last_fire"] = fired / 1000 if fired else None
        nxt = None if schedule.paused else schedule.timing.next_fire(now_ms)
        doc["next_fire"] = nxt / 1000 if nxt else None
        out.append(doc)
    return respond(request, {"schedules": out})


async def create_schedule(request: web.Request) -> web.Response:
    """A new schedule; 409 when the name is taken (PUT replaces)."""
    store = schedules(request)
    saved = await store.create(schedule_from_doc(await read_body(request)))
    return respond(request, await _view(store, saved, await store.now_ms()), 201)


async def put_schedule(request: web.Request) -> web.Response:
    body = await read_body(request)
    name = _name(request)
    if body.setdefault("name", name) != name:
        raise bad_input(f"the body names {body['name']!r}, the path {name!r}", "name")
    store = schedules(request)
    saved = await store.save(schedule_from_doc(body))
    return respond(request, await _view(store, saved, await store.now_ms()))


async def get_schedule(request: web.Request) -> web.Response:
    store = schedules(request)
    return respond(
        request, await _view(store, await store.require(_name(request)), await store.now_ms())
    )


async def delete_schedule(request: web.Request) -> web.Response:
    await schedules(request).delete(_name(request))
    return respond(request, {"deleted": True})


async def pause_schedule(request: web.Request) -> web.Response:
    body = await read_body(request, optional=True)
    only_fields(body, ("reason",))
    reason = body.get("reason", "")
    if not isinstance(reason, str):
        raise bad_input("reason must be a string", "reason")
    store = schedules(request)
    saved = await store.pause(_name(request), reason)
    return respond(request, await _view(store, saved, await store.now_ms()))


async def resume_schedule(request: web.Request) -> web.Response:
    store = schedules(request)
    saved = await store.resume(_name(request))
    return respond(request, await _view(store, saved, await store.now_ms()))


async def next_fires(request: web.Request) -> web.Response:
    count = query_int(request, "count", 5, 1, 1000)
    return respond(request, {"fires": await schedules(request).next_fires(_name(request), count)})


async def executions(request: web.Request) -> web.Response:
    start = query_int(request, "start", 0, 0, 1_000_000)
    count = query_int(request, "count", 100, 1, 1000)
    name = _name(request)
    await schedules(request).require(name)
    total, page = await schedules(request).executions(name, start=start, count=count)
    return respond(request, {"total": total, "executions": page})


ROUTES: tuple[tuple[str, str, Any], ...] = (
    ("GET", "/v1/schedules", list_schedules),
    ("POST", "/v1/schedules", create_schedule),
    ("GET", S, get_schedule),
    ("PUT", S, put_schedule),
    ("DELETE", S, delete_schedule),
    ("POST", S + "/pause", pause_schedule),
    ("POST", S + "/resume", resume_schedule),
    ("GET", S + "/next", next_fires),
    ("GET", S + "/executions", executions),
)


def mount(app: web.Application, config: ServerConfig) -> None:
    """Adds the routes, and a :class:`Schedules` on the server's Redis and namespace."""
    for method, path, handler in ROUTES:
        app.router.add_route(method, path, handler)

    async def context(app: web.Application) -> AsyncIterator[None]:
        client = async_client(config.redis_url)
        store = app[SCHEDULES] = Schedules(client, config.namespace)
        yield
        await store.aclose()
        await client.aclose()

    app.cleanup_ctx.append(context)


# -- OpenAPI ----------------------------------------------------------------------------------
_NUMBER_OR_NULL = {"type": ["number", "null"]}
SCHEDULE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Give cron or interval, and message or workflow.",
    "properties": {
        "name": {"type": "string", "pattern": "^[A-Za-z0-9._:@-]{1,200}$"},
        "cron": {
            "type": ["string", "null"],
            "description": "5 fields, 6 (seconds first, as Conductor/Spring) or 7 (Quartz, "
            "year * or ?)",
        },
        "interval": {**_NUMBER_OR_NULL, "description": "seconds between fires"},
        "zone": {"type": "string", "description": "IANA time zone, default UTC"},
        "start": _NUMBER_OR_NULL,
        "end": _NUMBER_OR_NULL,
        "paused": {"type": "boolean"},
        "paused_reason": {"type": "string"},
        "catch_up": {"enum": ["skip", "all"]},
        "max_catch_up": {"type": "integer", "minimum": 0, "maximum": 10000},
        "grace": {"type": "number", "minimum": 0},
        "description": {"type": "string"},
        "message": {
            "type": "object",
            "properties": {
                "queue": {"type": "string"},
                "payload": {},
                "priority": {"type": "integer", "minimum": 0, "maximum": 99},
                "id": {"type": "string", "description": "{schedule} {fire_ms} {fire_time}"},
            },
            "required": ["queue"],
        },
        "workflow": {"type": "object", "description": "Conductor's StartWorkflowRequest"},
    },
    "required": ["name"],
}


def openapi_paths(operation: Any) -> dict[str, Any]:
    """The paths of these routes, built with the main document's ``operation`` helper."""
    view = {**SCHEDULE_SCHEMA, "required": []}
    one = ("name",)
    return {
        "/v1/schedules": {
            "get": operation("Every schedule with its last and next fire", {"type": "object"}),
            "post": operation("Create a schedule (409 if the name is taken)", view,
                              SCHEDULE_SCHEMA, (), "201"),
        },
        S: {
            "get": operation("A schedule with its last and next fire", view, params=one),
            "put": operation("Create or replace a schedule", view, SCHEDULE_SCHEMA, one),
            "delete": operation("Delete a schedule", {"type": "object"}, params=one),
        },
        S + "/pause": {
            "post": operation("Stop firing", view, {"type": "object"}, one),
        },
        S + "/resume": {
            "post": operation("Fire again from the next fire time", view, None, one),
        },
        S + "/next": {
            "get": operation("The next fire times (Unix seconds)", {"type": "object"},
                             params=(*one, "count:integer")),
        },
        S + "/executions": {
            "get": operation("Recorded fires, newest first", {"type": "object"},
                             params=(*one, "start:integer", "count:integer")),
        },
    }  # fmt: skip
