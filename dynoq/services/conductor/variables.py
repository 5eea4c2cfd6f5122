"""``/api/environment`` and ``/api/secrets``: the values ``${workflow.env.X}`` and
``${workflow.secrets.X}`` resolve to (see :mod:`dynoq.workflow.variables`). Reads are
Conductor's (``GET /api/environment`` lists ``{name, value}``, ``GET /api/secrets`` lists names
only); writes are Orkes' (``PUT .../{key}`` with the value as the body, ``DELETE .../{key}``),
as Conductor's and Orkes' clients call them."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from dynoq.errors import NotFound
from dynoq.services.conductor.http import PREFIX, engine, json_body, ok, text, text_body
from dynoq.workflow.variables import ENV, SECRETS, VariableStore, check_name


def _store(request: web.Request, kind: str) -> VariableStore:
    return VariableStore(engine(request).client, engine(request).namespace, kind)


async def _value(request: web.Request) -> str:
    """The body: raw text, a JSON string, or ``{"value": ...}``."""
    if request.content_type == "application/json":
        body = await json_body(request, required=False)
        if isinstance(body, dict) and "value" in body:
            return str(body["value"])
        if isinstance(body, str):
            return body
    return await text_body(request)


async def list_env(request: web.Request) -> web.Response:
    values = await _store(request, ENV).all()
    return web.json_response([{"name": k, "value": v} for k, v in values.items()])


async def get_env(request: web.Request) -> web.Response:
    key = request.match_info["key"]
    value = await _store(request, ENV).get(key)
    if value is None:
        raise NotFound(f"no environment variable {key}")
    return text(value)


async def put_env(request: web.Request) -> web.Response:
    await _store(request, ENV).put(check_name(request.match_info["key"]), await _value(request))
    return ok()


async def delete_env(request: web.Request) -> web.Response:
    key = request.match_info["key"]
    if not await _store(request, ENV).delete(key):
        raise NotFound(f"no environment variable {key}")
    return ok()


async def list_secret_names(request: web.Request) -> web.Response:
    """Names only: a value is read one at a time, by name."""
    return web.json_response(list(await _store(request, SECRETS).all()))


async def get_secret(request: web.Request) -> web.Response:
    """The value, as a JSON string (Orkes' client reads it so)."""
    key = request.match_info["key"]
    value = await _store(request, SECRETS).get(key)
    if value is None:
        raise NotFound(f"no secret {key}")
    return web.json_response(value)


async def secret_exists(request: web.Request) -> web.Response:
    value = await _store(request, SECRETS).get(request.match_info["key"])
    return web.json_response(value is not None)


async def put_secret(request: web.Request) -> web.Response:
    key = check_name(request.match_info["key"])
    await _store(request, SECRETS).put(key, await _value(request))
    return ok()


async def delete_secret(request: web.Request) -> web.Response:
    key = request.match_info["key"]
    if not await _store(request, SECRETS).delete(key):
        raise NotFound(f"no secret {key}")
    return ok()


V = PREFIX + "/environment"
S = PREFIX + "/secrets"
ROUTES: tuple[tuple[str, str, Any], ...] = (
    ("GET", V, list_env),
    ("GET", V + "/{key}", get_env),
    ("PUT", V + "/{key}", put_env),
    ("POST", V + "/{key}", put_env),
    ("DELETE", V + "/{key}", delete_env),
    ("GET", S, list_secret_names),
    ("POST", S, list_secret_names),
    ("GET", S + "/{key}/exists", secret_exists),
    ("GET", S + "/{key}", get_secret),
    ("PUT", S + "/{key}", put_secret),
    ("DELETE", S + "/{key}", delete_secret),
)
