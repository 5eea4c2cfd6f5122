"""A worker may finish a task before the call that scheduled it has returned."""

from __future__ import annotations

from typing import Any

import pytest

from dynoq.core.models import Message
from dynoq.workflow.engine import WorkflowEngine
from dynoq.workflow.model import TaskResult, TaskStatus

from .conftest import Services, wait_for_status


async def test_a_result_reported_while_the_start_is_running_is_decided_at_once(
    engine: WorkflowEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await engine.register_workflow_def(
        {"name": "quick", "version": 1, "tasks": [{"name": "fast", "taskReferenceName": "a"}]}
    )
    queue = engine.task_queue("fast")
    push = queue.push

    async def push_then_complete(messages: Message | list[Message]) -> Any:
        ids = await push(messages)  # the worker polls and reports before the start goes on
        for task in await engine.poll("fast", 10, worker_id="quick"):
            await engine.update_task(
                TaskResult(task.task_id, task.workflow_instance_id, TaskStatus.COMPLETED)
            )
        return ids

    monkeypatch.setattr(queue, "push", push_then_complete)
    workflow_id = await engine.start_workflow("quick")
    services = Services(engine)
    services.start_decider()  # only now, so the start's own steps all ran first
    try:
        # the result's wake-up must still hold: a decide now, not at the task's response timeout
        await wait_for_status(engine, workflow_id, timeout=3)
    finally:
        await services.close()
