"""``AsyncQueue`` and ``Queue``: the same queue API over redis.asyncio and blocking redis-py.

Both run the operations of :mod:`dynoq.core.ops`; only how a step is executed differs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any, Generic, TypeVar

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
from dynoq.core.ops import LISTEN, Operation, QueueOps, Tolerant, Wait
from dynoq.core.spec import DEFAULT_MAX_PAYLOAD_BYTES, QueueSpec
from dynoq.errors import DynoqError

T = TypeVar("T")
C = TypeVar("C")

# How long a waiting pop gives its subscription to come up before it polls instead.
SUBSCRIBE_TIMEOUT_SECONDS = 2.0


def _raise_unexpected(results: list[Any]) -> None:
    """Tolerant steps return DynoqErrors as values; anything else is a bug and is raised."""
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, DynoqError):
            raise result


class _QueueBase(Generic[C]):
    def __init__(
        self,
        client: C,
        name: str,
        *,
        namespace: str = "dynoq",
        shards: int = 1,
        unack_timeout: float = 60.0,
        max_deliveries: int = 0,
        max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
        clock: Clock | None = None,
    ) -> None:
        self.spec = QueueSpec(
            name=name,
            namespace=namespace,
            shards=shards,
            unack_timeout=unack_timeout,
            max_deliveries=max_deliveries,
            max_payload_bytes=max_payload_bytes,
        )
        check_client(client)
        self.client = client
        self._ops = QueueOps(self.spec, clock)
        self._owns_client = False
        self._registered = False  # written to the queue registry on first use

    @property
    def name(self) -> str:
        return self.spec.name

    def __repr__(self) -> str:
        spec = self.spec
        options = f"namespace={spec.namespace!r}, shards={spec.shards}"
        return f"{type(self).__name__}({spec.name!r}, {options})"


class AsyncQueue(_QueueBase[AsyncClient]):
    """A sharded priority + delay queue with leases, over a ``redis.asyncio`` client.

    See the README for the semantics; every method is a coroutine.
    """

    def __init__(self, client: AsyncClient, name: str, **options: Any) -> None:
        super().__init__(client, name, **options)
        self._scripts = AsyncScripts(client)
        self._listener = AsyncWakeListener(client, self.spec.channel)

    @classmethod
    def from_url(cls, url: str, name: str, **options: Any) -> AsyncQueue:
        """A queue on its own client for ``url``; ``aclose()`` closes that client."""
        QueueSpec(
            name, **{k: v for k, v in options.items() if k != "clock"}
        )  # fail before connecting
        queue = cls(async_client(url), name, **options)
        queue._owns_client = True
        return queue

    async def _run(self, op: Operation[T]) -> T:
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
        return await self._run(self._ops.push(messages))

    async def ensure(self, message: Message) -> bool:
        return await self._run(self._ops.ensure(message))

    async def pop(self, count: int = 1, wait: float = 0.0) -> list[Message]:
        return await self._run(self._ops.pop(count, wait))

    async def ack(self, message: str | Message, receipt: str | None = None) -> bool:
        return await self._run(self._ops.ack(message, receipt))

    async def ack_many(self, messages: Iterable[str | Message]) -> int:
        return await self._run(self._ops.ack_many(messages))

    async def nack(
        self, message: str | Message, delay: float = 0.0, receipt: str | None = None
    ) -> bool:
        return await self._run(self._ops.nack(message, delay, receipt))

    async def set_unack_timeout(self, message: str | Message, timeout: float) -> bool:
        return await self._run(self._ops.set_unack_timeout(message, timeout))

    async def set_delay(self, message: str | Message, delay: float) -> bool:
        return await self._run(self._ops.set_delay(message, delay))

    async def remove(self, message: str | Message) -> bool:
        return await self._run(self._ops.remove(message))

    async def get(self, message_id: str) -> Message | None:
        return await self._run(self._ops.get(message_id))

    async def contains(self, message_id: str) -> bool:
        return await self._run(self._ops.contains(message_id))

    async def peek(self, count: int = 1) -> list[Message]:
        return await self._run(self._ops.peek(count))

    async def size(self) -> int:
        return await self._run(self._ops.size())

    async def stats(self) -> QueueStats:
        return await self._run(self._ops.stats())

    async def sweep(self) -> int:
        return await self._run(self._ops.sweep())

    async def dead_letters(self, count: int = 100) -> list[Message]:
        return await self._run(self._ops.dead_letters(count))

    async def browse(
        self, state: MessageState | str, offset: int = 0, count: int = 50
    ) -> list[Message]:
        return await self._run(self._ops.browse(state, offset, count))

    async def requeue_dead(self, ids: Iterable[str] | None = None) -> int:
        return await self._run(self._ops.requeue_dead(ids))

    async def clear(self) -> None:
        await self._run(self._ops.clear())

    async def aclose(self) -> None:
        await self._listener.aclose()
        if self._owns_client:
            await self.client.aclose()

    async def __aenter__(self) -> AsyncQueue:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class Queue(_QueueBase[SyncClient]):
    """The blocking twin of :class:`AsyncQueue`; safe to share between threads."""

    def __init__(self, client: SyncClient, name: str, **options: Any) -> None:
        super().__init__(client, name, **options)
        self._scripts = SyncScripts(client)
        self._listener = SyncWakeListener(client, self.spec.channel)

    @classmethod
    def from_url(cls, url: str, name: str, **options: Any) -> Queue:
        """A queue on its own client for ``url``; ``close()`` closes that client."""
        QueueSpec(name, **{k: v for k, v in options.items() if k != "clock"})
        queue = cls(sync_client(url), name, **options)
        queue._owns_client = True
        return queue

    def _run(self, op: Operation[T]) -> T:
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
        return self._run(self._ops.push(messages))

    def ensure(self, message: Message) -> bool:
        return self._run(self._ops.ensure(message))

    def pop(self, count: int = 1, wait: float = 0.0) -> list[Message]:
        return self._run(self._ops.pop(count, wait))

    def ack(self, message: str | Message, receipt: str | None = None) -> bool:
        return self._run(self._ops.ack(message, receipt))

    def ack_many(self, messages: Iterable[str | Message]) -> int:
        return self._run(self._ops.ack_many(messages))

    def nack(self, message: str | Message, delay: float = 0.0, receipt: str | None = None) -> bool:
        return self._run(self._ops.nack(message, delay, receipt))

    def set_unack_timeout(self, message: str | Message, timeout: float) -> bool:
        return self._run(self._ops.set_unack_timeout(message, timeout))

    def set_delay(self, message: str | Message, delay: float) -> bool:
        return self._run(self._ops.set_delay(message, delay))

    def remove(self, message: str | Message) -> bool:
        return self._run(self._ops.remove(message))

    def get(self, message_id: str) -> Message | None:
        return self._run(self._ops.get(message_id))

    def contains(self, message_id: str) -> bool:
        return self._run(self._ops.contains(message_id))

    def peek(self, count: int = 1) -> list[Message]:
        return self._run(self._ops.peek(count))

    def size(self) -> int:
        return self._run(self._ops.size())

    def stats(self) -> QueueStats:
        return self._run(self._ops.stats())

    def sweep(self) -> int:
        return self._run(self._ops.sweep())

    def dead_letters(self, count: int = 100) -> list[Message]:
        return self._run(self._ops.dead_letters(count))

    def browse(self, state: MessageState | str, offset: int = 0, count: int = 50) -> list[Message]:
        return self._run(self._ops.browse(state, offset, count))

    def requeue_dead(self, ids: Iterable[str] | None = None) -> int:
        return self._run(self._ops.requeue_dead(ids))

    def clear(self) -> None:
        self._run(self._ops.clear())

    def close(self) -> None:
        self._listener.close()
        self._scripts.close()
        if self._owns_client:
            self.client.close()

    def __enter__(self) -> Queue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
