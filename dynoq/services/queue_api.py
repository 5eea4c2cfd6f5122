"""The handlers of the HTTP API, one per route (the table is :data:`ROUTES`)."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from dynoq.backend.connect import aping
from dynoq.backend.queue import AsyncQueue
from dynoq.backend.registry import QueueEntry
from dynoq.core.models import Message
from dynoq.errors import DynoqError, InvalidMessage
from dynoq.runtime.metrics import Metrics, QueueGauges
from dynoq.runtime.settings import ServerConfig
from dynoq.services.directory import QueueDirectory
from dynoq.services.http import (
    ApiError,
    bad_input,
    get_int,
    get_list,
    get_seconds,
    get_str,
    only_fields,
    query_flag,
    query_int,
    read_body,
    respond,
)

CONFIG = web.AppKey("config", ServerConfig)
DIRECTORY = web.AppKey("directory", QueueDirectory)
METRICS = web.AppKey("metrics", Metrics)
GAUGES = web.AppKey("gauges", QueueGauges)

MAX_BATCH = 1000
MESSAGE_FIELDS = ("id", "payload", "priority", "delay")


def message_json(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": message.id,
        "payload": message.payload,
        "priority": message.priority,
        "attempts": message.attempts,
    }
    for name in ("receipt", "state", "shard", "due_at", "lease_expires_at"):
        value = getattr(message, name)
        if value is not None:
            out[name] = str(value) if name == "state" else value
    return out


def stats_json(entry: QueueEntry, queue_stats: Any) -> dict[str, Any]:
    return {
        "name": entry.name,
        "shards": entry.shards,
        "unack_timeout": entry.unack_timeout,
        "max_deliveries": entry.max_deliveries,
        "ready": queue_stats.ready,
        "delayed": queue_stats.delayed,
        "in_flight": queue_stats.in_flight,
        "dead": queue_stats.dead,
    }


async def _queue(request: web.Request, *, create: bool = False) -> AsyncQueue:
    return await request.app[DIRECTORY].get(request.match_info["queue"], create=create)


def _batch(body: dict[str, Any], shape: str) -> list[tuple[str, dict[str, Any]]]:
    """The ``messages`` list of a body: 1..MAX_BATCH objects, each with its JSON path."""
    items = get_list(body, "messages")
    assert items is not None
    if not 1 <= len(items) <= MAX_BATCH:
        raise bad_input(f"messages must hold 1..{MAX_BATCH} entries", "messages")
    batch = []
    for index, item in enumerate(items):
        where = f"messages[{index}]"
        if not isinstance(item, dict):
            raise bad_input(f"{where} must be {shape}", where)
        batch.append((where, item))
    return batch


def _parse_messages(body: dict[str, Any]) -> list[Message]:
    parsed = []
    for where, item in _batch(body, "an object"):
        only_fields(item, MESSAGE_FIELDS, f"{where}.")
        try:
            parsed.append(
                Message(
                    item["id"] if "id" in item else uuid.uuid4().hex,
                    item.get("payload"),
                    priority=item.get("priority", 0),
                    delay=item.get("delay", 0.0),
                )
            )
        except InvalidMessage as exc:
            raise bad_input(str(exc), f"{where}.{exc.field}" if exc.field else where) from None
    return parsed


def _reindexed(exc: InvalidMessage) -> str | None:
    if exc.field is None:
        return "messages"
    return f"messages[{exc.index}].{exc.field}" if exc.index is not None else exc.field


async def push(request: web.Request) -> web.Response:
    ensure = query_flag(request, "ensure")
    body = await read_body(request)
    only_fields(body, ("messages",))
    messages = _parse_messages(body)
    queue = await _queue(request, create=True)
    try:
        if ensure:
            ids = [m.id for m in messages if await queue.ensure(m)]
        else:
            ids = await queue.push(messages)
    except InvalidMessage as exc:  # payload not msgpack-able or too large
        exc.field = _reindexed(exc)
        raise
    request.app[METRICS].pushed.labels(queue.name).inc(len(ids))
    return respond(request, {"ids": ids}, 201)


async def pop(request: web.Request) -> web.Response:
    body = await read_body(request, optional=True)
    only_fields(body, ("count", "wait"))
    count = get_int(body, "count", 1, 1, MAX_BATCH)
    wait = min(get_seconds(body, "wait", 0.0), request.app[CONFIG].max_wait)
    queue = await _queue(request)
    messages = await queue.pop(count, wait)
    if messages:
        request.app[METRICS].observe_popped(queue.name, queue.spec.unack_timeout, messages)
    out = [
        {k: v for k, v in message_json(m).items() if k not in ("state", "shard")} for m in messages
    ]
    return respond(request, {"messages": out})


async def ack(request: web.Request) -> web.Response:
    body = await read_body(request)
    only_fields(body, ("messages",))
    receipts = []
    for where, item in _batch(body, "an object with id and receipt"):
        only_fields(item, ("id", "receipt"), f"{where}.")
        message_id = get_str(item, "id", required=True)
        receipt = get_str(item, "receipt", required=True)
        try:
            receipts.append(Message(message_id or "", receipt=receipt))
        except InvalidMessage as exc:
            raise bad_input(str(exc), f"{where}.id") from None
    queue = await _queue(request)
    acked = await queue.ack_many(receipts)
    request.app[METRICS].acked.labels(queue.name).inc(acked)
    return respond(request, {"acked": acked})


async def nack(request: web.Request) -> web.Response:
    body = await read_body(request, optional=True)
    only_fields(body, ("receipt", "delay"))
    receipt = get_str(body, "receipt")
    delay = get_seconds(body, "delay", 0.0)
    queue = await _queue(request)
    done = await queue.nack(request.match_info["id"], delay, receipt)
    if done:
        request.app[METRICS].nacked.labels(queue.name).inc()
    return respond(request, {"nacked": done})


async def lease(request: web.Request) -> web.Response:
    body = await read_body(request)
    only_fields(body, ("timeout",))
    timeout = get_seconds(body, "timeout", None)
    queue = await _queue(request)
    return respond(
        request, {"updated": await queue.set_unack_timeout(request.match_info["id"], timeout)}
    )


async def set_delay(request: web.Request) -> web.Response:
    body = await read_body(request)
    only_fields(body, ("delay",))
    delay = get_seconds(body, "delay", None)
    queue = await _queue(request)
    return respond(request, {"updated": await queue.set_delay(request.match_info["id"], delay)})


async def get_message(request: web.Request) -> web.Response:
    queue = await _queue(request)
    message = await queue.get(request.match_info["id"])
    if message is None:
        raise ApiError(404, "message_not_found", f"no message {request.match_info['id']!r}")
    return respond(request, message_json(message))


async def delete_message(request: web.Request) -> web.Response:
    queue = await _queue(request)
    if not await queue.remove(request.match_info["id"]):
        raise ApiError(404, "message_not_found", f"no message {request.match_info['id']!r}")
    return respond(request, {"removed": True})


async def list_queues(request: web.Request) -> web.Response:
    directory = request.app[DIRECTORY]
    out = []
    for entry in await directory.entries():
        queue = await directory.get(entry.name)
        out.append(stats_json(entry, await queue.stats()))
    return respond(request, {"queues": out})


async def get_queue(request: web.Request) -> web.Response:
    queue = await _queue(request)
    entry = QueueEntry.of(queue.spec)
    return respond(request, stats_json(entry, await queue.stats()))


async def delete_queue(request: web.Request) -> web.Response:
    name = request.match_info["queue"]
    if request.query.get("confirm") != name:
        raise bad_input(f"deleting a queue needs ?confirm={name}", "confirm")
    await request.app[DIRECTORY].drop(name)
    return respond(request, {"deleted": True})


async def dead_letters(request: web.Request) -> web.Response:
    count = query_int(request, "count", 100, 1, 10_000)
    queue = await _queue(request)
    return respond(
        request, {"messages": [message_json(m) for m in await queue.dead_letters(count)]}
    )


async def requeue_dead(request: web.Request) -> web.Response:
    body = await read_body(request, optional=True)
    only_fields(body, ("ids",))
    ids = get_list(body, "ids", required=False)
    if ids is not None:
        for index, message_id in enumerate(ids):
            if not isinstance(message_id, str) or not message_id:
                raise bad_input(f"ids[{index}] must be a non-empty string", f"ids[{index}]")
    queue = await _queue(request)
    return respond(request, {"requeued": await queue.requeue_dead(ids)})


async def health(request: web.Request) -> web.Response:
    """Also Conductor's health document, for tools that check ``/health`` that way."""
    body = {"status": "ok", "healthy": True, "healthResults": [], "suppressedHealthResults": []}
    return respond(request, body)


