"""``/api/tasks``: the worker calls (poll, update, logs) and queue inspection, as Conductor's
TaskResource."""

from __future__ import annotations

from typing import Any

from aiohttp import web

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
from dynoq.workflow.model import RESULT_STATUSES, TaskResult, TaskStatus, workflow_id_of_task

MAX_POLL_COUNT = 1000
MAX_POLL_TIMEOUT_MS = 5000


def _worker(request: web.Request) -> tuple[str, str]:
    return request.query.get("workerid", ""), request.query.get("domain", "")


async def poll_one(request: web.Request) -> web.Response:
    """One task now IN_PROGRESS for this worker, or 204."""
    worker_id, domain = _worker(request)
    tasks = await engine(request).poll(request.match_info["tasktype"], 1, 0.0, worker_id, domain)
    return web.json_response(tasks[0].to_doc()) if tasks else no_content()


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
    return web.json_response([t.to_doc() for t in tasks])


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
    task = await engine(request).update_task(result)
    if not task.status.terminal:
        return no_content()
    tasks = await engine(request).poll(task.task_type, 1, 0.0, result.worker_id, task.domain)
    return web.json_response(tasks[0].to_doc()) if tasks else no_content()


async def get_task(request: web.Request) -> web.Response:
    task = await engine(request).get_task(request.match_info["taskId"])
    return web.json_response(task.to_doc())


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
    return web.json_response(await engine(request).poll_data(task_type))


T = PREFIX + "/tasks"
# Fixed paths first: aiohttp takes the first resource whose pattern matches.
ROUTES: tuple[tuple[str, str, Any], ...] = (
    ("POST", T, update),
    ("POST", T + "/update-v2", update_v2),
    ("GET", T + "/poll/batch/{tasktype}", poll_batch),
    ("GET", T + "/poll/{tasktype}", poll_one),
    ("GET", T + "/queue/sizes", queue_sizes),
    ("GET", T + "/queue/polldata", poll_data),
    ("GET", T + "/{taskId}", get_task),
    ("GET", T + "/{taskId}/log", get_logs),
    ("POST", T + "/{taskId}/log", add_log),
)
