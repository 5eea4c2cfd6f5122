"""End-to-end push/pop/ack throughput of one dynoq queue on a Redis Cluster of 1, 3 and 6
masters, printed as a scaling ratio against 1 master.

    python benchmarks/cluster_scaling.py [--processes P] [--seconds S] [--masters 1,3,6]
                                         [--shards-per-master K] [--batch B] [--repeat R]

Each master count gets a fresh local cluster (no replicas, no persistence) and one queue with
K shards per master. P client processes each loop push(B) -> pop(B) -> ack_many for S seconds.
Redis is single-threaded per node, so with enough client processes throughput grows with the
masters; on a machine with few cores the clients and the servers compete for the same cores and
the ratio is bounded by them. The cores seen are printed: run it on a bigger machine with more
--processes to see the cluster's own scaling.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
import uuid

from dynoq import Message, Queue
from dynoq.testing import LocalRedisCluster


def client_loop(url: str, namespace: str, shards: int, batch: int, seconds: float, out) -> None:
    with Queue.from_url(url, "bench", namespace=namespace, shards=shards) as q:
        done = 0
        deadline = time.monotonic() + seconds
        n = 0
        prefix = uuid.uuid4().hex[:8]
        while time.monotonic() < deadline:
            q.push([Message(f"{prefix}-{n + i}", {"n": n + i}) for i in range(batch)])
            n += batch
            popped = q.pop(batch)
            done += q.ack_many(popped)
        out.put(done)


def measure(masters: int, args: argparse.Namespace) -> float:
    with LocalRedisCluster(masters=masters, replicas=0) as cluster:
        shards = masters * args.shards_per_master
        namespace = f"scale-{uuid.uuid4().hex[:6]}"
        out: multiprocessing.Queue[int] = multiprocessing.Queue()
        procs = [
            multiprocessing.Process(
                target=client_loop,
                args=(cluster.url, namespace, shards, args.batch, args.seconds, out),
            )
            for _ in range(args.processes)
        ]
        started = time.monotonic()
        for p in procs:
            p.start()
        total = sum(out.get(timeout=args.seconds + 120) for _ in procs)
        for p in procs:
            p.join()
        return total / (time.monotonic() - started)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--processes", type=int, default=max(2, os.cpu_count() or 2))
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--masters", default="1,3,6")
    parser.add_argument("--shards-per-master", type=int, default=2)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    counts = [int(m) for m in args.masters.split(",")]
    print(
        f"cluster scaling: {args.processes} client processes, {os.cpu_count()} cores seen,"
        f" {args.shards_per_master} shards per master, batch {args.batch},"
        f" {args.seconds:g} s per run, median of {args.repeat}"
    )
    results = {m: [measure(m, args) for _ in range(args.repeat)] for m in counts}
    base = statistics.median(results[counts[0]])
    print(
        f"\n  {'masters':>7}  {'shards':>6}  {'msg/s (min-max)':>26}  {'vs ' + str(counts[0]):>6}"
    )
    for m, runs in results.items():
        med = statistics.median(runs)
        spread = f"{med:,.0f} ({min(runs):,.0f}-{max(runs):,.0f})"
        print(f"  {m:>7}  {m * args.shards_per_master:>6}  {spread:>26}  {med / base:>6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
