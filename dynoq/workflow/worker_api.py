"""The worker-facing task API (Conductor's task service): poll tasks, report results, task logs,
queue sizes and poll data. Workers never write a workflow's state: a poll claims the task and
a result is posted to the workflow's inbox, then the workflow is woken for its decider."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any

from dynoq.backend.queue import AsyncQueue
from dynoq.core.models import Message
from dynoq.errors import InvalidArgument, NotFound
from dynoq.workflow.definitions import TaskDef
from dynoq.workflow.domains import queue_name
from dynoq.workflow.executions import Executions
from dynoq.workflow.metadata import Metadata
from dynoq.workflow.model import (
    RESULT_STATUSES,
    Task,
    TaskResult,
    TaskStatus,
    workflow_id_of_task,
)
from dynoq.workflow.queues import WorkflowQueues, now_ms
from dynoq.workflow.store import WorkflowStore
from dynoq.workflow.variables import resolved_input

POLL_RECORD_SECONDS = 1.0  # a worker's last poll time is written at most this often


async def _nothing() -> None:
    return None


def _scheduled_task(message: Message) -> Task | None:
    """The task a task-queue message carries, or None for one that carries none."""
    if not isinstance(message.payload, dict) or not workflow_id_of_task(message.id):
        return None
    return Task.from_doc(message.payload)


def _limited(tdef: TaskDef | None) -> bool:
    return tdef is not None and bool(tdef.concurrent_exec_limit or tdef.rate_limit_per_frequency)


class WorkerApi:
    def __init__(
        self,
        store: WorkflowStore,
        metadata: Metadata,
        executions: Executions,
        queues: WorkflowQueues,
    ) -> None:
        self.store = store
        self.metadata = metadata
        self.executions = executions
        self.queues = queues
        self._polls_recorded: dict[tuple[str, str, str], float] = {}

    async def poll(
        self,
        task_type: str,
        count: int = 1,
        wait: float = 0.0,
        worker_id: str = "",
        domain: str = "",
    ) -> list[Task]:
        """Up to count tasks, now IN_PROGRESS for this worker; waits up to wait s for the first.
        With a ``domain``, only tasks sent to that domain; without, only tasks sent to none."""
        queue = self.queues.task(queue_name(task_type, domain))
        messages = await queue.pop(count, wait)
        await self._record_poll(task_type, worker_id, domain)
        if not messages:
            return []
        handed = await self._hand_out(queue, messages, worker_id)
        for task in handed:  # the worker's copy only: see dynoq.workflow.variables
            task.input_data = await resolved_input(
                self.store.client, self.store.ns, task.input_data
            )
        return handed

    async def _record_poll(self, task_type: str, worker_id: str, domain: str) -> None:
        """Poll data (a worker's last poll time), written at most once a second per worker."""
        key = (task_type, worker_id, domain)
        if time.monotonic() - self._polls_recorded.get(key, 0.0) < POLL_RECORD_SECONDS:
            return
        self._polls_recorded[key] = time.monotonic()
        await self.store.record_poll(task_type, worker_id, domain, now_ms())

    async def _hand_out(
        self, queue: AsyncQueue, messages: list[Message], worker_id: str
    ) -> list[Task]:
        """The popped messages' tasks, claimed for the worker. A message leaves its queue once
        its task is IN_PROGRESS (or was gone): the decider enforces the response timeout from
        there. Without a concurrency or rate limit to check first, the ack goes to Redis in the
        same round trip as the claims, after them; a task its limit postpones stays, nacked."""
        tasks = [_scheduled_task(m) for m in messages]
        defs = await self.metadata.task_defs({t.task_def_name for t in tasks if t is not None})
        limited = [t is not None and _limited(defs.get(t.task_def_name)) for t in tasks]
        free = [m for m, held in zip(messages, limited, strict=True) if not held]
        claims = asyncio.gather(
            *(self._claim(t, worker_id) for t, held in zip(tasks, limited, strict=True) if not held)
        )
        acked = queue.ack_many(free) if free else _nothing()
        handed = [t for t in (await asyncio.gather(claims, acked))[0] if t is not None]
        held_back = [(m, t) for m, t, held in zip(messages, tasks, limited, strict=True) if held]
        if held_back:
            handed += await self._hand_out_limited(queue, held_back, defs, worker_id)
        return handed

    async def _hand_out_limited(
        self,
        queue: AsyncQueue,
        held_back: list[tuple[Message, Task | None]],
        defs: dict[str, TaskDef],
        worker_id: str,
    ) -> list[Task]:
        """Tasks whose definition limits how many run at once or how often they start: each
        takes a slot first, or is nacked until one is free; then it is claimed and acked."""

        async def one(message: Message, task: Task) -> tuple[Task | None, bool]:
            tdef = defs[task.task_def_name]
            wait_ms = await self.store.claim_slot(
                tdef.name,
                task.task_id,
                tdef.concurrent_exec_limit,
                tdef.rate_limit_per_frequency,
                1000 * max(1, tdef.rate_limit_frequency_in_seconds),
            )
            if wait_ms:
                await queue.nack(message, delay=wait_ms / 1000)
                return None, True
            return await self._claim(task, worker_id), False

        pairs = [(m, t) for m, t in held_back if t is not None]
        claims = await asyncio.gather(*(one(m, t) for m, t in pairs))
        done = [m for (m, _), (_, keep) in zip(pairs, claims, strict=True) if not keep]
        if done:
            await queue.ack_many(done)
        return [task for task, _ in claims if task is not None]

    async def _claim(self, task: Task | None, worker_id: str) -> Task | None:
        """The task handed to the worker, or None. The message carries the task as it was
        scheduled; the claim script checks it is still waiting for a worker, so no workflow
        state is read here."""
        if task is None:
            return None
        now = now_ms()
        event = {"kind": "polled", "taskId": task.task_id, "workerId": worker_id, "time": now}
        workflow_id = workflow_id_of_task(task.task_id)
        if not await self.store.claim_task(workflow_id, task.task_id, event):
            return None
        task.status = TaskStatus.IN_PROGRESS
        task.start_time = task.start_time or now
        task.worker_id = worker_id
        task.poll_count += 1
        task.update_time = now
        task.queue_wait_time = max(0, now - task.scheduled_time)
        task.callback_after_seconds = 0
        return task

    async def update_task(self, result: TaskResult) -> Task:
        """Records a worker's result. Returns the task's identity and status after the update
        (ids, type, status, output: not its whole document, which this call does not read)."""
        task, woken = await self._post_result(result)
        if woken:
            await self.queues.wake(task.workflow_instance_id)
        return task

    async def update_task_and_poll(self, result: TaskResult) -> tuple[Task, Task | None]:
        """As :meth:`update_task`; when the task is now terminal, also the next task of its
        type for the same worker and domain, polled without waiting (Conductor's update-v2).
        The workflow's wake-up and the poll go to Redis together."""
        task, woken = await self._post_result(result)
        wake = self.queues.wake(task.workflow_instance_id) if woken else _nothing()
        if not task.status.terminal:
            await wake
            return task, None
        _, polled = await asyncio.gather(
            wake, self.poll(task.task_type, 1, 0.0, result.worker_id, task.domain)
        )
        return task, polled[0] if polled else None

    async def _post_result(self, result: TaskResult) -> tuple[Task, bool]:
        """Appends the result to its workflow's inbox; the task after it, and whether the
        workflow must be woken for it."""
        if result.status not in RESULT_STATUSES:
            raise InvalidArgument(
                f"status must be one of {sorted(RESULT_STATUSES)}, got {result.status}",
                field="status",
            )
        workflow_id = workflow_id_of_task(result.task_id)
        if not workflow_id:
            raise NotFound(f"no task {result.task_id}")
        if result.workflow_instance_id and result.workflow_instance_id != workflow_id:
            raise InvalidArgument(
                f"task {result.task_id} is not in workflow {result.workflow_instance_id}",
                field="workflowInstanceId",
            )
        now = now_ms()
        event = {
            "kind": "update",
            "taskId": result.task_id,
            "status": str(result.status),
            "outputData": result.output_data,
            "reasonForIncompletion": result.reason_for_incompletion,
            "callbackAfterSeconds": result.callback_after_seconds,
            "workerId": result.worker_id,
            "extendLease": result.extend_lease,
            "time": now,
        }
        outcome, summary = await self.store.post_result(workflow_id, result.task_id, event)
        if outcome == 0:
            raise NotFound(f"no workflow {workflow_id}")
        if outcome == 1:
            raise NotFound(f"no task {result.task_id}")
        if result.logs:
            await self.store.add_logs(
                workflow_id,
                result.task_id,
                [
                    {"log": line, "taskId": result.task_id, "createdTime": now}
                    for line in result.logs
                ],
            )
        posted = outcome == 3
        woken = posted and not result.extend_lease
        status, task_type, def_name, *more = summary
        domain = more[0] if more else ""
        task = Task(
            task_id=result.task_id,
            task_type=task_type,
            reference_task_name="",
            task_def_name=def_name,
            workflow_instance_id=workflow_id,
            status=result.status if woken else TaskStatus(status),
            output_data=result.output_data if posted else {},
            update_time=now,
            domain=domain,
        )
        return task, woken

    async def get_task(self, task_id: str) -> Task:
        workflow_id = workflow_id_of_task(task_id)
        if not workflow_id:
            raise NotFound(f"no task {task_id}")
        try:
            workflow = await self.executions.view(workflow_id)
        except NotFound:
            raise NotFound(f"no task {task_id}") from None
        task = next((t for t in workflow.tasks if t.task_id == task_id), None)
        if task is None:
            raise NotFound(f"no task {task_id}")
        return task

    async def add_task_log(self, task_id: str, message: str) -> None:
        task = await self.get_task(task_id)
        await self.store.add_logs(
            task.workflow_instance_id,
            task_id,
            [{"log": message, "taskId": task_id, "createdTime": now_ms()}],
        )

    async def get_task_logs(self, task_id: str) -> list[dict[str, Any]]:
        """[{"log", "taskId", "createdTime"}] oldest first."""
        task = await self.get_task(task_id)
        return await self.store.logs(task.workflow_instance_id, task_id)

    async def queue_sizes(self, task_types: Iterable[str]) -> dict[str, int]:
        return {t: await self.queues.task(t).size() for t in task_types}

    async def poll_data(self, task_type: str) -> list[dict[str, Any]]:
        """[{"queueName", "domain", "workerId", "lastPollTime"}] per worker."""
        return await self.store.poll_data(task_type)
