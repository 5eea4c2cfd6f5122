"""``/api/tasks``: the worker calls (poll, update, logs) and queue inspection, as Conductor's
TaskResource."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from dynoq.services.conductor.documents import task_doc, workflow_doc
from dynoq.services.conductor.http import (
    PREFIX,
    engine,
    field,
    invalid,
    no_content,
    object_body,
    ok,
    query_int,
    text,
    text_body,
)
from dynoq.workflow import admin
from dynoq.workflow.model import (
    RESULT_STATUSES,
    Task,
    TaskResult,
    TaskStatus,
    Workflow,
    workflow_id_of_task,
)
from dynoq.workflow.query import parse_query, parse_sort

MAX_POLL_COUNT = 1000
MAX_POLL_TIMEOUT_MS = 5000
MAX_SEARCH_SIZE = 5000


def _worker(request: web.Request) -> tuple[str, str]:
    return request.query.get("workerid", ""), request.query.get("domain", "")


async def poll_one(request: web.Request) -> web.Response:
    """One task now IN_PROGRESS for this worker, or 204."""
    worker_id, domain = _worker(request)
    tasks = await engine(request).poll(request.match_info["tasktype"], 1, 0.0, worker_id, domain)
    return web.json_response(task_doc(tasks[0])) if tasks else no_content()


async def poll_batch(request: web.Request) -> web.Response:
    """``?count=1&timeout=100`` (ms, long poll for the first); a list, ``[]`` when empty."""
    count = query_int(request, "count", 1) or 0
    timeout = query_int(request, "timeout", 100) or 0
    if not 1 <= count <= MAX_POLL_COUNT:
        raise invalid(f"count must be in 1..{MAX_POLL_COUNT}, got {count}", "count")
    if not 0 <= timeout <= MAX_POLL_TIMEOUT_MS:
        raise invalid(f"timeout must be in 0..{MAX_POLL_TIMEOUT_MS} ms, got {timeout}", "timeout")
    worker_id, domain = _worker(request)
    tasks = await engine(request).poll(
        request.match_info["tasktype"], count, timeout / 1000, worker_id, domain
    )
    return web.json_response([task_doc(t) for t in tasks])


def _logs(body: dict[str, Any]) -> tuple[str, ...]:
    """TaskResult.logs: TaskExecLog objects ``{log, ...}`` (or plain strings)."""
    entries = field(body, "logs", list, [])
    out = []
    for index, entry in enumerate(entries):
        message = entry.get("log") if isinstance(entry, dict) else entry
        if not isinstance(message, str):
            raise invalid(f"logs[{index}] must be a TaskExecLog with a log text", f"logs[{index}]")
        out.append(message)
    return tuple(out)


def task_result(body: dict[str, Any]) -> TaskResult:
    """Conductor's TaskResult document; unknown fields are ignored."""
    task_id = field(body, "taskId", str, "")
    if not task_id:
        raise invalid("taskId is required", "taskId")
    status = field(body, "status", str, "")
    if status not in RESULT_STATUSES:
        allowed = ", ".join(sorted(RESULT_STATUSES))
        raise invalid(f"status must be one of {allowed}, got {status!r}", "status")
    callback = field(body, "callbackAfterSeconds", int, 0)
    if callback < 0:
        raise invalid("callbackAfterSeconds must be >= 0", "callbackAfterSeconds")
    workflow_id = field(body, "workflowInstanceId", str, "") or workflow_id_of_task(task_id)
    return TaskResult(
        task_id=task_id,
        workflow_instance_id=workflow_id,
        status=TaskStatus(status),
        output_data=field(body, "outputData", dict, {}),
        reason_for_incompletion=field(body, "reasonForIncompletion", str, ""),
        callback_after_seconds=callback,
        worker_id=field(body, "workerId", str, ""),
        logs=_logs(body),
        extend_lease=field(body, "extendLease", bool, False),
    )


async def update(request: web.Request) -> web.Response:
    """A TaskResult; the task's id as text."""
    result = task_result(await object_body(request))
    await engine(request).update_task(result)
    return text(result.task_id)


async def update_v2(request: web.Request) -> web.Response:
    """A TaskResult; when the task is now terminal, the next task of its type for the same
    worker and domain (polled without waiting), else 204."""
    result = task_result(await object_body(request))
    _, polled = await engine(request).update_task_and_poll(result)
    return web.json_response(task_doc(polled)) if polled is not None else no_content()


async def get_task(request: web.Request) -> web.Response:
    task = await engine(request).get_task(request.match_info["taskId"])
    return web.json_response(task_doc(task))


