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
        claims = await asyncio.gather(*(self._claim(queue, m, worker_id) for m in messages))
        # a message leaves its queue once its task is IN_PROGRESS (or was gone): the decider
        # enforces the response timeout from here; a postponed one stays, nacked
        done = [m for m, (task, keep) in zip(messages, claims, strict=True) if not keep]
        if done:
            await queue.ack_many(done)
        handed = [task for task, _ in claims if task is not None]
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

    async def _claim(
        self, queue: AsyncQueue, message: Message, worker_id: str
    ) -> tuple[Task | None, bool]:
        """The task handed to the worker (or None), and whether the message stays queued.
        The message carries the task as it was scheduled; the claim script checks it is still
        waiting for a worker, so no workflow state is read here."""
        workflow_id = workflow_id_of_task(message.id)
        if not isinstance(message.payload, dict) or not workflow_id:
            return None, False
        task = Task.from_doc(message.payload)
        tdef = (await self.metadata.task_defs((task.task_def_name,))).get(task.task_def_name)
        if tdef is not None and (tdef.concurrent_exec_limit or tdef.rate_limit_per_frequency):
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
        now = now_ms()
        event = {"kind": "polled", "taskId": task.task_id, "workerId": worker_id, "time": now}
        if not await self.store.claim_task(workflow_id, task.task_id, event):
            return None, False
        task.status = TaskStatus.IN_PROGRESS
        task.start_time = task.start_time or now
        task.worker_id = worker_id
        task.poll_count += 1
        task.update_time = now
        task.queue_wait_time = max(0, now - task.scheduled_time)
        task.callback_after_seconds = 0
        return task, False

    async def update_task(self, result: TaskResult) -> Task:
        """Records a worker's result. Returns the task's identity and status after the update
        (ids, type, status, output: not its whole document, which this call does not read)."""
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
        if posted and not result.extend_lease:
            await self.queues.wake(workflow_id)
        status, task_type, def_name, *more = summary
        domain = more[0] if more else ""
        return Task(
            task_id=result.task_id,
            task_type=task_type,
            reference_task_name="",
            task_def_name=def_name,
            workflow_instance_id=workflow_id,
            status=result.status if posted and not result.extend_lease else TaskStatus(status),
            output_data=result.output_data if posted else {},
            update_time=now,
            domain=domain,
        )

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
