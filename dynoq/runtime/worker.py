"""The worker runtime: call a function for every message of a queue.

::

    worker = dynoq.Worker.from_url(url, concurrency=50)

    @worker.handler("emails", unack_timeout=30, max_deliveries=5, backoff=dynoq.Exponential(1))
    async def send(msg): ...          # plain functions run in a thread pool

    worker.run()                      # or: dynoq worker myapp:worker

Up to ``concurrency`` handlers run at once, across all queues. A handler that returns acks its
message; one that raises nacks it, due again after the backoff delay, or dead-lettered once it
was delivered ``max_deliveries`` times. While a handler runs, its lease is extended once a third
of ``unack_timeout`` has passed since it was last set. On SIGTERM/SIGINT (or ``stop``) the worker
takes no new messages, waits up to ``grace_period`` seconds for running handlers, and gives the
unfinished messages back.

``prefetch`` (default 0) leases up to that many messages more than there are free handler slots,
so the next pop travels while handlers run: for many short jobs (throughput). Prefetched messages
hold their leases (extended like running ones) while they wait, so another worker cannot take
them: leave it at 0 for slow jobs or when several workers share a queue and share it fairly.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib
import inspect
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server

from dynoq.backend.connect import async_client
from dynoq.backend.queue import AsyncQueue
from dynoq.backend.registry import aregister
from dynoq.core.backoff import Backoff, Exponential
from dynoq.core.keys import check_name
from dynoq.core.models import Message
from dynoq.core.schedule import CatchUp, MessageAction, Schedule, Timing
from dynoq.core.spec import QueueSpec
from dynoq.errors import ConfigError, DynoqError
from dynoq.runtime.metrics import Metrics
from dynoq.runtime.schedules import Schedules
from dynoq.runtime.serving import serve, warn_if_embedded, warn_if_evicting
from dynoq.runtime.settings import EMBEDDED_URL, check_int, check_port, config_from_env

log = logging.getLogger("dynoq.runtime.worker")

HandlerFunc = Callable[[Message], Awaitable[Any]] | Callable[[Message], Any]
MAX_POP = 100  # messages one pop asks for at most
RETRY_AFTER_ERROR_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """How a :class:`Worker` runs; ``from_env`` reads ``DYNOQ_<FIELD>``."""

    redis_url: str = EMBEDDED_URL
    namespace: str = "dynoq"
    concurrency: int = 10
    prefetch: int = 0  # messages leased ahead of free handler slots (see the module docstring)
    grace_period: float = 30.0
    poll_wait: float = 1.0
    metrics_port: int = 0

    def __post_init__(self) -> None:
        check_name(self.namespace, "namespace")
        check_int(self.concurrency, "concurrency", 1, 10_000)
        check_int(self.prefetch, "prefetch", 0, 10_000)
        check_port(self.metrics_port, "metrics_port")
        for name in ("grace_period", "poll_wait"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0 <= value <= 24 * 3600:
                raise ConfigError(f"{name} must be a number of seconds >= 0, got {value!r}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> WorkerConfig:
        return config_from_env(cls, env, overrides)


@dataclass(frozen=True, slots=True)
class Handler:
    """A function registered for a queue, with that queue's options."""

    queue: str
    func: HandlerFunc
    shards: int
    unack_timeout: float
    max_deliveries: int
    backoff: Backoff

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.func)


