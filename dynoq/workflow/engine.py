"""The orchestrator's Python API: definitions, executions and the worker-facing task calls.

Every method is a coroutine; errors are dynoq's: ``NotFound`` (404), ``Conflict`` (409),
``InvalidArgument``/``InvalidDefinition`` (400).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dynoq.workflow.definitions import TaskDef, WorkflowDef
from dynoq.workflow.model import SearchFilter, SearchPage, Task, TaskResult, Workflow


class WorkflowEngine:
    @classmethod
    def from_url(cls, url: str, namespace: str = "dynoq") -> WorkflowEngine:
        raise NotImplementedError

    async def aclose(self) -> None:
        raise NotImplementedError

    # definitions
    async def register_workflow_def(
        self, definition: dict[str, Any] | WorkflowDef, *, overwrite: bool = True
    ) -> WorkflowDef:
        """Conflict when that name+version exists and overwrite is False."""
        raise NotImplementedError

    async def get_workflow_def(self, name: str, version: int | None = None) -> WorkflowDef:
        """The latest version when version is None."""
        raise NotImplementedError

    async def list_workflow_defs(self) -> list[WorkflowDef]:
        """Every version of every workflow definition."""
        raise NotImplementedError

    async def delete_workflow_def(self, name: str, version: int) -> None:
        raise NotImplementedError

    async def register_task_defs(
        self, definitions: Iterable[dict[str, Any] | TaskDef]
    ) -> list[TaskDef]:
        """Creates or replaces each, all validated before any is stored."""
        raise NotImplementedError

    async def get_task_def(self, name: str) -> TaskDef:
        raise NotImplementedError

    async def list_task_defs(self) -> list[TaskDef]:
        raise NotImplementedError

    async def delete_task_def(self, name: str) -> None:
        raise NotImplementedError

    # executions
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
    ) -> str:
        """The new workflow's id (or the existing one's for a known idempotency key)."""
        raise NotImplementedError

    async def get_workflow(self, workflow_id: str, include_tasks: bool = True) -> Workflow:
        raise NotImplementedError

    async def search(self, where: SearchFilter, start: int = 0, size: int = 100) -> SearchPage:
        """Newest first by start time."""
        raise NotImplementedError

    async def running_workflow_ids(
        self,
        name: str,
        version: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
    ) -> list[str]:
        raise NotImplementedError

    async def correlated(
        self,
        name: str,
        correlation_id: str,
        include_closed: bool = False,
        include_tasks: bool = False,
    ) -> list[Workflow]:
        raise NotImplementedError

    async def terminate(
        self, workflow_id: str, reason: str = "", trigger_failure_workflow: bool = False
    ) -> None:
        raise NotImplementedError

    async def pause(self, workflow_id: str) -> None:
        raise NotImplementedError

    async def resume(self, workflow_id: str) -> None:
        raise NotImplementedError

    async def restart(self, workflow_id: str, use_latest_definitions: bool = False) -> None:
        raise NotImplementedError

    async def retry(self, workflow_id: str, resume_subworkflow_tasks: bool = False) -> None:
        raise NotImplementedError

    async def rerun(
        self,
        workflow_id: str,
        *,
        from_task_id: str = "",
        task_input: dict[str, Any] | None = None,
        workflow_input: dict[str, Any] | None = None,
        correlation_id: str | None = None,
    ) -> str:
        raise NotImplementedError

    async def skip_task(
        self,
        workflow_id: str,
        reference_name: str,
        task_input: dict[str, Any] | None = None,
        task_output: dict[str, Any] | None = None,
    ) -> None:
        raise NotImplementedError

    async def remove_workflow(self, workflow_id: str) -> None:
        raise NotImplementedError

    async def decide(self, workflow_id: str) -> None:
        """Decides the workflow now (normally the decider service does, on every change)."""
        raise NotImplementedError

    # the worker-facing calls
    async def poll(
        self,
        task_type: str,
        count: int = 1,
        wait: float = 0.0,
        worker_id: str = "",
        domain: str = "",
    ) -> list[Task]:
        """Up to count tasks, now IN_PROGRESS for this worker; waits up to wait s for the first."""
        raise NotImplementedError

    async def update_task(self, result: TaskResult) -> Task:
        """Records a worker's result; returns the task as it is after the update."""
        raise NotImplementedError

    async def get_task(self, task_id: str) -> Task:
        raise NotImplementedError

    async def add_task_log(self, task_id: str, message: str) -> None:
        raise NotImplementedError

    async def get_task_logs(self, task_id: str) -> list[dict[str, Any]]:
        """[{"log", "taskId", "createdTime"}] oldest first."""
        raise NotImplementedError

    async def queue_sizes(self, task_types: Iterable[str]) -> dict[str, int]:
        raise NotImplementedError

    async def poll_data(self, task_type: str) -> list[dict[str, Any]]:
        """[{"queueName", "domain", "workerId", "lastPollTime"}] per worker."""
        raise NotImplementedError
