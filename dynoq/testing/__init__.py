"""Helpers for testing code that uses dynoq: a throw-away redis-server, condition waits with a
deadline, and a clock you move by hand."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

from dynoq.backend.embedded import RedisServer, free_port
from dynoq.testing.cluster import LocalRedisCluster

__all__ = [
    "LocalRedisCluster",
    "ManualClock",
    "RedisServer",
    "async_wait_until",
    "free_port",
    "wait_until",
]


class ManualClock:
    """A :class:`dynoq.Clock` that only moves when told to. Starts at ``start_ms`` (default:
    the wall clock at creation)."""

    def __init__(self, start_ms: int | None = None) -> None:
        self._now_ms = int(time.time() * 1000) if start_ms is None else start_ms

    def now_ms(self) -> int:
        return self._now_ms

    def advance(self, seconds: float) -> None:
        self._now_ms += round(seconds * 1000)


def wait_until(
    condition: Callable[[], Any], timeout: float = 10.0, interval: float = 0.01, message: str = ""
) -> Any:
    """Polls ``condition`` until it returns a truthy value, which is returned; raises
    ``TimeoutError`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(message or f"condition not met within {timeout} s")
        time.sleep(interval)


async def async_wait_until(
    condition: Callable[[], Any | Awaitable[Any]],
    timeout: float = 10.0,
    interval: float = 0.01,
    message: str = "",
) -> Any:
    """The async form of :func:`wait_until`; ``condition`` may be a coroutine function."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(message or f"condition not met within {timeout} s")
        await asyncio.sleep(interval)