async def ready(request: web.Request) -> web.Response:
    client = request.app[DIRECTORY].client
    try:
        await aping(client)
    except DynoqError as exc:
        raise ApiError(503, "redis_unavailable", str(exc)) from None
    return respond(request, {"status": "ready"})


async def metrics(request: web.Request) -> web.Response:
    await request.app[GAUGES].refresh()
    data = generate_latest(request.app[METRICS].registry)
    return web.Response(body=data, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def openapi(request: web.Request) -> web.Response:
    from dynoq.services.openapi import openapi_document

    return web.json_response(openapi_document())


Q = "/v1/queues/{queue}"
M = Q + "/messages/{id}"
ROUTES: tuple[tuple[str, str, Any], ...] = (
    ("GET", "/health", health),
    ("GET", "/ready", ready),
    ("GET", "/metrics", metrics),
    ("GET", "/openapi.json", openapi),
    ("GET", "/v1/queues", list_queues),
    ("GET", Q, get_queue),
    ("DELETE", Q, delete_queue),
    ("POST", Q + "/messages", push),
    ("POST", Q + "/pop", pop),
    ("POST", Q + "/ack", ack),
    ("GET", M, get_message),
    ("DELETE", M, delete_message),
    ("POST", M + "/nack", nack),
    ("POST", M + "/lease", lease),
    ("POST", M + "/delay", set_delay),
    ("GET", Q + "/dead", dead_letters),
    ("POST", Q + "/dead/requeue", requeue_dead),
)
