"""Sample data for the UI's browser tests and screenshots: workflows running, paused, completed
and failed (with a switch, a fork, a loop and a sub-workflow), and a queue with messages in
every state."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from dynoq import AsyncQueue, Message
from dynoq.testing import async_wait_until
from dynoq.workflow.engine import WorkflowEngine
from dynoq.workflow.model import Task, TaskResult, TaskStatus, WorkflowStatus

TASK_TYPES = ("charge", "pack", "ship_fast", "notify", "bill", "check")


def simple(ref: str, name: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"name": name or ref, "taskReferenceName": ref, "type": "SIMPLE", **extra}


ORDER = {
    "name": "order",
    "version": 1,
    "description": "charge, pick a shipping path, notify and invoice in parallel, then check",
    "inputParameters": ["kind", "amount"],
    "tasks": [
        simple("charge", inputParameters={"amount": "${workflow.input.amount}"}),
        {
            "name": "route",
            "taskReferenceName": "route",
            "type": "SWITCH",
            "evaluatorType": "value-param",
            "expression": "kind",
            "inputParameters": {"kind": "${workflow.input.kind}"},
            "decisionCases": {"express": [simple("ship_fast")]},
            "defaultCase": [simple("pack")],
        },
        {
            "name": "fan_out",
            "taskReferenceName": "fan_out",
            "type": "FORK_JOIN",
            "forkTasks": [
                [simple("notify")],
                [
                    {
                        "name": "invoice",
                        "taskReferenceName": "invoice",
                        "type": "SUB_WORKFLOW",
                        "subWorkflowParam": {"name": "invoice"},
                    }
                ],
            ],
        },
        {
            "name": "join",
            "taskReferenceName": "join",
            "type": "JOIN",
            "joinOn": ["notify", "invoice"],
        },
        {
            "name": "recheck",
            "taskReferenceName": "recheck",
            "type": "DO_WHILE",
            "loopCondition": "$.recheck['iteration'] < 2",
            "loopOver": [simple("check")],
        },
    ],
    "outputParameters": {"charged": "${charge.output.charged}"},
}
INVOICE = {"name": "invoice", "version": 1, "tasks": [simple("bill")]}


@dataclass
class Seeded:
    running: str
    paused: str
    completed: str
    failed: str
    queue: str


async def _work(engine: WorkflowEngine, stop: asyncio.Event) -> None:
    """A worker for every task type: completes tasks, fails the charge of workflows whose
    correlation id starts with "fail", and holds (never reports) those of "run"."""
    while not stop.is_set():
        busy = False
        for task_type in TASK_TYPES:
            for task in await engine.poll(task_type, 10, worker_id=f"worker-{task_type}"):
                busy = True
                result = _result(task)
                if result is not None:
                    await engine.update_task(result)
        if not busy:
            await asyncio.sleep(0.02)


def _result(task: Task) -> TaskResult | None:
    corr = task.correlation_id
    if corr.startswith("run"):
        return None
    if corr.startswith("fail") and task.task_def_name == "charge":
        return TaskResult(
            task.task_id,
            task.workflow_instance_id,
            TaskStatus.FAILED_WITH_TERMINAL_ERROR,
            reason_for_incompletion="card declined",
            logs=("calling the payment provider", "declined: insufficient funds"),
        )
    return TaskResult(
        task.task_id,
        task.workflow_instance_id,
        TaskStatus.COMPLETED,
        {"charged": 42, "by": task.task_def_name},
        logs=(f"{task.task_def_name} done",),
    )


async def seed_workflows(engine: WorkflowEngine) -> tuple[str, str, str, str]:
    await engine.register_task_defs(
        [{"name": t, "retryCount": 0, "responseTimeoutSeconds": 3600} for t in TASK_TYPES]
    )
    await engine.register_workflow_def(INVOICE)
    await engine.register_workflow_def(ORDER)
    stop = asyncio.Event()
    worker = asyncio.create_task(_work(engine, stop))
    try:
        completed = await engine.start_workflow(
            "order", {"kind": "express", "amount": 42}, correlation_id="done-1"
        )
        failed = await engine.start_workflow("order", {"amount": 7}, correlation_id="fail-1")
        running = await engine.start_workflow("order", {"amount": 12}, correlation_id="run-1")
        paused = await engine.start_workflow("order", {"amount": 3}, correlation_id="run-paused")
        await engine.pause(paused)

        async def settled() -> bool:
            done = await engine.get_workflow(completed, include_tasks=False)
            bad = await engine.get_workflow(failed, include_tasks=False)
            return done.status is WorkflowStatus.COMPLETED and bad.status.terminal

        await async_wait_until(settled, timeout=30)
        held = await engine.get_workflow(running)
        assert held.tasks[0].status is TaskStatus.IN_PROGRESS, held.tasks[0].status
    finally:
        stop.set()
        await worker
    return running, paused, completed, failed


async def seed_queue(queue: AsyncQueue) -> None:
    """Messages ready, delayed, in flight and dead (max_deliveries must be 1)."""
    await queue.push(
        [Message(f"mail-{i}", {"to": f"user{i}@example.com"}, priority=i % 3) for i in range(8)]
    )
    await queue.push([Message(f"later-{i}", {"digest": i}, delay=3600 + i) for i in range(3)])
    await queue.push(
        [Message(f"poison-{i}", {"to": "nobody"}) for i in range(3)],
    )
    leased = await queue.pop(5)
    for message in leased:
        if message.id.startswith("poison"):
            await queue.nack(message)  # its only delivery: dead
    taken = {m.id for m in leased}
    assert any(i.startswith("poison") for i in taken), "pop order changed: no poison popped"
    assert (await queue.stats()).dead >= 1
