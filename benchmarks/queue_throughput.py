"""Queue hot-path throughput and wake-up latency, side by side with a minimal baseline.

The baseline is the least a Python client can do for the same life cycle on the same Redis with
the same client library: push = HSET + ZADD (one round trip), pop = a 4-line Lua script
(ZPOPMIN, ZADD to an in-flight set, HGET), ack = ZREM + HDEL (one round trip), and a waiting
consumer = BZPOPMIN. dynoq's figure is printed as a ratio of it (1.00 = as fast as the baseline).

    python benchmarks/queue_throughput.py [--redis-url URL] [--messages N] [--repeat R] [--quick]

Without --redis-url it starts a private redis-server on a loopback port (no persistence).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import redis
import redis.asyncio

from dynoq import AsyncQueue, Message, Queue
from dynoq.testing import RedisServer

BASELINE_POP = """
local popped = redis.call('ZPOPMIN', KEYS[1], ARGV[1])
local out = {}
for i = 1, #popped, 2 do
  redis.call('ZADD', KEYS[2], ARGV[2], popped[i])
  out[#out + 1] = popped[i]
  out[#out + 1] = redis.call('HGET', KEYS[3], popped[i])
end
return out
"""
PAYLOAD = {"user": 12345, "action": "send-email"}


@dataclass
class Row:
    name: str
    unit: str
    ours: list[float]
    base: list[float]
    higher_is_better: bool = True

    def cells(self) -> list[str]:
        o, b = statistics.median(self.ours), statistics.median(self.base)
        ratio = o / b if self.higher_is_better else b / o
        return [
            self.name,
            f"{o:,.0f} ({min(self.ours):,.0f}-{max(self.ours):,.0f})",
            f"{b:,.0f} ({min(self.base):,.0f}-{max(self.base):,.0f})",
            f"{ratio:.2f}",
        ]


class Baseline:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.ready, self.flight, self.data = f"{prefix}:r", f"{prefix}:f", f"{prefix}:h"
        self.pop_script = client.register_script(BASELINE_POP)
        self.seq = 0

    def push(self, ids: list[str]) -> None:
        pipe = self.client.pipeline(transaction=False)
        packed = b"\x82\xa4user\xcd09\xa6action\xaasend-email"
        for message_id in ids:
            self.seq += 1
            pipe.hset(self.data, message_id, packed)
            pipe.zadd(self.ready, {message_id: self.seq})
        pipe.execute()

    def pop(self, count: int) -> list[bytes]:
        lease = int(time.time() * 1000) + 60_000
        return self.pop_script(keys=[self.ready, self.flight, self.data], args=[count, lease])

    def ack(self, ids: list[str]) -> None:
        pipe = self.client.pipeline(transaction=False)
        pipe.zrem(self.flight, *ids)
        pipe.hdel(self.data, *ids)
        pipe.execute()

    def clear(self) -> None:
        self.client.delete(self.ready, self.flight, self.data)


def rate(n: int, seconds: float) -> float:
    return n / seconds


def timed(fn: Callable[..., object], *args: object) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def sync_round(q: Queue, b: Baseline, n: int, batch: int) -> dict[str, tuple[float, float]]:
    """One push/pop/ack pass of n messages in batches, for dynoq and the baseline."""
    ids = [f"m{i}" for i in range(n)]
    chunks = [[Message(i, PAYLOAD) for i in ids[k : k + batch]] for k in range(0, n, batch)]
    id_chunks = [ids[k : k + batch] for k in range(0, n, batch)]
    popped: list[list[Message]] = []

    def ours_push() -> None:
        for chunk in chunks:
            q.push(chunk)

    def ours_pop() -> None:
        for _ in chunks:
            popped.append(q.pop(batch))

    def ours_ack() -> None:
        for got in popped:
            if batch == 1:
                q.ack(got[0])
            else:
                q.ack_many(got)

    def base_push() -> None:
        for chunk in id_chunks:
            b.push(chunk)

    def base_pop() -> None:
        for _ in id_chunks:
            b.pop(batch)

    def base_ack() -> None:
        for chunk in id_chunks:
            b.ack(chunk)

    results = {}
    for op, ours, base in (
        ("push", ours_push, base_push),
        ("pop", ours_pop, base_pop),
        ("ack", ours_ack, base_ack),
    ):
        results[f"{op}, batch {batch}"] = (rate(n, timed(ours)), rate(n, timed(base)))
    assert sum(len(got) for got in popped) == n
    return results


def sync_rows(url: str, n: int, repeat: int) -> list[Row]:
    client = redis.Redis.from_url(url)
    rows: dict[str, Row] = {}
    for _ in range(repeat):
        ns = f"bench-{uuid.uuid4().hex[:8]}"
        q = Queue(client, "q", namespace=ns)
        b = Baseline(client, ns)
        for batch in (1, 100):
            for name, (ours, base) in sync_round(q, b, n, batch).items():
                row = rows.setdefault(name, Row(name, "msg/s", [], []))
                row.ours.append(ours)
                row.base.append(base)
        q.clear()
        b.clear()
    client.close()
    return list(rows.values())


async def drain(consumers: int, n: int, step: Callable[[], Awaitable[int]]) -> float:
    done = 0

    async def consumer() -> None:
        nonlocal done
        while done < n:
            done += await step()

    start = time.perf_counter()
    await asyncio.gather(*(consumer() for _ in range(consumers)))
    return rate(done, time.perf_counter() - start)


def dynoq_step(q: AsyncQueue) -> Callable[[], Awaitable[int]]:
    async def step() -> int:
        got = await q.pop()
        for m in got:
            await q.ack(m)
        return len(got) or 1

    return step


def baseline_step(client: redis.asyncio.Redis, b: Baseline) -> Callable[[], Awaitable[int]]:
    pop = client.register_script(BASELINE_POP)

    async def step() -> int:
        lease = int(time.time() * 1000) + 60_000
        got = await pop(keys=[b.ready, b.flight, b.data], args=[1, lease])
        for message_id in got[::2]:
            pipe = client.pipeline(transaction=False)
            pipe.zrem(b.flight, message_id)
            pipe.hdel(b.data, message_id)
            await pipe.execute()
        return len(got) // 2 or 1

    return step


async def concurrent_rows(url: str, n: int, repeat: int) -> list[Row]:
    client = redis.asyncio.Redis.from_url(url, max_connections=64)
    sync_client = redis.Redis.from_url(url)
    rows = []
    for consumers in (1, 2, 4):
        row = Row(f"pop+ack, {consumers} async consumer(s)", "msg/s", [], [])
        for _ in range(repeat):
            ns = f"bench-{uuid.uuid4().hex[:8]}"
            q = AsyncQueue(client, "q", namespace=ns)
            await q.push([Message(f"m{i}", PAYLOAD) for i in range(n)])
            row.ours.append(await drain(consumers, n, dynoq_step(q)))
            b = Baseline(sync_client, ns)
            b.push([f"m{i}" for i in range(n)])
            row.base.append(await drain(consumers, n, baseline_step(client, b)))
            await q.clear()
            b.clear()
        rows.append(row)
    await client.aclose()
    sync_client.close()
    return rows


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


async def latency_samples(url: str, samples: int) -> tuple[list[float], list[float]]:
    """Push-to-pop latency (ms) of a consumer already waiting: dynoq pop(wait) vs BZPOPMIN."""
    ns = f"bench-{uuid.uuid4().hex[:8]}"
    client = redis.asyncio.Redis.from_url(url)
    consumer = AsyncQueue(client, "lat", namespace=ns)
    producer = AsyncQueue(redis.asyncio.Redis.from_url(url), "lat", namespace=ns)
    ours: list[float] = []
    for i in range(samples):
        waiter = asyncio.create_task(consumer.pop(wait=5))
        await asyncio.sleep(0.002)  # let the consumer block
        sent = time.perf_counter()
        await producer.push(Message(f"l{i}", None))
        [m] = await waiter
        ours.append((time.perf_counter() - sent) * 1000)
        await consumer.ack(m)
    base: list[float] = []
    blocking = redis.asyncio.Redis.from_url(url)
    key = f"{ns}:bz"
    for i in range(samples):
        waiter = asyncio.create_task(blocking.bzpopmin(key, timeout=5))
        await asyncio.sleep(0.002)
        sent = time.perf_counter()
        await client.zadd(key, {f"l{i}": i})
        await waiter
        base.append((time.perf_counter() - sent) * 1000)
    await consumer.aclose()
    await producer.aclose()
    for c in (client, blocking, producer.client):
        await c.aclose()
    return ours, base


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    for r in [header, ["-" * w for w in widths], *rows]:
        pairs = enumerate(zip(r, widths, strict=True))
        cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in pairs]
        print("  " + "  ".join(cells))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--redis-url", help="Redis to use (default: a private redis-server)")
    parser.add_argument("--messages", type=int, default=10_000, help="messages per figure")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median shown)")
    parser.add_argument("--quick", action="store_true", help="2,000 messages, for a smoke run")
    args = parser.parse_args()
    n = 2000 if args.quick else args.messages
    server = None if args.redis_url else RedisServer(port=0).start()
    url = args.redis_url or server.url  # type: ignore[union-attr]
    try:
        info = redis.Redis.from_url(url).info("server")
        print(
            f"dynoq queue benchmark: redis {info['redis_version']} at {url},"
            f" {n} messages per figure, median of {args.repeat} (min-max),"
            f" {os.cpu_count()} cores, Python {sys.version.split()[0]}"
        )
        rows = sync_rows(url, n, args.repeat) + asyncio.run(concurrent_rows(url, n, args.repeat))
        header = ["operation", "dynoq msg/s", "baseline msg/s", "ratio"]
        print_table("throughput (one client process)", header, [r.cells() for r in rows])
        ours, base = asyncio.run(latency_samples(url, 200 if args.quick else 1000))
        lat_rows = [
            [
                f"p{int(p * 100)}",
                f"{percentile(ours, p):.3f}",
                f"{percentile(base, p):.3f}",
                f"{percentile(base, p) / percentile(ours, p):.2f}",
            ]
            for p in (0.5, 0.99)
        ]
        print_table(
            "push-to-pop latency of a waiting consumer (ms; baseline: BZPOPMIN)",
            ["percentile", "dynoq pop(wait)", "BZPOPMIN", "ratio"],
            lat_rows,
        )
    finally:
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