async def add_log(request: web.Request) -> web.Response:
    """The body is the log line: raw text, or a JSON string."""
    await engine(request).add_task_log(request.match_info["taskId"], await text_body(request))
    return ok()


async def get_logs(request: web.Request) -> web.Response:
    return web.json_response(await engine(request).get_task_logs(request.match_info["taskId"]))


async def queue_sizes(request: web.Request) -> web.Response:
    """``?taskType=a&taskType=b`` (or ``taskType=a,b``); ``{taskType: size}``."""
    names = [n for raw in request.query.getall("taskType", []) for n in raw.split(",") if n]
    return web.json_response(await engine(request).queue_sizes(names))


async def poll_data(request: web.Request) -> web.Response:
    task_type = request.query.get("taskType", "")
    if not task_type:
        raise invalid("taskType is required", "taskType")
    return web.json_response([_without_null(p) for p in await engine(request).poll_data(task_type)])


def _result_status(raw: str) -> TaskStatus:
    if raw not in RESULT_STATUSES:
        allowed = ", ".join(sorted(RESULT_STATUSES))
        raise invalid(f"status must be one of {allowed}, got {raw!r}", "status")
    return TaskStatus(raw)


async def _update_by_reference(request: web.Request, task: Task) -> None:
    status = _result_status(request.match_info["status"])
    output = await object_body(request, required=False)
    worker_id = request.query.get("workerid", "")
    await engine(request).update_task(
        TaskResult(task.task_id, task.workflow_instance_id, status, output, worker_id=worker_id)
    )


async def update_by_reference(request: web.Request) -> web.Response:
    """The body is the task's output; completes (or fails...) the workflow's pending task of
    that reference: how Conductor's SDKs complete WAIT and HUMAN tasks. The task id as text."""
    _result_status(request.match_info["status"])
    workflow_id = request.match_info["workflowId"]
    reference = request.match_info["taskRefName"]
    task = await admin.pending_task(engine(request), workflow_id, reference)
    await _update_by_reference(request, task)
    return text(task.task_id)


async def _decided(request: web.Request, workflow_id: str) -> dict[str, Any]:
    await engine(request).decide(workflow_id)
    return workflow_doc(await engine(request).get_workflow(workflow_id, True))


async def update_by_reference_sync(request: web.Request) -> web.Response:
    """As :func:`update_by_reference`; answers the Workflow once the update is decided."""
    _result_status(request.match_info["status"])
    workflow_id = request.match_info["workflowId"]
    reference = request.match_info["taskRefName"]
    task = await admin.pending_task(engine(request), workflow_id, reference)
    await _update_by_reference(request, task)
    return web.json_response(await _decided(request, workflow_id))


async def signal(request: web.Request) -> web.Response:
    """Completes (or fails) the task the workflow is blocked on (its pending WAIT, HUMAN or
    YIELD task) with the body as its output."""
    _result_status(request.match_info["status"])
    workflow_id = request.match_info["workflowId"]
    task = await admin.blocked_task(engine(request), workflow_id)
    await _update_by_reference(request, task)
    return ok()


async def signal_sync(request: web.Request) -> web.Response:
    """As :func:`signal`; answers Conductor's SignalResponse for the target workflow (the
    Workflow document with ``responseType``, ``targetWorkflowId`` and its status)."""
    _result_status(request.match_info["status"])
    workflow_id = request.match_info["workflowId"]
    task = await admin.blocked_task(engine(request), workflow_id)
    await _update_by_reference(request, task)
    doc = await _decided(request, workflow_id)
    doc.update(
        responseType="TARGET_WORKFLOW",
        targetWorkflowId=workflow_id,
        targetWorkflowStatus=doc["status"],
        requestId=request.query.get("requestId", ""),
    )
    return web.json_response(doc)


async def queue_size(request: web.Request) -> web.Response:
    """``?taskType&domain``: how many tasks wait in that queue, as a number."""
    task_type = request.query.get("taskType", "")
    if not task_type:
        raise invalid("taskType is required", "taskType")
    sizes = await engine(request).queue_sizes([task_type])
    return web.json_response(sizes[task_type])


async def queue_all(request: web.Request) -> web.Response:
    """``{taskType: size}`` of every task queue."""
    names = await admin.task_types(engine(request))
    return web.json_response(await engine(request).queue_sizes(names))


async def queue_all_verbose(request: web.Request) -> web.Response:
    """``{taskType: {shard: {size, uacked}}}`` of every task queue (uacked: leased)."""
    out: dict[str, dict[str, dict[str, int]]] = {}
    for name in await admin.task_types(engine(request)):
        stats = await engine(request).task_queue(name).stats()
        out[name] = {
            str(index): {"size": s.ready + s.delayed, "uacked": s.in_flight}
            for index, s in enumerate(stats.shards)
        }
    return web.json_response(out)


