"""A SCRIPT FLUSH (a restarted or failed-over Redis forgets its scripts the same way) costs no
workflow call an error: every script runs by SHA and falls back to its source."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest
import redis.asyncio

from dynoq.workflow.engine import WorkflowEngine
from dynoq.workflow.model import TaskResult, TaskStatus, WorkflowStatus

from .conftest import Services, wait_for_status

WORKFLOWS = 20


async def flush_every_20ms(url: str, stop: asyncio.Event) -> int:
    client = redis.asyncio.Redis.from_url(url)
    flushes = 0
    try:
        while not stop.is_set():
            await client.script_flush()
            flushes += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.02)
    finally:
        await client.aclose()
    return flushes


async def test_workflows_finish_without_errors_while_scripts_are_flushed(
    engine: WorkflowEngine,
    services: Services,
    standalone_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="dynoq")
    await engine.register_workflow_def(
        {
            "name": "flushed",
            "version": 1,
            "tasks": [
                {"name": "step", "taskReferenceName": "one", "type": "SIMPLE"},
                {"name": "step", "taskReferenceName": "two", "type": "SIMPLE"},
            ],
        }
    )
    stop = asyncio.Event()
    flusher = asyncio.create_task(flush_every_20ms(standalone_url, stop))
    try:
        ids = [await engine.start_workflow("flushed", {"i": i}) for i in range(WORKFLOWS)]
        done = 0
        while done < 2 * WORKFLOWS:  # every workflow's two tasks, polled and completed
            for task in await engine.poll("step", 10, wait=0.5, worker_id="w"):
                await engine.update_task(
                    TaskResult(task.task_id, task.workflow_instance_id, TaskStatus.COMPLETED)
                )
                done += 1
        for workflow_id in ids:
            assert (await wait_for_status(engine, workflow_id)).status is WorkflowStatus.COMPLETED
    finally:
        stop.set()
        flushes = await flusher
    assert flushes > 1
    problems = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert problems == []
