"""What one push costs Redis: the script's own time (``INFO commandstats``) and Redis CPU per
push (``INFO cpu``, network included), against HSET + ZADD pipelined, the two commands a push
stands for, and against the floor: EVALSHA of a script with a push's keys and arguments that does
nothing, and of one that makes only the Redis calls a push needs. With ``--tree`` the same
figures for another checkout's dynoq (e.g. main before a change), measured in alternation
against the same redis-server, so the ratio between the two holds on a busy machine.

    python -m benchmarks.push_cost [--tree ../main] [--messages 5000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import redis

from benchmarks.trees import label, python_path

PAYLOAD = b"x" * 20

# The floor, called like a one-message push (6 keys; now_ms, channel, move_limit, id, priority,
# delay_ms, payload): nothing at all, and only the calls a push must make: the server clock, the
# check for due delayed messages, the record, the arrival order, the ready entry, the wake-up.
FLOOR_SCRIPTS = {
    "EVALSHA of 'return 1' (floor)": "return 1",
    "EVALSHA of a push's calls only (floor)": """
local t = redis.call('TIME')
redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '0', 'WITHSCORES', 'LIMIT', '0', ARGV[3])
redis.call('HSET', KEYS[5], ARGV[4], ARGV[7])
redis.call('ZADD', KEYS[1], redis.call('INCR', KEYS[6]), ARGV[4])
redis.call('PUBLISH', ARGV[2], '1')
return 1
""",
}


def redis_cpu(client: redis.Redis) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def measured(client: redis.Redis, n: int, command: str, run: Any) -> dict[str, float]:
    """Runs ``run()`` (``n`` messages) and reads what Redis spent on it."""
    client.config_resetstat()
    cpu = redis_cpu(client)
    start = time.perf_counter()
    run()
    seconds = time.perf_counter() - start
    cpu = redis_cpu(client) - cpu
    stats = {k[8:]: v["usec"] for k, v in client.info("commandstats").items()}
    for probe in ("info", "config|resetstat"):
        stats.pop(probe, None)
    total = sum(stats[c] for c in command.split("+") if c in stats)
    nested = sum(usec for c, usec in stats.items() if c != "evalsha") if command == "evalsha" else 0
    return {
        "total_us": total / n,
        "own_us": (total - nested) / n,
        "cpu_us": cpu * 1e6 / n,
        "per_s": n / seconds,
    }


def dynoq_figures(url: str, n: int) -> dict[str, dict[str, float]]:
    """Single pushes, pushes in batches of 100 and single ensures, through the library."""
    from dynoq import Message, Queue

    client = redis.Redis.from_url(url)
    queue = Queue(client, "cost", namespace=f"cost{os.getpid()}")
    queue.push(Message("warm-up", PAYLOAD))
    out = {}
    out["push, 1 per call"] = measured(
        client, n, "evalsha", lambda: [queue.push(Message(f"s{i}", PAYLOAD)) for i in range(n)]
    )
    batches = [[Message(f"b{k + i}", PAYLOAD) for i in range(100)] for k in range(0, n, 100)]
    out["push, batches of 100"] = measured(
        client, n, "evalsha", lambda: [queue.push(batch) for batch in batches]
    )
    out["ensure, 1 per call"] = measured(
        client, n, "evalsha", lambda: [queue.ensure(Message(f"e{i}", PAYLOAD)) for i in range(n)]
    )
    queue.clear()
    queue.close()
    # The same script called the way the floor rows are: Redis CPU counts the idle time between
    # calls too (each wake-up costs it), so only rows sent at a like rate compare.
    from dynoq.backend.scripts import script_source

    sha = client.script_load(script_source("push"))
    out["push.lua, bare EVALSHA"] = measured(
        client,
        n,
        "evalsha",
        lambda: [client.evalsha(sha, 6, *FLOOR_KEYS, *push_args(f"r{i}")) for i in range(n)],
    )
    client.delete(*FLOOR_KEYS)
    client.close()
    return out


def baseline_figures(url: str, n: int) -> dict[str, float]:
    """HSET + ZADD, pipelined in one round trip per message."""
    client = redis.Redis.from_url(url)

    def run() -> None:
        for i in range(n):
            pipe = client.pipeline(transaction=False)
            pipe.hset("cost:h", f"m{i}", PAYLOAD)
            pipe.zadd("cost:z", {f"m{i}": i})
            pipe.execute()

    figures = measured(client, n, "hset+zadd", run)
    client.delete("cost:h", "cost:z")
    client.close()
    return figures


FLOOR_KEYS = [f"{{cost}}:{k}" for k in ("ready", "delayed", "in_flight", "dead", "messages", "seq")]


def push_args(message_id: str) -> list[Any]:
    """A one-message push's arguments: now_ms (server clock), channel, move_limit, id,
    priority, delay, payload."""
    return ["", "cost:wake", 1000, message_id, 0, 0, PAYLOAD]


def floor_figures(url: str, n: int) -> dict[str, dict[str, float]]:
    """The floor scripts, each called ``n`` times like a one-message push."""
    client = redis.Redis.from_url(url)
    out = {}
    for name, script in FLOOR_SCRIPTS.items():
        sha = client.script_load(script)

        def run(sha: str = sha) -> None:
            for i in range(n):
                client.evalsha(sha, 6, *FLOOR_KEYS, *push_args(f"f{i}"))

        out[name] = measured(client, n, "evalsha", run)
        client.delete(*FLOOR_KEYS)
    client.close()
    return out


def child(tree: str | None, url: str, n: int) -> dict[str, dict[str, float]]:
    path = python_path(tree)  # python -m puts the working directory first on the path
    argv = [sys.executable, "-m", "benchmarks.push_cost", "--child", url, "--messages", str(n)]
    env = {**os.environ, "PYTHONPATH": path}
    out = subprocess.run(argv, env=env, cwd=path, capture_output=True, text=True, check=True)
    figures: dict[str, dict[str, float]] = json.loads(out.stdout)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tree", action="append", default=[], help="another dynoq checkout")
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import dynoq

        figures: dict[str, Any] = dynoq_figures(args.child, args.messages)
        figures["dynoq from"] = dynoq.__file__
        print(json.dumps(figures))
        return 0
    from dynoq.testing import RedisServer

    trees: list[str | None] = [*args.tree, None]
    runs: dict[str, list[dict[str, dict[str, float]]]] = {label(t): [] for t in trees}
    base: list[dict[str, float]] = []
    floors: list[dict[str, dict[str, float]]] = []
    with RedisServer(port=0) as server:
        for _ in range(args.repeat):
            for tree in trees:
                runs[label(tree)].append(child(tree, server.url, args.messages))
            base.append(baseline_figures(server.url, args.messages))
            floors.append(floor_figures(server.url, args.messages))
    med = {k: statistics.median(r[k] for r in base) for k in base[0]}
    print(
        f"{args.messages:,} messages per figure, median of {args.repeat}; Redis µs per message:"
        " commandstats (total = EVALSHA's usec, own = total minus the commands the script"
        " called), Redis CPU = INFO cpu (network included)"
    )
    head = f"  {'':56}{'total':>7}{'own':>7}{'Redis CPU':>11}{'msg/s':>9}{'CPU/base':>10}"
    print(head)
    print(
        f"  {'HSET + ZADD pipelined (baseline)':56}{med['total_us']:7.2f}{'':7}"
        f"{med['cpu_us']:11.1f}{med['per_s']:9,.0f}"
    )
    for op in floors[0]:
        m = {k: statistics.median(r[op][k] for r in floors) for k in floors[0][op]}
        print(
            f"  {op[-56:]:56}{m['total_us']:7.2f}{m['own_us']:7.2f}"
            f"{m['cpu_us']:11.1f}{m['per_s']:9,.0f}{m['cpu_us'] / med['cpu_us']:9.2f}x"
        )
    for name, reps in runs.items():
        print(f"  [{name}]: dynoq from {reps[0].pop('dynoq from')}")
        for rep in reps[1:]:
            rep.pop("dynoq from")
        for op in reps[0]:
            m = {k: statistics.median(r[op][k] for r in reps) for k in reps[0][op]}
            print(
                f"  {(op + ' [' + name + ']')[-56:]:56}{m['total_us']:7.2f}{m['own_us']:7.2f}"
                f"{m['cpu_us']:11.1f}{m['per_s']:9,.0f}{m['cpu_us'] / med['cpu_us']:9.2f}x"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
