"""Completed workflows per second, and start-to-complete latency, on one Redis.

Two workflows with no-op workers: (a) three SIMPLE tasks in a row, (b) a fork of 10 SIMPLE tasks
and a join. The deciders (``dynoq decider``) and a workflow sweeper run as processes; workers run
in their own processes too, polling through the Python engine (``--workers-via library``) or over
HTTP through ``dynoq server`` with Conductor's own Python SDK (``--workers-via sdk``, needs
``conductor-python``). The driver starts the workflows at a fixed rate (open loop, so a slow
system shows up as latency, not as a slower driver) and reads each one's start and end times.

    python benchmarks/workflows.py [--redis-url URL] [--workflows N] [--rate R] [--deciders D]
                                   [--tree ../main --repeat N]

With ``--tree`` each workload also runs on another checkout's dynoq (services, workers and
driver alike), in turn with this one's on the same redis-server, ``--repeat`` times, so old and
new code are measured under the same load.

Anchor: Orkes reported 200+ workflow executions/s on one laptop node with a tuned Java build.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import redis

from dynoq.testing import RedisServer, free_port, wait_until
from dynoq.workflow.engine import WorkflowEngine
from dynoq.workflow.model import SearchFilter, TaskResult, TaskStatus, WorkflowStatus

START_CONCURRENCY = 32  # the driver's starts in flight at once, like a few API clients

LINEAR = {
    "name": "bench_linear",
    "version": 1,
    "tasks": [{"name": "noop", "taskReferenceName": f"step{i}"} for i in range(3)],
}
FORK = {
    "name": "bench_fork",
    "version": 1,
    "tasks": [
        {
            "name": "fork",
            "taskReferenceName": "fork",
            "type": "FORK_JOIN",
            "forkTasks": [[{"name": "noop", "taskReferenceName": f"leaf{i}"}] for i in range(10)],
        },
        {
            "name": "join",
            "taskReferenceName": "join",
            "type": "JOIN",
            "joinOn": [f"leaf{i}" for i in range(10)],
        },
    ],
}


def library_worker(url: str, namespace: str, stop: Any) -> None:
    """A no-op worker process: polls ``noop`` in batches and completes everything it gets."""

    async def main() -> None:
        engine = WorkflowEngine.from_url(url, namespace)
        while not stop.is_set():
            tasks = await engine.poll("noop", 100, wait=0.5, worker_id=f"bench-{os.getpid()}")
            await asyncio.gather(
                *(
                    engine.update_task(
                        TaskResult(t.task_id, t.workflow_instance_id, TaskStatus.COMPLETED)
                    )
                    for t in tasks
                )
            )
        await engine.aclose()

    asyncio.run(main())


def sdk_noop() -> dict[str, Any]:
    """The no-op task of Conductor's SDK workers (module level: the SDK spawns its workers)."""
    return {}


def sdk_workers(api_url: str, processes: int, threads: int = 10) -> Any:
    """Conductor's own TaskHandler: ``processes`` worker processes for ``noop``, ``threads``
    threads each, polling every millisecond when idle; started, to be stopped with
    stop_processes()."""
    from conductor.client.automator.task_handler import TaskHandler
    from conductor.client.configuration.configuration import Configuration
    from conductor.client.worker.worker import Worker

    handler = TaskHandler(
        workers=[
            Worker("noop", sdk_noop, poll_interval=1, thread_count=threads)
            for _ in range(processes)
        ],
        configuration=Configuration(server_api_url=api_url),
        scan_for_annotated_workers=False,
        monitor_processes=False,
    )
    handler.start_processes()
    return handler


def healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def spawn_service(command: str, url: str, namespace: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dynoq",
            command,
            "--redis-url",
            url,
            "--namespace",
            namespace,
            *args,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def drive(
    url: str, namespace: str, definition: dict[str, Any], count: int, rate: float
) -> dict[str, Any]:
    engine = WorkflowEngine.from_url(url, namespace)
    await engine.register_workflow_def(definition)
    slots = asyncio.Semaphore(START_CONCURRENCY)

    async def start() -> str:
        try:
            return await engine.start_workflow(definition["name"])
        finally:
            slots.release()

    starts: list[asyncio.Task[str]] = []
    began = time.monotonic()
    for i in range(count):
        due = began + i / rate
        pause = due - time.monotonic()
        if pause > 0:
            await asyncio.sleep(pause)
        # a slow start does not hold back the next one (up to START_CONCURRENCY in flight)
        await slots.acquire()
        starts.append(asyncio.create_task(start()))
    ids = list(await asyncio.gather(*starts))
    # Count what is still running from the status index (cheap), not by reading every
    # workflow: the driver must not load the machine it measures.
    deadline = time.monotonic() + 120
    running = count
    while running and time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        page = await engine.search(
            SearchFilter(workflow_types=(definition["name"],), statuses=(WorkflowStatus.RUNNING,)),
            0,
            0,
        )
        running = page.total_hits
    workflows = [await engine.get_workflow(i, include_tasks=False) for i in ids]
    pending = {w.workflow_id for w in workflows if not w.status.terminal}
    await engine.aclose()
    done = [w for w in workflows if w.status.terminal]
    latencies = sorted(w.end_time - w.start_time for w in done)
    first = min(w.start_time for w in workflows)
    last = max((w.end_time for w in done), default=first)
    return {
        "workflow": definition["name"],
        "started": count,
        "completed": sum(1 for w in done if w.status == "COMPLETED"),
        "unfinished": len(pending),
        "workflows_per_s": len(done) / max(0.001, (last - first) / 1000),
        "latency_ms_p50": statistics.median(latencies) if latencies else None,
        "latency_ms_p99": latencies[int(0.99 * (len(latencies) - 1))] if latencies else None,
    }


def cpu_seconds(url: str, pids: list[int]) -> float:
    """CPU time used so far by Redis, this driver and the given processes (Linux /proc): what
    a workflow costs the machine, whatever else runs on it. Conductor SDK workers not included."""
    client = redis.Redis.from_url(url)
    info = client.info("cpu")
    client.close()
    used = float(info["used_cpu_user"]) + float(info["used_cpu_sys"]) + time.process_time()
    for pid in pids:
        with contextlib.suppress(OSError):
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            used += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


def run_one(url: str, definition: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    services = [
        spawn_service("decider", url, namespace, "--no-system-tasks") for _ in range(args.deciders)
    ]
    services.append(spawn_service("workflow-sweeper", url, namespace))
    stop = multiprocessing.Event()
    workers = []
    handler = None
    if args.workers_via == "sdk":
        port = free_port()
        services.append(spawn_service("server", url, namespace, "--port", str(port)))
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: healthy(base), timeout=30, message="dynoq server did not come up")
        handler = sdk_workers(base + "/api", args.workers, args.sdk_threads)
    else:
        workers = [
            multiprocessing.Process(target=library_worker, args=(url, namespace, stop))
            for _ in range(args.workers)
        ]
    for w in workers:
        w.start()
    try:
        time.sleep(1.0)  # let the services connect
        pids = [s.pid for s in services] + [w.pid for w in workers if w.pid is not None]
        cpu_before = cpu_seconds(url, pids)
        row = asyncio.run(drive(url, namespace, definition, args.workflows, args.rate))
        cpu = cpu_seconds(url, pids) - cpu_before
        row["cpu_ms_per_workflow"] = 1000 * cpu / args.workflows
        return row
    finally:
        stop.set()
        for w in workers:
            w.join(10)
        if handler is not None:
            handler.stop_processes()
        for s in services:
            s.send_signal(signal.SIGTERM)
        for s in services:
            s.wait(15)


def print_row(row: dict[str, Any], tree: str = "") -> None:
    print(
        f"{row['workflow']:>13}: {row['completed']:,}/{row['started']:,} completed, "
        f"{row['workflows_per_s']:,.0f} workflows/s, start-to-complete "
        f"p50 {row['latency_ms_p50']:,.0f} ms p99 {row['latency_ms_p99']:,.0f} ms, "
        f"{row['cpu_ms_per_workflow']:.1f} CPU ms per workflow"
        + (f", {row['unfinished']} unfinished" if row["unfinished"] else "")
        + (f"  [{tree}]" if tree else ""),
        flush=True,
    )


def run_on_tree(tree: str | None, url: str, kind: str, argv: list[str]) -> dict[str, Any]:
    """One workload in a child process whose dynoq (and its services') is ``tree``'s."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # when run as a script
    from benchmarks.trees import python_path

    path = python_path(tree)
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [sys.executable, "-m", "benchmarks.workflows", *argv]
        command += ["--redis-url", url, "--kinds", kind, "--json", out.name]
        env = {**os.environ, "PYTHONPATH": path}
        subprocess.run(command, env=env, cwd=path, check=True, stdout=subprocess.DEVNULL)
        with open(out.name) as result:
            row: dict[str, Any] = json.load(result)["results"][0]
            return row


def child_argv(argv: list[str]) -> list[str]:
    """The command line without the options the parent itself handles."""
    own = ("--tree", "--repeat", "--json", "--redis-url", "--kinds")
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg.split("=", 1)[0] in own:
            skip = "=" not in arg
        else:
            out.append(arg)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis-url")
    parser.add_argument("--workflows", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=250.0, help="workflow starts per second")
    parser.add_argument("--deciders", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument("--kinds", default="linear,fork")
    parser.add_argument(
        "--workers-via",
        choices=("library", "sdk"),
        default="library",
        help="workers on the Python engine, or Conductor's Python SDK over dynoq server's /api",
    )
    parser.add_argument(
        "--sdk-threads", type=int, default=10, help="threads per SDK worker process"
    )
    parser.add_argument("--tree", action="append", default=[], help="another dynoq checkout")
    parser.add_argument("--repeat", type=int, default=1, help="turns of the trees (--tree)")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    server = None if args.redis_url else RedisServer().start()
    url = args.redis_url or server.url  # type: ignore[union-attr]
    try:
        results = []
        for kind in args.kinds.split(","):
            if args.tree:  # each tree in a child process, in turn
                for _ in range(args.repeat):
                    for tree in [*args.tree, None]:
                        row = run_on_tree(tree, url, kind, child_argv(sys.argv[1:]))
                        row["tree"] = tree or "this checkout"
                        results.append(row)
                        print_row(row, row["tree"])
                continue
            definition = {"linear": LINEAR, "fork": FORK}[kind]
            row = run_one(url, definition, args)
            results.append(row)
            print_row(row)
        if args.json:
            with open(args.json, "w") as out:
                json.dump({"args": vars(args), "results": results}, out, indent=2)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
