"""``dynoq scheduler`` as the operator runs it: three processes, killed (SIGKILL) and restarted
at random while every-second schedules fire and a consumer takes and acks each message at once;
each fire arrives exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
from collections import Counter

import pytest

from dynoq import AsyncQueue, MessageAction, Schedule, Schedules, Timing
from dynoq.testing import async_wait_until

SOAK_SECONDS = float(os.environ.get("DYNOQ_SCHEDULER_SOAK_SECONDS", "15"))


def spawn(redis_url: str, namespace: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "dynoq", "scheduler", "--redis-url", redis_url,
         "--namespace", namespace],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.mark.processes
@pytest.mark.timeout(SOAK_SECONDS + 90)
async def test_three_schedulers_killed_at_random_fire_each_second_once(redis_url, namespace):
    schedules = Schedules.from_url(redis_url, namespace)
    target = AsyncQueue.from_url(redis_url, "fired", namespace=namespace)
    start_ms = (await schedules.now_ms() // 1000 + 3) * 1000
    end_ms = start_ms + int(SOAK_SECONDS * 1000)
    names = [f"every-second-{i}" for i in range(5)]
    await schedules.save_many(
        Schedule(name, Timing(cron="* * * * * *", start_ms=start_ms, end_ms=end_ms),
                 MessageAction("fired"))
        for name in names
    )  # fmt: skip
    rng = random.Random(16)
    seen: Counter[str] = Counter()
    consuming = asyncio.Event()

    async def consume() -> None:  # a worker taking and acking each fire's message at once
        while not consuming.is_set():
            messages = await target.pop(100, wait=0.2)
            seen.update(m.id for m in messages)
            if messages:
                await target.ack_many(messages)

    consumer = asyncio.create_task(consume())
    processes = [spawn(redis_url, namespace) for _ in range(3)]
    kills = 0
    try:
        while await schedules.now_ms() < end_ms:
            await asyncio.sleep(rng.uniform(0.3, 2.0))
            victim = rng.randrange(len(processes))
            processes[victim].send_signal(signal.SIGKILL)
            processes[victim].wait()
            kills += 1
            processes[victim] = spawn(redis_url, namespace)
        # the last victims' ticks come back when their leases (10 s) run out
        await async_wait_until(
            _all_ended(schedules), timeout=60, interval=0.2, message="schedules did not finish"
        )
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    expected = list(range(start_ms, end_ms + 1, 1000))
    with contextlib.suppress(TimeoutError):  # then the assertions say what is missing
        await async_wait_until(
            lambda: sum(seen.values()) >= len(names) * len(expected), timeout=10, interval=0.1
        )
    consuming.set()
    await consumer
    wanted = Counter(f"{name}:{fire_ms}" for name in names for fire_ms in expected)
    missing = sorted(wanted - seen)
    doubled = sorted(i for i, n in seen.items() if n > 1)
    assert not missing and not doubled, (missing[:10], doubled[:10])
    assert seen == wanted  # nothing else, nothing twice
    assert await target.size() == 0
    total, _ = await schedules.executions()
    assert total == len(names) * len(expected)
    assert kills >= 3
    await target.aclose()
    await schedules.aclose()


def _all_ended(schedules: Schedules):
    async def check() -> bool:
        stats = await schedules.ticks.stats()
        return stats.ready + stats.delayed + stats.in_flight == 0

    return check
