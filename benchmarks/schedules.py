"""Fire lateness of dynoq schedules, with 10 and with 100,000 schedules, side by side with
Celery beat's for the same every-second schedule, in one run on one redis-server.

dynoq: ``--every`` schedules fire every second (``* * * * * *``) into a queue; the rest of the
``--sizes`` are daily schedules that do not come due during the run (they only sit there, as most
schedules of a large installation do). One ``dynoq scheduler`` child process fires them. A
consumer in this process waits in ``pop`` and takes the lateness of each fire as its arrival
minus its fire time (both on this machine's clock, which Redis shares).

Celery: ``celery beat`` (a child process) with ``--every`` entries of ``schedule: 1.0`` sends
to the same Redis (another db); this process reads the messages straight off the broker list
(BRPOP) as they arrive. Celery's interval schedules are relative to the last send, so its due
time for a send is the previous send plus one second: that is what its lateness is measured
against (and it drifts: fewer sends than seconds, reported as fires per entry-minute).

    python benchmarks/schedules.py [--seconds 20] [--sizes 10,100000] [--every 10] [--no-celery]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import redis

from dynoq import AsyncQueue, MessageAction, Schedule, Schedules, Timing
from dynoq.testing import RedisServer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.stats import percentile

WARM_UP_SECONDS = 3.0


def summary(lateness_s: list[float], fires: int, entries: int, seconds: float) -> dict[str, float]:
    ms = [x * 1000 for x in lateness_s]
    return {
        "p50_ms": percentile(ms, 0.5),
        "p99_ms": percentile(ms, 0.99),
        "max_ms": max(ms),
        "fires": fires,
        "fires_per_entry_minute": fires / entries / seconds * 60,
    }


async def dynoq_run(url: str, size: int, every: int, seconds: float) -> dict[str, float]:
    namespace = "bench" + uuid.uuid4().hex[:8]
    schedules = Schedules.from_url(url, namespace)
    idle = (
        Schedule(f"idle-{i}", Timing(cron=f"{i % 60} 3 * * *"), MessageAction("idle"))
        for i in range(size - every)
    )
    started = time.perf_counter()
    await schedules.save_many(idle)
    created = time.perf_counter() - started
    target = AsyncQueue.from_url(url, "fired", namespace=namespace)
    await target.size()  # registers the queue
    await schedules.save_many(
        Schedule(f"every-second-{i}", Timing(cron="* * * * * *"), MessageAction("fired"))
        for i in range(every)
    )
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "dynoq", "scheduler", "--redis-url", url, "--namespace", namespace],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    lateness: list[float] = []
    fires = 0
    try:
        begin = time.time()
        measure_from = begin + WARM_UP_SECONDS
        end = measure_from + seconds
        while time.time() < end:
            messages = await target.pop(100, wait=0.5)
            arrived = time.time()
            for message in messages:
                fire_s = int(message.id.rsplit(":", 1)[1]) / 1000
                if measure_from <= fire_s < end:
                    lateness.append(arrived - fire_s)
                    fires += 1
            if messages:
                await target.ack_many(messages)
        _, records = await schedules.executions(count=1_000_000)
    finally:
        scheduler.terminate()
        scheduler.wait(timeout=30)
        await target.aclose()
        await schedules.aclose()
    result = summary(lateness, fires, every, seconds)
    fired = [
        (r["executionTime"] - r["scheduledTime"]) / 1000
        for r in records
        if measure_from <= r["scheduledTime"] / 1000 < end
    ]
    pushed = summary(fired, len(fired), every, seconds)
    result.update(
        create_seconds=created, pushed_p50_ms=pushed["p50_ms"], pushed_p99_ms=pushed["p99_ms"]
    )
    return result


def celery_run(server: RedisServer, every: int, seconds: float) -> dict[str, float]:
    broker = f"redis://127.0.0.1:{server.port}/1"
    client = redis.Redis(port=server.port, db=1)
    client.flushdb()
    env = {
        **os.environ,
        "DYNOQ_BENCH_CELERY_BROKER": broker,
        "DYNOQ_BENCH_BEAT_ENTRIES": str(every),
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }
    with tempfile.TemporaryDirectory() as tmp:
        beat = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "benchmarks.celery_beat_app", "beat",
             "-s", f"{tmp}/celerybeat-schedule", "--loglevel", "WARNING"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        arrivals: dict[str, list[float]] = {}
        try:
            begin = time.time()
            measure_from, end = begin + WARM_UP_SECONDS, begin + WARM_UP_SECONDS + seconds
            while time.time() < end:
                got = client.brpop(["celery"], timeout=1)
                if got is None:
                    continue
                arrived = time.time()
                entry = json.loads(got[1])["headers"]["argsrepr"]
                arrivals.setdefault(entry, []).append(arrived)
        finally:
            beat.terminate()
            beat.wait(timeout=30)
    lateness, fires = [], 0
    for times in arrivals.values():
        for before, now in itertools.pairwise(times):
            if measure_from <= now < end:
                lateness.append(now - (before + 1.0))  # due: a second after the last send
                fires += 1
    return summary(lateness, fires, every, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--sizes", default="10,100000")
    parser.add_argument("--every", type=int, default=10, help="every-second schedules")
    parser.add_argument("--no-celery", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    with RedisServer(port=0) as server:
        for size in sizes:
            result = asyncio.run(dynoq_run(server.url, size, args.every, args.seconds))
            rows.append((f"dynoq, {size:,} schedules", result))
        if not args.no_celery:
            rows.append(
                (f"celery beat, {args.every} entries", celery_run(server, args.every, args.seconds))
            )
    print(
        f"{args.every} every-second schedules, {args.seconds:g} s measured after "
        f"{WARM_UP_SECONDS:g} s warm-up; lateness from each fire's due time to its arrival"
    )
    header = ("system", "p50 ms", "p99 ms", "max ms", "fires", "fires/entry-min")
    print(f"{header[0]:32} {header[1]:>8} {header[2]:>8} {header[3]:>8} {header[4]:>6} "
          f"{header[5]:>16}")  # fmt: skip
    for name, r in rows:
        print(
            f"{name:32} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {r['max_ms']:8.2f} "
            f"{r['fires']:6d} {r['fires_per_entry_minute']:16.1f}"
        )
    for name, r in rows:
        if "create_seconds" in r:
            print(f"{name}: created in {r['create_seconds']:.1f} s; lateness to the end of the "
                  f"scheduler's push (its execution record): p50 {r['pushed_p50_ms']:.2f} ms, "
                  f"p99 {r['pushed_p99_ms']:.2f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
