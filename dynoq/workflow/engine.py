"""The orchestrator's Python API, one object over the parts Conductor also keeps apart:
definitions (:mod:`.metadata`), reading executions (:mod:`.executions`), the executor that starts,
decides, changes and repairs workflows (:mod:`.executor`), and the worker-facing task API
(:mod:`.worker_api`), all on one namespace's queues (:mod:`.queues`) and store (:mod:`.store`).

Every method is a coroutine; errors are dynoq's: ``NotFound`` (404), ``Conflict`` (409),
``InvalidArgument``/``InvalidDefinition`` (400).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dynoq.backend.connect import AsyncClient, async_client
from dynoq.backend.queue import AsyncQueue
from dynoq.core.models import Message, unsendable
from dynoq.errors import InvalidArgument
from dynoq.workflow.definitions import TaskDef, WorkflowDef
from dynoq.workflow.effects import Decision, Operation
from dynoq.workflow.executions import Executions
from dynoq.workflow.executor import REPAIR_GRACE_MS, Executor
from dynoq.workflow.javascript import JavaScript
from dynoq.workflow.metadata import Metadata
from dynoq.workflow.model import SearchFilter, SearchPage, Task, TaskResult, Workflow
from dynoq.workflow.observer import WorkflowObserver
from dynoq.workflow.queues import (
    DECIDER_QUEUE,
    LOCK_LEASE_MS,
    TASK_QUEUE_PREFIX,
    WorkflowQueues,
    now_ms,
    task_payload,
)
from dynoq.workflow.store import WorkflowStore
from dynoq.workflow.worker_api import WorkerApi

__all__ = [
    "DECIDER_QUEUE",
    "LOCK_LEASE_MS",
    "REPAIR_GRACE_MS",
    "TASK_QUEUE_PREFIX",
    "WorkflowEngine",
    "now_ms",
    "task_payload",
]


class WorkflowEngine:
    """Definitions, executions and the worker-facing task calls of one namespace."""

    def __init__(
        self,
        client: AsyncClient,
        namespace: str = "dynoq",
        *,
        shards: int = 1,
        javascript: JavaScript | None = None,
    ) -> None:
        self.client = client
        self.namespace = namespace
        self.shards = shards
        self.store = WorkflowStore(client, namespace)
        self.js = javascript or JavaScript()
        self.queues = WorkflowQueues(client, namespace, shards)
        self.decider_queue = self.queues.decider
        self.metadata = Metadata(self.store)
        self.executions = Executions(self.store, self.metadata)
        self.executor = Executor(self.store, self.metadata, self.executions, self.queues, self.js)
        self.workers = WorkerApi(self.store, self.metadata, self.executions, self.queues)
        self._owns_client = False

    def observe(self, observer: WorkflowObserver) -> None:
        """Reports workflows started and what each saved decide changed to ``observer``."""
        self.executor.observer = observer

    @classmethod
    def from_url(cls, url: str, namespace: str = "dynoq", **options: Any) -> WorkflowEngine:
        """An engine on its own client for the Redis at ``url``, closed with the engine."""
        engine = cls(async_client(url, bounded=False, pipelined=True), namespace, **options)
        engine._owns_client = True
        return engine

    async def aclose(self) -> None:
        """Closes the queues, and the client if the engine made it."""
        await self.queues.aclose()
        if self._owns_client:
            await self.client.aclose()

    async def __aenter__(self) -> WorkflowEngine:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def task_queue(self, task_type: str) -> AsyncQueue:
        """The queue a task type's messages wait on."""
        return self.queues.task(task_type)

    # -- definitions ------------------------------------------------------------------------
    async def register_workflow_def(
        self, definition: dict[str, Any] | WorkflowDef, *, overwrite: bool = True
    ) -> WorkflowDef:
        """Validates and stores a workflow definition; Conflict if it exists and not overwrite."""
        if not isinstance(definition, WorkflowDef):
            check_sendable(definition=definition)
        return await self.metadata.register_workflow_def(definition, overwrite=overwrite)

    async def get_workflow_def(self, name: str, version: int | None = None) -> WorkflowDef:
        """A workflow definition, the latest version when version is None."""
        return await self.metadata.get_workflow_def(name, version)

    async def list_workflow_defs(self) -> list[WorkflowDef]:
        """Every version of every workflow definition."""
        return await self.metadata.list_workflow_defs()

    async def delete_workflow_def(self, name: str, version: int) -> None:
        """Deletes one version of a workflow definition; NotFound if there is none."""
        await self.metadata.delete_workflow_def(name, version)

    async def register_task_defs(
        self, definitions: Iterable[dict[str, Any] | TaskDef]
    ) -> list[TaskDef]:
        """Creates or replaces each task definition, all validated before any is stored."""
        definitions = list(definitions)
        check_sendable(definitions=[d for d in definitions if not isinstance(d, TaskDef)])
        return await self.metadata.register_task_defs(definitions)

    async def get_task_def(self, name: str) -> TaskDef:
        """A task definition; NotFound if there is none."""
        return await self.metadata.get_task_def(name)

    async def list_task_defs(self) -> list[TaskDef]:
        """Every task definition, by name."""
        return await self.metadata.list_task_defs()

    async def delete_task_def(self, name: str) -> None:
        """Deletes a task definition; NotFound if there is none."""
        await self.metadata.delete_task_def(name)

    async def task_defs(self) -> dict[str, TaskDef]:
        """The task definitions by name, cached for a second."""
        return await self.metadata.task_defs()

    async def definition_of(self, workflow: Workflow) -> WorkflowDef:
        """The definition a workflow runs (and fills in its ``workflow_definition``)."""
        return await self.metadata.definition_of(workflow)

    async def snapshot_key(self, definition: WorkflowDef, doc: dict[str, Any]) -> str:
        """Stores the definition a new workflow runs (once) and gives its key."""
        return await self.metadata.snapshot_key(definition, doc)

    # -- executions -------------------------------------------------------------------------
    async def start_workflow(
        self,
        name: str,
        input: dict[str, Any] | None = None,
        *,
        version: int | None = None,
        correlation_id: str = "",
        priority: int = 0,
        idempotency_key: str = "",
        task_to_domain: dict[str, str] | None = None,
        workflow_def: dict[str, Any] | None = None,
        created_by: str = "",
        workflow_id: str | None = None,
        parent: tuple[str, str] | None = None,
    ) -> str:
        """Starts a workflow; its id (or the existing one's for a known idempotency key)."""
        check_sendable(
            name=name,
            input=input,
            correlation_id=correlation_id,
            idempotency_key=idempotency_key,
            task_to_domain=task_to_domain,
            workflow_def=workflow_def,
            created_by=created_by,
            workflow_id=workflow_id,
        )
        return await self.executor.start_workflow(
            name,
            input,
            version=version,
            correlation_id=correlation_id,
            priority=priority,
            idempotency_key=idempotency_key,
            task_to_domain=task_to_domain,
            workflow_def=workflow_def,
            created_by=created_by,
            workflow_id=workflow_id,
            parent=parent,
        )

    async def get_workflow(self, workflow_id: str, include_tasks: bool = True) -> Workflow:
        """The workflow as it stands, its undecided events applied; NotFound if there is none."""
        return await self.executions.get_workflow(workflow_id, include_tasks)

    async def search(self, where: SearchFilter, start: int = 0, size: int = 100) -> SearchPage:
        """Workflow summaries matching ``where``, newest first by start time."""
        return await self.executions.search(where, start, size)

    async def running_workflow_ids(
        self,
        name: str,
        version: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
    ) -> list[str]:
        """The ids of the running workflows of a definition (started in the window, if given)."""
        return await self.executions.running_workflow_ids(name, version, start_time, end_time)

    async def correlated(
        self,
        name: str,
        correlation_id: str,
        include_closed: bool = False,
        include_tasks: bool = False,
    ) -> list[Workflow]:
        """The workflows of a definition that carry a correlation id."""
        return await self.executions.correlated(name, correlation_id, include_closed, include_tasks)

    async def terminate(
        self, workflow_id: str, reason: str = "", trigger_failure_workflow: bool = False
    ) -> None:
        """Ends a running or paused workflow as TERMINATED; Conflict if it has ended."""
        await self.executor.terminate(workflow_id, reason, trigger_failure_workflow)

    async def pause(self, workflow_id: str) -> None:
        """Pauses a workflow: nothing new is scheduled until it is resumed."""
        await self.executor.pause(workflow_id)

    async def resume(self, workflow_id: str) -> None:
        """Resumes a paused workflow; Conflict if it is not PAUSED."""
        await self.executor.resume(workflow_id)

    async def restart(self, workflow_id: str, use_latest_definitions: bool = False) -> None:
        """Runs an ended workflow again from its start, with the same id."""
        await self.executor.restart(workflow_id, use_latest_definitions)

    async def retry(self, workflow_id: str, resume_subworkflow_tasks: bool = False) -> None:
        """Retries a failed workflow's failed tasks and carries on from there."""
        await self.executor.retry(workflow_id, resume_subworkflow_tasks)

    async def rerun(
        self,
        workflow_id: str,
        *,
        from_task_id: str = "",
        task_input: dict[str, Any] | None = None,
        workflow_input: dict[str, Any] | None = None,
        correlation_id: str | None = None,
    ) -> str:
        """Runs a workflow again from one of its tasks (from the start without one); its id."""
        return await self.executor.rerun(
            workflow_id,
            from_task_id=from_task_id,
            task_input=task_input,
            workflow_input=workflow_input,
            correlation_id=correlation_id,
        )

    async def skip_task(
        self,
        workflow_id: str,
        reference_name: str,
        task_input: dict[str, Any] | None = None,
        task_output: dict[str, Any] | None = None,
    ) -> None:
        """Marks a task SKIPPED (now, or when the flow reaches it) with the given output."""
        await self.executor.skip_task(workflow_id, reference_name, task_input, task_output)

    async def remove_workflow(self, workflow_id: str) -> None:
        """Deletes a workflow and its indexes, terminating it first if it runs."""
        await self.executor.remove_workflow(workflow_id)

    async def decide(self, workflow_id: str) -> None:
        """Decides the workflow now (normally the decider service does, on every change)."""
        await self.executor.process(workflow_id, wait=True)

    async def wake(self, workflow_id: str, priority: int = 0) -> None:
        """Asks the deciders to look at the workflow now."""
        await self.queues.wake(workflow_id, priority)

    async def process(
        self,
        workflow_id: str,
        operation: Operation | None = None,
        *,
        wait: bool = False,
        entry: Message | None = None,
        definition: WorkflowDef | None = None,
    ) -> Decision | None:
        """Decides one workflow under its lock and carries the decision out (see Executor)."""
        return await self.executor.process(
            workflow_id, operation, wait=wait, entry=entry, definition=definition
        )

    async def repair(self, workflow_id: str) -> list[str]:
        """Repairs what a crash may have left behind in a running workflow; the repairs made."""
        return await self.executor.repair(workflow_id)

    # -- workers ----------------------------------------------------------------------------
    async def poll(
        self,
        task_type: str,
        count: int = 1,
        wait: float = 0.0,
        worker_id: str = "",
        domain: str = "",
    ) -> list[Task]:
        """Up to count tasks, now IN_PROGRESS for this worker; waits up to wait s for the first."""
        return await self.workers.poll(task_type, count, wait, worker_id, domain)

    async def update_task(self, result: TaskResult) -> Task:
        """Records a worker's result; the task's identity and status after the update."""
        _check_result(result)
        return await self.workers.update_task(result)

    async def update_task_and_poll(self, result: TaskResult) -> tuple[Task, Task | None]:
        """update_task, then the next task of its type for that worker if it ended (update-v2)."""
        _check_result(result)
        return await self.workers.update_task_and_poll(result)

    async def get_task(self, task_id: str) -> Task:
        """A task as it stands; NotFound if there is none."""
        return await self.workers.get_task(task_id)

    async def add_task_log(self, task_id: str, message: str) -> None:
        """Adds a line to a task's log."""
        await self.workers.add_task_log(task_id, message)

    async def get_task_logs(self, task_id: str) -> list[dict[str, Any]]:
        """A task's log, [{"log", "taskId", "createdTime"}] oldest first."""
        return await self.workers.get_task_logs(task_id)

    async def queue_sizes(self, task_types: Iterable[str]) -> dict[str, int]:
        """The number of messages waiting on each task type's queue."""
        return await self.workers.queue_sizes(task_types)

    async def poll_data(self, task_type: str) -> list[dict[str, Any]]:
        """[{"queueName", "domain", "workerId", "lastPollTime"}] per worker of a task type."""
        return await self.workers.poll_data(task_type)


def check_sendable(**fields: Any) -> None:
    """InvalidArgument, before anything is written, for a value Redis cannot be sent (a lone
    surrogate in a string, nesting too deep for msgpack)."""
    found = unsendable(fields)
    if found is not None:
        path, problem = found
        raise InvalidArgument(f"{path} {problem}", field=path)


def _check_result(result: TaskResult) -> None:
    """A worker's result must be storable before anything of it is written."""
    check_sendable(
        task_id=result.task_id,
        workflow_instance_id=result.workflow_instance_id,
        output_data=result.output_data,
        reason_for_incompletion=result.reason_for_incompletion,
        worker_id=result.worker_id,
        logs=result.logs,
    )
