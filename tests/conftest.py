"""Fixtures: one real redis-server per session on a free loopback port; a fresh namespace per
test, so nothing is ever flushed; queues of both flavours (blocking and asyncio)."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from dynoq import AsyncQueue, Queue
from dynoq.backend.connect import sync_client
from dynoq.testing import LocalRedisCluster, ManualClock, RedisServer


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    with RedisServer(port=0) as server:
        yield server


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[LocalRedisCluster]:
    with LocalRedisCluster(masters=3, replicas=1) as cluster:
        yield cluster


@pytest.fixture
def standalone_url(redis_server: RedisServer) -> str:
    return redis_server.url


@pytest.fixture(params=["standalone", pytest.param("cluster", marks=pytest.mark.cluster)])
def redis_url(request: pytest.FixtureRequest) -> str:
    """The contract suite runs every test using this against one redis-server and against a
    local Redis Cluster (3 masters, 3 replicas)."""
    if request.param == "cluster":
        return str(request.getfixturevalue("redis_cluster").url)
    return str(request.getfixturevalue("redis_server").url)


@pytest.fixture
def namespace() -> str:
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture
def raw(redis_url: str) -> Iterator[Any]:
    """A plain client on the same Redis (a cluster client on the cluster), to look at keys."""
    client = sync_client(redis_url)
    yield client
    client.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start_ms=1_800_000_000_000)


@pytest.fixture(scope="session")
def event_loop_thread() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=5)


class BlockingAsyncQueue:
    """Drives an AsyncQueue from test code on a background event loop, so one contract suite
    runs against both flavours."""

    def __init__(self, queue: AsyncQueue, loop: asyncio.AbstractEventLoop) -> None:
        self._queue = queue
        self._loop = loop
        self.spec = queue.spec

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._queue, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            future = asyncio.run_coroutine_threadsafe(method(*args, **kwargs), self._loop)
            return future.result(timeout=30)

        return call

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._queue.aclose(), self._loop).result(timeout=10)


@pytest.fixture(params=["sync", "async"])
def make_queue(
    request: pytest.FixtureRequest,
    redis_url: str,
    namespace: str,
    event_loop_thread: asyncio.AbstractEventLoop,
) -> Iterator[Callable[..., Any]]:
    """``make_queue(name="q", **options)``: a Queue, or an AsyncQueue driven blocking."""
    created: list[Any] = []

    def factory(name: str = "q", **options: Any) -> Any:
        options.setdefault("namespace", namespace)
        queue: Any
        if request.param == "sync":
            queue = Queue.from_url(redis_url, name, **options)
        else:
            queue = BlockingAsyncQueue(
                AsyncQueue.from_url(redis_url, name, **options), event_loop_thread
            )
        created.append(queue)
        return queue

    yield factory
    for queue in created:
        queue.close()
