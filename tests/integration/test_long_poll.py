"""pop(wait=...): returns as soon as something is ready, not on a polling interval."""

from __future__ import annotations

import asyncio
import threading
import time

from dynoq import AsyncQueue, Message, Queue
from dynoq.testing import async_wait_until, wait_until
from tests.integration.keyspace import subscribers


def listening(raw, queue) -> int:
    return subscribers(raw, queue.spec.channel)


def test_a_waiting_pop_returns_when_a_message_is_pushed(make_queue, raw):
    consumer, producer = make_queue(), make_queue()
    result: list = []
    started = time.monotonic()
    waiter = threading.Thread(
        target=lambda: result.append((consumer.pop(wait=20), time.monotonic()))
    )
    waiter.start()
    wait_until(lambda: listening(raw, consumer) >= 1)
    producer.push(Message("a", 1))
    waiter.join(timeout=30)
    messages, returned_at = result[0]
    assert [m.id for m in messages] == ["a"]
    assert returned_at - started < 10, "returned long before the 20 s wait ran out"


def test_a_waiting_pop_returns_when_a_delayed_message_comes_due(make_queue):
    q = make_queue()
    q.push(Message("later", 1, delay=0.3))
    started = time.monotonic()
    messages = q.pop(wait=20)
    elapsed = time.monotonic() - started
    assert [m.id for m in messages] == ["later"]
    assert 0.29 <= elapsed < 10


def test_a_waiting_pop_gets_a_message_whose_lease_expired(make_queue):
    q = make_queue(unack_timeout=0.3)
    q.push(Message("a", 1))
    q.pop()
    started = time.monotonic()
    [again] = q.pop(wait=20)
    assert again.id == "a" and again.attempts == 2
    assert time.monotonic() - started < 10


def test_an_empty_pop_waits_the_whole_wait_then_returns_nothing(make_queue):
    q = make_queue()
    started = time.monotonic()
    assert q.pop(wait=0.3) == []
    assert time.monotonic() - started >= 0.3


def test_a_delayed_message_pushed_while_waiting_is_picked_up_when_due(make_queue, raw):
    consumer, producer = make_queue(), make_queue()
    result: list = []
    waiter = threading.Thread(target=lambda: result.append(consumer.pop(wait=20)))
    waiter.start()
    wait_until(lambda: listening(raw, consumer) >= 1)
    producer.push(Message("due-soon", 1, delay=0.2))
    waiter.join(timeout=30)
    assert [m.id for m in result[0]] == ["due-soon"]


async def test_many_async_waiters_each_get_one_message(redis_url, namespace):
    async with AsyncQueue.from_url(redis_url, "q", namespace=namespace, shards=2) as q:
        waiters = [asyncio.create_task(q.pop(wait=20)) for _ in range(20)]
        await asyncio.sleep(0)
        await q.push([Message(f"m{i}", i) for i in range(20)])
        results = await asyncio.wait_for(asyncio.gather(*waiters), timeout=30)
        ids = [m.id for batch in results for m in batch]
        assert sorted(ids) == sorted(f"m{i}" for i in range(20))


async def test_async_waiter_survives_a_push_from_a_blocking_producer(redis_url, namespace, raw):
    async with AsyncQueue.from_url(redis_url, "q", namespace=namespace) as consumer:
        waiter = asyncio.create_task(consumer.pop(wait=20))
        await async_wait_until(lambda: listening(raw, consumer) >= 1)
        with Queue.from_url(redis_url, "q", namespace=namespace) as producer:
            producer.push(Message("x", b"raw"))
        [m] = await asyncio.wait_for(waiter, timeout=30)
        assert m.payload == b"raw"
