"""The OpenAPI 3.1 document of the HTTP API, served at ``/openapi.json``."""

from __future__ import annotations

import functools
from typing import Any

from dynoq import __version__
from dynoq.services import schedule_api
from dynoq.services.conductor import openapi as openapi_conductor
from dynoq.services.conductor import scheduler as conductor_scheduler


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    return schema


SECONDS = {"type": "number", "minimum": 0}
ID = {"type": "string", "minLength": 1, "maxLength": 512}
QUEUE_NAME = {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,200}$"}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "properties": {
            "error": {"type": "string"},
            "message": {"type": "string"},
            "field": {"type": "string"},
        },
        "required": ["error", "message"],
    },
    "NewMessage": _obj(
        {
            "id": ID,
            "payload": {},
            "priority": {"type": "integer", "minimum": 0, "maximum": 99},
            "delay": SECONDS,
        }
    ),
    "Message": {
        "type": "object",
        "properties": {
            "id": ID,
            "payload": {},
            "priority": {"type": "integer"},
            "attempts": {"type": "integer"},
            "receipt": {"type": "string"},
            "state": {"type": "string", "enum": ["ready", "delayed", "in_flight", "dead"]},
            "shard": {"type": "integer"},
            "due_at": {"type": "number"},
            "lease_expires_at": {"type": "number"},
        },
        "required": ["id", "payload", "priority", "attempts"],
    },
    "Messages": {
        "type": "object",
        "properties": {"messages": {"type": "array", "items": _ref("Message")}},
    },
    "Queue": {
        "type": "object",
        "properties": {
            "name": QUEUE_NAME,
            "shards": {"type": "integer"},
            "unack_timeout": {"type": "number"},
            "max_deliveries": {"type": "integer"},
            "ready": {"type": "integer"},
            "delayed": {"type": "integer"},
            "in_flight": {"type": "integer"},
            "dead": {"type": "integer"},
        },
    },
}

ERRORS = {
    "400": "Bad input",
    "401": "Missing or wrong bearer token",
    "404": "No such queue or message",
    "413": "Body or payload too large",
    "503": "Redis unavailable",
}


def _operation(
    summary: str,
    response: dict[str, Any],
    body: dict[str, Any] | None = None,
    params: tuple[str, ...] = (),
    status: str = "200",
) -> dict[str, Any]:
    content = {"application/json": {"schema": response}, "application/msgpack": {}}
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {
            status: {"description": "OK", "content": content},
            **{
                code: {
                    "description": text,
                    "content": {"application/json": {"schema": _ref("Error")}},
                }
                for code, text in ERRORS.items()
            },
        },
    }
    if body is not None:
        op["requestBody"] = {
            "content": {"application/json": {"schema": body}, "application/msgpack": {}}
        }
    path_params = [p for p in ("queue", "id", "name") if p in params]
    query = [p for p in params if p not in ("queue", "id", "name")]
    parameters: list[dict[str, Any]] = [
        {
            "name": p,
            "in": "path",
            "required": True,
            "schema": {"queue": QUEUE_NAME, "id": ID}.get(p, {"type": "string"}),
        }
        for p in path_params
    ]
    for spec in query:
        name, _, kind = spec.partition(":")
        parameters.append({"name": name, "in": "query", "schema": {"type": kind}})
    if parameters:
        op["parameters"] = parameters
    return op


