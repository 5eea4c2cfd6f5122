"""What each child process of ``dynoq bench`` runs: its share of the producers and consumers,
as asyncio tasks on one AsyncQueue, and a report to the parent at the end of every second.

Every payload carries the time the message is due, in ms since the epoch: its intended send
time (open loop: its slot in the schedule, so a stalled server cannot hide the messages it kept
waiting; closed loop: when it was actually sent) plus its delay. A consumer's latency for a
message is the time its ack returned minus that.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import signal
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from multiprocessing.queues import Queue as ProcessQueue
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from typing import Any

import msgpack

from dynoq.backend.queue import AsyncQueue
from dynoq.core.models import Message
from dynoq.core.spec import DEFAULT_MAX_PAYLOAD_BYTES
from dynoq.errors import DynoqError
from dynoq.loadtest.histogram import LatencyHistogram
from dynoq.loadtest.options import BenchOptions

POP_WAIT_SECONDS = 0.2
ERROR_PAUSE_SECONDS = 0.1
PAYLOAD_OVERHEAD_BYTES = len(msgpack.packb({"t": 2**41, "p": b""}))


@dataclass(frozen=True, slots=True)
class Ready:
    process: int


@dataclass(frozen=True, slots=True)
class SecondReport:
    """What one process did in one second of the run (second 0 starts at the start time)."""

    process: int
    second: int
    pushed: int
    acked: int
    errors: int
    latency: LatencyHistogram
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Finished:
    process: int


@dataclass(frozen=True, slots=True)
class Failed:
    process: int
    error: str


@dataclass(slots=True)
class Counters:
    """What happened since the last report."""

    pushed: int = 0
    acked: int = 0
    errors: int = 0
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    last_error: str | None = None

    def error(self, exc: DynoqError) -> None:
        self.errors += 1
        self.last_error = str(exc)

    def take(self, process: int, second: int) -> SecondReport:
        report = SecondReport(
            process, second, self.pushed, self.acked, self.errors, self.latency, self.last_error
        )
        self.pushed = self.acked = self.errors = 0
        self.latency = LatencyHistogram()
        self.last_error = None
        return report


def queue_for(options: BenchOptions) -> dict[str, Any]:
    """The options the bench queue is opened with, in the parent and in every child."""
    limit = max(DEFAULT_MAX_PAYLOAD_BYTES, options.payload_bytes + 1024)
    return {"namespace": options.namespace, "shards": options.shards, "max_payload_bytes": limit}


class MessageMaker:
    """Builds the messages of one producer: ids unique in the run, the priority and delay mix."""

    def __init__(self, options: BenchOptions, prefix: str) -> None:
        self._prefix = prefix
        self._padding = b"x" * max(0, options.payload_bytes - PAYLOAD_OVERHEAD_BYTES)
        self._priorities = [priority for priority, _ in options.priorities]
        self._weights = [weight for _, weight in options.priorities]
        self._delays = options.delays
        self._rng = random.Random()
        self._made = 0

    def _delay(self) -> float:
        draw = self._rng.random()
        for seconds, share in self._delays:
            if draw < share:
                return seconds
            draw -= share
        return 0.0

    def make(self, sent_at: float) -> Message:
        self._made += 1
        delay = self._delay() if self._delays else 0.0
        due_ms = round((sent_at + delay) * 1000)
        priority = self._rng.choices(self._priorities, self._weights)[0]
        payload = {"t": due_ms, "p": self._padding}
        return Message(f"{self._prefix}-{self._made}", payload, priority, delay)


@dataclass(slots=True)
class Window:
    """The run's start and end, Unix seconds."""

    start: float
    end: float


async def push(queue: AsyncQueue, batch: list[Message], counters: Counters) -> None:
    try:
        await queue.push(batch)
        counters.pushed += len(batch)
    except DynoqError as exc:
        counters.error(exc)
        await asyncio.sleep(ERROR_PAUSE_SECONDS)


async def produce_closed_loop(
    queue: AsyncQueue, maker: MessageMaker, batch: int, window: Window, counters: Counters
) -> None:
    while (now := time.time()) < window.end:
        await push(queue, [maker.make(now) for _ in range(batch)], counters)


