"""HTTP plumbing of the Conductor-compatible API under ``/api``: Conductor's error document,
lenient body and query readers (unknown fields are ignored, as Conductor does)."""

from __future__ import annotations

import json
import socket
from typing import TYPE_CHECKING, Any

from aiohttp import web

from dynoq.errors import InvalidArgument, InvalidDefinition
from dynoq.services.http import ApiError, check_sendable

if TYPE_CHECKING:  # the engine needs the workflow extra; the error document does not
    from dynoq.workflow.engine import WorkflowEngine

ENGINE: web.AppKey[WorkflowEngine] = web.AppKey("workflow_engine")
PREFIX = "/api"
TOKEN_PATH = PREFIX + "/token"

# Conductor's ApplicationException codes by HTTP status
_CODES = {
    400: "INVALID_INPUT",
    401: "UNAUTHORIZED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    503: "BACKEND_ERROR",
}
_HOST = socket.gethostname()


def is_conductor_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def engine(request: web.Request) -> WorkflowEngine:
    return request.app[ENGINE]


def error_response(error: ApiError, cause: BaseException | None) -> web.Response:
    """Conductor's ErrorResponse: ``{status, code, message, instance, retryable,
    validationErrors}``; the problems of an invalid definition are its validationErrors."""
    problems: list[tuple[str, str]] = []
    if isinstance(cause, InvalidDefinition):
        problems = list(cause.problems)
    elif isinstance(cause, InvalidArgument) and cause.field:
        problems = [(cause.field, str(cause))]
    elif error.status == 400 and error.field:
        problems = [(error.field, error.message)]
    body = {
        "status": error.status,
        "code": _CODES.get(error.status, "INTERNAL_ERROR"),
        "message": error.message,
        "instance": _HOST,
        "retryable": error.status == 503,
        "validationErrors": [{"path": path, "message": text} for path, text in problems],
    }
    return web.json_response(body, status=error.status)


def invalid(message: str, field: str | None = None) -> ApiError:
    return ApiError(400, "invalid_argument", message, field)


async def json_body(request: web.Request, *, required: bool = True) -> Any:
    """The JSON body, any type; None when empty and not required."""
    raw = await request.read()
    if not raw.strip():
        if required:
            raise invalid("a JSON request body is required")
        return None
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, "invalid_body", f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ApiError(400, "invalid_body", "the body is nested too deeply") from None
    check_sendable(body)
    return body


async def object_body(request: web.Request, *, required: bool = True) -> dict[str, Any]:
    body = await json_body(request, required=required)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise invalid("the body must be a JSON object")
    return body


async def list_body(request: web.Request) -> list[Any]:
    body = await json_body(request)
    if not isinstance(body, list):
        raise invalid("the body must be a JSON list")
    return body


async def text_body(request: web.Request) -> str:
    """A raw string body; a JSON string is unquoted (clients send either)."""
    raw = (await request.read()).decode("utf-8", errors="replace")
    if raw.startswith('"'):
        try:
            value = json.loads(raw)
        except ValueError:
            return raw
        if isinstance(value, str):
            check_sendable(value)
            return value
    return raw


def field(body: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any) -> Any:
    """``body[name]`` if it is of ``kind``, ``default`` when absent or null; 400 otherwise."""
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) and kind in (int, (int,)):
        raise invalid(f"{name} must be an integer", name)
    if not isinstance(value, kind):
        expected = (
            kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        )
        raise invalid(f"{name} must be of type {expected.replace('dict', 'object')}", name)
    return value


def query_flag(request: web.Request, name: str, default: bool) -> bool:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    value = raw.lower()
    if value not in ("true", "false", "1", "0"):
        raise invalid(f"{name} must be true or false, got {raw!r}", name)
    return value in ("true", "1")


def query_int(request: web.Request, name: str, default: int | None) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise invalid(f"{name} must be an integer, got {raw!r}", name) from None


def text(value: str, status: int = 200) -> web.Response:
    return web.Response(text=value, status=status, content_type="text/plain")


def ok() -> web.Response:
    return web.Response(status=200)


def no_content() -> web.Response:
    return web.Response(status=204)
