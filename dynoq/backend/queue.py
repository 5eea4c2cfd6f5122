"""``AsyncQueue`` and ``Queue``: the same queue API over redis.asyncio and blocking redis-py.

Both run the operations of :mod:`dynoq.core.ops`; only how a step is executed differs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any, Generic, TypedDict, TypeVar, Unpack

from dynoq.backend.connect import AsyncClient, SyncClient, async_client, sync_client
from dynoq.backend.registry import aregister, register
from dynoq.backend.runner import (
    AsyncScripts,
    AsyncWakeListener,
    SyncScripts,
    SyncWakeListener,
    check_client,
)
from dynoq.core.clock import Clock
from dynoq.core.models import Message, MessageState, QueueStats
from dynoq.core.ops import LISTEN, QueueOps, Steps, Tolerant, Wait
from dynoq.core.spec import QueueSpec
from dynoq.errors import DynoqError

T = TypeVar("T")
C = TypeVar("C")

# How long a waiting pop gives its subscription to come up before it polls instead.
SUBSCRIBE_TIMEOUT_SECONDS = 2.0
# Batches one sweep_shard call runs at most, unless told otherwise.
SWEEP_ROUNDS = 100


class QueueOptions(TypedDict, total=False):
    """The keyword options of ``AsyncQueue``/``Queue`` (see :class:`QueueSpec` for their
    ranges): the key namespace, shard count, lease seconds, deliveries before a message is
    dead-lettered (0: never), the largest encoded payload, and a clock for tests."""

    namespace: str
    shards: int
    unack_timeout: float
    max_deliveries: int
    max_payload_bytes: int
    clock: Clock | None


def _raise_unexpected(results: list[Any]) -> None:
    """Tolerant steps return DynoqErrors as values; anything else is a bug and is raised."""
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, DynoqError):
            raise result


def _spec(name: str, options: QueueOptions) -> QueueSpec:
    """Validates the options: bad ones raise ConfigError before any connection is made."""
    given: dict[str, Any] = {k: v for k, v in options.items() if k != "clock"}
    return QueueSpec(name, **given)


class _QueueBase(Generic[C]):
    def __init__(self, client: C, name: str, options: QueueOptions) -> None:
        self.spec = _spec(name, options)
        check_client(client)
        self.client = client
        self._ops = QueueOps(self.spec, options.get("clock"))
        self._owns_client = False
        self._registered = False  # written to the queue registry on first use

    @property
    def name(self) -> str:
        """The queue's name."""
        return self.spec.name

    def __repr__(self) -> str:
        spec = self.spec
        options = f"namespace={spec.namespace!r}, shards={spec.shards}"
        return f"{type(self).__name__}({spec.name!r}, {options})"


