"""``@worker.cron``: the worker saves its schedule at start (again unchanged at a restart), and
the scheduler's fires reach the decorated function."""

from __future__ import annotations

import asyncio

import pytest

from dynoq import ConfigError, InvalidArgument, Schedules, Worker
from dynoq.services.scheduler import Scheduler
from dynoq.testing import async_wait_until


async def test_cron_jobs_run_and_register_idempotently(redis_url, namespace):
    worker = Worker.from_url(redis_url, namespace=namespace, poll_wait=0.2)
    seen: list[str] = []

    @worker.cron("* * * * * *", zone="Asia/Tokyo")
    async def heartbeat(message):
        seen.append(message.id)

    schedules = Schedules.from_url(redis_url, namespace)
    scheduler = Scheduler(schedules, None)
    stop = asyncio.Event()
    running = [
        asyncio.create_task(worker.run_async(stop)),
        asyncio.create_task(scheduler.run(stop)),
    ]
    try:
        await async_wait_until(lambda: len(seen) >= 2, timeout=10, message="no cron fires")
    finally:
        stop.set()
        await asyncio.gather(*running)
    assert all(i.startswith("cron.heartbeat:") for i in seen)
    [schedule] = await schedules.all()
    assert schedule.name == "cron.heartbeat" and schedule.timing.zone == "Asia/Tokyo"
    # a restarted worker saves the same definition: nothing changes, the tick stays
    tick = await schedules.ticks.get("cron.heartbeat")
    again = await schedules.save_many(worker.cron_jobs)
    assert again[0].rev == schedule.rev
    assert (await schedules.ticks.get("cron.heartbeat")).due_at == tick.due_at
    await schedules.aclose()


def test_bad_cron_jobs_fail_at_decoration():
    worker = Worker.from_url("redis://127.0.0.1:1/0")
    with pytest.raises(InvalidArgument, match="Bad minute"):
        worker.cron("99 * * * *")
    with pytest.raises(InvalidArgument, match="unknown time zone"):
        worker.cron("* * * * *", zone="Atlantis/Capital")

    @worker.cron("* * * * *", queue="jobs")
    def first(message): ...

    with pytest.raises(ConfigError, match="already has a handler"):

        @worker.cron("*/2 * * * *", queue="jobs")
        def second(message): ...
