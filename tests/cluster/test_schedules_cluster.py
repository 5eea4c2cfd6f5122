"""Schedules on Redis Cluster: the definitions, state and executions share one hash tag, the
ticks are an ordinary queue, so saving, firing, recording and repair all run there."""

from __future__ import annotations

from dynoq import AsyncQueue, MessageAction, Schedule, Schedules, Timing
from dynoq.backend.connect import async_client
from dynoq.services.scheduler import Scheduler
from dynoq.testing import ManualClock


async def test_schedules_fire_on_a_cluster(redis_cluster, namespace):
    clock = ManualClock()
    client = async_client(redis_cluster.url)
    schedules = Schedules(client, namespace, clock=clock)
    await schedules.save_many(
        Schedule(f"every-second-{i}", Timing(cron="* * * * * *"), MessageAction("fired"))
        for i in range(5)
    )
    scheduler = Scheduler(schedules, None)
    for _ in range(3):
        clock.advance(1)
        await scheduler.run_once()
    target = AsyncQueue(client, "fired", namespace=namespace)
    assert await target.size() == 15
    assert (await schedules.executions())[0] == 15
    assert await schedules.repair() == 0
    await schedules.delete("every-second-1")
    assert len(await schedules.all()) == 4
    await target.aclose()
    await schedules.aclose()
    await client.aclose()
