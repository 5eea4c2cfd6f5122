"""Sentinel: the queue finds the master, and follows it to the replica after a failover."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from dynoq import AsyncQueue, DynoqError, Message, Queue
from dynoq.testing import async_wait_until, wait_until
from dynoq.testing.sentinel import LocalSentinel

pytestmark = pytest.mark.cluster


@pytest.fixture
def sentinel() -> Iterator[LocalSentinel]:
    with LocalSentinel(replicas=1, sentinels=3) as setup:
        yield setup


def retrying(call):
    """The first calls after a failover may fail while clients reconnect; they must succeed
    again within seconds, without restarting anything."""

    def attempt():
        try:
            return (call(),)
        except DynoqError:
            return None

    return wait_until(attempt, timeout=30, interval=0.1)[0]


@pytest.mark.timeout(120)
def test_queue_keeps_working_across_a_sentinel_failover(sentinel, namespace):
    with Queue.from_url(sentinel.url, "q", namespace=namespace, unack_timeout=30) as q:
        q.push([Message(f"before-{i}", i) for i in range(20)])
        first = q.pop(5)
        assert len(first) == 5 and q.ack_many(first) == 5
        old_master = sentinel.master_address()
        wait_until(lambda: sentinel.all_ready(), timeout=30)  # replica in sync: nothing to lose
        sentinel.failover()
        wait_until(lambda: sentinel.master_address() not in (None, old_master), timeout=60)

        retrying(lambda: q.push(Message("after", "x")))
        remaining = retrying(lambda: q.pop(100))
        ids = {m.id for m in remaining}
        assert ids == {f"before-{i}" for i in range(5, 20)} | {"after"}
        assert retrying(lambda: q.ack_many(remaining)) == len(remaining)
        assert q.size() == 0


@pytest.mark.timeout(120)
async def test_async_queue_follows_the_master_too(sentinel, namespace):
    q = AsyncQueue.from_url(sentinel.url, "q", namespace=namespace)
    try:
        await q.push(Message("a", 1))
        old_master = sentinel.master_address()
        await async_wait_until(lambda: sentinel.all_ready(), timeout=30)
        await asyncio.to_thread(sentinel.failover)
        await async_wait_until(
            lambda: sentinel.master_address() not in (None, old_master), timeout=60
        )

        async def pop_after_failover():
            try:
                return await q.pop(wait=1)
            except DynoqError:
                return None

        [m] = await async_wait_until(pop_after_failover, timeout=30, interval=0.1)
        assert m.id == "a"
    finally:
        await q.aclose()
