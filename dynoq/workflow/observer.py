"""What a decide changed, as counts a monitor wants (pure), and the seam through which the
executor reports it. The services plug Prometheus counters in (``dynoq.services.workflow_metrics``);
the engine alone reports to :data:`NOBODY`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from dynoq.workflow.model import TaskStatus, Workflow, WorkflowStatus


@dataclass(frozen=True)
class Changes:
    """Task types scheduled, (task type, status) of tasks that ended, and the workflow's end."""

    scheduled: list[str] = field(default_factory=list)
    ended: list[tuple[str, str]] = field(default_factory=list)
    workflow_ended: str | None = None


def changes(before: Mapping[str, str], workflow: Workflow) -> Changes:
    """Compares ``workflow`` with ``before`` (task id -> status, "" -> the workflow's status, as
    the state was read): new tasks were scheduled, tasks now terminal that were not have ended."""
    scheduled: list[str] = []
    ended: list[tuple[str, str]] = []
    for task in workflow.tasks:
        was = before.get(task.task_id)
        if was is None:
            scheduled.append(task.task_type)
        if task.status.terminal and (was is None or not TaskStatus(was).terminal):
            ended.append((task.task_type, str(task.status)))
    was_status = before.get("")
    workflow_ended = None
    if workflow.status.terminal and (was_status is None or not WorkflowStatus(was_status).terminal):
        workflow_ended = str(workflow.status)
    return Changes(scheduled, ended, workflow_ended)


class WorkflowObserver(Protocol):
    def started(self, workflow_type: str) -> None: ...

    def changed(self, workflow_type: str, what: Changes) -> None: ...


class _Nobody:
    def started(self, workflow_type: str) -> None:
        pass

    def changed(self, workflow_type: str, what: Changes) -> None:
        pass


NOBODY: WorkflowObserver = _Nobody()
