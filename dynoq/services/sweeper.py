"""``dynoq sweeper``: hands expired leases back (and dead-letters exhausted messages) for every
registered queue of a namespace.

Any number of sweepers may run. Before sweeping a shard, a sweeper takes that shard's lease
(``SET key owner NX PX interval``); whoever holds it sweeps the shard, the others skip it, so a
shard is swept about once per interval however many sweepers run. Leases are left to expire,
not released: releasing would let the next sweeper sweep the same shard right away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, start_http_server

from dynoq.backend.connect import AsyncClient, async_client
from dynoq.backend.leases import atake_lease
from dynoq.backend.queue import AsyncQueue
from dynoq.backend.registry import QueueEntry, alist_queues
from dynoq.errors import DynoqError
from dynoq.runtime.metrics import Metrics
from dynoq.runtime.serving import warn_if_embedded, warn_if_evicting
from dynoq.runtime.settings import SweeperConfig

log = logging.getLogger("dynoq.sweeper")

# One shard's sweep stops after this many full batches; the next interval goes on.
MAX_ROUNDS_PER_SHARD = 100


def lease_key(namespace: str, queue: str, shard: int) -> str:
    return f"_dynoq:sweep-lease:{namespace}:{queue}:{shard}"


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What one pass did: shards swept (leases won), leases handed back, dead-lettered."""

    shards: int = 0
    requeued: int = 0
    dead_lettered: int = 0


class Sweeper:
    """Sweeps the registered queues of one namespace, one pass per :meth:`sweep_once`."""

    def __init__(
        self,
        client: AsyncClient,
        namespace: str,
        lease_seconds: float,
        metrics: Metrics | None = None,
    ) -> None:
        self.client = client
        self.namespace = namespace
        self.owner = uuid.uuid4().hex
        self._lease_ms = max(1, round(lease_seconds * 1000))
        self._metrics = metrics
        self._queues: dict[QueueEntry, AsyncQueue] = {}  # opened with the registered options

    def _queue(self, entry: QueueEntry) -> AsyncQueue:
        queue = self._queues.get(entry)
        if queue is None:
            queue = self._queues[entry] = AsyncQueue(self.client, entry.name, **entry.options())
        return queue

    async def sweep_once(self) -> SweepReport:
        shards = requeued = dead = 0
        entries = await alist_queues(self.client, self.namespace)
        for gone in set(self._queues) - set(entries):  # unregistered, or its options changed
            await self._queues.pop(gone).aclose()
        for entry in entries:
            for shard in range(entry.shards):
                key = lease_key(self.namespace, entry.name, shard)
                if not await atake_lease(self.client, key, self.owner, self._lease_ms):
                    continue
                back, died = await self._queue(entry).sweep_shard(shard, MAX_ROUNDS_PER_SHARD)
                shards, requeued, dead = shards + 1, requeued + back, dead + died
                if self._metrics is not None:
                    self._metrics.redelivered.labels(entry.name).inc(back)
                    self._metrics.dead_lettered.labels(entry.name).inc(died)
        return SweepReport(shards, requeued, dead)


async def run(
    config: SweeperConfig,
    *,
    registry: CollectorRegistry | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Sweeps every ``config.interval`` seconds until ``stop`` is set."""
    stop = stop or asyncio.Event()
    warn_if_embedded(config.redis_url)
    warn_if_evicting(config.redis_url)
    metrics = Metrics(registry if registry is not None else CollectorRegistry())
    if config.metrics_port:
        start_http_server(config.metrics_port, registry=metrics.registry)
    client = async_client(config.redis_url)
    sweeper = Sweeper(client, config.namespace, config.interval, metrics)
    log.info("dynoq sweeper %s sweeping namespace %r", sweeper.owner[:8], config.namespace)
    try:
        while not stop.is_set():
            try:
                report = await sweeper.sweep_once()
            except DynoqError as exc:  # Redis away: say so and try again next interval
                log.warning("sweep failed: %s", exc)
            else:
                if report.requeued or report.dead_lettered:
                    log.info(
                        "swept %d shard(s): %d lease(s) handed back, %d dead-lettered",
                        report.shards,
                        report.requeued,
                        report.dead_lettered,
                    )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), config.interval)
    finally:
        await client.aclose()
        log.info("dynoq sweeper stopped")
