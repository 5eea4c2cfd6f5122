"""The queue registry: which queues exist in a namespace, and their options.

Queues write themselves into it on first use, so the sweeper, the HTTP API and ``dynoq queues``
can find them. One hash per namespace, ``_dynoq:registry:<namespace>``, field = queue name,
value = JSON of :class:`QueueEntry`. The key starts with ``_``, which no namespace can, so it
never lies among a namespace's queue keys.

The shard count is fixed at first registration: a message's shard is ``crc32(id) mod shards``,
so opening the queue with another count would lose track of messages. That is a
:class:`ConfigError`. The other options follow the latest opener.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from dynoq.backend.connect import AsyncClient, SyncClient
from dynoq.backend.runner import ensure_initialized, translated_errors
from dynoq.core.spec import DEFAULT_MAX_PAYLOAD_BYTES, QueueSpec
from dynoq.errors import ConfigError


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """A registered queue: the options it was opened with."""

    name: str
    namespace: str
    shards: int
    unack_timeout: float
    max_deliveries: int
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES

    @classmethod
    def of(cls, spec: QueueSpec) -> QueueEntry:
        return cls(
            spec.name,
            spec.namespace,
            spec.shards,
            spec.unack_timeout,
            spec.max_deliveries,
            spec.max_payload_bytes,
        )

    def spec(self) -> QueueSpec:
        return QueueSpec(
            self.name,
            self.namespace,
            self.shards,
            self.unack_timeout,
            self.max_deliveries,
            self.max_payload_bytes,
        )

    def options(self) -> dict[str, Any]:
        """Keyword arguments that open this queue with ``AsyncQueue``/``Queue``."""
        values = asdict(self)
        del values["name"]
        return values

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, data: bytes | str) -> QueueEntry:
        try:
            return cls(**json.loads(data))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"unreadable queue registry entry {data!r}: {exc}") from exc


def registry_key(namespace: str) -> str:
    return f"_dynoq:registry:{namespace}"


def _reconcile(spec: QueueSpec, stored: bytes | str | None) -> str | None:
    """What to write to the registry for ``spec`` given the stored entry: the new JSON, or None
    if nothing changes. Raises ConfigError on a shard count mismatch."""
    wanted = QueueEntry.of(spec)
    if stored is None:
        return wanted.to_json()
    existing = QueueEntry.from_json(stored)
    if existing.shards != spec.shards:
        raise ConfigError(
            f"queue {spec.name!r} in namespace {spec.namespace!r} is registered with "
            f"shards={existing.shards}, opened with shards={spec.shards}: open it with "
            f"shards={existing.shards} (the shard count of a queue cannot change)"
        )
    return None if existing == wanted else wanted.to_json()


async def aregister(client: AsyncClient, spec: QueueSpec) -> None:
    """Records the queue in the registry (see the module docstring)."""
    key = registry_key(spec.namespace)
    await ensure_initialized(client)
    with translated_errors():
        update = _reconcile(spec, await client.hget(key, spec.name))
        if update is not None and not await client.hsetnx(key, spec.name, update):
            # Someone registered it meanwhile: check against theirs.
            update = _reconcile(spec, await client.hget(key, spec.name))
            if update is not None:
                await client.hset(key, spec.name, update)


def register(client: SyncClient, spec: QueueSpec) -> None:
    """The blocking form of :func:`aregister`."""
    key = registry_key(spec.namespace)
    with translated_errors():
        update = _reconcile(spec, client.hget(key, spec.name))
        if update is not None and not client.hsetnx(key, spec.name, update):
            update = _reconcile(spec, client.hget(key, spec.name))
            if update is not None:
                client.hset(key, spec.name, update)


async def alookup(client: AsyncClient, namespace: str, name: str) -> QueueEntry | None:
    await ensure_initialized(client)
    with translated_errors():
        stored = await client.hget(registry_key(namespace), name)
    return None if stored is None else QueueEntry.from_json(stored)


def lookup(client: SyncClient, namespace: str, name: str) -> QueueEntry | None:
    with translated_errors():
        stored = client.hget(registry_key(namespace), name)
    return None if stored is None else QueueEntry.from_json(stored)


async def alist_queues(client: AsyncClient, namespace: str) -> list[QueueEntry]:
    """Every registered queue of the namespace, by name."""
    await ensure_initialized(client)
    with translated_errors():
        stored = await client.hgetall(registry_key(namespace))
    return sorted((QueueEntry.from_json(v) for v in stored.values()), key=lambda e: e.name)


def list_queues(client: SyncClient, namespace: str) -> list[QueueEntry]:
    with translated_errors():
        stored: dict[bytes, bytes] = client.hgetall(registry_key(namespace))  # type: ignore[assignment]
    return sorted((QueueEntry.from_json(v) for v in stored.values()), key=lambda e: e.name)


async def aunregister(client: AsyncClient, namespace: str, name: str) -> bool:
    await ensure_initialized(client)
    with translated_errors():
        return bool(await client.hdel(registry_key(namespace), name))


def unregister(client: SyncClient, namespace: str, name: str) -> bool:
    with translated_errors():
        return bool(client.hdel(registry_key(namespace), name))
