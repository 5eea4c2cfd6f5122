"""The worker runtime against a real redis-server: acks, retries with backoff, dead letters,
heartbeats, the concurrency limit and a graceful stop."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from prometheus_client import CollectorRegistry

import dynoq
from dynoq import AsyncQueue, Constant, Exponential, Message, MessageState, Worker
from dynoq.testing import async_wait_until


@pytest.fixture
async def start(redis_url, namespace):
    """``start(worker)`` runs it in the background; stopped (and awaited) after the test."""
    running = []

    def starter(worker: Worker):
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run_async(stop))
        running.append((stop, task))
        return stop, task

    yield starter
    for stop, task in running:
        stop.set()
        await asyncio.wait_for(task, 30)


@pytest.fixture
def make_worker(redis_url, namespace):
    def factory(**options):
        options.setdefault("poll_wait", 0.2)
        return Worker.from_url(
            redis_url, namespace=namespace, registry=CollectorRegistry(), **options
        )

    return factory


@pytest.fixture
async def queue(redis_url, namespace):
    q = AsyncQueue.from_url(redis_url, "jobs", namespace=namespace)
    yield q
    await q.aclose()


def metric(worker, name, **labels):
    return worker.metrics.registry.get_sample_value(name, {"queue": "jobs", **labels}) or 0


@pytest.mark.parametrize("prefetch", [0, 2])
async def test_handlers_ack_and_stay_within_the_concurrency_limit(
    make_worker, start, queue, prefetch
):
    """3 handlers at most run at once; with prefetch, 2 more messages are leased and wait."""
    worker = make_worker(concurrency=3, prefetch=prefetch)
    active, peak, done = 0, 0, []
    gate = asyncio.Event()

    @worker.handler("jobs")
    async def handle(msg):
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await gate.wait()
        active -= 1
        done.append(msg.payload)

    for i in range(10):
        await dynoq.aenqueue(queue, "jobs", i)
    start(worker)

    async def held() -> bool:
        return active == 3 and (await queue.stats()).in_flight == 3 + prefetch

    await async_wait_until(held)
    gate.set()
    await async_wait_until(lambda: len(done) == 10)

    async def settled():
        s = await queue.stats()
        return s.ready == s.in_flight == 0

    await async_wait_until(settled)
    assert sorted(done) == list(range(10)) and peak == 3
    await async_wait_until(lambda: metric(worker, "dynoq_messages_acked_total") == 10)
    assert metric(worker, "dynoq_messages_popped_total") == 10
    assert metric(worker, "dynoq_handler_duration_seconds_count", outcome="ok") == 10


async def test_sync_handlers_run_in_the_thread_pool(make_worker, start, queue):
    worker = make_worker()
    threads = []

    @worker.handler("jobs")
    def handle(msg):
        threads.append(threading.current_thread().name)

    await queue.push(Message("a"))
    start(worker)
    await async_wait_until(lambda: threads)
    assert threads[0].startswith("dynoq-handler")
    await async_wait_until(lambda: metric(worker, "dynoq_messages_acked_total") == 1)


async def test_a_failure_is_retried_after_the_backoff_delay(make_worker, start, queue):
    worker = make_worker()
    calls = []

    @worker.handler("jobs", backoff=Exponential(30, cap=300))
    async def handle(msg):
        calls.append(msg.attempts)
        if msg.attempts < 3:
            raise RuntimeError("boom")

    await queue.push(Message("m"))
    start(worker)
    for attempt, backoff in ((1, 30), (2, 60)):
        await async_wait_until(lambda a=attempt: len(calls) == a)

        async def delayed():
            m = await queue.get("m")
            return m if m is not None and m.state is MessageState.DELAYED else None

        message = await async_wait_until(delayed)
        assert backoff - 2 < message.due_at - time.time() <= backoff + 0.1
        await queue.set_delay("m", 0)  # no need to wait the backoff out
    await async_wait_until(lambda: calls == [1, 2, 3])
    await async_wait_until(lambda: metric(worker, "dynoq_messages_acked_total") == 1)
    assert await queue.get("m") is None
    assert metric(worker, "dynoq_messages_nacked_total") == 2


async def test_exhausted_deliveries_dead_letter(make_worker, start, redis_url, namespace):
    worker = make_worker()
    calls = []

    @worker.handler("jobs", max_deliveries=2, backoff=Constant(0))
    def handle(msg):
        calls.append(msg.attempts)
        raise ValueError("always")

    async with AsyncQueue.from_url(redis_url, "jobs", namespace=namespace, max_deliveries=2) as q:
        await q.push(Message("m", "p"))
        start(worker)

        async def dead():
            return [m.id for m in await q.dead_letters()]

        assert await async_wait_until(dead) == ["m"]
    assert calls == [1, 2]
    assert metric(worker, "dynoq_messages_dead_lettered_total") == 1


async def test_the_heartbeat_keeps_a_slow_handlers_lease(
    make_worker, start, queue, redis_url, namespace
):
    worker = make_worker()
    gate = asyncio.Event()
    calls = []

    @worker.handler("jobs", unack_timeout=1.0)  # a heartbeat every 1/3 s
    async def handle(msg):
        calls.append(msg.attempts)
        await gate.wait()

    await queue.push(Message("slow"))
    start(worker)
    await async_wait_until(lambda: calls)
    first = (await queue.get("slow")).lease_expires_at

    async def extended_well_past_the_first_lease():
        m = await queue.get("slow")
        return m.state is MessageState.IN_FLIGHT and m.lease_expires_at > first + 1.5

    await async_wait_until(extended_well_past_the_first_lease, timeout=15)
    async with AsyncQueue.from_url(
        redis_url, "jobs", namespace=namespace, unack_timeout=0.3
    ) as rival:
        assert await rival.pop() == []  # the lease still holds: nobody else gets it
    gate.set()
    await async_wait_until(lambda: metric(worker, "dynoq_messages_acked_total") == 1)
    assert calls == [1]


async def test_stop_waits_for_handlers_then_gives_the_rest_back(make_worker, queue):
    worker = make_worker(grace_period=0.2)
    started = asyncio.Event()
    quick_done = []

    @worker.handler("jobs", unack_timeout=60)
    async def handle(msg):
        if msg.id == "quick":
            await started.wait()
            quick_done.append(msg.id)
            return
        started.set()
        await asyncio.Event().wait()  # never finishes by itself

    await queue.push([Message("quick"), Message("stuck")])
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_async(stop))
    await asyncio.wait_for(started.wait(), 10)
    stop.set()
    await asyncio.wait_for(task, 10)
    assert quick_done == ["quick"]
    stuck = await queue.get("stuck")
    assert stuck.state is MessageState.READY and stuck.attempts == 1
    assert await queue.get("quick") is None


async def test_stop_gives_prefetched_messages_back_without_running_them(make_worker, queue):
    worker = make_worker(concurrency=1, prefetch=1, grace_period=5)
    running, release, ran = asyncio.Event(), asyncio.Event(), []

    @worker.handler("jobs", unack_timeout=60)
    async def handle(msg):
        ran.append(msg.id)
        running.set()
        await release.wait()

    await queue.push([Message("first"), Message("second")])
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_async(stop))
    await asyncio.wait_for(running.wait(), 10)
    await async_wait_until(lambda: _in_flight(queue, 2))  # "second" is held, waiting for the slot
    stop.set()
    release.set()
    await asyncio.wait_for(task, 10)
    assert len(ran) == 1
    held = await queue.get("second" if ran == ["first"] else "first")
    assert held.state is MessageState.READY and held.attempts == 1


async def _in_flight(queue, n):
    return (await queue.stats()).in_flight == n


def test_enqueue_uses_the_registered_shard_count(redis_url, namespace):
    with dynoq.Queue.from_url(redis_url, "jobs", namespace=namespace, shards=4) as q:
        q.size()  # registers the queue with 4 shards
        ids = [
            dynoq.enqueue(redis_url, "jobs", i, namespace=namespace, priority=3) for i in range(8)
        ]
        got = q.pop(8)
        assert sorted(m.id for m in got) == sorted(ids)
        assert {m.priority for m in got} == {3}


def test_worker_configuration_errors_are_config_errors(redis_url):
    worker = Worker.from_url(redis_url)
    with pytest.raises(dynoq.ConfigError):
        worker.handler("bad name!")
    with pytest.raises(dynoq.ConfigError):
        Worker.from_url(redis_url, concurrency=0)
    with pytest.raises(dynoq.ConfigError, match="no handlers"):
        asyncio.run(worker.run_async())
    with pytest.raises(dynoq.InvalidArgument):
        Exponential(-1)


async def test_a_shard_count_clash_stops_the_worker_with_a_config_error(
    make_worker, redis_url, namespace
):
    async with AsyncQueue.from_url(redis_url, "jobs", namespace=namespace, shards=4) as q:
        await q.size()
    worker = make_worker()
    worker.handler("jobs", shards=2)(lambda msg: None)
    with pytest.raises(dynoq.ConfigError, match="registered with shards=4"):
        await asyncio.wait_for(worker.run_async(), 10)
