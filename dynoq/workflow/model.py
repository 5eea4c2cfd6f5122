"""Workflow and task executions: the state the decider reads and writes.

Field names are Conductor's in snake_case; ``to_doc`` gives Conductor's camelCase JSON documents
(what the REST API returns and what is stored), ``from_doc`` reads them back. Times are integer
milliseconds since the Unix epoch, 0 when not yet set.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from dynoq.core.models import is_digits


class TaskStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    COMPLETED_WITH_ERRORS = "COMPLETED_WITH_ERRORS"
    FAILED = "FAILED"
    FAILED_WITH_TERMINAL_ERROR = "FAILED_WITH_TERMINAL_ERROR"
    TIMED_OUT = "TIMED_OUT"
    CANCELED = "CANCELED"
    SKIPPED = "SKIPPED"

    @property
    def terminal(self) -> bool:
        return self not in (TaskStatus.SCHEDULED, TaskStatus.IN_PROGRESS)

    @property
    def successful(self) -> bool:
        return self not in _UNSUCCESSFUL_TASK

    @property
    def retriable(self) -> bool:
        return self not in (
            TaskStatus.FAILED_WITH_TERMINAL_ERROR,
            TaskStatus.CANCELED,
            TaskStatus.SKIPPED,
        )


_UNSUCCESSFUL_TASK = frozenset(
    {
        TaskStatus.FAILED,
        TaskStatus.FAILED_WITH_TERMINAL_ERROR,
        TaskStatus.TIMED_OUT,
        TaskStatus.CANCELED,
    }
)


class WorkflowStatus(StrEnum):
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    TERMINATED = "TERMINATED"

    @property
    def terminal(self) -> bool:
        return self not in (WorkflowStatus.RUNNING, WorkflowStatus.PAUSED)

    @property
    def successful(self) -> bool:
        return self in (WorkflowStatus.RUNNING, WorkflowStatus.PAUSED, WorkflowStatus.COMPLETED)


@dataclass(slots=True)
class Task:
    """One execution of one WorkflowTask (a retry or a loop iteration is another Task)."""

    task_id: str
    task_type: str
    reference_task_name: str
    task_def_name: str
    workflow_instance_id: str
    status: TaskStatus = TaskStatus.SCHEDULED
    input_data: dict[str, Any] = field(default_factory=dict)
    output_data: dict[str, Any] = field(default_factory=dict)
    reason_for_incompletion: str = ""
    retry_count: int = 0
    seq: int = 0
    poll_count: int = 0
    scheduled_time: int = 0
    first_scheduled_time: int = 0
    start_time: int = 0
    end_time: int = 0
    update_time: int = 0
    start_delay_in_seconds: int = 0
    callback_after_seconds: int = 0
    response_timeout_seconds: int = 0
    retried_task_id: str = ""
    retried: bool = False
    executed: bool = False
    worker_id: str = ""
    workflow_type: str = ""
    correlation_id: str = ""
    workflow_priority: int = 0
    iteration: int = 0
    sub_workflow_id: str = ""
    domain: str = ""
    wait_timeout: int = 0  # WAIT: when it completes, ms (0 = waits for an update)
    queue_wait_time: int = 0
    loop_parent: str = ""  # the DO_WHILE reference a loop iteration belongs to
    workflow_task: dict[str, Any] = field(default_factory=dict)
    # the decider's own marks, stored but not shown (Conductor's tasks have no such fields):
    # skipped by the user before the flow reached it (the flow passes over it when it does)
    skip_pending: bool = False
    # made by a FORK_JOIN_DYNAMIC: its definition entry is ``workflow_task``, not the layout's
    dynamic: bool = False

    def to_doc(self) -> dict[str, Any]:
        """Conductor's document of the task (what the API shows and a queue message carries)."""
        return _to_doc(self, skip=_DECIDER_MARKS)

    def to_stored(self) -> dict[str, Any]:
        """The document as stored: :meth:`to_doc` with the decider's marks that are set."""
        doc = _to_doc(self, skip=_DECIDER_MARKS)
        if self.skip_pending:
            doc["skipPending"] = True
        if self.dynamic:
            doc["dynamic"] = True
        return doc

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Task:
        task = _from_doc(cls, doc)
        task.status = TaskStatus(task.status)
        if "_skipPending" in task.workflow_task or "_dynamic" in task.workflow_task:
            # stored before the marks were fields: they were hidden keys of workflowTask
            task.workflow_task = dict(task.workflow_task)
            task.skip_pending |= bool(task.workflow_task.pop("_skipPending", False))
            task.dynamic |= bool(task.workflow_task.pop("_dynamic", False))
        return task


