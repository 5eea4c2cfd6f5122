"""What each task type does when the decider schedules it, and when it looks at it again.

Worker tasks (SIMPLE, DYNAMIC) and HTTP wait on a queue named after their task type. The control
flow types (SWITCH, FORK_JOIN, FORK_JOIN_DYNAMIC, INLINE, SET_VARIABLE, TERMINATE) finish the
moment they are scheduled; JOIN, DO_WHILE, WAIT and SUB_WORKFLOW stay IN_PROGRESS until the
decider sees their condition hold.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from dynoq.core.models import is_digits
from dynoq.errors import JavaScriptError
from dynoq.workflow import builtin_tasks
from dynoq.workflow.definitions import TaskType, WorkflowTask, iter_workflow_tasks
from dynoq.workflow.effects import QUEUED_TYPES, ChildStart, Run
from dynoq.workflow.expressions import resolve
from dynoq.workflow.model import Task, TaskStatus, WorkflowStatus
from dynoq.workflow.structure import base_ref, iteration_ref

_DURATION_PART = re.compile(
    # longest spelling first: "seconds" must not match as "s" and leave "econds" unread
    r"(\d+)\s*(days?|d|hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)",
    re.IGNORECASE,
)
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def workflow_task_of(run: Run, task: Task) -> WorkflowTask:
    """The definition entry a task was made from (dynamic tasks carry their own)."""
    found = run.layout.task(task.reference_task_name)
    if found is not None and not task.dynamic:
        return found
    doc = task.workflow_task
    return WorkflowTask(
        name=str(doc.get("name", task.task_def_name)),
        task_reference_name=base_ref(task.reference_task_name),  # as a definition's would be
        type=TaskType(doc.get("type", TaskType.SIMPLE)),
        optional=bool(doc.get("optional", False)),
        raw=doc,
    )


class TaskFactory:
    """Creates and advances tasks for one decide."""

    def __init__(self, run: Run) -> None:
        self.run = run

    # -- expressions ------------------------------------------------------------------------
    def context(self, task_id: str = "") -> dict[str, Any]:
        """The document expressions read; ``task_id``: the task whose input is resolved (what
        ``${CPEWF_TASK_ID}`` gives)."""
        wf = self.run.wf
        ctx: dict[str, Any] = {
            "workflow": {
                "input": wf.input,
                "output": wf.output,
                "variables": wf.variables,
                "workflowId": wf.workflow_id,
                "workflowType": wf.workflow_name,
                "version": wf.workflow_version,
                "correlationId": wf.correlation_id,
                "status": str(wf.status),
                "parentWorkflowId": wf.parent_workflow_id,
                "parentWorkflowTaskId": wf.parent_workflow_task_id,
                "priority": wf.priority,
                "reasonForIncompletion": wf.reason_for_incompletion,
                "schemaVersion": 2,
            }
        }
        for task in wf.tasks:  # later tasks win: the latest retry, the latest loop iteration
            ctx[base_ref(task.reference_task_name)] = {
                "input": task.input_data,
                "output": task.output_data,
                "status": str(task.status),
                "taskId": task.task_id,
                "referenceTaskName": task.reference_task_name,
                "retryCount": task.retry_count,
                "pollCount": task.poll_count,
                "taskDefName": task.task_def_name,
                "taskType": task.task_type,
                "scheduledTime": task.scheduled_time,
                "startTime": task.start_time,
                "endTime": task.end_time,
                "workerId": task.worker_id,
                "iteration": task.iteration,
                "reasonForIncompletion": task.reason_for_incompletion,
                "callbackAfterSeconds": task.callback_after_seconds,
                "correlationId": task.correlation_id,
                "workflowInstanceId": task.workflow_instance_id,
            }
        if task_id:
            ctx[CPEWF_TASK_ID] = task_id
        return ctx

    def resolve(self, template: Any, task_id: str = "") -> Any:
        return resolve(template, self.context(task_id))

    def task_input(self, wt: WorkflowTask, task_id: str) -> dict[str, Any]:
        """The task's input as Conductor resolves it: its inputParameters over its TaskDef's
        inputTemplate, and a parameter that resolves to null takes the template's value."""
        tdef = wt.task_definition or self.run.task_defs.get(wt.name)
        defaults = tdef.input_template if tdef else {}
        inputs: dict[str, Any] = self.resolve({**defaults, **wt.input_parameters}, task_id)
        for key, value in defaults.items():
            if inputs.get(key) is None:
                inputs[key] = value
        if wt.type is TaskType.EVENT:
            inputs["sink"] = self.resolve(wt.sink, task_id)
        return inputs

    # -- scheduling -------------------------------------------------------------------------
    def schedule(
        self,
        wt: WorkflowTask,
        iteration: int,
        *,
        retry_of: Task | None = None,
        delay_ms: int = 0,
        extra_input: dict[str, Any] | None = None,
        dynamic: bool = False,
    ) -> Task | None:
        """Creates the task for ``wt`` (unless that reference already has one) and starts it.
        ``dynamic``: ``wt`` came from a dynamically forked task (as does a retry of one)."""
        run = self.run
        wf = run.wf
        if wf.status is not WorkflowStatus.RUNNING:
            return None  # a TERMINATE earlier in this decide ended it: start nothing more
        ref = iteration_ref(wt.task_reference_name, iteration)
        if retry_of is None:
            existing = next(
                (t for t in wf.tasks if t.reference_task_name == ref and not t.retried), None
            )
            if existing is not None:
                if existing.skip_pending:
                    existing.skip_pending = False
                    run.changed()  # skipped ahead of time: the flow passes over it
                    run.schedule_next(existing)
                return None
        tdef = wt.task_definition or run.task_defs.get(wt.name)
        task_id = wf.next_task_id()
        inputs = self.task_input(wt, task_id)
        dynamic = dynamic or (retry_of is not None and retry_of.dynamic)
        if retry_of is not None and dynamic:
            inputs = dict(retry_of.input_data)  # a dynamic task's input is not in the definition
        if extra_input:
            inputs.update(extra_input)
        kind = wt.type
        task = Task(
            task_id=task_id,
            task_type=reported_type(wt),
            reference_task_name=ref,
            task_def_name=reported_type(wt) if kind in _NAMED_BY_TYPE else wt.name,
            workflow_instance_id=wf.workflow_id,
            input_data=inputs,
            seq=len(wf.tasks) + 1,
            scheduled_time=run.now,
            first_scheduled_time=retry_of.first_scheduled_time if retry_of else run.now,
            update_time=run.now,
            retry_count=retry_of.retry_count + 1 if retry_of else 0,
            retried_task_id=retry_of.task_id if retry_of else "",
            start_delay_in_seconds=(delay_ms if retry_of else wt.start_delay * 1000) // 1000,
            callback_after_seconds=0,
            response_timeout_seconds=tdef.response_timeout_seconds if tdef else 0,
            workflow_type=wf.workflow_name,
            correlation_id=wf.correlation_id,
            workflow_priority=wf.priority,
            iteration=iteration,
            loop_parent=run.layout.loop_of(wt.task_reference_name),
            # only a dynamic task carries its definition: the others find it in the layout
            workflow_task=dict(wt.raw) if dynamic else {},
            dynamic=dynamic,
        )
        wf.tasks.append(task)
        run.changed()
        first_delay = delay_ms if retry_of else wt.start_delay * 1000
        self.start(task, wt, iteration, first_delay)
        return task

    def start(self, task: Task, wt: WorkflowTask, iteration: int, delay_ms: int) -> None:
        run = self.run
        kind = wt.type
        if kind is TaskType.DYNAMIC:
            name = task.input_data.get(wt.dynamic_task_name_param)
            if not isinstance(name, str) or not name:
                self.fail(task, f"input {wt.dynamic_task_name_param!r} names no task")
                return
            task.task_type = task.task_def_name = name
        if kind in QUEUED_TYPES:
            if kind in (TaskType.SIMPLE, TaskType.DYNAMIC):
                run.assign_domain(task)
            run.out.pushes.append(run.push_of(task, delay_ms))
        elif kind is TaskType.WAIT:
            self.start_wait(task)
        elif kind is TaskType.SUB_WORKFLOW:
            self.start_sub_workflow(task, wt)
        elif kind is TaskType.JOIN:
            task.status = TaskStatus.IN_PROGRESS
            task.start_time = run.now
        elif kind is TaskType.FORK_JOIN:
            self.done(task, {})
            for branch in wt.fork_tasks:
                if branch:
                    self.schedule(
                        branch[0],
                        iteration if run.layout.loop_of(branch[0].task_reference_name) else 0,
                    )
            self.schedule_join_after(wt, iteration)
        elif kind is TaskType.FORK_JOIN_DYNAMIC:
            self.start_dynamic_fork(task, wt, iteration)
        elif kind in (TaskType.SWITCH, TaskType.DECISION):
            self.start_switch(task, wt, iteration)
        elif kind is TaskType.INLINE:
            try:
                result = run.js.evaluate(
                    str(task.input_data.get("expression", "")), task.input_data
                )
            except JavaScriptError as exc:
                self.fail(task, str(exc))
            else:
                self.done(task, {"result": result})
        elif kind is TaskType.SET_VARIABLE:
            run.wf.variables.update(task.input_data)
            self.done(task, {})
        elif kind is TaskType.TERMINATE:
            self.start_terminate(task)
        elif kind is TaskType.DO_WHILE:
            self.start_loop(task, wt)
        elif kind is TaskType.JSON_JQ_TRANSFORM:
            builtin_tasks.start_json_jq(self, task)
        elif kind is TaskType.LAMBDA:
            builtin_tasks.start_lambda(self, task)
        elif kind is TaskType.NOOP:
            self.done(task, {})
        elif kind is TaskType.HUMAN:
            builtin_tasks.start_human(self, task)
        elif kind is TaskType.EVENT:
            builtin_tasks.start_event(self, task, wt)
        elif kind is TaskType.START_WORKFLOW:
            builtin_tasks.start_workflow_task(self, task)
        elif kind is TaskType.KAFKA_PUBLISH:
            builtin_tasks.start_kafka_publish(self, task)
        elif kind is TaskType.EXCLUSIVE_JOIN:
            builtin_tasks.start_exclusive_join(self, task, wt)

    def start_loop(self, task: Task, wt: WorkflowTask) -> None:
        run = self.run
        task.status = TaskStatus.IN_PROGRESS
        task.start_time = run.now
        if wt.items.strip():
            items = self.loop_items(task, wt)
            if not items:  # nothing to iterate over: done without running the body
                task.iteration = 0
                self.done(task, {"iteration": 0})
                return
        task.iteration = 1
        task.output_data = {"iteration": 1, **self.loop_variables(task, wt)}
        if wt.loop_over:
            self.schedule(wt.loop_over[0], 1)

    def loop_items(self, task: Task, wt: WorkflowTask) -> list[Any]:
        """The list a DO_WHILE with ``items`` iterates over (a single value is a list of one)."""
        value = self.resolve(wt.items, task.task_id)
        if value is None:
            return []
        return list(value) if isinstance(value, list | tuple) else [value]

    def loop_variables(self, task: Task, wt: WorkflowTask) -> dict[str, Any]:
        """``loopIndex`` and ``loopItem`` of the current iteration of a DO_WHILE over items."""
        if not wt.items.strip():
            return {}
        items = self.loop_items(task, wt)
        index = task.iteration - 1
        found: dict[str, Any] = {"loopIndex": index}
        if 0 <= index < len(items):
            found["loopItem"] = items[index]
        return found

    def done(self, task: Task, output: dict[str, Any]) -> None:
        task.output_data = output
        self.run.finish(task, TaskStatus.COMPLETED)

    def fail(self, task: Task, reason: str) -> None:
        task.reason_for_incompletion = reason
        self.run.finish(task, TaskStatus.FAILED)

    def schedule_join_after(self, fork: WorkflowTask, iteration: int) -> None:
        following = self.run.layout.next_after(fork.task_reference_name)
        if following is not None and following.type is TaskType.JOIN:
            self.schedule(
                following,
                iteration if self.run.layout.loop_of(following.task_reference_name) else 0,
            )

    def start_wait(self, task: Task) -> None:
        now = self.run.now
        task.status = TaskStatus.IN_PROGRESS
        task.start_time = now
        duration = task.input_data.get("duration")
        until = task.input_data.get("until")
        if duration is not None:
            seconds = parse_duration(duration)
            if seconds is None:
                self.fail(task, f"cannot read duration {duration!r}")
                return
            task.wait_timeout = now + int(seconds * 1000)
        elif until is not None:
            when = parse_until(until)
            if when is None:
                self.fail(task, f"cannot read until {until!r}")
                return
            task.wait_timeout = max(when, now)
        if task.wait_timeout and task.wait_timeout <= now:
            self.done(task, {})

    def start_sub_workflow(self, task: Task, wt: WorkflowTask) -> None:
        run = self.run
        inline = wt.sub_workflow_param.get("workflowDefinition")
        # an inline definition's expressions are the child's, resolved when the child runs
        params = self.resolve(
            {k: v for k, v in wt.sub_workflow_param.items() if k != "workflowDefinition"},
            task.task_id,
        )
        params["workflowDefinition"] = self.resolve(inline) if isinstance(inline, str) else inline
        name = str(params.get("name", ""))
        version = params.get("version")
        child_id = f"{task.task_id}-sub"
        task.status = TaskStatus.IN_PROGRESS
        task.start_time = run.now
        task.sub_workflow_id = child_id
        task.output_data = {"subWorkflowId": child_id}
        definition = params.get("workflowDefinition")
        run.out.children.append(
            ChildStart(
                workflow_id=child_id,
                name=name or str((definition or {}).get("name", "")),
                version=int(version)
                if isinstance(version, int | str) and is_digits(str(version))
                else None,
                input=dict(task.input_data),
                correlation_id=run.wf.correlation_id,
                priority=run.wf.priority,
                parent_workflow_id=run.wf.workflow_id,
                parent_workflow_task_id=task.task_id,
                definition=definition if isinstance(definition, dict) else None,
                # Conductor's: the child inherits the parent's domains unless given its own
                task_to_domain=dict(params.get("taskToDomain") or run.wf.task_to_domain),
            )
        )

    def start_dynamic_fork(self, task: Task, wt: WorkflowTask, iteration: int) -> None:
        run = self.run
        if "forkTaskInputs" in task.input_data:
            branches, inputs = self.fork_task_inputs(task, wt)
        else:
            branches = task.input_data.get(wt.dynamic_fork_tasks_param)
            inputs = task.input_data.get(wt.dynamic_fork_tasks_input_param_name) or {}
        if not isinstance(branches, list) or not isinstance(inputs, dict):
            param = wt.dynamic_fork_tasks_param or "forkTaskInputs"
            self.fail(task, f"input {param!r} must be a list")
            return
        refs: list[str] = []
        for doc in branches:
            if not isinstance(doc, dict) or not doc.get("taskReferenceName"):
                self.fail(task, "every dynamically forked task needs a taskReferenceName")
                return
            # in a loop, each iteration forks tasks of its own (ref__N), like the static ones
            refs.append(iteration_ref(str(doc["taskReferenceName"]), iteration))
        self.done(task, {"forkedTasks": refs})
        for doc, ref in zip(branches, refs, strict=True):
            if any(t.reference_task_name == ref for t in run.wf.tasks):
                continue
            name = str(doc.get("name") or doc["taskReferenceName"])
            given = inputs.get(doc["taskReferenceName"])
            child = Task(
                task_id=run.wf.next_task_id(),
                task_type=name,
                reference_task_name=ref,
                task_def_name=name,
                workflow_instance_id=run.wf.workflow_id,
                input_data={
                    **(doc.get("inputParameters") or {}),
                    **(given if isinstance(given, dict) else {}),
                },
                seq=len(run.wf.tasks) + 1,
                scheduled_time=run.now,
                first_scheduled_time=run.now,
                update_time=run.now,
                workflow_type=run.wf.workflow_name,
                correlation_id=run.wf.correlation_id,
                workflow_priority=run.wf.priority,
                iteration=iteration,
                workflow_task={**doc, "type": str(TaskType.SIMPLE)},
                dynamic=True,
            )
            tdef = run.task_def(child)
            child.response_timeout_seconds = tdef.response_timeout_seconds if tdef else 0
            run.wf.tasks.append(child)
            run.assign_domain(child)
            run.out.pushes.append(run.push_of(child, 0))
        following = run.layout.next_after(wt.task_reference_name)
        if following is not None and following.type is TaskType.JOIN:
            self.schedule(following, iteration, extra_input={"joinOn": refs})

    def fork_task_inputs(self, task: Task, wt: WorkflowTask) -> tuple[Any, dict[str, Any]]:
        """Conductor's newer dynamic fork: one ``forkTaskName`` task per entry of
        ``forkTaskInputs`` (a map is its input, anything else its ``input``), referenced
        ``_<name>_<i>`` (``_<fork ref>_<name>_<i>`` when the workflow has several dynamic
        forks), each input with its ``__index``."""
        given = task.input_data.get("forkTaskInputs")
        if not isinstance(given, list):
            return None, {}
        name = str(task.input_data.get("forkTaskName") or wt.task_reference_name)
        forks = sum(
            1
            for t in iter_workflow_tasks(self.run.definition.tasks)
            if t.type is TaskType.FORK_JOIN_DYNAMIC
        )
        prefix = f"_{wt.task_reference_name}_{name}" if forks > 1 else f"_{name}"
        branches: list[dict[str, Any]] = []
        inputs: dict[str, Any] = {}
        for index, value in enumerate(given):
            ref = f"{prefix}_{index}"
            one = dict(value) if isinstance(value, dict) else {"input": value}
            one["__index"] = index
            branches.append({"name": name, "taskReferenceName": ref, "optional": wt.optional})
            inputs[ref] = one
        return branches, inputs

    def start_switch(self, task: Task, wt: WorkflowTask, iteration: int) -> None:
        run = self.run
        script = wt.expression if wt.evaluator_type == "javascript" else ""
        if wt.type is TaskType.DECISION and not wt.case_value_param:
            script = str(wt.raw.get("caseExpression") or "")  # DECISION's JavaScript case
        if script:
            try:
                case = run.js.evaluate(script, task.input_data)
            except JavaScriptError as exc:
                self.fail(task, str(exc))
                return
        elif wt.type is TaskType.DECISION:
            case = task.input_data.get(wt.case_value_param)
        else:
            case = task.input_data.get(wt.expression)
        key = case_key(case)
        branch = wt.decision_cases.get(key)
        if branch is None or (not branch and wt.type is TaskType.DECISION):
            branch = wt.default_case  # DECISION also takes the default for an empty case
        task.input_data["case"] = key
        if wt.type is TaskType.DECISION:
            output: dict[str, Any] = {"caseOutput": [key]}
        else:
            output = {"evaluationResult": [key], "selectedCase": key}
        self.done(task, {**output, "hasChildren": bool(branch)})
        if branch:
            self.schedule(branch[0], iteration)

    def start_terminate(self, task: Task) -> None:
        run = self.run
        wanted = str(task.input_data.get("terminationStatus", "COMPLETED")).upper()
        status = {
            "COMPLETED": WorkflowStatus.COMPLETED,
            "FAILED": WorkflowStatus.FAILED,
            "TERMINATED": WorkflowStatus.TERMINATED,
        }.get(wanted)
        if status is None:
            self.fail(
                task, f"terminationStatus must be COMPLETED, FAILED or TERMINATED, not {wanted}"
            )
            return
        given = task.input_data.get("workflowOutput")
        # Conductor's: a map is the output itself, any other value is wrapped as "output"
        output = dict(given) if isinstance(given, dict) else {"output": given}
        if given is None:
            output = {}
        self.done(task, output)
        task.executed = True
        reason = str(task.input_data.get("terminationReason") or "").strip()
        if not reason:
            reason = f"Workflow is {wanted} by TERMINATE task: {task.task_id}"
        run.end(status, reason, task if not status.successful else None, output=dict(output))

    # -- tasks that wait for a condition ----------------------------------------------------
    def evaluate(self, task: Task) -> bool:
        """Moves a waiting system task on if its condition holds; True if it did."""
        kind = task.task_type
        if kind == TaskType.WAIT:
            if task.wait_timeout and self.run.now >= task.wait_timeout:
                self.done(task, task.output_data)
                return True
        elif kind == TaskType.JOIN:
            return self.evaluate_join(task)
        elif kind == TaskType.DO_WHILE:
            return self.evaluate_loop(task)
        elif kind == TaskType.EXCLUSIVE_JOIN:
            return builtin_tasks.evaluate_exclusive_join(self, task)
        return False

    def latest(self, ref: str) -> Task | None:
        found = None
        for t in self.run.wf.tasks:
            if t.reference_task_name == ref and not t.retried:
                found = t
        return found

    def evaluate_join(self, task: Task) -> bool:
        run = self.run
        wt = workflow_task_of(run, task)
        names = task.input_data.get("joinOn") or list(wt.join_on)
        refs = [iteration_ref(r, task.iteration) if run.layout.loop_of(r) else r for r in names]
        joined = [self.latest(r) for r in refs]
        if any(t is None or not t.status.terminal or not t.executed for t in joined):
            return False
        output = {t.reference_task_name: t.output_data for t in joined if t is not None}
        errors = any(t is not None and t.status is TaskStatus.COMPLETED_WITH_ERRORS for t in joined)
        task.output_data = output
        run.finish(task, TaskStatus.COMPLETED_WITH_ERRORS if errors else TaskStatus.COMPLETED)
        return True

    def evaluate_loop(self, task: Task) -> bool:
        run = self.run
        ref = task.reference_task_name
        n = task.iteration
        body = [
            t for t in run.wf.tasks if t.loop_parent == ref and t.iteration == n and not t.retried
        ]
        if any(not t.status.terminal or not t.executed for t in body):
            return False
        wt = workflow_task_of(run, task)
        outputs = {base_ref(t.reference_task_name): t.output_data for t in body}
        task.output_data = {**task.output_data, str(n): outputs, "iteration": n}
        self.keep_last(task, wt)
        run.changed()
        try:
            again = self.loop_again(task, wt, outputs)
        except JavaScriptError as exc:
            task.reason_for_incompletion = (
                f"Unable to evaluate condition {wt.loop_condition}, exception {exc}"
            )
            run.finish(task, TaskStatus.FAILED_WITH_TERMINAL_ERROR)
            return True
        if again and wt.loop_over:
            task.iteration = n + 1
            task.output_data["iteration"] = n + 1
            task.output_data.update(self.loop_variables(task, wt))
            self.schedule(wt.loop_over[0], n + 1)
        else:
            run.finish(task, TaskStatus.COMPLETED)
        return True

    def loop_again(self, task: Task, wt: WorkflowTask, outputs: dict[str, Any]) -> bool:
        """Whether a DO_WHILE runs another iteration. The condition sees the loop's input,
        resolved now (not when the loop started), its own output and its tasks' outputs."""
        ref = task.reference_task_name
        bindings = {
            **self.resolve(wt.input_parameters, task.task_id),
            ref: dict(task.output_data),
            **outputs,
        }
        more = True
        if wt.items.strip():
            variables = self.loop_variables(task, wt)
            bindings.update(variables)
            more = int(variables["loopIndex"]) < len(self.loop_items(task, wt)) - 1
            if not wt.loop_condition.strip():
                return more
        value = self.run.js.evaluate(wt.loop_condition, bindings)
        if value is None:
            raise JavaScriptError("the condition gave null, not true or false")
        return bool(value) and more

    def keep_last(self, task: Task, wt: WorkflowTask) -> None:
        """``keepLastN``: drops the outputs and tasks of iterations older than the last N."""
        keep = wt.input_parameters.get("keepLastN")
        if not isinstance(keep, int) or isinstance(keep, bool) or keep < 1:
            return
        oldest_kept = task.iteration - keep + 1
        if oldest_kept <= 1:
            return
        for old in range(1, oldest_kept):
            task.output_data.pop(str(old), None)
        ref = task.reference_task_name
        self.run.wf.tasks = [
            t for t in self.run.wf.tasks if not (t.loop_parent == ref and t.iteration < oldest_kept)
        ]


