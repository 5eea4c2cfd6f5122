"""``/api/admin``, ``/api/queue`` and ``/api/version``, as Conductor's AdminResource,
QueueAdminResource and VersionResource, mapped onto dynoq's own repair paths: a requeue for
sweep wakes the workflow on the decider queue, verify-and-repair is the workflow sweeper's
repair, and the event queues are the dynoq queues event handlers read."""

from __future__ import annotations

from typing import Any

from aiohttp import web

import dynoq
from dynoq.services.conductor.documents import task_doc
from dynoq.services.conductor.http import (
    PREFIX,
    engine,
    invalid,
    object_body,
    ok,
    query_flag,
    query_int,
    text,
)
from dynoq.workflow import admin
from dynoq.workflow.event_processor import EventProcessor
from dynoq.workflow.events import CONDUCTOR_EVENTS, DYNOQ_PREFIX, EventHandlerStore, queue_of
from dynoq.workflow.model import RESULT_STATUSES, Task, TaskResult, TaskStatus

MAX_PENDING_PAGE = 1000


async def config(request: web.Request) -> web.Response:
    """What this server runs with (nothing secret: no Redis URL, no tokens)."""
    e = engine(request)
    return web.json_response(
        {
            "version": dynoq.__version__,
            "server": "dynoq",
            "namespace": e.namespace,
            "shards": e.shards,
            "eventQueue": CONDUCTOR_EVENTS,
        }
    )


async def pending_tasks(request: web.Request) -> web.Response:
    """``?start=0&count=100``: the tasks waiting in a task type's queue, next first."""
    start = query_int(request, "start", 0) or 0
    count = query_int(request, "count", 100) or 0
    if start < 0 or not 0 <= count <= MAX_PENDING_PAGE:
        raise invalid(f"start must be >= 0 and count in 0..{MAX_PENDING_PAGE}", "count")
    queue = engine(request).task_queue(request.match_info["tasktype"])
    messages = await queue.peek(start + count)
    tasks = [task_doc(Task.from_doc(m.payload)) for m in messages if isinstance(m.payload, dict)]
    return web.json_response(tasks[start : start + count])


async def requeue_sweep(request: web.Request) -> web.Response:
    """The workflow is decided again now; its id as text."""
    workflow_id = request.match_info["workflowId"]
    await engine(request).get_workflow(workflow_id, False)  # 404 when there is none
    await engine(request).wake(workflow_id)
    return text(workflow_id)


async def verify_and_repair(request: web.Request) -> web.Response:
    """The workflow sweeper's repair of one workflow; ``true`` when something was repaired."""
    workflow_id = request.match_info["workflowId"]
    await engine(request).get_workflow(workflow_id, False)
    repaired = await engine(request).repair(workflow_id)
    return text("true" if repaired else "false")


async def _event_queues(request: web.Request) -> list[str]:
    store = EventHandlerStore(engine(request).client, engine(request).namespace)
    names = {CONDUCTOR_EVENTS}
    names.update(queue_of(h["event"]) for h in await store.all())
    return sorted(names)


async def event_queues(request: web.Request) -> web.Response:
    """``{event: queue}`` of the queues event handlers read (``?verbose=true``: their
    sizes too, ``{event: {queue: size}}``)."""
    verbose = query_flag(request, "verbose", False)
    processor = EventProcessor(engine(request))
    out: dict[str, Any] = {}
    try:
        for name in await _event_queues(request):
            event = "conductor" if name == CONDUCTOR_EVENTS else DYNOQ_PREFIX + name
            if verbose:
                out[event] = {name: await processor.queue(name).size()}
            else:
                out[event] = name
    finally:
        await processor.aclose()
    return web.json_response(out)


async def queue_sizes(request: web.Request) -> web.Response:
    """``{queue: size}`` of the event queues."""
    processor = EventProcessor(engine(request))
    try:
        sizes = {n: await processor.queue(n).size() for n in await _event_queues(request)}
    finally:
        await processor.aclose()
    return web.json_response(sizes)


async def queue_names(request: web.Request) -> web.Response:
    """``{status: queue}``: where Conductor's default event queues would be. dynoq has one
    queue for every status: updates are posted straight to the workflow."""
    return web.json_response({"COMPLETED": CONDUCTOR_EVENTS, "FAILED": CONDUCTOR_EVENTS})


def _status(raw: str) -> TaskStatus:
    if raw not in RESULT_STATUSES:
        allowed = ", ".join(sorted(RESULT_STATUSES))
        raise invalid(f"status must be one of {allowed}, got {raw!r}", "status")
    return TaskStatus(raw)


async def update_by_reference(request: web.Request) -> web.Response:
    """Completes (or fails) a workflow's pending task of that reference with the body as its
    output (how Conductor's queue admin completes WAIT tasks)."""
    status = _status(request.match_info["status"])
    output = await object_body(request, required=False)
    workflow_id = request.match_info["workflowId"]
    task = await admin.pending_task(engine(request), workflow_id, request.match_info["taskRefName"])
    await engine(request).update_task(TaskResult(task.task_id, workflow_id, status, output))
    return ok()


async def update_by_id(request: web.Request) -> web.Response:
    status = _status(request.match_info["status"])
    output = await object_body(request, required=False)
    workflow_id = request.match_info["workflowId"]
    await engine(request).update_task(
        TaskResult(request.match_info["taskId"], workflow_id, status, output)
    )
    return ok()


async def version(request: web.Request) -> web.Response:
    return text(dynoq.__version__)


A = PREFIX + "/admin"
Q = PREFIX + "/queue"
ROUTES: tuple[tuple[str, str, Any], ...] = (
    ("GET", A + "/config", config),
    ("GET", A + "/task/{tasktype}", pending_tasks),
    ("POST", A + "/sweep/requeue/{workflowId}", requeue_sweep),
    ("POST", A + "/consistency/verifyAndRepair/{workflowId}", verify_and_repair),
    ("GET", A + "/queues", event_queues),
    ("GET", Q + "/size", queue_sizes),
    ("GET", Q + "/", queue_names),
    ("POST", Q + "/update/{workflowId}/{taskRefName}/{status}", update_by_reference),
    ("POST", Q + "/update/{workflowId}/task/{taskId}/{status}", update_by_id),
    ("GET", PREFIX + "/version", version),
)
