"""``dynoq demo --library``: producers, consumers and a crashing consumer on one queue, live."""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field

from dynoq.backend.queue import AsyncQueue
from dynoq.core.models import Message

PRIORITIES = (0, 5, 9)
LEASE_SECONDS = 2.0


@dataclass
class Tally:
    pushed: int = 0
    acked: set[str] = field(default_factory=set)
    redelivered: int = 0
    lateness_ms: list[float] = field(default_factory=list)
    first_priorities: list[int] = field(default_factory=list)


async def produce(queue: AsyncQueue, tally: Tally, ids: list[str], rng: random.Random) -> None:
    for start in range(0, len(ids), 25):
        batch = []
        for message_id in ids[start : start + 25]:
            delay = rng.choice((0.0, 0.0, 0.0, 0.5, 1.0, 2.0))
            due = time.time() + delay
            batch.append(
                Message(message_id, {"due": due}, priority=rng.choice(PRIORITIES), delay=delay)
            )
        await queue.push(batch)
        tally.pushed += len(batch)
        await asyncio.sleep(0.01)


async def consume(queue: AsyncQueue, tally: Tally, total: int, crash: bool) -> None:
    while len(tally.acked) < total:
        batch = await queue.pop(10, wait=0.5)
        if crash and batch:
            return  # a consumer that dies holding leases: they come back after LEASE_SECONDS
        for message in batch:
            if message.attempts > 1:
                tally.redelivered += 1
            else:
                tally.lateness_ms.append(max(0.0, (time.time() - message.payload["due"]) * 1000))
            if len(tally.first_priorities) < 100:
                tally.first_priorities.append(message.priority)
        for message in batch:
            if await queue.ack(message):
                tally.acked.add(message.id)


async def report(queue: AsyncQueue, tally: Tally, total: int, started: float) -> None:
    while len(tally.acked) < total:
        stats = await queue.stats()
        line = (
            f"\r{time.monotonic() - started:5.1f}s  pushed {tally.pushed:5}"
            f"  acked {len(tally.acked):5}"
            f"  redelivered {tally.redelivered:3}  ready {stats.ready:4}  delayed {stats.delayed:4}"
            f"  in flight {stats.in_flight:3}"
        )
        print(line, end="", flush=True)
        await asyncio.sleep(0.2)


async def run_demo(url: str, total: int, shards: int) -> int:
    queue = AsyncQueue.from_url(
        url,
        "demo",
        namespace=f"dynoq-demo-{uuid.uuid4().hex[:8]}",
        shards=shards,
        unack_timeout=LEASE_SECONDS,
    )
    rng = random.Random(7)
    tally = Tally()
    ids = [f"job-{i:05}" for i in range(total)]
    started = time.monotonic()
    print(f"dynoq demo: {total} messages, {shards} shards, lease {LEASE_SECONDS:g} s, on {url}")
    print("2 producers (priorities 0/5/9, delays 0-2 s), 3 consumers, 1 consumer that crashes")
    try:
        await asyncio.gather(
            produce(queue, tally, ids[::2], rng),
            produce(queue, tally, ids[1::2], rng),
            consume(queue, tally, total, crash=True),
            *(consume(queue, tally, total, crash=False) for _ in range(3)),
            report(queue, tally, total, started),
        )
        stats = await queue.stats()
    finally:
        await queue.clear()
        await queue.aclose()
    elapsed = time.monotonic() - started
    late = sorted(tally.lateness_ms)
    top_share = tally.first_priorities.count(0) / max(1, len(tally.first_priorities))
    print("\n\nsummary")
    print(
        f"  every message acked exactly once: {tally.acked == set(ids)}"
        f" ({len(tally.acked)}/{total})"
    )
    print(f"  redelivered after the crashed consumer's leases ran out: {tally.redelivered}")
    print(
        f"  start lateness vs due time: p50 {statistics.median(late):.1f} ms, "
        f"p99 {late[int(len(late) * 0.99) - 1]:.1f} ms"
    )
    print(f"  priority-0 share of the first 100 deliveries: {top_share:.0%}")
    print(
        f"  left behind: ready {stats.ready}, delayed {stats.delayed}, in flight {stats.in_flight}"
    )
    print(f"  {total / elapsed:.0f} messages/s end to end over {elapsed:.1f} s")
    ok = tally.acked == set(ids) and tally.redelivered > 0
    return 0 if ok else 1


def main(url: str, total: int, shards: int) -> int:
    return asyncio.run(run_demo(url, total, shards))


if __name__ == "__main__":
    sys.exit(main("embedded://", 2000, 4))
