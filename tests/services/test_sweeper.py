"""The sweeper against a real redis-server: expired leases come back, exhausted messages die,
and sweepers running side by side share the shards instead of repeating each other."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry

from dynoq import AsyncQueue, Message, MessageState
from dynoq.backend.connect import async_client
from dynoq.runtime.metrics import Metrics
from dynoq.runtime.settings import SweeperConfig
from dynoq.services import sweeper
from dynoq.testing import async_wait_until


async def test_expired_leases_come_back_and_exhausted_ones_die(redis_url, namespace):
    registry = CollectorRegistry()
    async with AsyncQueue.from_url(
        redis_url, "jobs", namespace=namespace, shards=3, unack_timeout=0.05, max_deliveries=2
    ) as q:
        await q.push([Message(f"m{i}") for i in range(6)])
        assert len(await q.pop(6)) == 6  # attempts 1, leases expire at once
        stop = asyncio.Event()
        config = SweeperConfig(redis_url=redis_url, namespace=namespace, interval=0.05)
        task = asyncio.create_task(sweeper.run(config, registry=registry, stop=stop))

        async def all_ready():
            return (await q.stats()).ready == 6

        await async_wait_until(all_ready, timeout=10)
        got = await q.pop(6)  # attempts 2 = max_deliveries: the next expiry dead-letters

        async def all_dead():
            return (await q.stats()).dead == 6

        await async_wait_until(all_dead, timeout=10)
        stop.set()
        await asyncio.wait_for(task, 10)
    assert len(got) == 6 and {m.attempts for m in got} == {2}
    value = registry.get_sample_value
    assert value("dynoq_messages_redelivered_total", {"queue": "jobs"}) == 6
    assert value("dynoq_messages_dead_lettered_total", {"queue": "jobs"}) == 6


async def test_two_sweepers_never_sweep_the_same_shard_in_one_interval(redis_url, namespace):
    client = async_client(redis_url)
    async with AsyncQueue.from_url(
        redis_url, "jobs", namespace=namespace, shards=4, unack_timeout=0.01
    ) as q:
        await q.push([Message(f"m{i}") for i in range(40)])
        popped = await q.pop(40)
        last_lease = max(m.lease_expires_at for m in popped)

        async def leases_expired():
            seconds, micros = await client.time()
            return seconds + micros / 1e6 > last_lease

        await async_wait_until(leases_expired, timeout=10)
        one = sweeper.Sweeper(client, namespace, 60, Metrics(CollectorRegistry()))
        two = sweeper.Sweeper(client, namespace, 60, Metrics(CollectorRegistry()))
        first, second = await asyncio.gather(one.sweep_once(), two.sweep_once())
        assert first.shards + second.shards == 4
        assert first.requeued + second.requeued == 40
        again = await one.sweep_once()
        assert again.shards == 0  # every shard is still leased for this interval
        assert (await q.get("m1")).state is MessageState.READY
    await client.aclose()


async def test_a_sweeper_survives_redis_being_away(namespace, caplog):
    stop = asyncio.Event()
    config = SweeperConfig(redis_url="redis://127.0.0.1:1/0", namespace=namespace, interval=0.02)
    task = asyncio.create_task(sweeper.run(config, stop=stop))
    await async_wait_until(lambda: caplog.text.count("sweep failed") >= 2, timeout=10)
    assert not task.done()
    stop.set()
    await asyncio.wait_for(task, 10)