async def poll_data_all(request: web.Request) -> web.Response:
    out: list[dict[str, Any]] = []
    for name in await admin.task_types(engine(request)):
        out.extend(_without_null(p) for p in await engine(request).poll_data(name))
    return web.json_response(out)


def _without_null(doc: dict[str, Any]) -> dict[str, Any]:
    """Conductor leaves a PollData's unset ``domain`` out (its UI would send ``null`` back)."""
    return {k: v for k, v in doc.items() if v is not None and v != ""}


async def requeue(request: web.Request) -> web.Response:
    """Expired leases and dead letters of the type back to its queue; how many, as text."""
    moved = await admin.requeue(engine(request), request.match_info["taskType"])
    return text(str(moved))


def _iso(millis: int) -> str | None:
    if not millis:
        return None
    moment = datetime.fromtimestamp(millis / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis % 1000:03d}Z"


def task_summary(task: Task, workflow: Workflow) -> dict[str, Any]:
    """Conductor's TaskSummary (times as ISO text, input and output as JSON text)."""
    doc = {
        "workflowId": workflow.workflow_id,
        "workflowType": workflow.workflow_name,
        "correlationId": workflow.correlation_id,
        "scheduledTime": _iso(task.scheduled_time),
        "startTime": _iso(task.start_time),
        "updateTime": _iso(task.update_time),
        "endTime": _iso(task.end_time),
        "status": str(task.status),
        "reasonForIncompletion": task.reason_for_incompletion,
        "executionTime": task.end_time - task.start_time if task.end_time else 0,
        "queueWaitTime": task.queue_wait_time,
        "taskDefName": task.task_def_name,
        "taskType": task.task_type,
        "input": json.dumps(task.input_data),
        "output": json.dumps(task.output_data),
        "taskId": task.task_id,
        "taskReferenceName": task.reference_task_name,
        "workflowPriority": workflow.priority,
        "domain": task.domain,
    }
    return {k: v for k, v in doc.items() if v is not None and v != ""}


async def found_tasks(request: web.Request) -> tuple[int, list[tuple[Task, Workflow]]]:
    start = query_int(request, "start", 0) or 0
    size = query_int(request, "size", 100)
    if start < 0 or size is None or not 0 <= size <= MAX_SEARCH_SIZE:
        raise invalid(f"start must be >= 0 and size in 0..{MAX_SEARCH_SIZE}", "size")
    return await admin.search_tasks(
        engine(request),
        parse_query(request.query.get("query", "")),
        request.query.get("freeText", "*"),
        parse_sort(request.query.get("sort", "")),
        start,
        size,
    )


async def search(request: web.Request) -> web.Response:
    """``?start&size&sort&freeText&query``: ``{totalHits, results}`` of TaskSummary."""
    total, found = await found_tasks(request)
    return web.json_response(
        {"totalHits": total, "results": [task_summary(t, w) for t, w in found]}
    )


async def search_v2(request: web.Request) -> web.Response:
    """As :func:`search`, with Task documents."""
    total, found = await found_tasks(request)
    return web.json_response({"totalHits": total, "results": [task_doc(t) for t, _ in found]})


T = PREFIX + "/tasks"
# Fixed paths first: aiohttp takes the first resource whose pattern matches.
ROUTES: tuple[tuple[str, str, Any], ...] = (
    ("POST", T, update),
    ("POST", T + "/update-v2", update_v2),
    ("GET", T + "/poll/batch/{tasktype}", poll_batch),
    ("GET", T + "/poll/{tasktype}", poll_one),
    ("GET", T + "/queue/sizes", queue_sizes),
    ("GET", T + "/queue/polldata", poll_data),
    ("GET", T + "/queue/size", queue_size),
    ("GET", T + "/queue/all", queue_all),
    ("GET", T + "/queue/all/verbose", queue_all_verbose),
    ("GET", T + "/queue/polldata/all", poll_data_all),
    ("POST", T + "/queue/requeue/{taskType}", requeue),
    ("GET", T + "/search", search),
    ("GET", T + "/search-v2", search_v2),
    ("POST", T + "/{workflowId}/{status}/signal", signal),
    ("POST", T + "/{workflowId}/{status}/signal/sync", signal_sync),
    ("POST", T + "/{workflowId}/{taskRefName}/{status}", update_by_reference),
    ("POST", T + "/{workflowId}/{taskRefName}/{status}/sync", update_by_reference_sync),
    ("GET", T + "/{taskId}", get_task),
    ("GET", T + "/{taskId}/log", get_logs),
    ("POST", T + "/{taskId}/log", add_log),
)
