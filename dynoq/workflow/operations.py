"""The user's actions on a workflow (terminate, pause, resume, restart, retry, rerun, skip,
update variables), applied inside a decide so they see the same state and hold the same lock
as the decider."""

from __future__ import annotations

from typing import Any

from dynoq.errors import Conflict, InvalidArgument
from dynoq.workflow.definitions import TaskType
from dynoq.workflow.domains import queue_name
from dynoq.workflow.effects import Operation, Removal, Run
from dynoq.workflow.model import Task, TaskStatus, Workflow, WorkflowStatus
from dynoq.workflow.structure import layout
from dynoq.workflow.tasks import workflow_task_of

RETRYABLE = frozenset(
    {
        TaskStatus.FAILED,
        TaskStatus.FAILED_WITH_TERMINAL_ERROR,
        TaskStatus.TIMED_OUT,
        TaskStatus.CANCELED,
    }
)


def apply(run: Run, op: Operation) -> None:
    handler = _HANDLERS.get(op.kind)
    if handler is None:
        raise InvalidArgument(f"unknown operation {op.kind!r}", field="operation")
    handler(run, op.params)
    run.changed()


def _terminate(run: Run, params: dict[str, Any]) -> None:
    wf = run.wf
    if wf.status.terminal:
        raise Conflict(f"workflow {wf.workflow_id} is already {wf.status}")
    run.end(WorkflowStatus.TERMINATED, str(params.get("reason") or ""), None)
    if params.get("trigger_failure_workflow"):  # Orkes' option; Conductor OSS never does
        run.start_failure_workflow()


def _pause(run: Run, params: dict[str, Any]) -> None:
    wf = run.wf
    if wf.status.terminal:
        raise Conflict(f"workflow {wf.workflow_id} is {wf.status}: it cannot be paused")
    wf.status = WorkflowStatus.PAUSED


def _resume(run: Run, params: dict[str, Any]) -> None:
    wf = run.wf
    if wf.status is not WorkflowStatus.PAUSED:
        raise Conflict(f"workflow {wf.workflow_id} is {wf.status}, not PAUSED")
    wf.status = WorkflowStatus.RUNNING
    wf.last_retried_time = run.now  # as Conductor: the workflow timeout counts from the resume


def _reopen(wf: Workflow, now: int) -> None:
    wf.status = WorkflowStatus.RUNNING
    wf.end_time = 0
    wf.reason_for_incompletion = ""
    wf.failed_task_id = ""
    wf.failed_reference_task_names = []
    wf.failed_task_names = []
    wf.last_retried_time = now


def _restart(run: Run, params: dict[str, Any]) -> None:
    wf = run.wf
    if not wf.status.terminal:
        raise Conflict(f"workflow {wf.workflow_id} is {wf.status}: only an ended one restarts")
    if wf.status is WorkflowStatus.COMPLETED and not run.definition.restartable:
        raise Conflict(f"workflow definition {wf.workflow_name} is not restartable")
    _drop_tasks(run, list(wf.tasks))
    _reopen(wf, run.now)
    wf.start_time = run.now
    wf.output = {}
    wf.variables = dict(run.definition.variables)


def _retry(run: Run, params: dict[str, Any]) -> None:
    wf = run.wf
    if not wf.status.terminal or wf.status is WorkflowStatus.COMPLETED:
        raise Conflict(f"workflow {wf.workflow_id} is {wf.status}: only a failed one retries")
    latest: dict[str, Task] = {}
    for task in wf.tasks:
        if not task.retried:
            latest[task.reference_task_name] = task
    again = [t for t in latest.values() if t.status in RETRYABLE]
    if not again:
        raise Conflict(f"workflow {wf.workflow_id} has no failed task to retry")
    _reopen(wf, run.now)
    for task in again:
        wt = workflow_task_of(run, task)
        if wt.type in (TaskType.JOIN, TaskType.DO_WHILE):
            task.status = TaskStatus.IN_PROGRESS
            task.end_time = 0
            task.executed = False
            continue
        task.retried = True
        run.factory.schedule(wt, task.iteration, retry_of=task)


