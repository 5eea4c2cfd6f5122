"""``decide``: the pure heart of the orchestrator.

Given a workflow's state, its definition, the task definitions, the events that arrived since the
last decide (polls, worker results, finished sub-workflows) and the time, ``decide`` returns the
new state and what must happen outside: task messages to push or remove, sub-workflows to start,
a parent or failure workflow to tell, and the next moment the workflow must be looked at (its
earliest deadline: that becomes its due time on the decider queue, so timers fire on time).

It does no I/O and reads no clock; JavaScript runs through the evaluator it is given.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from dynoq.workflow import operations
from dynoq.workflow.definitions import (
    RetryLogic,
    TaskDef,
    TaskTimeoutPolicy,
    TaskType,
    WorkflowDef,
    WorkflowTask,
    WorkflowTimeoutPolicy,
)
from dynoq.workflow.domains import domain_choices, pick_domain, queue_name
from dynoq.workflow.effects import (
    QUEUED_TYPES,
    ChildStart,
    Decision,
    Evaluator,
    Operation,
    ParentNotice,
    Publish,
    Push,
    Removal,
)
from dynoq.workflow.model import Task, TaskStatus, Workflow, WorkflowStatus
from dynoq.workflow.structure import Layout, layout
from dynoq.workflow.tasks import TaskFactory, workflow_task_of

MAX_PASSES = 500  # bounds a decide on a pathological definition (e.g. a loop that never waits)

NEVER_RETRIED = frozenset(
    {
        TaskType.SWITCH,
        TaskType.DECISION,
        TaskType.FORK_JOIN,
        TaskType.FORK_JOIN_DYNAMIC,
        TaskType.JOIN,
        TaskType.EXCLUSIVE_JOIN,
        TaskType.DO_WHILE,
        TaskType.TERMINATE,
        TaskType.SET_VARIABLE,
    }
)


def decide(
    workflow: Workflow,
    definition: WorkflowDef,
    task_defs: Mapping[str, TaskDef],
    events: Sequence[Mapping[str, Any]],
    now_ms: int,
    javascript: Evaluator,
    operation: Operation | None = None,
    *,
    owned: bool = False,
    active_domains: Mapping[str, frozenset[str]] | None = None,
) -> Decision:
    """The next state of ``workflow`` and what must happen outside; ``workflow`` is not changed
    (unless ``owned``: a caller that just decoded it may let decide work on it, saving a copy).
    ``active_domains``: by task type, the domains a worker polled lately (for ``taskToDomain``).
    Raises ``Conflict`` when ``operation`` does not fit the workflow's state."""
    working = workflow if owned else copy.deepcopy(workflow)
    run = DecideRun(working, definition, task_defs, now_ms, javascript, active_domains)
    return run.decide(events, operation)


def current_view(
    workflow: Workflow,
    definition: WorkflowDef,
    task_defs: Mapping[str, TaskDef],
    events: Sequence[Mapping[str, Any]],
    now_ms: int,
    *,
    owned: bool = False,
) -> Workflow:
    """The workflow with its pending events applied: what a reader should see (``owned``: as
    for ``decide``)."""
    if not events:
        return workflow
    working = workflow if owned else copy.deepcopy(workflow)
    run = DecideRun(working, definition, task_defs, now_ms, _NoJavaScript())
    run.apply_events(events)
    return run.wf


class _NoJavaScript:
    def evaluate(self, expression: str, bindings: Mapping[str, Any]) -> Any:
        raise AssertionError("applying events runs no JavaScript")


