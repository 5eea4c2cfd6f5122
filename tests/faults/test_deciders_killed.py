"""``dynoq decider`` and ``dynoq workflow-sweeper`` processes SIGKILLed at random while
workflows with a fork, a retried task and a WAIT run: every workflow completes with the
outputs Conductor gives, and no task is handed to a worker twice."""

from __future__ import annotations

import asyncio
import os
import random
import signal
from collections import Counter
from typing import Any

import pytest

from dynoq.testing import async_wait_until
from dynoq.workflow.engine import WorkflowEngine
from dynoq.workflow.model import TaskResult, TaskStatus, WorkflowStatus
from tests.faults.support import processes

WORKFLOWS = 60
KILLS = 8


def simple(ref: str, **inputs: Any) -> dict[str, Any]:
    return {"name": ref, "taskReferenceName": ref, "type": "SIMPLE", "inputParameters": inputs}


DEFINITION = {
    "name": "chaos",
    "version": 1,
    "tasks": [
        {
            "name": "fork",
            "taskReferenceName": "fork",
            "type": "FORK_JOIN",
            "forkTasks": [[simple("left", n="${workflow.input.n}")], [simple("flaky")]],
        },
        {"name": "join", "taskReferenceName": "join", "type": "JOIN", "joinOn": ["left", "flaky"]},
        {
            "name": "pause",
            "taskReferenceName": "pause",
            "type": "WAIT",
            "inputParameters": {"duration": "1 seconds"},
        },
        simple("last", got="${left.output.double}"),
    ],
    "outputParameters": {"result": "${last.output.result}"},
}


@pytest.mark.timeout(120)
def test_killed_deciders_and_sweepers_finish_every_workflow_once(standalone_url, namespace):
    rng = random.Random(15)
    args = ("--redis-url", standalone_url, "--namespace", namespace)
    handed: Counter[str] = Counter()  # task id -> times a worker got it

    async def work(engine: WorkflowEngine, stop: asyncio.Event) -> None:
        def outcome(task: Any) -> TaskResult:
            ref = task.reference_task_name
            status, output = TaskStatus.COMPLETED, {}
            if ref == "left":
                output = {"double": 2 * task.input_data["n"]}
            elif ref == "flaky" and task.retry_count == 0:
                status = TaskStatus.FAILED
            elif ref == "last":
                output = {"result": task.input_data["got"] + 1}
            return TaskResult(task.task_id, task.workflow_instance_id, status, output)

        while not stop.is_set():
            for task_type in ("left", "flaky", "last"):
                for task in await engine.poll(task_type, 20, wait=0.05, worker_id="w"):
                    handed[task.task_id] += 1
                    await engine.update_task(outcome(task))

    async def run() -> None:
        engine = WorkflowEngine.from_url(standalone_url, namespace)
        stop = asyncio.Event()
        with processes() as running:

            def decider() -> None:
                running.dynoq("decider", *args, "--concurrency", "16", "--no-system-tasks")

            def sweeper() -> None:
                running.dynoq("workflow-sweeper", *args, "--interval", "0.3")

            try:
                await engine.register_task_defs(
                    [{"name": "flaky", "retryCount": 1, "retryDelaySeconds": 0}]
                )
                await engine.register_workflow_def(DEFINITION)
                decider()
                decider()
                sweeper()
                worker = asyncio.create_task(work(engine, stop))
                ids = [await engine.start_workflow("chaos", {"n": n}) for n in range(WORKFLOWS)]
                for _ in range(KILLS):
                    await asyncio.sleep(rng.uniform(0.2, 0.8))  # a random moment to kill at
                    alive = [p for p in running.started if p.poll() is None]
                    victim = rng.choice(alive)
                    os.kill(victim.pid, signal.SIGKILL)
                    victim.wait()
                    (decider if "decider" in victim.args else sweeper)()

                async def finished() -> bool:
                    for workflow_id in ids:
                        wf = await engine.get_workflow(workflow_id, include_tasks=False)
                        if wf.status is not WorkflowStatus.COMPLETED:
                            return False
                    return True

                await async_wait_until(finished, timeout=60, interval=0.2)
                for n, workflow_id in enumerate(ids):
                    wf = await engine.get_workflow(workflow_id)
                    assert wf.output == {"result": 2 * n + 1}
                    refs = Counter(t.reference_task_name for t in wf.tasks)
                    assert refs["flaky"] == 2 and refs["left"] == 1 and refs["last"] == 1
                assert handed and max(handed.values()) == 1, "a task was handed out twice"
                assert len(handed) == WORKFLOWS * 4
            finally:
                stop.set()
                if "worker" in locals():
                    await asyncio.wait_for(worker, 10)
                await engine.aclose()

    asyncio.run(run())
