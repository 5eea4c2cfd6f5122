"""What decide, the task types and the user's operations share: the effects a decide returns
(:class:`Decision` and what it holds) and :class:`Run`, the decide in progress they all work on.

Imports only the definitions, the model and the layout, so :mod:`.tasks`, :mod:`.operations`
and :mod:`.decide` import it (and, in that order, each other) without a cycle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from dynoq.workflow.definitions import TaskDef, TaskType, WorkflowDef, WorkflowTask
from dynoq.workflow.model import Task, TaskStatus, Workflow, WorkflowStatus
from dynoq.workflow.structure import Layout

# task types whose work happens in a worker, found through a queue named after the task type
QUEUED_TYPES = frozenset({TaskType.SIMPLE, TaskType.DYNAMIC, TaskType.HTTP, TaskType.HTTP_POLL})


@dataclass(frozen=True, slots=True)
class Push:
    """Push (or replace) the message of a task on the queue of its type (``task_type`` is the
    queue's name: ``<domain>:<task type>`` for a task in a domain)."""

    task_type: str
    task_id: str
    delay_ms: int
    priority: int


@dataclass(frozen=True, slots=True)
class Removal:
    """Remove a task's message from the queue of its type (the task no longer waits there)."""

    task_type: str
    task_id: str


@dataclass(frozen=True, slots=True)
class ChildStart:
    """Start a sub-workflow (idempotent: the id is fixed by the parent task)."""

    workflow_id: str
    name: str
    version: int | None
    input: dict[str, Any]
    correlation_id: str
    priority: int
    parent_workflow_id: str
    parent_workflow_task_id: str
    definition: dict[str, Any] | None = None
    task_to_domain: dict[str, str] = field(default_factory=dict)
    # (workflow id, task id) of the START_WORKFLOW task that ends as this start goes
    started_by: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Publish:
    """Publish an EVENT task's message onto a dynoq queue (the message id is the task id, so
    carrying it out twice publishes it once)."""

    queue: str
    message_id: str
    document: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ParentNotice:
    """Tell the parent workflow that this sub-workflow ended."""

    parent_workflow_id: str
    parent_task_id: str
    status: WorkflowStatus
    output: dict[str, Any]
    reason: str


@dataclass(frozen=True, slots=True)
class Operation:
    """A user's action on the workflow, applied by the decide that runs under its lock.

    kinds: terminate(reason), pause, resume, restart(definition?), retry, rerun(from_task_id,
    task_input, workflow_input, correlation_id), skip(reference_name, task_input, task_output).
    """

    kind: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Decision:
    """The new state of a workflow and what must happen outside it."""

    workflow: Workflow
    changed: bool = False
    pushes: list[Push] = field(default_factory=list)
    removals: list[Removal] = field(default_factory=list)
    children: list[ChildStart] = field(default_factory=list)
    publishes: list[Publish] = field(default_factory=list)
    terminate_children: list[str] = field(default_factory=list)
    parent_notice: ParentNotice | None = None
    failure_workflow: ChildStart | None = None
    released: list[tuple[str, str]] = field(default_factory=list)  # (task def name, task id)
    next_due_ms: int | None = None
    ended_now: bool = False


class Evaluator(Protocol):
    """Runs a JavaScript expression with ``$`` bound to ``bindings`` (see ``javascript``)."""

    def evaluate(self, expression: str, bindings: Mapping[str, Any]) -> Any: ...


class Scheduler(Protocol):
    """Creates the tasks of a decide (:class:`dynoq.workflow.tasks.TaskFactory`)."""

    def schedule(
        self,
        wt: WorkflowTask,
        iteration: int,
        *,
        retry_of: Task | None = None,
        delay_ms: int = 0,
        extra_input: dict[str, Any] | None = None,
        dynamic: bool = False,
    ) -> Task | None: ...

    def resolve(self, template: Any) -> Any: ...


class Run(Protocol):
    """One decide in progress: the working copy of the workflow, the decision being built, and
    the steps the task types and the user's operations take on them
    (:class:`dynoq.workflow.decide.DecideRun`)."""

    @property
    def wf(self) -> Workflow: ...
    @property
    def definition(self) -> WorkflowDef: ...
    @property
    def layout(self) -> Layout: ...
    @property
    def task_defs(self) -> Mapping[str, TaskDef]: ...
    @property
    def now(self) -> int: ...
    @property
    def js(self) -> Evaluator: ...
    @property
    def out(self) -> Decision: ...
    @property
    def factory(self) -> Scheduler: ...

    def changed(self) -> None: ...
    def is_queued(self, task: Task) -> bool: ...
    def push_of(self, task: Task, delay_ms: int) -> Push: ...
    def assign_domain(self, task: Task) -> None: ...
    def task_def(self, task: Task) -> TaskDef | None: ...
    def finish(self, task: Task, status: TaskStatus, at: int | None = None) -> None: ...
    def schedule_next(self, task: Task) -> None: ...
    def end(
        self,
        status: WorkflowStatus,
        reason: str,
        task: Task | None,
        output: dict[str, Any] | None = None,
    ) -> None: ...
    def cancel_active(self, tasks: Sequence[Task] | None = None) -> None: ...
    def start_failure_workflow(self) -> None: ...
