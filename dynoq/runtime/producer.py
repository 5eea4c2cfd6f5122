"""``enqueue``: the producer side in one line.

``dynoq.enqueue("redis://host/0", "emails", {"to": "ann"}, delay=60)`` opens the queue with its
registered options (so the shard count always matches the consumers'), pushes one message and
returns its id. Given a URL it connects for this call only; pass a client or a queue to reuse
connections.
"""

from __future__ import annotations

import uuid
from typing import Any

from dynoq.backend.connect import AsyncClient, SyncClient, async_client, sync_client
from dynoq.backend.queue import AsyncQueue, Queue
from dynoq.backend.registry import alookup, lookup
from dynoq.core.models import Message
from dynoq.errors import InvalidArgument


def _message(payload: Any, delay: float, priority: int, id: str | None) -> Message:
    return Message(uuid.uuid4().hex if id is None else id, payload, priority, delay)


def _check_name(queue_object: Queue | AsyncQueue, queue: str) -> None:
    if queue_object.name != queue:
        raise InvalidArgument(
            f"queue {queue!r} does not match the queue object's name {queue_object.name!r}",
            field="queue",
        )


def enqueue(
    target: str | SyncClient | Queue,
    queue: str,
    payload: Any = None,
    *,
    delay: float = 0.0,
    priority: int = 0,
    id: str | None = None,
    namespace: str = "dynoq",
) -> str:
    """Pushes one message to ``queue`` and returns its id (a random hex id unless given).
    ``target`` is a Redis URL, a ``redis.Redis`` client or a :class:`Queue` named ``queue``."""
    message = _message(payload, delay, priority, id)
    if isinstance(target, Queue):
        _check_name(target, queue)
        target.push(message)
        return message.id
    client = sync_client(target) if isinstance(target, str) else target
    try:
        entry = lookup(client, namespace, queue)
        options = entry.options() if entry is not None else {"namespace": namespace}
        Queue(client, queue, **options).push(message)
    finally:
        if isinstance(target, str):
            client.close()
    return message.id


async def aenqueue(
    target: str | AsyncClient | AsyncQueue,
    queue: str,
    payload: Any = None,
    *,
    delay: float = 0.0,
    priority: int = 0,
    id: str | None = None,
    namespace: str = "dynoq",
) -> str:
    """The asyncio form of :func:`enqueue`."""
    message = _message(payload, delay, priority, id)
    if isinstance(target, AsyncQueue):
        _check_name(target, queue)
        await target.push(message)
        return message.id
    client = async_client(target) if isinstance(target, str) else target
    try:
        entry = await alookup(client, namespace, queue)
        options = entry.options() if entry is not None else {"namespace": namespace}
        await AsyncQueue(client, queue, **options).push(message)
    finally:
        if isinstance(target, str):
            await client.aclose()
    return message.id
