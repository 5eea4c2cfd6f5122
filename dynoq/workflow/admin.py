"""Operator calls built on the engine's public methods: a workflow's pending task by reference,
the task a signal completes, callbacks reset, task queues listed and requeued, task search."""

from __future__ import annotations

from typing import Any

from dynoq.backend.registry import alist_queues
from dynoq.core.models import is_digits
from dynoq.errors import NotFound
from dynoq.workflow.engine import TASK_QUEUE_PREFIX, WorkflowEngine
from dynoq.workflow.model import Task, TaskResult, TaskStatus, Workflow
from dynoq.workflow.query import (
    EVERYTHING,
    Clause,
    Node,
    SortKey,
    matches,
    matches_text,
    narrowing,
    sortable,
)
from dynoq.workflow.search import search_workflows

TASK_SEARCH_WORKFLOWS = 1000  # the newest workflows a task search reads, at most
TASK_TEXT_FIELDS = ("taskId", "workflowId", "taskDefName", "taskType", "inputData", "outputData")
# the tasks a signal is meant for: they wait for the outside world, not for a worker
_SIGNAL_TYPES = ("WAIT", "HUMAN", "YIELD", "WAIT_FOR_WEBHOOK")


async def pending_task(engine: WorkflowEngine, workflow_id: str, reference: str) -> Task:
    """The newest task of ``reference`` that has not ended (NotFound otherwise)."""
    workflow = await engine.get_workflow(workflow_id, True)
    for task in reversed(workflow.tasks):
        if task.reference_task_name == reference and not task.status.terminal:
            return task
    raise NotFound(f"workflow {workflow_id} has no pending task {reference}")


async def blocked_task(engine: WorkflowEngine, workflow_id: str) -> Task:
    """The task a signal completes: the newest pending WAIT/HUMAN/YIELD task, else the newest
    pending task of any type."""
    workflow = await engine.get_workflow(workflow_id, True)
    pending = [t for t in workflow.tasks if not t.status.terminal]
    for task in reversed(pending):
        if task.task_type in _SIGNAL_TYPES:
            return task
    if pending:
        return pending[-1]
    raise NotFound(f"workflow {workflow_id} has no pending task")


async def reset_callbacks(engine: WorkflowEngine, workflow_id: str) -> int:
    """Makes every queued task of the workflow that waits out a callback due now; how many."""
    workflow = await engine.get_workflow(workflow_id, True)
    moved = 0
    for task in workflow.tasks:
        waiting = task.status is TaskStatus.SCHEDULED and task.callback_after_seconds > 0
        if waiting and await engine.task_queue(task.task_type).set_delay(task.task_id, 0):
            moved += 1
    return moved


async def task_types(engine: WorkflowEngine) -> list[str]:
    """The task types that have a queue (every type ever scheduled or polled)."""
    entries = await alist_queues(engine.client, engine.namespace)
    return sorted(
        e.name.removeprefix(TASK_QUEUE_PREFIX)
        for e in entries
        if e.name.startswith(TASK_QUEUE_PREFIX)
    )


async def requeue(engine: WorkflowEngine, task_type: str) -> int:
    """Gives a task type's expired leases and dead letters back to its queue; how many."""
    queue = engine.task_queue(task_type)
    return await queue.sweep() + await queue.requeue_dead()


def task_search_doc(task: Task, workflow: Workflow) -> dict[str, Any]:
    """What a task search matches a query against: the task with its workflow's type."""
    doc = task.to_doc()
    doc["workflowType"] = workflow.workflow_name
    doc["workflowId"] = workflow.workflow_id
    doc["correlationId"] = workflow.correlation_id
    return doc


async def search_tasks(
    engine: WorkflowEngine,
    query: Node,
    free_text: str = "*",
    sort: tuple[SortKey, ...] = (),
    start: int = 0,
    size: int = 100,
) -> tuple[int, list[tuple[Task, Workflow]]]:
    """(total hits, page) of the tasks matching ``query``, among the tasks of the workflows a
    ``workflowId``/``workflowType`` clause names, else of the newest
    :data:`TASK_SEARCH_WORKFLOWS` workflows. Newest first unless sorted otherwise."""
    n = narrowing(query, ("workflowid", "workflowtype"), "")
    if "workflowid" in n.values:
        ids = list(n.values["workflowid"])
    else:
        types = n.values.get("workflowtype", ())
        workflow_query = narrowing_query(types)
        _, summaries = await search_workflows(
            engine.store, workflow_query, "*", (), 0, TASK_SEARCH_WORKFLOWS
        )
        ids = [str(s["workflowId"]) for s in summaries]
    found: list[tuple[dict[str, Any], Task, Workflow]] = []
    for workflow_id in ids:
        try:
            workflow = await engine.get_workflow(workflow_id, True)
        except NotFound:
            continue
        for task in workflow.tasks:
            doc = task_search_doc(task, workflow)
            if matches(query, doc) and matches_text(doc, free_text, TASK_TEXT_FIELDS):
                found.append((doc, task, workflow))
    order = sort or (SortKey("scheduledTime", True),)
    for key in reversed(order):
        name = key.field
        found.sort(key=lambda item: sortable(item[0], name), reverse=key.descending)
    return len(found), [(t, w) for _, t, w in found[start : start + size]]


def narrowing_query(types: tuple[str, ...]) -> Node:
    return Clause("workflowtype", "IN", types) if types else EVERYTHING


MAX_TEST_STEPS = 1000


async def test_run(
    engine: WorkflowEngine, workflow_id: str, mocks: dict[str, list[dict[str, Any]]]
) -> Workflow:
    """Drives a started workflow with mocked task results (``{ref: [{status, output}]}``, one
    per attempt, in order) until it ends or no mocked task is left waiting; the workflow."""
    left = {ref: list(results) for ref, results in mocks.items()}
    workflow = await engine.get_workflow(workflow_id, True)
    for _ in range(MAX_TEST_STEPS):
        await engine.decide(workflow_id)
        workflow = await engine.get_workflow(workflow_id, True)
        if workflow.status.terminal:
            break
        moved = False
        for task in workflow.tasks:
            results = left.get(base_reference(task.reference_task_name))
            if task.status.terminal or not results:
                continue
            mock = results.pop(0)
            status = TaskStatus(str(mock.get("status") or "COMPLETED"))
            raw = mock.get("output")
            output: dict[str, Any] = raw if isinstance(raw, dict) else {}
            await engine.update_task(
                TaskResult(task.task_id, workflow_id, status, output, worker_id="test")
            )
            moved = True
        if not moved:
            break
    return workflow


def base_reference(reference: str) -> str:
    """A loop iteration's reference ``ref__2`` is made from the definition's ``ref``."""
    head, sep, tail = reference.rpartition("__")
    return head if sep and is_digits(tail) else reference
