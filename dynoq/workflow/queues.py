"""The queues the orchestrator runs on: the decider queue, whose entry for a workflow is due when
someone must next look at it, and one queue per task type, holding the messages of the tasks
that wait for a worker."""

from __future__ import annotations

import time
from typing import Any

from dynoq.backend.connect import AsyncClient
from dynoq.backend.queue import AsyncQueue
from dynoq.core.models import Message
from dynoq.errors import InvalidArgument
from dynoq.workflow.model import Task

DECIDER_QUEUE = "wf.decider"
TASK_QUEUE_PREFIX = "wf.task."
LOCK_LEASE_MS = 30_000  # a workflow's lock, and its decider entry's lease


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def task_payload(task: Task) -> dict[str, Any]:
    """What a task's queue message carries: the task as scheduled, handed to the worker."""
    return task.to_doc()


class WorkflowQueues:
    """The decider queue and the task queues (made on first use) of one namespace."""

    def __init__(self, client: AsyncClient, namespace: str, shards: int) -> None:
        self.client = client
        self.namespace = namespace
        self.shards = shards
        self.decider = AsyncQueue(
            client,
            DECIDER_QUEUE,
            namespace=namespace,
            shards=shards,
            unack_timeout=LOCK_LEASE_MS / 1000,
        )
        self._tasks: dict[str, AsyncQueue] = {}

    def task(self, task_type: str) -> AsyncQueue:
        """The queue of a task type; ``InvalidArgument`` for a name no queue can have."""
        queue = self._tasks.get(task_type)
        if queue is None:
            try:
                queue = AsyncQueue(
                    self.client,
                    TASK_QUEUE_PREFIX + task_type,
                    namespace=self.namespace,
                    shards=self.shards,
                )
            except ValueError as exc:
                raise InvalidArgument(
                    f"bad task type {task_type!r}: {exc}", field="taskType"
                ) from exc
            self._tasks[task_type] = queue
        return queue

    def sink(self, name: str) -> AsyncQueue:
        """The queue an EVENT task publishes to, named as its sink says (same namespace)."""
        return self._named(name)

    def _named(self, name: str) -> AsyncQueue:
        queue = self._tasks.get("\0" + name)
        if queue is None:
            try:
                queue = AsyncQueue(self.client, name, namespace=self.namespace, shards=self.shards)
            except ValueError as exc:
                raise InvalidArgument(f"bad queue name {name!r}: {exc}", field="sink") from exc
            self._tasks["\0" + name] = queue
        return queue

    async def wake(self, workflow_id: str, priority: int = 0) -> None:
        """Asks the deciders to look at the workflow now. A decider-queue entry that is being
        decided is left alone: its decider checks the inbox after re-arming it (see
        :meth:`dynoq.workflow.executor.Executor.process`)."""
        if not await self.decider.set_delay(workflow_id, 0):
            await self.decider.ensure(Message(workflow_id, priority=priority))

    async def aclose(self) -> None:
        for queue in (self.decider, *self._tasks.values()):
            await queue.aclose()  # stops its wake-up listener; the client is not the queue's
