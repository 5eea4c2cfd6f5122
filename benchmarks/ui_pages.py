"""How long the web UI's pages take with many workflows stored (goal: under 200 ms each).

Stores --workflows workflow executions (default 100,000: three types, 5 tasks each, statuses
mixed as a busy system has them, started over the last week), a queue of 10,000 messages, and
--schedules schedules (default 1,000) with 100,000 recorded executions among them (the most
kept), then starts ``dynoq server`` as a child process (as deployed) and fetches each page --repeat
times one after the other, after two warm-up fetches. The baseline, fetched the same way in
the same run, is the Conductor API's search (``/api/workflow/search?size=25``), the call the
workflows page is built on: the ratio says what the page adds to it.

    python benchmarks/ui_pages.py [--workflows N] [--schedules S] [--repeat R] [--redis-url URL]

Without --redis-url it starts a private redis-server on a loopback port (no persistence).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid

from dynoq import AsyncQueue, Message, MessageAction, Schedule, Schedules, Timing
from dynoq.runtime.schedules import MAX_EXECUTIONS
from dynoq.testing import RedisServer, free_port, wait_until
from dynoq.workflow.engine import WorkflowEngine
from dynoq.workflow.model import Task, TaskStatus, Workflow, WorkflowStatus

TYPES = ("order", "refund", "signup")
STATUS_MIX = (
    (WorkflowStatus.COMPLETED, 0.70),
    (WorkflowStatus.FAILED, 0.12),
    (WorkflowStatus.RUNNING, 0.10),
    (WorkflowStatus.TERMINATED, 0.05),
    (WorkflowStatus.PAUSED, 0.03),
)
STEPS = ("validate", "reserve", "charge", "notify", "archive")


def definition(name: str) -> dict[str, object]:
    return {
        "name": name,
        "version": 1,
        "tasks": [{"name": s, "taskReferenceName": s, "type": "SIMPLE"} for s in STEPS],
    }


def execution(rng: random.Random, now_ms: int, key: str) -> Workflow:
    status = rng.choices([s for s, _ in STATUS_MIX], [w for _, w in STATUS_MIX])[0]
    name = rng.choice(TYPES)
    started = now_ms - rng.randrange(7 * 86_400_000)
    workflow_id = str(uuid.UUID(int=rng.getrandbits(128)))
    done = len(STEPS) if status is WorkflowStatus.COMPLETED else rng.randrange(1, len(STEPS))
    tasks = []
    for i, step in enumerate(STEPS[:done]):
        last = i == done - 1
        task_status = TaskStatus.COMPLETED
        if last and status is WorkflowStatus.FAILED:
            task_status = TaskStatus.FAILED
        elif last and status in (WorkflowStatus.RUNNING, WorkflowStatus.PAUSED):
            task_status = TaskStatus.IN_PROGRESS
        at = started + 100 * i
        tasks.append(
            Task(
                f"{workflow_id}.{i + 1}", step, step, step, workflow_id, task_status,
                input_data={"order": i}, output_data={"ok": True}, seq=i + 1,
                scheduled_time=at, start_time=at + 5,
                end_time=at + 90 if task_status.terminal else 0,
                workflow_type=name,
            )
        )  # fmt: skip
    return Workflow(
        workflow_id, name, 1, status, input={"customer": rng.randrange(10**6)},
        tasks=tasks, correlation_id=f"c-{rng.randrange(10**5)}", create_time=started,
        start_time=started, update_time=started + 500,
        end_time=started + 500 if status.terminal else 0,
        reason_for_incompletion="card declined" if status is WorkflowStatus.FAILED else "",
        definition_key=key, task_counter=len(tasks),
    )  # fmt: skip


async def fill_schedules(url: str, namespace: str, total: int) -> None:
    """``total`` schedules (every minute, to one queue) with MAX_EXECUTIONS executions among
    them, recorded as the scheduler records them."""
    if not total:
        return
    started = time.monotonic()
    async with Schedules.from_url(url, namespace) as schedules:
        saved = await schedules.save_many(
            Schedule(f"s-{i:05}", Timing(cron="* * * * *"), MessageAction("jobs"))
            for i in range(total)
        )
        per = MAX_EXECUTIONS // total
        now_ms = int(time.time() * 1000) // 60_000 * 60_000
        for schedule in saved:
            fires = [now_ms - 60_000 * k for k in range(per)]
            await asyncio.gather(
                *(schedules.record(schedule, schedules.execution(schedule, f, "EXECUTED"))
                  for f in fires)
            )  # fmt: skip
    took = time.monotonic() - started
    print(
        f"stored {total:,} schedules, {per * total:,} executions in {took:.0f} s", file=sys.stderr
    )


async def fill(url: str, namespace: str, total: int, schedules: int) -> str:
    """Stores the workflows and the queue; returns the id of one RUNNING workflow."""
    engine = WorkflowEngine.from_url(url, namespace)
    rng = random.Random(7)
    keys = {}
    for name in TYPES:
        parsed = await engine.register_workflow_def(definition(name))
        keys[name] = await engine.snapshot_key(parsed, definition(name))
    now_ms = int(time.time() * 1000)
    started = time.monotonic()
    running = ""
    for first in range(0, total, 500):
        batch = [execution(rng, now_ms, "") for _ in range(min(500, total - first))]
        for wf in batch:
            wf.definition_key = keys[wf.workflow_name]
            if wf.status is WorkflowStatus.RUNNING:
                running = wf.workflow_id
        await asyncio.gather(*(engine.store.create(wf) for wf in batch))
        print(f"\rstored {first + len(batch):,} workflows", end="", file=sys.stderr, flush=True)
    print(f" in {time.monotonic() - started:.0f} s", file=sys.stderr)
    queue = AsyncQueue.from_url(url, "jobs", namespace=namespace, max_deliveries=3)
    await queue.push(Message(f"m{i}", {"n": i}, priority=i % 10) for i in range(10_000))
    await queue.aclose()
    await engine.aclose()
    await fill_schedules(url, namespace, schedules)
    return running


def timed_get(url: str) -> float:
    began = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as response:
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{url}: {response.status}")
    return (time.perf_counter() - began) * 1000


def measure(base: str, path: str, repeat: int) -> tuple[float, float]:
    for _ in range(2):
        timed_get(base + path)
    times = sorted(timed_get(base + path) for _ in range(repeat))
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflows", type=int, default=100_000)
    parser.add_argument("--schedules", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--redis-url", default="")
    args = parser.parse_args()
    with RedisServer(port=0) if not args.redis_url else _Given(args.redis_url) as redis:
        namespace = "uibench" + uuid.uuid4().hex[:6]
        running = asyncio.run(fill(redis.url, namespace, args.workflows, args.schedules))
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "dynoq", "server", "--redis-url", redis.url,
             "--namespace", namespace, "--port", str(port), "--log-level", "warning"],
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: _up(base), timeout=30, message="dynoq server did not start")
            pages = [
                ("baseline: /api/workflow/search?size=25", "/api/workflow/search?size=25"),
                ("overview", "/ui/"),
                ("workflows, no filter", "/ui/workflows"),
                ("workflows, FAILED", "/ui/workflows?status=FAILED"),
                ("workflows, order RUNNING", "/ui/workflows?type=order&status=RUNNING"),
                ("workflows, free text", "/ui/workflows?text=card+declined"),
                ("workflows, order oldest first", "/ui/workflows?type=order&order=asc"),
                ("workflows, order version 1", "/ui/workflows?type=order&version=1"),
                ("workflows, page 40", "/ui/workflows?start=1000"),
                ("one execution", f"/ui/workflows/{running}"),
                ("definitions", "/ui/definitions"),
                ("one definition", "/ui/definitions/order/1"),
                ("queue (10,000 messages)", "/ui/queues/jobs"),
                ("task queues", "/ui/tasks"),
            ]
            if args.schedules:
                pages += [
                    (f"schedules ({args.schedules:,})", "/ui/schedules"),
                    ("one schedule", "/ui/schedules/s-00000"),
                ]
            print(f"{args.workflows:,} workflows stored; {args.repeat} fetches per page")
            print(f"{'page':<40} {'p50 ms':>8} {'p95 ms':>8} {'x baseline':>10}")
            baseline = 0.0
            for label, path in pages:
                p50, p95 = measure(base, path, args.repeat)
                baseline = baseline or p50
                print(f"{label:<40} {p50:8.1f} {p95:8.1f} {p50 / baseline:10.2f}")
        finally:
            server.terminate()
            server.wait(10)
    return 0


def _up(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/health", timeout=1):
            return True
    except OSError:
        return False


class _Given:
    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self) -> _Given:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


if __name__ == "__main__":
    sys.exit(main())
