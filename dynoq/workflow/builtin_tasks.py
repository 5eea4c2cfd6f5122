"""System tasks the decider runs itself, each as Conductor's does: JSON_JQ_TRANSFORM, LAMBDA,
NOOP, HUMAN, EVENT, START_WORKFLOW, KAFKA_PUBLISH and EXCLUSIVE_JOIN.

Each ``start_*`` is called once when its task is scheduled and either finishes the task or
leaves it IN_PROGRESS; EXCLUSIVE_JOIN is looked at again on every decide until it finishes.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from dynoq.errors import ScriptError
from dynoq.workflow.definitions import WorkflowTask
from dynoq.workflow.effects import ChildStart, Publish
from dynoq.workflow.javascript import lambda_source
from dynoq.workflow.model import Task, TaskStatus
from dynoq.workflow.structure import iteration_ref
from dynoq.workflow.transforms import (
    JqError,
    event_document,
    event_target,
    jq_transform,
    sink_problem,
)

if TYPE_CHECKING:
    from dynoq.workflow.tasks import TaskFactory

NO_KAFKA = (
    "KAFKA_PUBLISH needs a Kafka broker and dynoq has none configured;"
    " publish from a worker task or use an EVENT task with a dynoq sink"
)


def start_json_jq(factory: TaskFactory, task: Task) -> None:
    query = task.input_data.get("queryExpression")
    if not isinstance(query, str):
        factory.fail(task, "Missing 'queryExpression' in input parameters")
        return
    try:
        result, results = jq_transform(query, task.input_data)
    except JqError as exc:
        task.output_data = {"error": str(exc)}
        factory.fail(task, str(exc))
        return
    factory.done(task, {"result": result, "resultList": results})


def start_lambda(factory: TaskFactory, task: Task) -> None:
    script = task.input_data.get("scriptExpression")
    if not isinstance(script, str) or not script.strip():
        factory.fail(
            task,
            "Empty 'scriptExpression' in Lambda task's input parameters. A non-empty String"
            " value must be provided.",
        )
        return
    try:
        result = factory.run.js.evaluate(lambda_source(script), task.input_data)
    except ScriptError as exc:
        task.output_data = {"error": str(exc)}
        factory.fail(task, str(exc))
        return
    factory.done(task, {"result": result})


def start_human(factory: TaskFactory, task: Task) -> None:
    """Waits, IN_PROGRESS, for someone to update it (POST /api/tasks)."""
    task.status = TaskStatus.IN_PROGRESS
    task.start_time = factory.run.now


def start_kafka_publish(factory: TaskFactory, task: Task) -> None:
    factory.fail(task, NO_KAFKA)


def start_event(factory: TaskFactory, task: Task, wt: WorkflowTask) -> None:
    run = factory.run
    wf = run.wf
    sink = task.input_data.get("sink")
    problem = "an EVENT task needs a sink" if not isinstance(sink, str) else sink_problem(sink)
    if problem is not None:
        factory.fail(task, problem)
        return
    assert isinstance(sink, str)
    target = event_target(sink, wf.workflow_name, task.reference_task_name)
    about = {
        "workflowInstanceId": wf.workflow_id,
        "workflowType": wf.workflow_name,
        "workflowVersion": wf.workflow_version,
        "correlationId": wf.correlation_id,
    }
    payload = {k: v for k, v in task.input_data.items() if k != "sink"}
    document = event_document(
        target, payload, about, task.task_id, task.reference_task_name, run.now
    )
    run.out.publishes.append(Publish(target.queue, task.task_id, document))
    output = {
        **task.input_data,
        **about,
        "taskToDomain": dict(wf.task_to_domain),
        "taskId": task.task_id,
        "event_produced": target.event,
    }
    if wt.async_complete:  # published; an update or an event handler completes it
        task.status = TaskStatus.IN_PROGRESS
        task.start_time = run.now
        task.output_data = output
        return
    factory.done(task, output)


def start_workflow_task(factory: TaskFactory, task: Task) -> None:
    """START_WORKFLOW: starts another workflow, not a child, and completes with its id."""
    run = factory.run
    request = task.input_data.get("startWorkflow")
    if request is None:
        factory.fail(task, "Missing 'startWorkflow' in input data.")
        return
    problem = _start_request_problem(request)
    if problem is not None:
        factory.fail(task, f"startWorkflow validation failed. {problem}")
        return
    assert isinstance(request, dict)
    definition = request.get("workflowDef")
    version = request.get("version")
    # fixed by the task, so carrying the start out twice starts one workflow
    new_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"dynoq:start:{task.task_id}"))
    run.out.children.append(
        ChildStart(
            workflow_id=new_id,
            name=str(request.get("name") or (definition or {}).get("name", "")),
            version=version if isinstance(version, int) and not isinstance(version, bool) else None,
            input=dict(request.get("input") or {}),
            correlation_id=str(request.get("correlationId") or run.wf.correlation_id),
            priority=_priority(request.get("priority"), run.wf.priority),
            parent_workflow_id="",
            parent_workflow_task_id="",
            definition=definition if isinstance(definition, dict) else None,
            task_to_domain=dict(request.get("taskToDomain") or run.wf.task_to_domain),
            started_by=(run.wf.workflow_id, task.task_id),
        )
    )
    # as Conductor's (an async system task): ends once the start is carried out, COMPLETED
    # with the new workflow's id, or FAILED when it could not start
    task.status = TaskStatus.IN_PROGRESS
    task.start_time = run.now


def _start_request_problem(request: Any) -> str | None:
    if not isinstance(request, dict):
        return "'startWorkflow' must be an object (a StartWorkflowRequest)."
    name = request.get("name")
    definition = request.get("workflowDef")
    if not (isinstance(name, str) and name.strip()) and not isinstance(definition, dict):
        return "'name' -> Workflow name cannot be null or empty."
    for key in ("input", "taskToDomain"):
        if request.get(key) is not None and not isinstance(request[key], dict):
            return f"'{key}' -> must be an object."
    return None


def _priority(value: Any, default: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 99:
        return value
    return default


def start_exclusive_join(factory: TaskFactory, task: Task, wt: WorkflowTask) -> None:
    task.status = TaskStatus.IN_PROGRESS
    task.start_time = factory.run.now
    task.input_data.setdefault("joinOn", list(wt.join_on))
    if wt.default_exclusive_join_task:
        task.input_data.setdefault("defaultExclusiveJoinTask", list(wt.default_exclusive_join_task))


def evaluate_exclusive_join(factory: TaskFactory, task: Task) -> bool:
    """Completes with the output of the first ``joinOn`` task that ran (or, if none did, of the
    first ``defaultExclusiveJoinTask`` that ran), once it has ended; True if it did."""
    run = factory.run
    for key in ("joinOn", "defaultExclusiveJoinTask"):
        for name in task.input_data.get(key) or ():
            ref = iteration_ref(str(name), task.iteration) if task.iteration else str(name)
            found = factory.latest(ref)
            if found is None or found.status is TaskStatus.SKIPPED:
                continue
            if not found.status.terminal or (found.status.successful and not found.executed):
                return False
            if not found.status.successful:
                task.reason_for_incompletion = found.reason_for_incompletion
                run.finish(task, TaskStatus.FAILED)
            else:
                task.output_data = dict(found.output_data)
                run.finish(task, TaskStatus.COMPLETED)
            return True
    return False