def reported_type(wt: WorkflowTask) -> str:
    """The task type of a task made from ``wt``, as Conductor reports it: a worker task's name,
    FORK for both forks, the definition's type otherwise."""
    if wt.type is TaskType.SIMPLE:
        return wt.name
    if wt.type in (TaskType.FORK_JOIN, TaskType.FORK_JOIN_DYNAMIC):
        return FORK
    return str(wt.type)


FORK = "FORK"
CPEWF_TASK_ID = "CPEWF_TASK_ID"  # Conductor's system parameter: the id of the task resolved
# system tasks whose task def name is their type, whatever the definition names them
_NAMED_BY_TYPE = frozenset(
    {
        TaskType.SWITCH,
        TaskType.DECISION,
        TaskType.FORK_JOIN,
        TaskType.FORK_JOIN_DYNAMIC,
        TaskType.JOIN,
        TaskType.EXCLUSIVE_JOIN,
    }
)


def case_key(value: Any) -> str:
    """A switch case's key as Conductor writes it in decisionCases."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def parse_duration(value: Any) -> float | None:
    """Seconds in "30 seconds", "2m", "1h 30m", "10"; None if unreadable."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    if is_digits(text):
        return float(text)
    parts = _DURATION_PART.findall(text)
    if not parts or _DURATION_PART.sub("", text).strip(" ,"):
        return None
    return float(sum(int(n) * _UNIT_SECONDS[unit[0].lower()] for n, unit in parts))


def parse_until(value: Any) -> int | None:
    """Epoch ms of "2026-11-25 10:00", an ISO time (UTC when no zone) or epoch ms; else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    for candidate in (text, text.replace(" ", "T", 1)):
        try:
            when = dt.datetime.fromisoformat(candidate)
        except ValueError:
            continue
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return int(when.timestamp() * 1000)
    return None
