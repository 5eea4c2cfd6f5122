"""Prometheus metrics of the services, on a registry the caller passes in.

Counters are kept by the process that did the work (the HTTP API, a worker, a sweeper); the
per-queue gauges are read from Redis when scraped, cached for ``ttl`` seconds so that a burst
of scrapes costs one stats call per shard at most once per ``ttl``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from dynoq.core.models import Message, QueueStats

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
WAIT_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 60.0, 300.0, 3600.0)
HANDLER_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0)


class Metrics:
    """The counters and histograms of one process."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

        def counter(what: str, doc: str) -> Counter:
            return Counter(f"dynoq_messages_{what}", doc, ["queue"], registry=registry)

        self.pushed = counter("pushed", "Messages pushed.")
        self.popped = counter("popped", "Messages leased by pop.")
        self.acked = counter("acked", "Messages acknowledged.")
        self.nacked = counter("nacked", "Messages given back (nack).")
        self.redelivered = counter("redelivered", "Expired leases handed back by the sweeper.")
        self.dead_lettered = counter(
            "dead_lettered", "Messages moved to the dead letters by a sweeper or a worker."
        )
        self.handler_duration = Histogram(
            "dynoq_handler_duration_seconds",
            "Time a worker handler ran, by outcome (ok, error, abandoned).",
            ["queue", "outcome"],
            buckets=HANDLER_BUCKETS,
            registry=registry,
        )
        self.time_in_queue = Histogram(
            "dynoq_time_in_queue_seconds",
            "From when a message became due to when it was popped (Redis server clock).",
            ["queue"],
            buckets=WAIT_BUCKETS,
            registry=registry,
        )
        self.request_duration = Histogram(
            "dynoq_http_request_duration_seconds",
            "HTTP API request latency, by route and status.",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )

    def observe_popped(self, queue: str, unack_timeout: float, messages: list[Message]) -> None:
        """Counts popped messages and how long each waited after it became due. The pop
        time is the lease start (lease end minus the lease), so both ends of the wait are
        read off the Redis server's clock."""
        self.popped.labels(queue).inc(len(messages))
        waited = self.time_in_queue.labels(queue)
        for message in messages:
            if message.lease_expires_at is not None and message.due_at is not None:
                popped_at = message.lease_expires_at - unack_timeout
                waited.observe(max(0.0, popped_at - message.due_at))


StatsSource = Callable[[], Awaitable[Iterable[tuple[str, QueueStats]]]]

_GAUGES = (
    ("ready", "Messages ready to pop (including delayed ones already due)."),
    ("delayed", "Messages waiting for their due time."),
    ("in_flight", "Messages leased to a consumer."),
    ("dead", "Dead letters."),
)


class QueueGauges(Collector):
    """``dynoq_queue_messages{queue, state}``: message counts per queue and state.

    ``collect`` (synchronous, called by the exposition code) only reads the cache; call
    ``await refresh()`` before rendering a scrape.
    """

    def __init__(self, source: StatsSource, registry: CollectorRegistry, ttl: float = 2.0) -> None:
        self._source = source
        self._ttl = ttl
        self._stats: list[tuple[str, QueueStats]] = []
        self._at = -float("inf")
        self._lock = asyncio.Lock()
        registry.register(self)

    async def refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._at < self._ttl:
                return
            self._stats = list(await self._source())
            self._at = time.monotonic()

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "dynoq_queue_messages",
            "Messages per queue and state (ready, delayed, in_flight, dead), read from Redis.",
            labels=["queue", "state"],
        )
        for name, stats in self._stats:
            for state, _ in _GAUGES:
                family.add_metric([name, state], getattr(stats, state))
        yield family

    def describe(self) -> Iterable[Metric]:
        return []
