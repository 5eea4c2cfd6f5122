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
from dynoq.backend.registry import QueueEntry, alist_queues
from dynoq.backend.runner import AsyncScripts, ensure_initialized, translated_errors
from dynoq.core.ops import BATCH_LIMIT, ScriptCall
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
        self._scripts = AsyncScripts(client)
        self._metrics = metrics

    async def _take_lease(self, queue: str, shard: int) -> bool:
        key = lease_key(self.namespace, queue, shard)
        with translated_errors():
            await ensure_initialized(self.client)
            return bool(await self.client.set(key, self.owner, nx=True, px=self._lease_ms))

    async def _sweep_shard(self, entry: QueueEntry, shard: int) -> tuple[int, int]:
        spec = entry.spec()
        call = ScriptCall(
            "sweep", spec.keys[shard].all, ("", spec.channel, BATCH_LIMIT, spec.max_deliveries)
        )
        requeued = dead = 0
        for _ in range(MAX_ROUNDS_PER_SHARD):
            back, died, more = await self._scripts.run(call)
            requeued, dead = requeued + back, dead + died
            if not more:
                break
        return requeued, dead

    async def sweep_once(self) -> SweepReport:
        shards = requeued = dead = 0
        for entry in await alist_queues(self.client, self.namespace):
            for shard in range(entry.shards):
                if not await self._take_lease(entry.name, shard):
                    continue
                back, died = await self._sweep_shard(entry, shard)
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
