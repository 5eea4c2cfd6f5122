"""Prometheus metrics of the services, on a registry the caller passes in.

Counters are kept by the process that did the work (the HTTP API, a worker, a sweeper); the
per-queue gauges are read from Redis when scraped, cached for ``ttl`` seconds so that a burst
of scrapes costs one stats call per shard at most once per ``ttl``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from dynoq.core.eviction import evicts
from dynoq.core.models import Message, QueueStats
from dynoq.errors import DynoqError

log = logging.getLogger("dynoq.metrics")

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
InfoSource = Callable[[], Awaitable[dict[str, Any]]]
_GAUGES = (
    ("ready", "Messages ready to pop (including delayed ones already due)."),
    ("delayed", "Messages waiting for their due time."),
    ("in_flight", "Messages leased to a consumer."),
    ("dead", "Dead letters."),
)


class QueueGauges(Collector):
    """``dynoq_queue_messages{queue, state}`` and ``dynoq_queue_oldest_ready_age_seconds{queue}``
    read from the queues, and with ``redis_info`` the health of the Redis they live on
    (``dynoq_redis_up``, memory, evictions, whether the policy evicts).

    ``collect`` (synchronous, called by the exposition code) only reads the cache; call
    ``await refresh()`` before rendering a scrape.
    """

    def __init__(
        self,
        source: StatsSource,
        registry: CollectorRegistry,
        ttl: float = 2.0,
        redis_info: InfoSource | None = None,
    ) -> None:
        self._source = source
        self._redis_info = redis_info
        self._ttl = ttl
        self._stats: list[tuple[str, QueueStats]] = []
        self._info: dict[str, Any] | None = None
        self._at = -float("inf")
        self._lock = asyncio.Lock()
        registry.register(self)

    async def refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._at < self._ttl:
                return
            self._at = time.monotonic()
            try:
                if self._redis_info is not None:
                    self._info = await self._redis_info()
                self._stats = list(await self._source())
            except DynoqError as exc:  # the scrape still answers: dynoq_redis_up 0, no counts
                log.warning("reading the queue gauges failed: %s", exc)
                self._info, self._stats = None, []

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "dynoq_queue_messages",
            "Messages per queue and state (ready, delayed, in_flight, dead), read from Redis.",
            labels=["queue", "state"],
        )
        age = GaugeMetricFamily(
            "dynoq_queue_oldest_ready_age_seconds",
            "How long the longest-waiting ready message of a queue has been due (0: none).",
            labels=["queue"],
        )
        for name, stats in self._stats:
            for state, _ in _GAUGES:
                family.add_metric([name, state], getattr(stats, state))
            age.add_metric([name], stats.oldest_ready_age)
        yield family
        yield age
        if self._redis_info is not None:
            yield from _redis_families(self._info)

    def describe(self) -> Iterable[Metric]:
        return []


def _redis_families(info: dict[str, Any] | None) -> Iterable[Metric]:
    yield GaugeMetricFamily(
        "dynoq_redis_up", "1 when the last scrape reached Redis.", value=0 if info is None else 1
    )
    if info is None:
        return
    yield GaugeMetricFamily(
        "dynoq_redis_used_memory_bytes", "Redis used_memory.", value=info.get("used_memory", 0)
    )
    yield GaugeMetricFamily(
        "dynoq_redis_maxmemory_bytes", "Redis maxmemory (0: none).", value=info.get("maxmemory", 0)
    )
    yield CounterMetricFamily(
        "dynoq_redis_evicted_keys",
        "Keys Redis evicted since it started: each one can be a lost message.",
        value=info.get("evicted_keys", 0),
    )
    yield GaugeMetricFamily(
        "dynoq_redis_evicting_policy",
        "1 when Redis's maxmemory-policy may evict keys (anything but noeviction).",
        value=1 if evicts(info.get("maxmemory_policy")) else 0,
    )