class Worker:
    """Runs registered handlers on the messages of their queues (see the module docstring)."""

    def __init__(
        self, config: WorkerConfig | None = None, *, registry: CollectorRegistry | None = None
    ) -> None:
        self.config = config if config is not None else WorkerConfig.from_env()
        self.metrics = Metrics(registry if registry is not None else CollectorRegistry())
        self.handlers: dict[str, Handler] = {}
        self.cron_jobs: list[Schedule] = []

    @classmethod
    def from_url(cls, url: str, **options: Any) -> Worker:
        """A worker on the Redis at ``url``; ``options`` are :class:`WorkerConfig` fields."""
        registry = options.pop("registry", None)
        return cls(WorkerConfig(redis_url=url, **options), registry=registry)

    def configure(self, **overrides: Any) -> None:
        """Replaces config fields (the ``dynoq worker`` command's options); None is ignored."""
        given = {k: v for k, v in overrides.items() if v is not None}
        self.config = dataclasses.replace(self.config, **given)

    def handler(
        self,
        queue: str,
        *,
        shards: int = 1,
        unack_timeout: float = 30.0,
        max_deliveries: int = 0,
        backoff: Backoff | None = None,
    ) -> Callable[[HandlerFunc], HandlerFunc]:
        """Registers the decorated function for ``queue``; the queue options are validated now."""
        QueueSpec(queue, self.config.namespace, shards, unack_timeout, max_deliveries)
        if queue in self.handlers:
            raise ConfigError(f"queue {queue!r} already has a handler")

        def register(func: HandlerFunc) -> HandlerFunc:
            if not callable(func):
                raise ConfigError(f"a handler must be callable, got {func!r}")
            self.handlers[queue] = Handler(
                queue, func, shards, unack_timeout, max_deliveries, backoff or Exponential()
            )
            return func

        return register

    def cron(
        self,
        expression: str,
        *,
        queue: str | None = None,
        name: str | None = None,
        zone: str = "UTC",
        payload: Any = None,
        priority: int = 0,
        catch_up: CatchUp | str = CatchUp.SKIP,
        unack_timeout: float = 30.0,
        max_deliveries: int = 0,
        backoff: Backoff | None = None,
    ) -> Callable[[HandlerFunc], HandlerFunc]:
        """Runs the decorated function at each fire of a cron ``expression`` (5, 6 or 7 fields,
        see :mod:`dynoq.core.schedule`) in ``zone``: a schedule (``name``, default the queue's
        name) pushes a message to ``queue`` (default ``cron.<function name>``), and the
        function becomes that queue's handler. The worker saves its schedules when it starts;
        saving an unchanged one changes nothing. A ``dynoq scheduler`` must run."""
        timing = Timing(cron=expression, zone=zone)  # bad input fails here, not at run time

        def register(func: HandlerFunc) -> HandlerFunc:
            target = queue or f"cron.{getattr(func, '__name__', 'job')}"
            self.handler(
                target,
                unack_timeout=unack_timeout,
                max_deliveries=max_deliveries,
                backoff=backoff,
            )(func)
            action = MessageAction(target, payload, priority)
            self.cron_jobs.append(
                Schedule(name or target, timing, action, catch_up=CatchUp(catch_up))
            )
            return func

        return register

    def run(self) -> None:
        """Runs until SIGTERM or SIGINT (blocking)."""
        serve(self.run_async)

    async def run_async(self, stop: asyncio.Event | None = None) -> None:
        """Runs until ``stop`` is set, then shuts down as the module docstring says."""
        if not self.handlers:
            raise ConfigError(
                "the worker has no handlers: decorate a function with @worker.handler"
            )
        await _Run(self, stop or asyncio.Event()).run()


class AckBatcher:
    """Acks of one queue that come in during one turn of the event loop, sent as one
    ``ack_many`` (one round trip per shard instead of one per message). A handler does not
    wait for its ack: its slot is free as soon as it returns, so the next pop goes out while
    the acks travel, instead of after them."""

    def __init__(self, queue: AsyncQueue, acked: Callable[[int], None]) -> None:
        self.queue = queue
        self._acked = acked
        self._pending: list[Message] = []
        self._flush: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()

    def ack(self, message: Message) -> None:
        self._pending.append(message)
        if self._flush is None:
            self._flush = asyncio.get_running_loop().create_task(self._send())
            self._sending.add(self._flush)
            self._flush.add_done_callback(self._sending.discard)

    async def _send(self) -> None:
        await asyncio.sleep(0)  # let the handlers finishing in this turn join the batch
        batch, self._pending, self._flush = self._pending, [], None
        try:
            self._acked(await self.queue.ack_many(batch))
        except DynoqError as exc:  # their leases run out and they are delivered again
            log.warning("could not ack %d message(s) of %r: %s", len(batch), self.queue.name, exc)

    async def wait_sent(self) -> None:
        """Returns once every ack handed in so far was sent."""
        while self._sending:
            await asyncio.wait(set(self._sending))


@dataclass(slots=True)
class _Job:
    """A message whose handler runs, and when its lease was last extended (monotonic s)."""

    handler: Handler
    queue: AsyncQueue
    message: Message
    leased_at: float


