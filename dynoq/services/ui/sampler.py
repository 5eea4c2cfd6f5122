"""The last hour of every queue, kept in Redis so every server replica draws the same chart.

Each server samples every ``interval`` seconds: the queue's counts by state (the same
``stats()`` the API answers with) and the messages pushed and acked through its own HTTP API
since its last sample (its Prometheus counters), into one hash per minute,
``<namespace>:ui:minute:<unix minute>``, fields ``<series>:<queue>``. Counts are written (the
latest sample of the minute wins), pushes and acks added up across replicas. Each hash expires
two hours after its minute, so at most about 120 small hashes exist whatever runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence

from prometheus_client import CollectorRegistry

from dynoq.backend.connect import AsyncClient
from dynoq.errors import DynoqError
from dynoq.services.directory import QueueDirectory

log = logging.getLogger("dynoq.ui")

STATES = ("ready", "delayed", "in_flight", "dead")
RATES = ("pushed", "acked")
SERIES = STATES + RATES
KEEP_SECONDS = 7200
HOUR_MINUTES = 60


def minute_key(namespace: str, minute: int) -> str:
    return f"{namespace}:ui:minute:{minute}"


class Sampler:
    def __init__(self, registry: CollectorRegistry, interval: float = 10.0) -> None:
        self._directory: QueueDirectory | None = None
        self.registry = registry
        self.interval = interval
        self._counted: dict[tuple[str, str], float] = {}

    def attach(self, directory: QueueDirectory) -> None:
        """The server's queue directory, once it is connected (on startup)."""
        self._directory = directory

    @property
    def directory(self) -> QueueDirectory:
        if self._directory is None:
            raise RuntimeError("the sampler runs only once the server has started")
        return self._directory

    @property
    def client(self) -> AsyncClient:
        return self.directory.client

    def _counter(self, series: str, queue: str) -> float:
        value = self.registry.get_sample_value(f"dynoq_messages_{series}_total", {"queue": queue})
        return value or 0.0

    async def sample(self, now: float | None = None) -> None:
        """One sample of every registered queue."""
        minute = int((time.time() if now is None else now) // 60)
        key = minute_key(self.directory.namespace, minute)
        counts: dict[str, int] = {}
        added: dict[str, int] = {}
        entries = await self.directory.entries()
        opened = [await self.directory.get(entry.name) for entry in entries]
        all_stats = await asyncio.gather(*(queue.stats() for queue in opened))
        for entry, stats in zip(entries, all_stats, strict=True):
            for state in STATES:
                counts[f"{state}:{entry.name}"] = getattr(stats, state)
            for series in RATES:
                total = self._counter(series, entry.name)
                seen = self._counted.get((series, entry.name), 0.0)
                self._counted[(series, entry.name)] = total
                if total > seen:
                    added[f"{series}:{entry.name}"] = int(total - seen)
        if not counts:
            return
        pipe = self.client.pipeline(transaction=False)
        pipe.hset(key, mapping=counts)  # type: ignore[arg-type]
        for field, n in added.items():
            pipe.hincrby(key, field, n)
        pipe.expireat(key, (minute + 1) * 60 + KEEP_SECONDS)
        await pipe.execute()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.sample()
            except (DynoqError, OSError) as exc:
                log.warning("queue chart sample failed: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval)

    async def hour(
        self, queues: Sequence[str], now: float | None = None
    ) -> tuple[list[int], dict[str, dict[str, list[int | None]]]]:
        """The minutes of the last hour (oldest first) and, per queue, each series' value in
        each minute (None where no server sampled)."""
        this = int((time.time() if now is None else now) // 60)
        minutes = list(range(this - HOUR_MINUTES + 1, this + 1))
        fields = [f"{s}:{q}" for q in queues for s in SERIES]
        pipe = self.client.pipeline(transaction=False)
        for minute in minutes:
            pipe.hmget(minute_key(self.directory.namespace, minute), fields)
        rows = await pipe.execute()
        out: dict[str, dict[str, list[int | None]]] = {q: {s: [] for s in SERIES} for q in queues}
        for row in rows:
            for field, raw in zip(fields, row, strict=True):
                series, _, queue = field.partition(":")
                value = None if raw is None else int(raw)
                if value is None and series in RATES:
                    value = 0 if any(r is not None for r in row) else None
                out[queue][series].append(value)
        return minutes, out
