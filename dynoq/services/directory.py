"""The queues a service works on, opened by name with their registered options."""

from __future__ import annotations

import asyncio
from typing import Any

from dynoq.backend.connect import AsyncClient
from dynoq.backend.queue import AsyncQueue
from dynoq.backend.registry import QueueEntry, alist_queues, alookup, aunregister
from dynoq.errors import QueueNotFound


class QueueDirectory:
    """Opens :class:`AsyncQueue` objects on one client, with the options the registry holds;
    a name not registered yet gets ``defaults`` when ``create`` is asked for."""

    def __init__(self, client: AsyncClient, namespace: str, defaults: dict[str, Any]) -> None:
        self.client = client
        self.namespace = namespace
        self._defaults = defaults
        self._open: dict[str, AsyncQueue] = {}
        self._lock = asyncio.Lock()

    async def get(self, name: str, *, create: bool = False) -> AsyncQueue:
        queue = self._open.get(name)
        if queue is not None:
            return queue
        async with self._lock:
            if name in self._open:
                return self._open[name]
            entry = await alookup(self.client, self.namespace, name)
            if entry is not None:
                options = entry.options()
            elif create:
                options = {"namespace": self.namespace, **self._defaults}
            else:
                raise QueueNotFound(name)
            queue = AsyncQueue(self.client, name, **options)
            self._open[name] = queue
            return queue

    async def entries(self) -> list[QueueEntry]:
        return await alist_queues(self.client, self.namespace)

    async def drop(self, name: str) -> None:
        """Empties the queue and removes it from the registry."""
        queue = await self.get(name)
        await queue.clear()
        await aunregister(self.client, self.namespace, name)
        self._open.pop(name, None)
        await queue.aclose()

    async def aclose(self) -> None:
        for queue in self._open.values():
            await queue.aclose()
        self._open.clear()