def _simple(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


def openapi_document(*, with_api: bool = True) -> dict[str, Any]:
    """The document; ``with_api=False`` leaves out the ``/api`` routes (not mounted on a
    queue-only install)."""
    document = _full_document()
    if with_api:
        return document
    paths = {p: v for p, v in document["paths"].items() if not _under_api(p)}
    return {**document, "paths": paths}


def _under_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


@functools.cache
def _full_document() -> dict[str, Any]:
    q, m = ("queue",), ("queue", "id")
    paths: dict[str, dict[str, Any]] = {
        "/health": {"get": _operation("Process is up", _simple({"status": {"type": "string"}}))},
        "/ready": {"get": _operation("Redis reachable", _simple({"status": {"type": "string"}}))},
        "/metrics": {"get": _operation("Prometheus metrics (text format)", {"type": "string"})},
        "/openapi.json": {"get": _operation("This document", {"type": "object"})},
        "/v1/queues": {
            "get": _operation(
                "Every queue with its stats",
                _simple({"queues": {"type": "array", "items": _ref("Queue")}}),
            )
        },
        "/v1/queues/{queue}": {
            "get": _operation("A queue's options and stats", _ref("Queue"), params=q),
            "delete": _operation(
                "Delete every message of the queue and unregister it",
                _simple({"deleted": {"type": "boolean"}}),
                params=(*q, "confirm:string"),
            ),
        },
        "/v1/queues/{queue}/messages": {
            "post": _operation(
                "Push a batch (creates the queue); ?ensure=true pushes only absent ids",
                _simple({"ids": {"type": "array", "items": ID}}),
                _obj(
                    {
                        "messages": {
                            "type": "array",
                            "items": _ref("NewMessage"),
                            "minItems": 1,
                            "maxItems": 1000,
                        }
                    },
                    ("messages",),
                ),
                (*q, "ensure:boolean"),
                "201",
            )
        },
        "/v1/queues/{queue}/pop": {
            "post": _operation(
                "Lease up to count messages, long-polling up to wait seconds",
                _ref("Messages"),
                _obj(
                    {"count": {"type": "integer", "minimum": 1, "maximum": 1000}, "wait": SECONDS}
                ),
                q,
            )
        },
        "/v1/queues/{queue}/ack": {
            "post": _operation(
                "Acknowledge leased messages",
                _simple({"acked": {"type": "integer"}}),
                _obj(
                    {
                        "messages": {
                            "type": "array",
                            "items": _obj(
                                {"id": ID, "receipt": {"type": "string"}}, ("id", "receipt")
                            ),
                        }
                    },
                    ("messages",),
                ),
                q,
            )
        },
        "/v1/queues/{queue}/messages/{id}": {
            "get": _operation("A message in any state", _ref("Message"), params=m),
            "delete": _operation(
                "Remove a message", _simple({"removed": {"type": "boolean"}}), params=m
            ),
        },
        "/v1/queues/{queue}/messages/{id}/nack": {
            "post": _operation(
                "Give a leased message back, due after delay",
                _simple({"nacked": {"type": "boolean"}}),
                _obj({"receipt": {"type": "string"}, "delay": SECONDS}),
                m,
            )
        },
        "/v1/queues/{queue}/messages/{id}/lease": {
            "post": _operation(
                "Set the lease to now + timeout (heartbeat)",
                _simple({"updated": {"type": "boolean"}}),
                _obj({"timeout": SECONDS}, ("timeout",)),
                m,
            )
        },
        "/v1/queues/{queue}/messages/{id}/delay": {
            "post": _operation(
                "Make a waiting message due at now + delay",
                _simple({"updated": {"type": "boolean"}}),
                _obj({"delay": SECONDS}, ("delay",)),
                m,
            )
        },
        "/v1/queues/{queue}/dead": {
            "get": _operation(
                "Dead letters, oldest first",
                _ref("Messages"),
                params=(*q, "count:integer"),
            )
        },
        "/v1/queues/{queue}/dead/requeue": {
            "post": _operation(
                "Requeue dead letters (all, or the given ids)",
                _simple({"requeued": {"type": "integer"}}),
                _obj({"ids": {"type": "array", "items": ID}}),
                q,
            )
        },
    }
    paths.update(openapi_conductor.conductor_paths())
    paths.update(schedule_api.openapi_paths(_operation))
    paths.update(conductor_scheduler.openapi_paths())
    return {
        "openapi": "3.1.0",
        "info": {"title": "dynoq HTTP API", "version": __version__},
        "components": {
            "schemas": {**SCHEMAS, **openapi_conductor.SCHEMAS},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                # what Conductor's SDKs send (the token from POST /api/token)
                "conductor": {"type": "apiKey", "in": "header", "name": "X-Authorization"},
            },
        },
        "security": [{}, {"bearer": []}, {"conductor": []}],
        "paths": paths,
    }
