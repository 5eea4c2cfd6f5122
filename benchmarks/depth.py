"""Workload 6: dynoq's cost as the queue grows. At each depth (half ready, half delayed a day
ahead) it measures push/pop/ack throughput in batches of 100 and the latency of single calls;
the depth stays constant while measuring (as many popped as pushed)."""

from __future__ import annotations

import time
from typing import Any

import redis

from benchmarks.stats import percentile, spread
from dynoq import Message, Queue

FILL_BATCH = 1000
DAY = 86_400.0


def fill(queue: Queue, start: int, stop: int) -> None:
    for k in range(start, stop, FILL_BATCH):
        batch = range(k, min(stop, k + FILL_BATCH))
        queue.push([Message(f"f{i}", "x" * 20, 5, DAY if i % 2 else 0.0) for i in batch])


def cycle(queue: Queue, n: int, tag: str) -> float:
    """Push n in batches of 100, then pop(100) + ack_many until n are done; msg/s."""
    start = time.perf_counter()
    for k in range(0, n, 100):
        queue.push([Message(f"{tag}{i}", "x" * 20, 5) for i in range(k, k + 100)])
    done = 0
    while done < n:
        got = queue.pop(100)
        queue.ack_many(got)
        done += len(got)
    return n / (time.perf_counter() - start)


def single_latency(queue: Queue, samples: int, tag: str) -> dict[str, float]:
    push, pop, ack = [], [], []
    for i in range(samples):
        t0 = time.perf_counter()
        queue.push(Message(f"{tag}{i}", "x" * 20, 5))
        t1 = time.perf_counter()
        [message] = queue.pop(1)
        t2 = time.perf_counter()
        queue.ack(message)
        t3 = time.perf_counter()
        push.append(t1 - t0)
        pop.append(t2 - t1)
        ack.append(t3 - t2)
    out = {}
    for name, values in (("push", push), ("pop", pop), ("ack", ack)):
        out[f"{name}_p50_ms"] = percentile(values, 0.5) * 1000
        out[f"{name}_p99_ms"] = percentile(values, 0.99) * 1000
    return out


def depth_growth(url: str, depths: list[int], n: int, repeats: int) -> dict[str, Any]:
    client = redis.Redis.from_url(url)
    client.flushall()
    queue = Queue(client, "depth", namespace="bench")
    out: dict[str, Any] = {}
    filled = 0
    for depth in sorted(depths):
        start = time.perf_counter()
        fill(queue, filled, depth)
        filled = depth
        fill_seconds = time.perf_counter() - start
        rates = [cycle(queue, n, f"c{depth}-{r}-") for r in range(repeats)]
        out[str(depth)] = {
            "msg_per_s": spread(rates),
            **single_latency(queue, 300, f"s{depth}-"),
            "used_memory": int(client.info("memory")["used_memory"]),
            "fill_seconds": fill_seconds,
        }
    client.flushall(asynchronous=True)  # a synchronous flush of 10M keys outlasts the timeout
    queue.close()
    client.close()
    return out
