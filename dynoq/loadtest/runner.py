"""The parent of a ``dynoq bench`` run: refuses a queue that holds data, starts the child
processes, gathers their per-second reports (printing a progress line), and deletes every key
the run wrote, also when it is interrupted."""

from __future__ import annotations

import contextlib
import multiprocessing
import queue as queue_module
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from typing import Any

from dynoq.backend.connect import SyncClient, sync_client
from dynoq.backend.queue import Queue
from dynoq.backend.registry import lookup, unregister
from dynoq.backend.runner import translated_errors
from dynoq.errors import DynoqError
from dynoq.loadtest.histogram import LatencyHistogram
from dynoq.loadtest.load import Failed, Finished, Ready, SecondReport, queue_for, run_process
from dynoq.loadtest.options import BenchOptions

READY_TIMEOUT_SECONDS = 60.0
START_MARGIN_SECONDS = 0.2  # so every child sees the start time before it passes
FINISH_GRACE_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 5.0


class BenchRefused(DynoqError):
    """The queue holds data and --force was not given."""


class BenchFailed(DynoqError):
    """A child process could not run its load."""


@dataclass(slots=True)
class Second:
    """The whole run's figures for one second."""

    second: int
    pushed: int = 0
    acked: int = 0
    errors: int = 0
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    backlog: int | None = None
    reports: int = 0

    def add(self, report: SecondReport) -> None:
        self.pushed += report.pushed
        self.acked += report.acked
        self.errors += report.errors
        self.latency.merge(report.latency)
        self.reports += 1


@dataclass(slots=True)
class BenchResult:
    options: BenchOptions
    seconds: list[Second]
    backlog_at_end: int
    last_error: str | None = None

    @property
    def latency(self) -> LatencyHistogram:
        total = LatencyHistogram()
        for second in self.seconds:
            total.merge(second.latency)
        return total


def check_unused(client: SyncClient, options: BenchOptions) -> None:
    """Raises BenchRefused if the queue is registered or any of its keys exists."""
    where = f"queue {options.queue!r} in namespace {options.namespace!r}"
    advice = "pick another --queue, or add --force to run on it and delete its messages after"
    if lookup(client, options.namespace, options.queue) is not None:
        raise BenchRefused(f"{where} already exists: {advice}")
    with translated_errors():
        keys = client.scan_iter(match=f"{options.namespace}:{options.queue}:*", count=1000)
        found = next(iter(keys), None)
    if found is not None:
        raise BenchRefused(f"{where} holds data ({found.decode()!r}): {advice}")


def clean_up(client: SyncClient, options: BenchOptions) -> None:
    """Deletes every key of the queue and its registry entry."""
    Queue(client, options.queue, **queue_for(options)).clear()
    unregister(client, options.namespace, options.queue)


class Collector:
    """Merges the children's reports into seconds; a second is complete once every process
    reported it, and then its backlog is measured and ``on_second`` called."""

    def __init__(self, options: BenchOptions, backlog: Callable[[], int]) -> None:
        self._processes = options.processes
        self._backlog = backlog
        self.seconds: dict[int, Second] = {}
        self.last_error: str | None = None
        self.on_second: Callable[[Second], None] = lambda second: None

    def add(self, report: SecondReport) -> None:
        second = self.seconds.setdefault(report.second, Second(report.second))
        second.add(report)
        self.last_error = report.last_error or self.last_error
        if second.reports == self._processes:
            second.backlog = self._backlog()
            self.on_second(second)


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ctrl-C waits until the block is done. Processes started meanwhile inherit the ignored
    signal, so a Ctrl-C while they import cannot print their tracebacks: they stop when the
    parent tells them."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _start_children(options: BenchOptions) -> tuple[list[BaseProcess], Any, Any, Any, Any]:
    # spawn, not fork: the parent holds Redis connections and maybe the embedded server
    context = multiprocessing.get_context("spawn")
    outbox, go, stop = context.Queue(), context.Event(), context.Event()
    start_at = context.Value("d", 0.0)
    children: list[BaseProcess] = [
        context.Process(
            target=run_process,
            args=(options, process, outbox, go, stop, start_at),
            name=f"dynoq-bench-{process}",
            daemon=True,
        )
        for process in range(options.processes)
    ]
    with _sigint_ignored():
        for child in children:
            child.start()
    return children, outbox, go, stop, start_at


def _next_message(outbox: Any, children: list[BaseProcess], deadline: float) -> Any:
    """The next message of a child; raises BenchFailed if one died silently or time ran out."""
    while True:
        try:
            return outbox.get(timeout=0.1)
        except queue_module.Empty:
            pass
        dead = [c for c in children if c.exitcode not in (None, 0)]
        if dead:
            try:  # its last words, such as a Failed, may still be on the way
                return outbox.get(timeout=1.0)
            except queue_module.Empty:
                child = dead[0]
                raise BenchFailed(f"{child.name} died (exit code {child.exitcode})") from None
        if time.monotonic() > deadline:
            raise BenchFailed("the bench processes stopped answering")


def drive(options: BenchOptions, collector: Collector) -> None:
    """Runs the children from ready to finished, feeding their reports to ``collector``."""
    children, outbox, go, stop, start_at = _start_children(options)
    try:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        ready: set[int] = set()
        while len(ready) < options.processes:
            message = _next_message(outbox, children, deadline)
            if isinstance(message, Failed):
                raise BenchFailed(message.error)
            if isinstance(message, Ready):
                ready.add(message.process)
        start_at.value = time.time() + START_MARGIN_SECONDS
        go.set()
        deadline = time.monotonic() + options.duration + FINISH_GRACE_SECONDS
        finished: set[int] = set()
        while len(finished) < options.processes:
            message = _next_message(outbox, children, deadline)
            if isinstance(message, Failed):
                raise BenchFailed(message.error)
            if isinstance(message, SecondReport):
                collector.add(message)
            elif isinstance(message, Finished):
                finished.add(message.process)
    finally:
        stop.set()
        for child in children:
            child.join(STOP_TIMEOUT_SECONDS)
        for child in children:
            if child.is_alive():
                child.terminate()
                child.join()


def run(
    options: BenchOptions,
    *,
    force: bool,
    embedded: bool = False,
    on_start: Callable[[], None] | None = None,
    on_second: Callable[[Second], None] | None = None,
) -> BenchResult:
    """Runs the bench on the Redis at ``options.url`` (already resolved), then deletes every
    key it wrote, also on an error or Ctrl-C. ``on_start`` is called once the queue is found
    unused, ``on_second`` with each second's figures.

    ``embedded``: the Redis is a private embedded server. A Ctrl-C in a terminal reaches it too
    and stops it, and it keeps nothing anyway, so an interrupted run does not clean up."""
    client = sync_client(options.url)
    try:
        if not force:
            check_unused(client, options)
        if on_start is not None:
            on_start()
        queue = Queue(client, options.queue, **queue_for(options))
        interrupted = False
        try:
            collector = Collector(options, queue.size)
            if on_second is not None:
                collector.on_second = on_second
            drive(options, collector)
            backlog = queue.size()
        except KeyboardInterrupt:
            interrupted = True
            raise
        finally:
            if not (interrupted and embedded):
                with _sigint_ignored():
                    clean_up(client, options)
        seconds = [collector.seconds[k] for k in sorted(collector.seconds)]
        return BenchResult(options, seconds, backlog, collector.last_error)
    finally:
        client.close()
