"""HTTP plumbing of the API: request bodies in, responses out, errors as JSON.

Bodies are JSON unless the request says ``Content-Type: application/msgpack``; responses are
JSON unless ``Accept`` asks for ``application/msgpack``. JSON cannot carry bytes, so a bytes
payload goes out as its base64 text there (ask for msgpack to get bytes back as bytes).
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import msgpack
from aiohttp import web

from dynoq.core.models import unsendable

MSGPACK = "application/msgpack"
MAX_BODY_DEPTH = 256
# Read as JSON: aiohttp reports a missing Content-Type as octet-stream, and `curl -d` sends
# form-urlencoded unless told otherwise.
JSON_LIKE = frozenset(
    {
        "application/json",
        "application/octet-stream",
        "text/plain",
        "application/x-www-form-urlencoded",
    }
)


class ApiError(Exception):
    """An error answered as ``{"error": code, "message": ..., "field": ...}``."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field


def bad_input(message: str, field: str | None = None) -> ApiError:
    return ApiError(400, "invalid_argument", message, field)


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def respond(request: web.Request, body: Any, status: int = 200) -> web.Response:
    if MSGPACK in request.headers.get("Accept", ""):
        data = msgpack.packb(body, use_bin_type=True)
        return web.Response(body=data, status=status, content_type=MSGPACK)
    text = json.dumps(body, default=_json_default, allow_nan=False)
    return web.Response(text=text, status=status, content_type="application/json")


def error_response(request: web.Request, error: ApiError) -> web.Response:
    body: dict[str, Any] = {"error": error.code, "message": error.message}
    if error.field is not None:
        body["field"] = error.field
    return respond(request, body, error.status)


async def read_body(request: web.Request, *, optional: bool = False) -> dict[str, Any]:
    """The request body as a dict; an empty body is ``{}`` when ``optional``."""
    raw = await request.read()
    if not raw:
        if optional:
            return {}
        raise ApiError(400, "invalid_body", "a request body is required")
    kind = request.content_type
    try:
        if kind == MSGPACK:
            body = msgpack.unpackb(raw, raw=False, strict_map_key=False)
        elif kind in JSON_LIKE:
            body = json.loads(raw, parse_constant=_reject_constant)
        else:
            raise ApiError(
                415, "unsupported_media_type", f"send application/json or {MSGPACK}, not {kind}"
            )
    except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
        raise ApiError(400, "invalid_body", f"the body is not valid {kind}: {exc}") from None
    except RecursionError:
        raise ApiError(400, "invalid_body", f"the body is nested too deeply ({kind})") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", "the body must be an object")
    check_sendable(body)
    return body


def check_sendable(body: Any) -> None:
    """A 400 when a parsed body holds what cannot be sent to Redis: checked before any handler
    runs, so no request writes part of its data and then fails."""
    found = unsendable(body, MAX_BODY_DEPTH)
    if found is not None:
        path, problem = found
        raise ApiError(400, "invalid_body", f"{path or 'the body'} {problem}", path or None)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def only_fields(body: dict[str, Any], allowed: tuple[str, ...], prefix: str = "") -> None:
    for key in body:
        if key not in allowed:
            raise bad_input(f"unknown field {prefix}{key!s}", f"{prefix}{key!s}")


def get_int(body: dict[str, Any], name: str, default: int, lo: int, hi: int) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_input(f"{name} must be an integer", name)
    if not lo <= value <= hi:
        raise bad_input(f"{name} must be in {lo}..{hi}, got {value}", name)
    return value


def get_seconds(body: dict[str, Any], name: str, default: float | None) -> float:
    value = body.get(name, default)
    if value is None:
        raise bad_input(f"{name} is required", name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise bad_input(f"{name} must be a number of seconds", name)
    if value < 0:
        raise bad_input(f"{name} must be >= 0, got {value}", name)
    return float(value)


def get_str(body: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise bad_input(f"{name} is required", name)
        return None
    if not isinstance(value, str):
        raise bad_input(f"{name} must be a string", name)
    return value


def get_list(body: dict[str, Any], name: str, *, required: bool = True) -> list[Any] | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, list):
        raise bad_input(f"{name} must be a list", name)
    return value


def query_flag(request: web.Request, name: str) -> bool:
    value = request.query.get(name, "false").lower()
    if value not in ("true", "false", "1", "0"):
        raise bad_input(f"{name} must be true or false", name)
    return value in ("true", "1")


def query_int(request: web.Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_input(f"{name} must be an integer", name) from None
    if not lo <= value <= hi:
        raise bad_input(f"{name} must be in {lo}..{hi}, got {value}", name)
    return value