class _Run:
    """One run of a worker: its client, queues, handler slots and running handler tasks."""

    def __init__(self, worker: Worker, stop: asyncio.Event) -> None:
        self.worker = worker
        self.config = worker.config
        self.metrics = worker.metrics
        self.stop = stop
        # slots for messages held (popped, not yet settled): with prefetch, more than there are
        # handlers, so the next pop is on its way while a batch runs; the gate keeps the
        # handlers running at once to concurrency
        self.free = self.config.concurrency + self.config.prefetch
        self.gate = asyncio.Semaphore(self.config.concurrency) if self.config.prefetch else None
        self.freed = asyncio.Event()  # set when slots are given back
        self.running: dict[asyncio.Task[None], _Job] = {}
        self.executor = ThreadPoolExecutor(self.config.concurrency, "dynoq-handler")
        self._durations: dict[tuple[str, str], Any] = {}

    async def run(self) -> None:
        config = self.config
        warn_if_embedded(config.redis_url)
        warn_if_evicting(config.redis_url)
        if config.metrics_port:
            start_http_server(config.metrics_port, registry=self.metrics.registry)
        client = async_client(config.redis_url)
        queues = {
            name: AsyncQueue(
                client,
                name,
                namespace=config.namespace,
                shards=h.shards,
                unack_timeout=h.unack_timeout,
                max_deliveries=h.max_deliveries,
            )
            for name, h in self.worker.handlers.items()
        }
        self.ack_batchers = {
            name: AckBatcher(queue, self.metrics.acked.labels(name).inc)
            for name, queue in queues.items()
        }
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            for queue in queues.values():  # a shard count clash must stop the worker, not loop
                await aregister(client, queue.spec)
            if self.worker.cron_jobs:
                async with Schedules(client, config.namespace) as schedules:
                    await schedules.save_many(self.worker.cron_jobs)
            log.info(
                "dynoq worker: queues %s, concurrency %d", ", ".join(queues), config.concurrency
            )
            fetchers = [
                asyncio.create_task(self._fetch(h, queues[name]))
                for name, h in self.worker.handlers.items()
            ]
            await asyncio.gather(*fetchers)  # they return once stop is set
            await self._drain()
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            self.executor.shutdown(wait=False, cancel_futures=True)
            for queue in queues.values():
                await queue.aclose()
            await client.aclose()
            log.info("dynoq worker stopped")

    def release(self, slots: int = 1) -> None:
        self.free += slots
        self.freed.set()

    async def _take_slots(self) -> int:
        """Waits for a free handler slot, then takes the free ones (at most MAX_POP); 0 if the
        worker was stopped meanwhile."""
        while self.free <= 0:
            self.freed.clear()
            freed = asyncio.ensure_future(self.freed.wait())
            stopped = asyncio.ensure_future(self.stop.wait())
            await asyncio.wait({freed, stopped}, return_when=asyncio.FIRST_COMPLETED)
            freed.cancel()
            stopped.cancel()
            if self.stop.is_set():
                return 0
        for _ in range(2):  # let handlers finishing in this turn free their slots too
            if self.free >= self.config.concurrency // 4:
                break
            await asyncio.sleep(0)
        taken = min(self.free, MAX_POP)
        self.free -= taken
        return taken

    async def _fetch(self, handler: Handler, queue: AsyncQueue) -> None:
        loop = asyncio.get_running_loop()
        while not self.stop.is_set():
            taken = await self._take_slots()
            if not taken:
                return
            if self.stop.is_set():  # the slots and the stop came together
                self.release(taken)
                return
            try:
                messages = await queue.pop(taken, wait=self.config.poll_wait)
            except DynoqError as exc:
                log.warning("pop from %r failed: %s", queue.name, exc)
                messages = []
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), RETRY_AFTER_ERROR_SECONDS)
            if taken > len(messages):
                self.release(taken - len(messages))
            if not messages:
                continue
            self.metrics.observe_popped(queue.name, queue.spec.unack_timeout, messages)
            now = time.monotonic()
            for message in messages:
                if self.stop.is_set():  # popped while stopping: straight back
                    await self._give_back(queue, message)
                    self.release()
                    continue
                task = loop.create_task(self._handle(handler, queue, message))
                self.running[task] = _Job(handler, queue, message, now)
                task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.running.pop(task, None)

    def _duration(self, queue: str, outcome: str) -> Any:
        child = self._durations.get((queue, outcome))
        if child is None:
            child = self._durations[queue, outcome] = self.metrics.handler_duration.labels(
                queue, outcome
            )
        return child

    async def _handle(self, handler: Handler, queue: AsyncQueue, message: Message) -> None:
        """Runs the handler, then frees its slot and acks (in the batch) or nacks."""
        if self.gate is None:  # no prefetch: the slots alone bound the running handlers
            await self._run_handler(handler, queue, message)
            return
        async with self.gate:
            if self.stop.is_set():  # held while stopping: back without running
                await self._give_back(queue, message)
                self.release()
                return
            await self._run_handler(handler, queue, message)

    async def _run_handler(self, handler: Handler, queue: AsyncQueue, message: Message) -> None:
        started = time.perf_counter()
        outcome = "abandoned"
        try:
            if handler.is_async:
                await handler.func(message)
            else:
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(self.executor, handler.func, message)
            outcome = "ok"
        except asyncio.CancelledError:
            self.release()
            raise
        except Exception:
            outcome = "error"
            log.exception("handler for %r failed on message %r", queue.name, message.id)
        finally:
            self._duration(queue.name, outcome).observe(time.perf_counter() - started)
        if outcome == "ok":
            self.release()
            self.ack_batchers[queue.name].ack(message)
            return
        try:
            if handler.max_deliveries and message.attempts >= handler.max_deliveries:
                if await queue.nack(message):  # the core dead-letters it
                    self.metrics.dead_lettered.labels(queue.name).inc()
                    log.warning("message %r of %r dead-lettered", message.id, queue.name)
            elif await queue.nack(message, handler.backoff.delay(message.attempts)):
                self.metrics.nacked.labels(queue.name).inc()
        except DynoqError as exc:  # its lease runs out and it is delivered again
            log.warning("could not settle message %r of %r: %s", message.id, queue.name, exc)
        finally:
            self.release()

    async def _heartbeat(self) -> None:
        """One loop for every running handler (no timer per message): a lease is extended
        once a third of it has passed since it was last set, checked every sixth of the
        shortest lease, so an extension comes at most half a lease after the last."""
        tick = min(h.unack_timeout for h in self.worker.handlers.values()) / 6
        while True:
            await asyncio.sleep(tick)
            now = time.monotonic()
            due = [
                job
                for job in self.running.values()
                if now - job.leased_at >= job.handler.unack_timeout / 3
            ]
            if due:
                await asyncio.gather(*(self._extend(job, now) for job in due))

    async def _extend(self, job: _Job, now: float) -> None:
        message, queue = job.message, job.queue
        try:
            if await queue.set_unack_timeout(message, job.handler.unack_timeout):
                job.leased_at = now
            else:
                log.warning("message %r of %r is no longer leased", message.id, queue.name)
                job.leased_at = float("inf")  # nothing left to extend
        except DynoqError as exc:
            log.warning("lease extension of %r failed: %s", message.id, exc)

    async def _give_back(self, queue: AsyncQueue, message: Message) -> None:
        try:
            if await queue.nack(message):
                self.metrics.nacked.labels(queue.name).inc()
        except DynoqError as exc:
            log.warning(
                "could not give message %r back: %s (its lease will run out)", message.id, exc
            )

    async def _drain(self) -> None:
        """Waits up to the grace period for running handlers, then gives the rest back."""
        if self.running:
            log.info(
                "waiting up to %gs for %d handler(s)", self.config.grace_period, len(self.running)
            )
            await asyncio.wait(list(self.running), timeout=self.config.grace_period)
        unfinished = dict(self.running)
        for task in unfinished:
            task.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)
        for job in unfinished.values():
            await self._give_back(job.queue, job.message)
        if unfinished:
            log.info("gave %d unfinished message(s) back", len(unfinished))
        for batcher in self.ack_batchers.values():
            await batcher.wait_sent()


def load_worker(spec: str) -> Worker:
    """The :class:`Worker` named by ``"module.path:attribute"`` (the current directory is on
    the import path, as for ``python -m``)."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ConfigError(f"expected MODULE:OBJECT, e.g. myapp.tasks:worker, got {spec!r}")
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"cannot import {module_name!r}: {exc}") from exc
    except Exception as exc:  # the app itself is broken: still one line, not a traceback
        raise ConfigError(f"importing {module_name!r} failed: {type(exc).__name__}: {exc}") from exc
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ConfigError(f"{module_name!r} has no attribute {attribute!r}") from None
    if not isinstance(target, Worker):
        raise ConfigError(f"{spec} is a {type(target).__name__}, not a dynoq.Worker")
    return target
