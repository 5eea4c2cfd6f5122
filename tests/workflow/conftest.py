"""Fixtures for the orchestrator's scenario tests: an engine on the session's real redis-server,
the decider, the workflow sweeper and the HTTP task runner running in the test's event loop, and
workers that poll task queues through the engine like Conductor's SDK workers do over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from dynoq.errors import DynoqError
from dynoq.services.decider import Decider
from dynoq.services.workflow_sweeper import WorkflowSweeper
from dynoq.testing import async_wait_until
from dynoq.workflow.engine import WorkflowEngine
from dynoq.workflow.model import Task, TaskResult, TaskStatus, Workflow, WorkflowStatus
from dynoq.workflow.system_tasks import HttpTaskRunner

Handler = Callable[[Task], Awaitable[Any] | Any]


# Teardown is bounded: a test that failed midway must never hang the run (pytest-timeout has
# already spent its one alarm by then, or fires in the middle of the event loop's own cleanup).
CLOSE_SECONDS = 30.0


@pytest.fixture
async def engine(standalone_url: str, namespace: str) -> AsyncIterator[WorkflowEngine]:
    engine = WorkflowEngine.from_url(standalone_url, namespace)
    yield engine
    await asyncio.wait_for(engine.aclose(), CLOSE_SECONDS)


class Services:
    """Background services and workers, stopped at teardown."""

    def __init__(self, engine: WorkflowEngine) -> None:
        self.engine = engine
        self.stop = asyncio.Event()
        self.jobs: list[asyncio.Task[Any]] = []
        self.sweeper = WorkflowSweeper(engine, batch=200)

    def start_decider(self, concurrency: int = 16) -> None:
        self.jobs.append(asyncio.create_task(Decider(self.engine, concurrency).run(self.stop)))

    def start_sweeper(self, interval: float = 0.2) -> None:
        async def loop() -> None:
            while not self.stop.is_set():
                with contextlib.suppress(DynoqError):
                    await self.sweeper.sweep_once()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), interval)

        self.jobs.append(asyncio.create_task(loop()))

    def start_http_tasks(self) -> None:
        self.jobs.append(asyncio.create_task(HttpTaskRunner(self.engine).run(self.stop)))

    def worker(self, task_type: str, handler: Handler, *, count: int = 10) -> None:
        """Polls ``task_type`` and reports what ``handler`` returns: a dict (COMPLETED with that
        output), a TaskResult, or an exception (FAILED)."""

        async def loop() -> None:
            while not self.stop.is_set():
                tasks = await self.engine.poll(task_type, count, wait=0.2, worker_id="test")
                for task in tasks:
                    await self.engine.update_task(await outcome(handler, task))

        self.jobs.append(asyncio.create_task(loop()))

    async def close(self) -> None:
        """Stops the jobs: ``stop`` first, then cancelled; never waits on one without a bound
        (``wait_for`` would, on a job that swallows its cancellation)."""
        self.stop.set()
        if not self.jobs:
            return
        _, running = await asyncio.wait(self.jobs, timeout=10)
        for job in running:
            job.cancel()
        if running:
            await asyncio.wait(running, timeout=CLOSE_SECONDS)


async def outcome(handler: Handler, task: Task) -> TaskResult:
    try:
        value = handler(task)
        if asyncio.iscoroutine(value):
            value = await value
    except Exception as exc:
        return TaskResult(
            task.task_id,
            task.workflow_instance_id,
            TaskStatus.FAILED,
            reason_for_incompletion=str(exc),
        )
    if isinstance(value, TaskResult):
        return value
    return TaskResult(task.task_id, task.workflow_instance_id, TaskStatus.COMPLETED, value or {})


@pytest.fixture
async def services(engine: WorkflowEngine) -> AsyncIterator[Services]:
    running = Services(engine)
    running.start_decider()
    running.start_sweeper()
    yield running
    await running.close()


async def wait_for_status(
    engine: WorkflowEngine, workflow_id: str, *statuses: WorkflowStatus, timeout: float = 15.0
) -> Workflow:
    wanted = statuses or (WorkflowStatus.COMPLETED,)

    async def reached() -> Workflow | None:
        wf = await engine.get_workflow(workflow_id)
        return wf if wf.status in wanted else None

    try:
        found: Workflow = await async_wait_until(reached, timeout=timeout)
    except TimeoutError:
        wf = await engine.get_workflow(workflow_id)
        tasks = [
            (t.reference_task_name, str(t.status), t.reason_for_incompletion) for t in wf.tasks
        ]
        raise AssertionError(
            f"workflow is {wf.status} ({wf.reason_for_incompletion}): {tasks}"
        ) from None
    return found


def tasks_by_ref(wf: Workflow) -> dict[str, list[Task]]:
    found: dict[str, list[Task]] = {}
    for task in wf.tasks:
        found.setdefault(task.reference_task_name, []).append(task)
    return found