def _rerun(run: Run, params: dict[str, Any]) -> None:
    wf = run.wf
    if params.get("workflow_input") is not None:
        wf.input = dict(params["workflow_input"])
    if params.get("correlation_id") is not None:
        wf.correlation_id = str(params["correlation_id"])
    from_id = str(params.get("from_task_id") or "")
    if not from_id:
        _drop_tasks(run, list(wf.tasks))
        _reopen(wf, run.now)
        wf.output = {}
        return
    start = next((t for t in wf.tasks if t.task_id == from_id), None)
    if start is None:
        raise InvalidArgument(
            f"workflow {wf.workflow_id} has no task {from_id}", field="reRunFromTaskId"
        )
    _drop_tasks(run, [t for t in wf.tasks if t.seq >= start.seq])
    _reopen(wf, run.now)
    wf.output = {}
    for task in wf.tasks:  # what remains ran before the rerun point; let it lead on again
        if task.status.terminal and task.status.successful:
            task.executed = True
    wt = workflow_task_of(run, start)
    run.factory.schedule(
        wt,
        start.iteration,
        extra_input=params.get("task_input") or None,
        dynamic=start.dynamic,
    )


def _drop_tasks(run: Run, tasks: list[Task]) -> None:
    gone = {t.task_id for t in tasks}
    run.cancel_active(tasks)  # their messages removed, their sub-workflows terminated
    run.wf.tasks = [t for t in run.wf.tasks if t.task_id not in gone]


def _skip(run: Run, params: dict[str, Any]) -> None:
    wf = run.wf
    if wf.status.terminal:
        raise Conflict(f"workflow {wf.workflow_id} is {wf.status}")
    ref = str(params.get("reference_name") or "")
    wt = layout(run.definition).task(ref)
    if wt is None:
        raise InvalidArgument(
            f"workflow {wf.workflow_name} has no task {ref!r}", field="taskReferenceName"
        )
    existing = next(
        (t for t in reversed(wf.tasks) if t.reference_task_name == ref and not t.retried), None
    )
    output = dict(params.get("task_output") or {})
    if existing is not None:
        if existing.status.terminal:
            raise Conflict(f"task {ref} is already {existing.status}")
        if run.is_queued(existing) and existing.status is TaskStatus.SCHEDULED:
            run.out.removals.append(
                Removal(queue_name(existing.task_type, existing.domain), existing.task_id)
            )
        existing.output_data = output
        run.finish(existing, TaskStatus.SKIPPED)
        return
    placeholder = Task(
        task_id=wf.next_task_id(),
        task_type=wt.name if wt.type is TaskType.SIMPLE else str(wt.type),
        reference_task_name=ref,
        task_def_name=wt.name,
        workflow_instance_id=wf.workflow_id,
        status=TaskStatus.SKIPPED,
        input_data=dict(params.get("task_input") or {}),
        output_data=output,
        seq=len(wf.tasks) + 1,
        scheduled_time=run.now,
        end_time=run.now,
        executed=True,
        skip_pending=True,
    )
    wf.tasks.append(placeholder)


def _update_variables(run: Run, params: dict[str, Any]) -> None:
    """Sets workflow variables; with ``append_array`` a list is appended to a list held."""
    wf = run.wf
    if wf.status.terminal:
        raise Conflict(f"workflow {wf.workflow_id} is {wf.status}: its variables are final")
    for name, value in dict(params.get("variables") or {}).items():
        held = wf.variables.get(name)
        if params.get("append_array") and isinstance(held, list) and isinstance(value, list):
            wf.variables[name] = held + value
        else:
            wf.variables[name] = value


_HANDLERS = {
    "terminate": _terminate,
    "pause": _pause,
    "resume": _resume,
    "restart": _restart,
    "retry": _retry,
    "rerun": _rerun,
    "skip": _skip,
    "variables": _update_variables,
}
