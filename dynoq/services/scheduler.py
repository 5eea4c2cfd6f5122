"""``dynoq scheduler``: fires schedules as their ticks come due (run one or several).

For each due tick, in this order: fire every fire time the tick covers (a message ``ensure``d
with an id derived from the schedule and the fire time, or a workflow started with an id
derived from them), record each execution, then push the next tick, which replaces the one
being handled. A scheduler killed anywhere leaves the tick leased; when the lease runs out
another scheduler handles it again, and the derived ids make the repeated fires find what the
first attempt made instead of making it twice. The work grows with the ticks that are due; a
schedule that is not due costs nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

from dynoq.backend.connect import AsyncClient, async_client
from dynoq.core.schedule import Schedule, WorkflowAction, plan_tick, workflow_id
from dynoq.errors import DynoqError, InvalidArgument, NotFound
from dynoq.runtime.schedules import TICK_LEAD_MS, Schedules, Tick
from dynoq.runtime.serving import warn_if_embedded, workflow_service
from dynoq.runtime.settings import SchedulerConfig
from dynoq.workflow import MISSING_EXTRA
from dynoq.workflow import installed as workflows_installed

if TYPE_CHECKING:  # the engine needs the workflow extra; message schedules do not
    from dynoq.workflow.engine import WorkflowEngine

log = logging.getLogger("dynoq.scheduler")

T = TypeVar("T")
RETRY_AFTER_ERROR_SECONDS = 1.0
REPAIR_PAUSE_SECONDS = 0.05  # between batches of a repair pass, so firing goes on meanwhile
LATENESS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 60, 600)


class SchedulerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.fires = Counter(
            "dynoq_schedule_fires",
            "Schedule fires, by action (message, workflow) and outcome (executed, failed, "
            "repeated: a fire found done by an earlier attempt).",
            ["action", "outcome"],
            registry=registry,
        )
        self.misses = Counter(
            "dynoq_schedule_misses", "Fire times skipped because they were too late.", [],
            registry=registry,
        )  # fmt: skip
        self.lateness = Histogram(
            "dynoq_schedule_lateness_seconds",
            "From a fire time to when its fire was carried out.",
            buckets=LATENESS_BUCKETS,
            registry=registry,
        )


@dataclass(frozen=True, slots=True)
class Fired:
    """A tick whose fires were carried out, waiting to be recorded and followed."""

    tick: Tick
    schedule: Schedule
    next_ms: int | None
    now_ms: int
    docs: list[dict[str, Any]]


class Scheduler:
    """Handles due ticks: :meth:`run` until stopped, or :meth:`run_once` (tests)."""

    def __init__(
        self,
        schedules: Schedules,
        engine: WorkflowEngine | None,
        *,
        batch: int = 100,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.schedules = schedules
        self.engine = engine
        self.batch = batch
        self.metrics = SchedulerMetrics(registry if registry is not None else CollectorRegistry())

    async def run(self, stop: asyncio.Event, repair_interval: float = 300.0) -> None:
        """Pops ticks as they come due and handles up to ``batch`` at once, popping on while
        earlier ones are being handled."""
        repairs = asyncio.create_task(self._repair_loop(stop, repair_interval))
        running: dict[asyncio.Task[None], int] = {}  # a batch of ticks, and how many
        try:
            while not stop.is_set():
                free = self.batch - sum(running.values())
                if free <= 0:
                    await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                    continue
                try:
                    ticks = await self.schedules.pop_ticks(free, wait=1.0)
                except DynoqError as exc:
                    log.warning("popping ticks failed: %s", exc)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), RETRY_AFTER_ERROR_SECONDS)
                    continue
                if ticks:
                    job = asyncio.create_task(self.handle_many(ticks))
                    running[job] = len(ticks)
                    job.add_done_callback(lambda done: running.pop(done, None))
            if running:
                await asyncio.wait(running, timeout=30)
        finally:
            repairs.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await repairs

    async def run_once(self, wait: float = 0.0) -> int:
        """Pops the due ticks (waiting up to ``wait`` for one) and handles them; how many."""
        ticks = await self.schedules.pop_ticks(self.batch, wait)
        await self.handle_many(ticks)
        return len(ticks)

    async def handle(self, tick: Tick) -> None:
        await self.handle_many([tick])

    async def handle_many(self, ticks: list[Tick]) -> None:
        """Fires the ticks popped together, each at its time, then records them and pushes
        their next ticks: the bookkeeping of one does not hold up the fires of the others."""
        fired = await asyncio.gather(*(self._guarded(t, self._fire_tick(t)) for t in ticks))
        await asyncio.gather(*(self._guarded(f.tick, self._finish(f)) for f in fired if f))

    async def _guarded(self, tick: Tick, step: Awaitable[T]) -> T | None:
        try:
            return await step
        except Exception as exc:  # the tick comes back: now, or when its lease runs out
            if isinstance(exc, DynoqError):
                log.warning("schedule %r: %s", tick.name, exc)
            else:
                log.exception("schedule %r failed", tick.name)
            with contextlib.suppress(DynoqError):
                await self.schedules.ticks.nack(tick.message, delay=RETRY_AFTER_ERROR_SECONDS)
            return None

    async def _fire_tick(self, tick: Tick) -> Fired | None:
        schedules = self.schedules
        schedule = await schedules.get(tick.name)
        if schedule is None or schedule.paused or schedule.rev != tick.rev:
            # deleted, paused, or changed: whoever changed it armed the tick it needs
            await schedules.ticks.ack(tick.message)
            return None
        now = await schedules.now_ms()
        if schedules.clock is None and tick.fire_ms - now <= TICK_LEAD_MS * 4:
            while now < tick.fire_ms:  # taken early on purpose; a timer may wake a ms early
                await asyncio.sleep((tick.fire_ms - now) / 1000)
                now = await schedules.now_ms()
        plan = plan_tick(schedule, tick.fire_ms, now)
        if plan.missed:
            self.metrics.misses.inc(plan.missed)
            log.warning("schedule %r: %d late fire(s) not run", tick.name, plan.missed)
        docs = []
        for fire_ms in plan.fires:
            if tick.message.attempts > 1 and await schedules.executed(schedule.name, fire_ms):
                self.metrics.fires.labels(_kind(schedule), "repeated").inc()
                continue
            docs.append(await self.fire(schedule, fire_ms))
        return Fired(tick, schedule, plan.next_ms, now, docs)

    async def _finish(self, fired: Fired) -> None:
        schedules, schedule, tick = self.schedules, fired.schedule, fired.tick
        for doc in fired.docs:
            self.metrics.lateness.observe(
                max(0, doc["executionTime"] - doc["scheduledTime"]) / 1000
            )
            await schedules.record(schedule, doc)
            outcome = "repeated" if doc.pop("duplicate", False) else doc["state"].lower()
            self.metrics.fires.labels(_kind(schedule), outcome).inc()
        if fired.next_ms is None:
            await schedules.ticks.ack(tick.message)  # past its end time: no more ticks
        else:
            await schedules.push_tick(schedule, fired.next_ms, fired.now_ms)
        latest = await schedules.get(tick.name)  # changed meanwhile? its tick wins
        if latest is None or latest.paused:
            await schedules.ticks.remove(tick.name)
        elif latest.rev != schedule.rev:
            await schedules.arm(latest)

    async def fire(self, schedule: Schedule, fire_ms: int) -> dict[str, Any]:
        if not isinstance(schedule.action, WorkflowAction):
            return await self.schedules.fire_message(schedule, fire_ms)
        doc = self.schedules.execution(schedule, fire_ms, "EXECUTED")
        if self.engine is None:
            doc.update(state="FAILED", reason=f"this scheduler cannot start {MISSING_EXTRA}")
            return doc
        request = schedule.action.request
        inputs = dict(request.get("input") or {})
        inputs.update(_scheduledTime=fire_ms, _executedTime=doc["executionTime"])
        wid = workflow_id(self.schedules.namespace, schedule.name, fire_ms)
        try:
            doc["workflowId"] = await self.engine.start_workflow(
                request["name"],
                inputs,
                version=request.get("version"),
                correlation_id=request.get("correlationId") or "",
                priority=request.get("priority") or 0,
                task_to_domain=request.get("taskToDomain"),
                workflow_def=request.get("workflowDef"),
                created_by=request.get("createdBy") or "scheduler",
                workflow_id=wid,
            )
        except (InvalidArgument, NotFound) as exc:  # fix the schedule; the next fires go on
            doc.update(state="FAILED", reason=str(exc))
            log.warning("schedule %r: starting %r failed: %s", schedule.name, request["name"], exc)
        return doc

    async def _repair_loop(self, stop: asyncio.Event, interval: float) -> None:
        """Every ``interval``, one scheduler (the one that takes that interval's lease)
        re-arms schedules without a tick."""
        key = f"_dynoq:schedule-repair:{self.schedules.namespace}"
        owner = uuid.uuid4().hex
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
            if stop.is_set():
                return
            try:
                client = self.schedules.client
                if await client.set(key, owner, nx=True, px=max(1, round(interval * 1000))):
                    armed = await self.schedules.repair(pause=REPAIR_PAUSE_SECONDS)
                    if armed:
                        log.warning("re-armed %d schedule(s) that had no tick", armed)
            except DynoqError as exc:
                log.warning("schedule repair failed: %s", exc)
            except Exception as exc:  # a redis-py error outside the translated calls
                log.warning("schedule repair failed: %s", exc)


def _kind(schedule: Schedule) -> str:
    return "workflow" if isinstance(schedule.action, WorkflowAction) else "message"


async def run(
    config: SchedulerConfig,
    *,
    registry: CollectorRegistry | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Fires due schedules until ``stop`` is set; without the workflow extra, message schedules
    only (a workflow schedule's fires are recorded as FAILED, saying why)."""
    stop = stop or asyncio.Event()
    if workflows_installed():
        async with workflow_service(
            config.redis_url, config.namespace, config.metrics_port, registry
        ) as (engine, metrics):
            await _fire_until_stopped(config, engine.client, engine, metrics, stop)
        return
    log.warning("message schedules only: %s", MISSING_EXTRA)
    warn_if_embedded(config.redis_url)
    registry = registry if registry is not None else CollectorRegistry()
    if config.metrics_port:
        start_http_server(config.metrics_port, registry=registry)
    client = async_client(config.redis_url)
    try:
        await _fire_until_stopped(config, client, None, registry, stop)
    finally:
        await client.aclose()


async def _fire_until_stopped(
    config: SchedulerConfig,
    client: AsyncClient,
    engine: WorkflowEngine | None,
    metrics: CollectorRegistry,
    stop: asyncio.Event,
) -> None:
    schedules = Schedules(client, config.namespace)
    scheduler = Scheduler(schedules, engine, batch=config.batch, registry=metrics)
    started = time.monotonic()
    log.info("dynoq scheduler firing schedules of namespace %r", config.namespace)
    try:
        await scheduler.run(stop, config.repair_interval)
    finally:
        await schedules.aclose()
        log.info("dynoq scheduler stopped after %.0f s", time.monotonic() - started)
