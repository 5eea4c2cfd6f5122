"""The interface every benchmarked system implements, and the helpers the adapters share."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")
QUEUE = "bench"  # the queue name every system uses


@dataclass(frozen=True)
class Given:
    """What a system was given, printed under the table so the comparison can be judged."""

    concurrency: str
    batch_api: str  # the batch enqueue call used, or "none"
    delay_api: str
    priority_api: str  # "none" when the system has no per-job priority


class Peer:
    """One system under test. Producer calls run in the benchmark's process; the worker is a
    child process started from :meth:`worker_argv` (as each system is deployed)."""

    name = ""
    given = Given("", "none", "", "none")

    def __init__(self, url: str) -> None:
        self.url = url
        self._loop: asyncio.AbstractEventLoop | None = None

    # producer side -----------------------------------------------------------------------
    def enqueue(self, tags: Sequence[str]) -> None:
        """Enqueues one job per tag, one call each."""
        raise NotImplementedError

    def enqueue_batch(self, tags: Sequence[str], size: int = 100) -> None:
        """Enqueues in batches of ``size`` through the system's batch API (if it has one)."""
        raise NotImplementedError

    @property
    def has_batch(self) -> bool:
        return self.given.batch_api != "none"

    @property
    def has_priority(self) -> bool:
        return self.given.priority_api != "none"

    def enqueue_at(self, tag: str, due: float) -> float:
        """Enqueues one job due at unix time ``due``; returns the due time the system was
        actually given (a system with whole-second resolution rounds it up)."""
        raise NotImplementedError

    def enqueue_priority(self, jobs: Sequence[tuple[str, int]]) -> None:
        """Enqueues (tag, level) jobs; level 0 is the most urgent, 9 the least."""
        raise NotImplementedError

    # consumer side -----------------------------------------------------------------------
    def worker_argv(self) -> list[str]:
        raise NotImplementedError

    def close(self) -> None:
        if self._loop is not None:
            self._loop.close()

    # helpers -----------------------------------------------------------------------------
    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(coro)


def python_module(module: str) -> list[str]:
    return [sys.executable, "-m", module]


def console_script(name: str) -> str:
    return os.path.join(os.path.dirname(sys.executable), name)


def chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[k : k + size] for k in range(0, len(items), size)]