class DecideRun:
    """One decide: the working copy and the decision being built (a :class:`Run`)."""

    def __init__(
        self,
        workflow: Workflow,
        definition: WorkflowDef,
        task_defs: Mapping[str, TaskDef],
        now_ms: int,
        javascript: Evaluator,
        active_domains: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        self.wf = workflow
        self.active_domains = active_domains or {}
        self.definition = definition
        self.layout: Layout = layout(definition)
        self.task_defs = task_defs
        self.now = now_ms
        self.js = javascript
        self.out = Decision(workflow)
        self.factory = TaskFactory(self)

    # -- the procedure ----------------------------------------------------------------------
    def decide(
        self, events: Sequence[Mapping[str, Any]], operation: Operation | None = None
    ) -> Decision:
        wf = self.wf
        if events:
            self.apply_events(events)
        if operation is not None:
            operations.apply(self, operation)
        if wf.status.terminal:
            self.cancel_active()
            self.tell_others()
            return self.out
        self.check_workflow_timeout()
        if wf.status is WorkflowStatus.RUNNING:
            if not any(not t.retried for t in wf.tasks):
                self.changed()
                self.factory.schedule(self.definition.tasks[0], 0)
            more = False
            for _ in range(MAX_PASSES):
                more = wf.status is WorkflowStatus.RUNNING and self.step()
                if not more:
                    break
            if wf.status is WorkflowStatus.RUNNING and self.all_done():
                self.complete()
        else:
            more = False
        if wf.status.terminal:
            self.tell_others()
        else:
            # out of passes with work left (a long loop of system tasks): decide again now
            self.out.next_due_ms = self.now if more else self.next_due()
        return self.out

    def changed(self) -> None:
        self.out.changed = True
        self.wf.update_time = self.now

    def step(self) -> bool:
        """One pass over the tasks; True if anything moved."""
        moved = False
        for task in list(self.wf.tasks):
            if task.retried or task.executed:
                continue
            if not task.status.terminal:
                moved |= self.check_task_timeouts(task)
                if not task.status.terminal:
                    moved |= self.factory.evaluate(task)
            if self.wf.status is not WorkflowStatus.RUNNING:
                return False
            if task.status.terminal and not task.status.successful:
                self.handle_failure(task)
                moved = True
                if self.wf.status is not WorkflowStatus.RUNNING:
                    return False
            if task.status.terminal and task.status.successful and not task.retried:
                task.executed = True
                self.changed()
                self.schedule_next(task)
                moved = True
        return moved

    def all_done(self) -> bool:
        live = [t for t in self.wf.tasks if not t.retried]
        return bool(live) and all(t.status.terminal and t.executed for t in live)

    # -- events -----------------------------------------------------------------------------
    def apply_events(self, events: Sequence[Mapping[str, Any]]) -> None:
        by_id = {t.task_id: t for t in self.wf.tasks}
        for event in events:
            at = int(event.get("time", self.now))
            kind = event.get("kind")
            if kind == "terminate" and not self.wf.status.terminal:
                self.end(WorkflowStatus.TERMINATED, str(event.get("reason", "")), None)
                continue
            task = by_id.get(str(event.get("taskId", "")))
            if task is None or task.status.terminal:
                continue
            if kind == "polled":
                self.apply_poll(task, event, at)
            elif kind == "update" and not self.wf.status.terminal:
                self.apply_update(task, event, at)
            elif kind == "child":
                self.apply_child(task, event, at)

    def apply_poll(self, task: Task, event: Mapping[str, Any], at: int) -> None:
        if task.status is not TaskStatus.SCHEDULED:
            return
        task.status = TaskStatus.IN_PROGRESS
        task.start_time = task.start_time or at
        task.worker_id = str(event.get("workerId", ""))
        task.poll_count += 1
        task.update_time = at
        task.queue_wait_time = max(0, at - task.scheduled_time)
        task.callback_after_seconds = 0
        self.changed()

    def apply_update(self, task: Task, event: Mapping[str, Any], at: int) -> None:
        status = TaskStatus(event["status"])
        task.update_time = at
        self.changed()
        if event.get("extendLease"):
            return
        if event.get("workerId"):
            task.worker_id = str(event["workerId"])
        if event.get("outputData") is not None:
            task.output_data = dict(event["outputData"])
        if event.get("reasonForIncompletion"):
            task.reason_for_incompletion = str(event["reasonForIncompletion"])
        queued = self.is_queued(task)
        if status is TaskStatus.IN_PROGRESS:
            if queued:  # "call me back later": waits on its queue again
                callback = int(event.get("callbackAfterSeconds") or 0)
                task.status = TaskStatus.SCHEDULED
                task.callback_after_seconds = callback
                task.scheduled_time = at
                self.out.pushes.append(self.push_of(task, callback * 1000))
                self.release_slot(task)  # only IN_PROGRESS tasks count against the limit
            return
        if queued and task.status is TaskStatus.SCHEDULED:
            self.out.removals.append(Removal(queue_name(task.task_type, task.domain), task.task_id))
        self.finish(task, status, at)

    def apply_child(self, task: Task, event: Mapping[str, Any], at: int) -> None:
        if task.task_type != TaskType.SUB_WORKFLOW:
            return
        child_status = WorkflowStatus(event["status"])
        # the child's output is added to the task's, which keeps its subWorkflowId
        task.output_data = {**task.output_data, **(event.get("output") or {})}
        task.reason_for_incompletion = str(event.get("reason") or "")
        self.changed()
        self.finish(task, CHILD_TO_TASK_STATUS[child_status], at)

    # -- task life cycle --------------------------------------------------------------------
    def is_queued(self, task: Task) -> bool:
        kind = workflow_task_of(self, task).type
        return kind in QUEUED_TYPES

    def push_of(self, task: Task, delay_ms: int) -> Push:
        queue = queue_name(task.task_type, task.domain)
        return Push(queue, task.task_id, max(0, delay_ms), self.wf.priority)

    def assign_domain(self, task: Task) -> None:
        """Sends a worker task to its domain, as the workflow's taskToDomain says."""
        if self.wf.task_to_domain:
            choices = domain_choices(task.task_type, self.wf.task_to_domain)
            task.domain = pick_domain(choices, self.active_domains.get(task.task_type, ()))

    def task_def(self, task: Task) -> TaskDef | None:
        wt = workflow_task_of(self, task)
        if wt.task_definition is not None:
            return wt.task_definition
        found = self.task_defs.get(task.task_def_name)
        if found is None and wt.type in (TaskType.SIMPLE, TaskType.DYNAMIC):
            return TaskDef(name=task.task_def_name)  # Conductor's defaults
        return found

    def finish(self, task: Task, status: TaskStatus, at: int | None = None) -> None:
        task.status = status
        task.end_time = at if at is not None else self.now
        task.start_time = task.start_time or task.end_time
        task.update_time = max(task.update_time, task.end_time)
        self.changed()
        self.release_slot(task)

    def release_slot(self, task: Task) -> None:
        """Gives back the task's concurrency slot, if its TaskDef has a limit. Whatever the
        state says, it may hold one (the slot is claimed before the poll event is posted, and
        a callback sends a polled task back to SCHEDULED); releasing an unheld one is a no-op."""
        tdef = self.task_def(task) if self.is_queued(task) else None
        if tdef is not None and tdef.concurrent_exec_limit > 0:
            self.out.released.append((task.task_def_name, task.task_id))

    def check_task_timeouts(self, task: Task) -> bool:
        if not self.is_queued(task):
            return False
        tdef = self.task_def(task)
        if tdef is None:
            return False
        for deadline, what, by_policy in self.task_deadlines(task, tdef):
            if self.now < deadline:
                continue
            if by_policy:
                return self.time_out_by_policy(task, tdef, what)
            task.reason_for_incompletion = f"{what} timed out"
            self.finish(task, TaskStatus.TIMED_OUT)
            return True
        return False

    def task_deadlines(self, task: Task, tdef: TaskDef) -> list[tuple[int, str, bool]]:
        """(deadline ms, what, whether the TaskDef's timeoutPolicy applies) of a queued task."""
        deadlines: list[tuple[int, str, bool]] = []
        if task.status is TaskStatus.SCHEDULED:
            waits_from = task.scheduled_time + 1000 * (
                task.start_delay_in_seconds + task.callback_after_seconds
            )
            if tdef.poll_timeout_seconds > 0:
                deadlines.append((waits_from + 1000 * tdef.poll_timeout_seconds, "poll", True))
        elif task.status is TaskStatus.IN_PROGRESS:
            response = max(1, tdef.response_timeout_seconds)
            deadlines.append((task.update_time + 1000 * response, "response", False))
            if tdef.timeout_seconds > 0:
                deadlines.append((task.start_time + 1000 * tdef.timeout_seconds, "task", True))
        return deadlines

    def time_out_by_policy(self, task: Task, tdef: TaskDef, what: str) -> bool:
        if tdef.timeout_policy is TaskTimeoutPolicy.ALERT_ONLY:
            return False
        if task.status is TaskStatus.SCHEDULED:
            self.out.removals.append(Removal(queue_name(task.task_type, task.domain), task.task_id))
        task.reason_for_incompletion = f"{what} timed out"
        self.finish(task, TaskStatus.TIMED_OUT)
        if tdef.timeout_policy is TaskTimeoutPolicy.TIME_OUT_WF:
            self.end(
                WorkflowStatus.TIMED_OUT, f"task {task.reference_task_name}: {what} timed out", task
            )
        return True

    def handle_failure(self, task: Task) -> None:
        wt = workflow_task_of(self, task)
        tdef = self.task_def(task)
        allowed = (
            wt.retry_count if wt.retry_count is not None else (tdef.retry_count if tdef else 0)
        )
        if task.status.retriable and wt.type not in NEVER_RETRIED and task.retry_count < allowed:
            task.retried = True
            self.changed()
            delay_ms = retry_delay_ms(tdef, task.retry_count) if tdef else 0
            self.factory.schedule(wt, task.iteration, retry_of=task, delay_ms=delay_ms)
            return
        if wt.optional:
            task.status = TaskStatus.COMPLETED_WITH_ERRORS
            self.changed()
            return
        status = TASK_TO_WORKFLOW_FAILURE.get(task.status, WorkflowStatus.FAILED)
        reason = task.reason_for_incompletion or f"task {task.reference_task_name} {task.status}"
        self.end(status, reason, task)

    def schedule_next(self, task: Task) -> None:
        kind = workflow_task_of(self, task).type
        if kind in (TaskType.SWITCH, TaskType.DECISION) and task.output_data.get("hasChildren"):
            return  # the chosen case carries on, and leads past the switch at its end
        if self.layout.task(task.reference_task_name) is None:
            return  # a dynamically forked task ends its branch: the JOIN takes over
        following = self.layout.next_after(task.reference_task_name)
        if following is None:
            return
        in_loop = bool(self.layout.loop_of(following.task_reference_name))
        self.factory.schedule(following, task.iteration if in_loop else 0)

    # -- the workflow -----------------------------------------------------------------------
    def check_workflow_timeout(self) -> None:
        deadline = self.workflow_deadline()
        if deadline is not None and self.now >= deadline:
            self.end(WorkflowStatus.TIMED_OUT, "workflow timed out", None)

    def workflow_deadline(self) -> int | None:
        d = self.definition
        if d.timeout_seconds <= 0 or d.timeout_policy is not WorkflowTimeoutPolicy.TIME_OUT_WF:
            return None
        return (self.wf.last_retried_time or self.wf.start_time) + 1000 * d.timeout_seconds

    def complete(self) -> None:
        wf = self.wf
        if self.definition.output_parameters:
            wf.output = self.factory.resolve(self.definition.output_parameters)
        else:
            done = [t for t in wf.tasks if t.status.terminal and not t.retried]
            wf.output = dict(done[-1].output_data) if done else {}
        self.end(WorkflowStatus.COMPLETED, "", None)

    def end(
        self,
        status: WorkflowStatus,
        reason: str,
        task: Task | None,
        output: dict[str, Any] | None = None,
    ) -> None:
        wf = self.wf
        wf.status = status
        wf.end_time = self.now
        wf.reason_for_incompletion = reason
        if output is not None:
            wf.output = output
        if task is not None and not status.successful:
            wf.failed_task_id = task.task_id
            wf.failed_reference_task_names = [task.reference_task_name]
            wf.failed_task_names = [task.task_def_name]
        self.changed()
        self.out.ended_now = True
        self.cancel_active()
        if status in (WorkflowStatus.FAILED, WorkflowStatus.TIMED_OUT):
            self.start_failure_workflow()

    def cancel_active(self, tasks: Sequence[Task] | None = None) -> None:
        """Cancels the workflow's (or the given) unfinished tasks: their queue messages are
        removed and their sub-workflows terminated."""
        for task in self.wf.tasks if tasks is None else tasks:
            if task.status.terminal:
                continue
            if self.is_queued(task) and task.status is TaskStatus.SCHEDULED:
                self.out.removals.append(
                    Removal(queue_name(task.task_type, task.domain), task.task_id)
                )
            if task.task_type == TaskType.SUB_WORKFLOW and task.sub_workflow_id:
                self.out.terminate_children.append(task.sub_workflow_id)
            self.finish(task, TaskStatus.CANCELED)

    def failure_workflow_name(self) -> str:
        """The failure workflow's name: as written, ``${workflow.input.x}`` resolved, or
        Conductor's older ``$workflow.input.x`` (the workflow input named by its third part)."""
        name = self.definition.failure_workflow.strip()
        if name.startswith("${"):
            return str(self.factory.resolve(name) or "")
        if name.startswith("$"):
            parts = name.split(".")
            value = self.wf.input.get(parts[2]) if len(parts) == 3 else None
            return str(value) if value else ""
        return name

    def start_failure_workflow(self) -> None:
        name = self.failure_workflow_name()
        if not name:
            return
        wf = self.wf
        failure_id = f"{wf.workflow_id}-failure-{wf.task_counter}"
        wf.output = {**wf.output, "conductor.failure_workflow": failure_id}
        version = self.definition.raw.get("failureWorkflowVersion")
        self.out.failure_workflow = ChildStart(
            workflow_id=failure_id,
            name=name,
            version=version if isinstance(version, int) and not isinstance(version, bool) else None,
            input={  # Conductor's: the failed workflow's input plus what went wrong
                **wf.input,
                "workflowId": wf.workflow_id,
                "reason": wf.reason_for_incompletion,
                "failureStatus": str(wf.status),
                "failureTaskId": wf.failed_task_id,
                "failedWorkflow": wf.to_doc(),
            },
            correlation_id=wf.correlation_id,
            priority=wf.priority,
            parent_workflow_id="",
            parent_workflow_task_id="",
            task_to_domain=dict(wf.task_to_domain),
        )

    def tell_others(self) -> None:
        wf = self.wf
        if wf.parent_workflow_id:
            self.out.parent_notice = ParentNotice(
                wf.parent_workflow_id,
                wf.parent_workflow_task_id,
                wf.status,
                dict(wf.output),
                wf.reason_for_incompletion,
            )

    def next_due(self) -> int | None:
        """The earliest deadline of the workflow and its running tasks."""
        candidates: list[int] = []
        deadline = self.workflow_deadline()
        if deadline is not None:
            candidates.append(deadline)
        if self.wf.status is WorkflowStatus.RUNNING:
            for task in self.wf.tasks:
                if task.status.terminal or task.retried:
                    continue
                if task.wait_timeout:
                    candidates.append(task.wait_timeout)
                tdef = self.task_def(task) if self.is_queued(task) else None
                if tdef is None:
                    continue
                candidates.extend(
                    when
                    for when, _, by_policy in self.task_deadlines(task, tdef)
                    if not by_policy or tdef.timeout_policy is not TaskTimeoutPolicy.ALERT_ONLY
                )
                if task.status is TaskStatus.SCHEDULED:
                    # the earliest its response timeout can fire, were it polled right away
                    # (a poll comes after this decide's events: never before now)
                    waits_from = task.scheduled_time + 1000 * (
                        task.start_delay_in_seconds + task.callback_after_seconds
                    )
                    polled_at = max(waits_from, self.now)
                    candidates.append(polled_at + 1000 * max(1, tdef.response_timeout_seconds))
        return min(candidates) if candidates else None


CHILD_TO_TASK_STATUS = {
    WorkflowStatus.COMPLETED: TaskStatus.COMPLETED,
    WorkflowStatus.FAILED: TaskStatus.FAILED,
    WorkflowStatus.TIMED_OUT: TaskStatus.TIMED_OUT,
    WorkflowStatus.TERMINATED: TaskStatus.CANCELED,
}

TASK_TO_WORKFLOW_FAILURE = {
    TaskStatus.TIMED_OUT: WorkflowStatus.TIMED_OUT,
    TaskStatus.CANCELED: WorkflowStatus.TERMINATED,
}


def retry_delay_ms(tdef: TaskDef, retry_count: int) -> int:
    """The wait before retry number ``retry_count + 1``, in ms (no jitter: decide is pure)."""
    base = tdef.retry_delay_seconds
    if tdef.retry_logic is RetryLogic.LINEAR_BACKOFF:
        seconds = base * tdef.backoff_scale_factor * (retry_count + 1)
    elif tdef.retry_logic is RetryLogic.EXPONENTIAL_BACKOFF:
        seconds = base * 2 ** min(retry_count, 30)
    else:
        seconds = base
    if tdef.max_retry_delay_seconds > 0:
        seconds = min(seconds, tdef.max_retry_delay_seconds)
    return int(seconds * 1000)


__all__ = [
    "QUEUED_TYPES",
    "ChildStart",
    "DecideRun",
    "Decision",
    "Evaluator",
    "Operation",
    "ParentNotice",
    "Publish",
    "Push",
    "Removal",
    "WorkflowTask",
    "current_view",
    "decide",
    "retry_delay_ms",
]