class AsyncQueue(_QueueBase[AsyncClient]):
    """A sharded priority + delay queue with leases, over a ``redis.asyncio`` client.

    See the README for the semantics; every method is a coroutine.
    """

    def __init__(self, client: AsyncClient, name: str, **options: Unpack[QueueOptions]) -> None:
        super().__init__(client, name, options)
        self._scripts = AsyncScripts(client)
        self._listener = AsyncWakeListener(client, self.spec.channel)

    @classmethod
    def from_url(cls, url: str, name: str, **options: Unpack[QueueOptions]) -> AsyncQueue:
        """A queue on its own client for ``url``; ``aclose()`` closes that client."""
        _spec(name, options)  # fail before connecting
        queue = cls(async_client(url), name, **options)
        queue._owns_client = True
        return queue

    async def _run(self, op: Steps[T]) -> T:
        try:
            step = next(op)  # validates the arguments: bad input never reaches Redis
            if not self._registered:
                await self._scripts.ensure_initialized()
                await aregister(self.client, self.spec)
                self._registered = True
            while True:
                if isinstance(step, list):
                    result: Any = await asyncio.gather(*(self._scripts.run(c) for c in step))
                elif isinstance(step, Tolerant):
                    result = await asyncio.gather(
                        *(self._scripts.run(c) for c in step.calls), return_exceptions=True
                    )
                    _raise_unexpected(result)
                elif isinstance(step, Wait):
                    result = await self._listener.wait(step.seconds, step.since)
                else:
                    assert step == LISTEN
                    await self._scripts.ensure_initialized()
                    result = await self._listener.listen(SUBSCRIBE_TIMEOUT_SECONDS)
                step = op.send(result)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]

    async def push(self, messages: Message | Iterable[Message]) -> list[str]:
        """Adds one message or a batch (replacing any with the same id); returns the ids."""
        return await self._run(self._ops.push(messages))

    async def ensure(self, message: Message) -> bool:
        """Pushes the message only if its id is absent in every state; True when pushed."""
        return await self._run(self._ops.ensure(message))

    async def pop(self, count: int = 1, wait: float = 0.0) -> list[Message]:
        """Leases up to ``count`` ready messages by priority, waiting up to ``wait`` seconds."""
        return await self._run(self._ops.pop(count, wait))

    async def ack(self, message: str | Message, receipt: str | None = None) -> bool:
        """Deletes an in-flight message for good; False when it is not (or no longer) leased."""
        return await self._run(self._ops.ack(message, receipt))

    async def ack_many(self, messages: Iterable[str | Message]) -> int:
        """Acks a batch of in-flight messages; returns how many were acked."""
        return await self._run(self._ops.ack_many(messages))

    async def nack(
        self, message: str | Message, delay: float = 0.0, receipt: str | None = None
    ) -> bool:
        """Hands a leased message back, due again after ``delay`` seconds; False if not leased."""
        return await self._run(self._ops.nack(message, delay, receipt))

    async def set_unack_timeout(self, message: str | Message, timeout: float) -> bool:
        """Sets a lease to end ``timeout`` seconds from now; False when not in flight."""
        return await self._run(self._ops.set_unack_timeout(message, timeout))

    async def set_delay(self, message: str | Message, delay: float) -> bool:
        """Makes a waiting message due ``delay`` seconds from now; False when not waiting."""
        return await self._run(self._ops.set_delay(message, delay))

    async def remove(self, message: str | Message) -> bool:
        """Deletes a message whatever its state; False when there was none."""
        return await self._run(self._ops.remove(message))

    async def get(self, message_id: str) -> Message | None:
        """The message with this id, in whatever state, or None."""
        return await self._run(self._ops.get(message_id))

    async def contains(self, message_id: str) -> bool:
        """Whether a message with this id is in the queue, in any state."""
        return await self._run(self._ops.contains(message_id))

    async def peek(self, count: int = 1) -> list[Message]:
        """Up to ``count`` ready messages in pop order, without leasing them."""
        return await self._run(self._ops.peek(count))

    async def size(self) -> int:
        """How many messages wait: ready plus delayed."""
        return await self._run(self._ops.size())

    async def stats(self) -> QueueStats:
        """Message counts by state, in total and per shard."""
        return await self._run(self._ops.stats())

    async def sweep(self) -> int:
        """Hands expired leases back on every shard, dead-lettering exhausted ones; how many."""
        return await self._run(self._ops.sweep())

    async def sweep_shard(self, shard: int, max_rounds: int = SWEEP_ROUNDS) -> tuple[int, int]:
        """Sweeps one shard, at most ``max_rounds`` batches: (requeued, dead-lettered)."""
        return await self._run(self._ops.sweep_shard(shard, max_rounds))

    async def dead_letters(self, count: int = 100) -> list[Message]:
        """Up to ``count`` dead letters, oldest first."""
        return await self._run(self._ops.dead_letters(count))

    async def browse(
        self, state: MessageState | str, offset: int = 0, count: int = 50
    ) -> list[Message]:
        return await self._run(self._ops.browse(state, offset, count))

    async def requeue_dead(self, ids: Iterable[str] | None = None) -> int:
        """Makes dead letters ready again (all, or those ``ids``); how many moved."""
        return await self._run(self._ops.requeue_dead(ids))

    async def clear(self) -> None:
        """Deletes every message of the queue, in every state."""
        await self._run(self._ops.clear())

    async def aclose(self) -> None:
        """Stops listening for wake-ups; closes the client if ``from_url`` opened it."""
        await self._listener.aclose()
        if self._owns_client:
            await self.client.aclose()

    async def __aenter__(self) -> AsyncQueue:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class Queue(_QueueBase[SyncClient]):
    """The blocking twin of :class:`AsyncQueue`; safe to share between threads."""

    def __init__(self, client: SyncClient, name: str, **options: Unpack[QueueOptions]) -> None:
        super().__init__(client, name, options)
        self._scripts = SyncScripts(client)
        self._listener = SyncWakeListener(client, self.spec.channel)

    @classmethod
    def from_url(cls, url: str, name: str, **options: Unpack[QueueOptions]) -> Queue:
        """A queue on its own client for ``url``; ``close()`` closes that client."""
        _spec(name, options)
        queue = cls(sync_client(url), name, **options)
        queue._owns_client = True
        return queue

    def _run(self, op: Steps[T]) -> T:
        try:
            step = next(op)  # validates the arguments: bad input never reaches Redis
            if not self._registered:
                register(self.client, self.spec)
                self._registered = True
            while True:
                if isinstance(step, list):
                    result: Any = self._scripts.run_all(step, tolerant=False)
                elif isinstance(step, Tolerant):
                    result = self._scripts.run_all(step.calls, tolerant=True)
                elif isinstance(step, Wait):
                    result = self._listener.wait(step.seconds, step.since)
                else:
                    assert step == LISTEN
                    result = self._listener.listen(SUBSCRIBE_TIMEOUT_SECONDS)
                step = op.send(result)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]

    def push(self, messages: Message | Iterable[Message]) -> list[str]:
        """Adds one message or a batch (replacing any with the same id); returns the ids."""
        return self._run(self._ops.push(messages))

    def ensure(self, message: Message) -> bool:
        """Pushes the message only if its id is absent in every state; True when pushed."""
        return self._run(self._ops.ensure(message))

    def pop(self, count: int = 1, wait: float = 0.0) -> list[Message]:
        """Leases up to ``count`` ready messages by priority, waiting up to ``wait`` seconds."""
        return self._run(self._ops.pop(count, wait))

    def ack(self, message: str | Message, receipt: str | None = None) -> bool:
        """Deletes an in-flight message for good; False when it is not (or no longer) leased."""
        return self._run(self._ops.ack(message, receipt))

    def ack_many(self, messages: Iterable[str | Message]) -> int:
        """Acks a batch of in-flight messages; returns how many were acked."""
        return self._run(self._ops.ack_many(messages))

    def nack(self, message: str | Message, delay: float = 0.0, receipt: str | None = None) -> bool:
        """Hands a leased message back, due again after ``delay`` seconds; False if not leased."""
        return self._run(self._ops.nack(message, delay, receipt))

    def set_unack_timeout(self, message: str | Message, timeout: float) -> bool:
        """Sets a lease to end ``timeout`` seconds from now; False when not in flight."""
        return self._run(self._ops.set_unack_timeout(message, timeout))

    def set_delay(self, message: str | Message, delay: float) -> bool:
        """Makes a waiting message due ``delay`` seconds from now; False when not waiting."""
        return self._run(self._ops.set_delay(message, delay))

    def remove(self, message: str | Message) -> bool:
        """Deletes a message whatever its state; False when there was none."""
        return self._run(self._ops.remove(message))

    def get(self, message_id: str) -> Message | None:
        """The message with this id, in whatever state, or None."""
        return self._run(self._ops.get(message_id))

    def contains(self, message_id: str) -> bool:
        """Whether a message with this id is in the queue, in any state."""
        return self._run(self._ops.contains(message_id))

    def peek(self, count: int = 1) -> list[Message]:
        """Up to ``count`` ready messages in pop order, without leasing them."""
        return self._run(self._ops.peek(count))

    def size(self) -> int:
        """How many messages wait: ready plus delayed."""
        return self._run(self._ops.size())

    def stats(self) -> QueueStats:
        """Message counts by state, in total and per shard."""
        return self._run(self._ops.stats())

    def sweep(self) -> int:
        """Hands expired leases back on every shard, dead-lettering exhausted ones; how many."""
        return self._run(self._ops.sweep())

    def sweep_shard(self, shard: int, max_rounds: int = SWEEP_ROUNDS) -> tuple[int, int]:
        """Sweeps one shard, at most ``max_rounds`` batches: (requeued, dead-lettered)."""
        return self._run(self._ops.sweep_shard(shard, max_rounds))

    def dead_letters(self, count: int = 100) -> list[Message]:
        """Up to ``count`` dead letters, oldest first."""
        return self._run(self._ops.dead_letters(count))

    def browse(self, state: MessageState | str, offset: int = 0, count: int = 50) -> list[Message]:
        return self._run(self._ops.browse(state, offset, count))

    def requeue_dead(self, ids: Iterable[str] | None = None) -> int:
        """Makes dead letters ready again (all, or those ``ids``); how many moved."""
        return self._run(self._ops.requeue_dead(ids))

    def clear(self) -> None:
        """Deletes every message of the queue, in every state."""
        self._run(self._ops.clear())

    def close(self) -> None:
        """Stops listening for wake-ups; closes the client if ``from_url`` opened it."""
        self._listener.close()
        self._scripts.close()
        if self._owns_client:
            self.client.close()

    def __enter__(self) -> Queue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