_DECIDER_MARKS = ("skip_pending", "dynamic")


@dataclass(slots=True)
class Workflow:
    """One execution of a workflow definition, with its tasks in scheduling order."""

    workflow_id: str
    workflow_name: str
    workflow_version: int
    status: WorkflowStatus = WorkflowStatus.RUNNING
    input: dict[str, Any] = field(default_factory=dict)
    output: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    tasks: list[Task] = field(default_factory=list)
    correlation_id: str = ""
    priority: int = 0
    create_time: int = 0
    start_time: int = 0
    end_time: int = 0
    update_time: int = 0
    last_retried_time: int = 0
    reason_for_incompletion: str = ""
    failed_reference_task_names: list[str] = field(default_factory=list)
    failed_task_names: list[str] = field(default_factory=list)
    failed_task_id: str = ""
    parent_workflow_id: str = ""
    parent_workflow_task_id: str = ""
    task_to_domain: dict[str, str] = field(default_factory=dict)
    idempotency_key: str = ""
    created_by: str = ""
    # the definition this execution follows (Conductor's workflowDefinition), as a document;
    # stored once per distinct definition under definition_key, not in every workflow
    workflow_definition: dict[str, Any] = field(default_factory=dict)
    definition_key: str = ""
    # ids handed out so far; a task id is "<workflow_id>.<n>" so a task finds its workflow
    task_counter: int = 0

    def to_doc(self, include_tasks: bool = True) -> dict[str, Any]:
        doc = _to_doc(self, skip=("tasks", "definition_key"))
        doc["tasks"] = [t.to_doc() for t in self.tasks] if include_tasks else []
        doc["workflowType"] = self.workflow_name  # Conductor's summaries use this name
        doc["version"] = self.workflow_version
        return doc

    def to_stored(self) -> dict[str, Any]:
        """The document as stored: the definition by its key, not inline."""
        doc = _to_doc(self, skip=("tasks", "workflow_definition"))
        doc["tasks"] = [t.to_stored() for t in self.tasks]
        return doc

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Workflow:
        workflow = _from_doc(cls, doc, skip=("tasks",))
        workflow.status = WorkflowStatus(workflow.status)
        workflow.tasks = [Task.from_doc(t) for t in doc.get("tasks", ())]
        return workflow

    def next_task_id(self) -> str:
        self.task_counter += 1
        return f"{self.workflow_id}.{self.task_counter}"


def workflow_id_of_task(task_id: str) -> str:
    """The workflow a task id belongs to (task ids are ``<workflow_id>.<n>``)."""
    workflow_id, sep, number = task_id.rpartition(".")
    return workflow_id if sep and is_digits(number) and workflow_id else ""


@functools.cache
def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


T = TypeVar("T")


_FIELD_NAMES: dict[type, tuple[tuple[str, str], ...]] = {}


def _field_names(cls: type) -> tuple[tuple[str, str], ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = tuple((f.name, camel(f.name)) for f in dataclasses.fields(cls))
        _FIELD_NAMES[cls] = names
    return names


def _to_doc(obj: object, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {key: getattr(obj, name) for name, key in _field_names(type(obj)) if name not in skip}


def _from_doc(cls: type[T], doc: dict[str, Any], skip: tuple[str, ...] = ()) -> T:
    values = {name: doc[key] for name, key in _field_names(cls) if key in doc and name not in skip}
    return cls(**values)


RESULT_STATUSES = frozenset(
    {
        TaskStatus.IN_PROGRESS,
        TaskStatus.COMPLETED,
        TaskStatus.FAILED,
        TaskStatus.FAILED_WITH_TERMINAL_ERROR,
    }
)


@dataclass(frozen=True, slots=True)
class TaskResult:
    """A worker's report on a task (Conductor's TaskResult)."""

    task_id: str
    workflow_instance_id: str
    status: TaskStatus
    output_data: dict[str, Any] = field(default_factory=dict)
    reason_for_incompletion: str = ""
    callback_after_seconds: int = 0
    worker_id: str = ""
    logs: tuple[str, ...] = ()
    extend_lease: bool = False


@dataclass(frozen=True, slots=True)
class SearchFilter:
    """What ``search`` matches: every given criterion must hold (times in ms, inclusive)."""

    workflow_types: tuple[str, ...] = ()
    statuses: tuple[WorkflowStatus, ...] = ()
    correlation_ids: tuple[str, ...] = ()
    workflow_ids: tuple[str, ...] = ()
    start_time_from: int | None = None
    start_time_to: int | None = None
    free_text: str = "*"


@dataclass(frozen=True, slots=True)
class SearchPage:
    total_hits: int
    results: list[Workflow]
