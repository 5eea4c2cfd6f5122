"""The library against the minimal ZSET + HASH + Lua design of ``queue_throughput.Baseline``,
interleaved on one redis-server: batch push (100 per call) and drain (``pop(100)`` +
``ack_many``), each as a ratio to the baseline measured right after it. With ``--tree`` the
same for another checkout's dynoq (e.g. main before a change), in the same run.

    python -m benchmarks.library_ratio [--tree ../main] [--messages 20000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import redis

from benchmarks.queue_throughput import PAYLOAD, Baseline
from benchmarks.trees import label, python_path


def one_round(url: str, n: int, prefix: str) -> dict[str, float]:
    """Messages per second of dynoq and of the baseline, push then drain."""
    from dynoq import Message, Queue

    client = redis.Redis.from_url(url)
    queue = Queue(client, "q", namespace=prefix)
    base = Baseline(client, f"{prefix}:base")
    ids = [f"j{i}" for i in range(n)]
    batches = [[Message(i, PAYLOAD) for i in ids[k : k + 100]] for k in range(0, n, 100)]
    queue.push(Message("warm-up", PAYLOAD))
    queue.pop(1)
    out = {}
    start = time.perf_counter()
    for batch in batches:
        queue.push(batch)
    out["push ours"] = n / (time.perf_counter() - start)
    start = time.perf_counter()
    for k in range(0, n, 100):
        base.push(ids[k : k + 100])
    out["push base"] = n / (time.perf_counter() - start)
    start, done = time.perf_counter(), 0
    while done < n:
        got = queue.pop(100)
        queue.ack_many(got)
        done += len(got)
    out["drain ours"] = n / (time.perf_counter() - start)
    start, done = time.perf_counter(), 0
    while done < n:
        flat = base.pop(100)
        popped = [flat[i].decode() for i in range(0, len(flat), 2)]
        base.ack(popped)
        done += len(popped)
    out["drain base"] = n / (time.perf_counter() - start)
    queue.clear()
    base.clear()
    queue.close()
    client.close()
    return out


def child(tree: str | None, url: str, n: int, prefix: str) -> dict[str, float]:
    path = python_path(tree)  # python -m puts the working directory first on the path
    argv = [sys.executable, "-m", "benchmarks.library_ratio", "--child", url]
    argv += ["--messages", str(n), "--prefix", prefix]
    env = {**os.environ, "PYTHONPATH": path}
    out = subprocess.run(argv, env=env, cwd=path, capture_output=True, text=True, check=True)
    figures: dict[str, float] = json.loads(out.stdout)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tree", action="append", default=[], help="another dynoq checkout")
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", default="ratio", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(one_round(args.child, args.messages, args.prefix)))
        return 0
    from dynoq.testing import RedisServer

    trees: list[str | None] = [*args.tree, None]
    runs: dict[str, list[dict[str, float]]] = {label(t): [] for t in trees}
    with RedisServer(port=0) as server:
        for r in range(args.repeat):
            for k, tree in enumerate(trees):
                runs[label(tree)].append(child(tree, server.url, args.messages, f"r{r}t{k}"))
    print(f"{args.messages:,} messages per figure; median of {args.repeat} (min-max) of the ratio")
    for name, reps in runs.items():
        cells = []
        for what in ("push", "drain"):
            ratios = [r[f"{what} ours"] / r[f"{what} base"] for r in reps]
            ours = statistics.median(r[f"{what} ours"] for r in reps)
            cells.append(
                f"{what} {statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f},"
                f" {ours:,.0f} msg/s)"
            )
        print(f"  [{name}] " + "; ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
