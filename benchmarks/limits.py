"""The physical limit of the benchmark's Redis: ``redis-benchmark`` (ZADD and EVALSHA of a
trivial script, pipeline 1 and 16) and the hand-written ZSET+HASH+Lua loop of
``queue_throughput.Baseline`` driven from this process (the ceiling for a Python client)."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import time
from typing import Any
from urllib.parse import urlparse

import redis

from benchmarks.queue_throughput import Baseline
from benchmarks.stats import spread
from benchmarks.system import redis_cpu


def redis_benchmark(url: str, requests: int, repeats: int) -> dict[str, Any]:
    """ops/s and Redis CPU µs/op of ZADD and EVALSHA, pipeline 1 and 16."""
    binary = shutil.which("redis-benchmark")
    if binary is None:
        return {"error": "redis-benchmark not found on PATH"}
    parsed = urlparse(url)
    client = redis.Redis.from_url(url)
    sha = client.script_load("return 1")
    commands = {
        "ZADD": ["ZADD", "limit:zset", "__rand_int__", "m:__rand_int__"],
        "EVALSHA": ["EVALSHA", sha, "0"],
    }
    out: dict[str, Any] = {}
    for name, command in commands.items():
        for pipeline in (1, 16):
            rates, cpus = [], []
            for _ in range(repeats):
                client.delete("limit:zset")
                cpu = redis_cpu(client)
                argv = [binary, "-h", parsed.hostname or "127.0.0.1", "-p", str(parsed.port)]
                argv += ["-n", str(requests), "-P", str(pipeline), "-r", "1000000", "-c", "50"]
                argv += ["--csv", *command]
                text = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
                rows = list(csv.reader(io.StringIO(text)))
                rates.append(float(rows[-1][1]))
                cpus.append((redis_cpu(client) - cpu) / requests * 1e6)
            out[f"redis-benchmark {name} P{pipeline}"] = {
                "ops_per_s": spread(rates),
                "cpu_us_per_op": spread(cpus),
            }
    client.delete("limit:zset")
    client.close()
    return out


def hand_written(url: str, n: int, repeats: int) -> dict[str, Any]:
    """The baseline loop: enqueue one by one and in batches of 100, drain with pop(100) +
    batched ack, Redis CPU per message life cycle (batched) and memory per queued message."""
    client = redis.Redis.from_url(url)
    runs: list[dict[str, float]] = []
    for _ in range(repeats):
        client.flushall()
        base = Baseline(client, "limit")
        ids = [f"j{i}" for i in range(n)]
        start = time.perf_counter()
        for message_id in ids:
            base.push([message_id])
        single = n / (time.perf_counter() - start)
        client.flushall()
        before_mem = int(client.info("memory")["used_memory"])
        cpu = redis_cpu(client)
        start = time.perf_counter()
        for k in range(0, n, 100):
            base.push(ids[k : k + 100])
        batch = n / (time.perf_counter() - start)
        enqueue_cpu = redis_cpu(client) - cpu
        memory = (int(client.info("memory")["used_memory"]) - before_mem) / n
        cpu = redis_cpu(client)
        start = time.perf_counter()
        done = 0
        while done < n:
            got = base.pop(100)
            popped = [got[i].decode() for i in range(0, len(got), 2)]
            base.ack(popped)
            done += len(popped)
        drain = n / (time.perf_counter() - start)
        drain_cpu = redis_cpu(client) - cpu
        runs.append(
            {
                "enqueue_single": single,
                "enqueue_batch": batch,
                "drain": drain,
                "cpu_us_drain": drain_cpu / n * 1e6,
                "cpu_us_per_job": (enqueue_cpu + drain_cpu) / n * 1e6,
                "bytes_per_job": memory,
            }
        )
    client.flushall()
    client.close()
    return {k: spread([r[k] for r in runs]) for k in runs[0]}