async def produce_open_loop(
    queue: AsyncQueue,
    maker: MessageMaker,
    options: BenchOptions,
    producer: int,
    window: Window,
    counters: Counters,
) -> None:
    """Message n of this producer is the (n * producers + producer)-th of the whole schedule,
    due at start + that / rate. A batch goes out when its last message is due: the wait of the
    earlier ones counts in their latency, as batching costs it."""
    assert options.rate is not None
    step = options.producers / options.rate
    first = window.start + producer / options.rate
    sent = 0
    while True:
        slots = [first + (sent + i) * step for i in range(options.batch)]
        slots = [slot for slot in slots if slot < window.end]
        if not slots or time.time() >= window.end:  # done, or so far behind it is over
            return
        wait = slots[-1] - time.time()
        if wait > 0:
            await asyncio.sleep(wait)
        await push(queue, [maker.make(slot) for slot in slots], counters)
        sent += len(slots)


async def consume(queue: AsyncQueue, batch: int, window: Window, counters: Counters) -> None:
    while (remaining := window.end - time.time()) > 0:
        try:
            messages = await queue.pop(batch, wait=min(POP_WAIT_SECONDS, remaining))
            if not messages:
                continue
            acked = await queue.ack_many(messages)
        except DynoqError as exc:
            counters.error(exc)
            await asyncio.sleep(ERROR_PAUSE_SECONDS)
            continue
        done_ms = time.time() * 1000
        counters.acked += acked
        for message in messages:
            payload = message.payload
            if isinstance(payload, dict) and "t" in payload:  # else not ours (--force)
                counters.latency.record(done_ms - payload["t"])


async def report_seconds(
    process: int, window: Window, counters: Counters, outbox: ProcessQueue[Any]
) -> None:
    """Reports every full second before the end; the last, partial one is sent by the caller
    once the producers and consumers have stopped."""
    second = 0
    while window.start + second + 1 < window.end:
        await asyncio.sleep(max(0.0, window.start + second + 1 - time.time()))
        outbox.put(counters.take(process, second))
        second += 1


def share(count: int, process: int, processes: int) -> list[int]:
    """The indexes, out of ``count``, that ``process`` runs."""
    return [index for index in range(count) if index % processes == process]


async def run_load(
    queue: AsyncQueue, options: BenchOptions, process: int, window: Window, outbox: Any
) -> None:
    counters = Counters()
    tasks: list[Coroutine[Any, Any, None]] = []
    for producer in share(options.producers, process, options.processes):
        maker = MessageMaker(options, f"{process}-{producer}")
        if options.open_loop:
            tasks.append(produce_open_loop(queue, maker, options, producer, window, counters))
        else:
            tasks.append(produce_closed_loop(queue, maker, options.batch, window, counters))
    for _ in share(options.consumers, process, options.processes):
        tasks.append(consume(queue, options.batch, window, counters))
    reporter = asyncio.ensure_future(report_seconds(process, window, counters, outbox))
    await asyncio.gather(*tasks)
    await reporter
    last = max(1, math.ceil(window.end - window.start - 1e-9)) - 1
    outbox.put(counters.take(process, last))


async def until_set(event: Event) -> None:
    while not event.is_set():
        await asyncio.sleep(0.05)


async def run_process_async(
    options: BenchOptions,
    process: int,
    outbox: ProcessQueue[Any],
    go: Event,
    stop: Event,
    start_at: Synchronized[float],
) -> None:
    queue = AsyncQueue.from_url(options.url, options.queue, **queue_for(options))
    try:
        await queue.size()  # connects and loads the scripts before the clock starts
        outbox.put(Ready(process))
        while not go.is_set():
            if stop.is_set():
                return
            await asyncio.sleep(0.01)
        window = Window(start_at.value, start_at.value + options.duration)
        load = asyncio.ensure_future(run_load(queue, options, process, window, outbox))
        stopped = asyncio.ensure_future(until_set(stop))
        await asyncio.wait({load, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if not load.done():  # the parent gave up (Ctrl-C): stop now, report nothing more
            load.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await load
            return
        load.result()
        outbox.put(Finished(process))
    finally:
        await queue.aclose()


def run_process(
    options: BenchOptions,
    process: int,
    outbox: ProcessQueue[Any],
    go: Event,
    stop: Event,
    start_at: Synchronized[float],
) -> None:
    """The entry point of child process ``process``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and tells us
    try:
        main = run_process_async(options, process, outbox, go, stop, start_at)
        try:
            import uvloop
        except ImportError:
            asyncio.run(main)
        else:
            uvloop.run(main)
    except DynoqError as exc:
        outbox.put(Failed(process, str(exc)))
    except Exception as exc:
        outbox.put(Failed(process, f"{type(exc).__name__}: {exc}"))
