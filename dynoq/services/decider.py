"""``dynoq decider``: takes workflow ids off the decider queue as they come due and decides
them (:meth:`WorkflowEngine.process`), up to ``concurrency`` at once. Any number may run: the
workflow lock makes sure one decides a workflow at a time, and a decider that finds it locked
looks again a moment later rather than dropping the wake-up.
"""

from __future__ import annotations

import asyncio
import logging

from prometheus_client import CollectorRegistry, Counter, Histogram

from dynoq.core.models import Message
from dynoq.errors import DynoqError
from dynoq.runtime.metrics import WAIT_BUCKETS
from dynoq.runtime.serving import workflow_service
from dynoq.runtime.settings import DeciderConfig
from dynoq.services.workflow_metrics import WorkflowMetrics
from dynoq.workflow.engine import WorkflowEngine
from dynoq.workflow.system_tasks import HttpTaskRunner

log = logging.getLogger("dynoq.decider")

RETRY_AFTER_ERROR_SECONDS = 1.0


class Decider:
    def __init__(
        self, engine: WorkflowEngine, concurrency: int, registry: CollectorRegistry | None = None
    ) -> None:
        self.engine = engine
        self.concurrency = concurrency
        registry = registry if registry is not None else CollectorRegistry()
        self.decisions = Counter(
            "dynoq_workflow_decisions",
            "Workflow decides, by outcome",
            ["outcome"],
            registry=registry,
        )
        for outcome in ("decided", "locked", "error", "bug"):  # series exist from the start
            self.decisions.labels(outcome)
        self.duration = Histogram(
            "dynoq_workflow_decide_seconds",
            "Time to decide a workflow and carry it out",
            registry=registry,
        )
        self.lag = Histogram(
            "dynoq_workflow_decider_lag_seconds",
            "From when a workflow was due to be decided to when a decider took it (Redis clock)",
            buckets=WAIT_BUCKETS,
            registry=registry,
        )

    async def run(self, stop: asyncio.Event) -> None:
        running: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            free = self.concurrency - len(running)
            if free <= 0:
                await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                continue
            try:
                entries = await self.engine.decider_queue.pop(free, wait=1.0)
            except DynoqError as exc:
                log.warning("popping the decider queue failed: %s", exc)
                await asyncio.sleep(RETRY_AFTER_ERROR_SECONDS)
                continue
            for entry in entries:
                job = asyncio.create_task(self.handle(entry))
                running.add(job)
                job.add_done_callback(running.discard)
        if running:
            await asyncio.wait(running, timeout=30)

    async def handle(self, entry: Message) -> None:
        if entry.lease_expires_at is not None and entry.due_at is not None:
            taken_at = entry.lease_expires_at - self.engine.decider_queue.spec.unack_timeout
            self.lag.observe(max(0.0, taken_at - entry.due_at))
        with self.duration.time():
            try:
                decision = await self.engine.process(entry.id, entry=entry)
            except DynoqError as exc:
                self.decisions.labels("error").inc()
                log.warning("deciding workflow %s failed: %s", entry.id, exc)
                await self._retry_later(entry)
                return
            except Exception:
                self.decisions.labels("bug").inc()
                log.exception("deciding workflow %s failed", entry.id)
                await self._retry_later(entry)
                return
        self.decisions.labels("locked" if decision is None else "decided").inc()

    async def _retry_later(self, entry: Message) -> None:
        try:
            await self.engine.decider_queue.nack(entry, delay=RETRY_AFTER_ERROR_SECONDS)
        except DynoqError as exc:  # its lease runs out and it is decided again
            log.warning("could not hand workflow %s back: %s", entry.id, exc)


async def run(
    config: DeciderConfig,
    *,
    registry: CollectorRegistry | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Decides workflows until ``stop`` is set."""
    stop = stop or asyncio.Event()
    async with workflow_service(
        config.redis_url, config.namespace, config.metrics_port, registry
    ) as (engine, metrics):
        engine.observe(WorkflowMetrics(metrics))
        log.info("dynoq decider deciding namespace %r", config.namespace)
        services = [Decider(engine, config.concurrency, metrics).run(stop)]
        if config.system_tasks:
            services.append(HttpTaskRunner(engine).run(stop))
        await asyncio.gather(*services)
