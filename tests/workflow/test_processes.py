"""The orchestrator as an operator runs it: ``dynoq decider`` and ``dynoq workflow-sweeper`` as
separate processes, with workers polling from the test; and four deciders racing on 200 forks."""

from __future__ import annotations

import asyncio
import random
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from dynoq.testing import async_wait_until
from dynoq.workflow.engine import WorkflowEngine
from dynoq.workflow.model import TaskResult, TaskStatus, Workflow, WorkflowStatus

pytestmark = pytest.mark.processes

SWEEP_INTERVAL = 1.0


@pytest.fixture
def spawn(standalone_url: str, namespace: str) -> Iterator[Any]:
    started: list[subprocess.Popen[bytes]] = []

    def start(command: str, *args: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dynoq",
                command,
                "--redis-url",
                standalone_url,
                "--namespace",
                namespace,
                *args,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in started:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def complete_all(
    engine: WorkflowEngine, task_type: str, stop: asyncio.Event, duplicate: bool = False
) -> None:
    """A worker that answers in random order, and with ``duplicate`` answers everything twice."""
    rng = random.Random(7)
    while not stop.is_set():
        tasks = await engine.poll(task_type, 50, wait=0.2, worker_id="racer")
        rng.shuffle(tasks)
        results = [
            TaskResult(
                t.task_id,
                t.workflow_instance_id,
                TaskStatus.COMPLETED,
                {"ref": t.reference_task_name},
            )
            for t in tasks
        ]
        if duplicate:
            results = results + rng.sample(results, len(results))
        await asyncio.gather(*(engine.update_task(r) for r in results))


async def wait_all_done(engine: WorkflowEngine, ids: list[str], timeout: float) -> list[Workflow]:
    pending = set(ids)

    async def done() -> bool:
        for workflow_id in list(pending):
            if (await engine.get_workflow(workflow_id, include_tasks=False)).status.terminal:
                pending.discard(workflow_id)
        return not pending

    await async_wait_until(
        done, timeout=timeout, interval=0.2, message=f"{len(pending)} workflows still running"
    )
    return [await engine.get_workflow(i) for i in ids]


async def test_decider_and_sweeper_processes_run_a_workflow(
    spawn: Any, engine: WorkflowEngine
) -> None:
    spawn("decider")
    spawn("workflow-sweeper", "--interval", str(SWEEP_INTERVAL))
    await engine.register_workflow_def(
        {
            "name": "two_steps",
            "version": 1,
            "tasks": [
                {
                    "name": "step",
                    "taskReferenceName": "a",
                    "inputParameters": {"n": "${workflow.input.n}"},
                },
                {
                    "name": "wait",
                    "taskReferenceName": "w",
                    "type": "WAIT",
                    "inputParameters": {"duration": "1s"},
                },
                {
                    "name": "step",
                    "taskReferenceName": "b",
                    "inputParameters": {"n": "${a.output.n}"},
                },
            ],
            "outputParameters": {"n": "${b.output.n}"},
        }
    )
    workflow_id = await engine.start_workflow("two_steps", {"n": 1})
    for expected in ("a", "b"):
        [task] = await async_wait_until(lambda: engine.poll("step", wait=0.5), timeout=10)
        assert task.reference_task_name == expected
        await engine.update_task(
            TaskResult(
                task.task_id, workflow_id, TaskStatus.COMPLETED, {"n": task.input_data["n"] + 1}
            )
        )
    [wf] = await wait_all_done(engine, [workflow_id], timeout=10)
    assert wf.status is WorkflowStatus.COMPLETED
    assert wf.output == {"n": 3}


async def test_a_lost_task_message_and_decider_entry_are_repaired(
    spawn: Any, engine: WorkflowEngine
) -> None:
    """What a decider crash between saving and pushing leaves behind, put back by the sweeper."""
    await engine.register_workflow_def(
        {"name": "one_step", "version": 1, "tasks": [{"name": "step", "taskReferenceName": "a"}]}
    )
    workflow_id = await engine.start_workflow("one_step")  # decided inline: task a is SCHEDULED
    wf = await engine.get_workflow(workflow_id)
    [task] = wf.tasks
    await engine.task_queue("step").remove(task.task_id)  # the push that never happened
    await engine.decider_queue.remove(workflow_id)  # and the decider entry that went with it
    spawn("decider")
    spawn("workflow-sweeper", "--interval", "0.5")
    [polled] = await async_wait_until(lambda: engine.poll("step", wait=0.5), timeout=15)
    assert polled.task_id == task.task_id
    await engine.update_task(TaskResult(task.task_id, workflow_id, TaskStatus.COMPLETED))
    [wf] = await wait_all_done(engine, [workflow_id], timeout=10)
    assert wf.status is WorkflowStatus.COMPLETED


@pytest.mark.timeout(180)
async def test_four_deciders_two_hundred_forks_duplicated_updates(
    spawn: Any, engine: WorkflowEngine
) -> None:
    for _ in range(4):
        spawn("decider", "--no-system-tasks")
    spawn("workflow-sweeper", "--interval", str(SWEEP_INTERVAL))
    branches = [[{"name": "leaf", "taskReferenceName": f"leaf{i}"}] for i in range(10)]
    await engine.register_workflow_def(
        {
            "name": "fan",
            "version": 1,
            "tasks": [
                {
                    "name": "fork",
                    "taskReferenceName": "fork",
                    "type": "FORK_JOIN",
                    "forkTasks": branches,
                },
                {
                    "name": "join",
                    "taskReferenceName": "join",
                    "type": "JOIN",
                    "joinOn": [f"leaf{i}" for i in range(10)],
                },
                {"name": "leaf", "taskReferenceName": "after"},
            ],
        }
    )
    stop = asyncio.Event()
    workers = [
        asyncio.create_task(complete_all(engine, "leaf", stop, duplicate=True)) for _ in range(3)
    ]
    try:
        ids = await asyncio.gather(*(engine.start_workflow("fan") for _ in range(200)))
        workflows = await wait_all_done(engine, list(ids), timeout=150)
    finally:
        stop.set()
        await asyncio.gather(*workers)
    for wf in workflows:
        assert wf.status is WorkflowStatus.COMPLETED, wf.workflow_id
        refs = [t.reference_task_name for t in wf.tasks]
        assert sorted(refs) == sorted(["fork", "join", "after", *(f"leaf{i}" for i in range(10))])
        by_ref = {t.reference_task_name: t for t in wf.tasks}
        leaves = [by_ref[f"leaf{i}"] for i in range(10)]
        # never idle past one sweep interval: each step follows the one it waits on promptly
        assert by_ref["join"].end_time - max(t.end_time for t in leaves) < SWEEP_INTERVAL * 1000
        assert by_ref["after"].scheduled_time - by_ref["join"].end_time < SWEEP_INTERVAL * 1000
        assert wf.end_time - by_ref["after"].end_time < SWEEP_INTERVAL * 1000
