"""Workflows through the Conductor-compatible API, as Conductor's workers drive it.

``dynoq server`` and ``dynoq decider`` run as child processes (as deployed). N workflows of T
SIMPLE tasks are started with ``POST /api/workflow``; W worker loops in this process do what
the Python SDK's TaskRunner does: batch-poll (``GET /api/tasks/poll/batch``, long poll 100 ms)
and report each task with ``POST /api/tasks/update-v2``, running the next task it hands back
at once. Reported: workflows and tasks per second from the first start to the last workflow
COMPLETED, and the workflows' start-to-end times (Conductor's ``executionTime``).

    python benchmarks/conductor_api.py [--redis-url URL] [--workflows N] [--tasks T]
                                       [--workers W] [--quick]

Without --redis-url it starts a private redis-server on a loopback port (no persistence).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from typing import Any

import aiohttp

from dynoq.testing import RedisServer, free_port, wait_until

TASK = "bench_task"


def definition(name: str, tasks: int) -> dict[str, Any]:
    steps = [
        {
            "name": TASK,
            "taskReferenceName": f"t{i}",
            "type": "SIMPLE",
            "inputParameters": {"step": i, "previous": f"${{t{i - 1}.output.step}}" if i else 0},
        }
        for i in range(tasks)
    ]
    return {
        "name": name,
        "version": 1,
        "tasks": steps,
        "outputParameters": {"last": "${t0.output}"},
    }


async def worker(session: aiohttp.ClientSession, api: str, name: str, done: asyncio.Event) -> int:
    """Polls and completes tasks until ``done``; the number of tasks it completed."""
    completed = 0
    poll = f"{api}/tasks/poll/batch/{TASK}?count=10&timeout=100&workerid={name}"
    while not done.is_set():
        async with session.get(poll) as response:
            tasks = await response.json()
        for task in tasks:
            while task is not None:
                result = {
                    "taskId": task["taskId"],
                    "workflowInstanceId": task["workflowInstanceId"],
                    "status": "COMPLETED",
                    "workerId": name,
                    "outputData": {"step": task["inputData"].get("step")},
                }
                async with session.post(f"{api}/tasks/update-v2", json=result) as response:
                    task = await response.json() if response.status == 200 else None
                completed += 1
    return completed


async def completed_count(session: aiohttp.ClientSession, api: str, name: str) -> int:
    query = f"workflowType IN ({name}) AND status IN (COMPLETED)"
    async with session.get(f"{api}/workflow/search", params={"query": query, "size": 0}) as r:
        return int((await r.json())["totalHits"])


async def measure(api: str, args: argparse.Namespace) -> None:
    name = "bench_" + uuid.uuid4().hex[:8]
    connector = aiohttp.TCPConnector(limit=args.workers + 16)
    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.post(f"{api}/metadata/taskdefs", json=[{"name": TASK}]) as r:
            assert r.status == 200, await r.text()
        async with session.post(f"{api}/metadata/workflow", json=definition(name, args.tasks)) as r:
            assert r.status == 200, await r.text()
        done = asyncio.Event()
        workers = [
            asyncio.create_task(worker(session, api, f"w{i}", done)) for i in range(args.workers)
        ]
        started = time.perf_counter()

        async def start(count: int) -> None:
            for _ in range(count):
                body = {"name": name, "input": {}}
                async with session.post(f"{api}/workflow", json=body) as response:
                    assert response.status == 200, await response.text()

        starters = 8
        await asyncio.gather(
            *(start(args.workflows // starters + (i < args.workflows % starters)) for i in range(8))
        )
        while await completed_count(session, api, name) < args.workflows:
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        done.set()
        tasks_done = sum(await asyncio.gather(*workers))
        query = {"query": f"workflowType IN ({name})", "size": str(args.workflows)}
        async with session.get(f"{api}/workflow/search", params=query) as r:
            times = sorted(s["executionTime"] for s in (await r.json())["results"])
    p50 = statistics.median(times)
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    print(
        f"{args.workflows} workflows x {args.tasks} tasks, {args.workers} HTTP workers: "
        f"{args.workflows / elapsed:,.0f} workflows/s, {tasks_done / elapsed:,.0f} tasks/s; "
        f"start-to-end p50 {p50:,.0f} ms, p95 {p95:,.0f} ms"
    )


def spawn(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "dynoq", *args], stdout=subprocess.DEVNULL)


def healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis-url")
    parser.add_argument("--workflows", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=3)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--quick", action="store_true", help="100 workflows")
    args = parser.parse_args()
    if args.quick:
        args.workflows = 100
    redis = None if args.redis_url else RedisServer(port=0).start()
    url = args.redis_url or redis.url  # type: ignore[union-attr]
    common = ("--redis-url", url, "--namespace", "bench" + uuid.uuid4().hex[:8])
    port = free_port()
    children = [spawn("server", *common, "--port", str(port)), spawn("decider", *common)]
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: healthy(base), timeout=30, message="dynoq server did not come up")
        asyncio.run(measure(base + "/api", args))
    finally:
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                child.kill()
        if redis is not None:
            redis.stop()


if __name__ == "__main__":
    main()
