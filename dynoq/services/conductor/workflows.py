"""``/api/workflow``: starting, reading and operating executions, as Conductor's
WorkflowResource (searches are in :mod:`conductor_search`)."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from aiohttp import web

from dynoq.core.models import is_digits
from dynoq.services.conductor.documents import workflow_doc
from dynoq.services.conductor.http import (
    PREFIX,
    engine,
    field,
    invalid,
    object_body,
    ok,
    query_flag,
    query_int,
    text,
)
from dynoq.workflow import admin
from dynoq.workflow.model import Workflow

MAX_EXECUTE_WAIT = 60
EXECUTE_CHECK_INTERVAL = 0.05


def _priority(value: int) -> int:
    if not 0 <= value <= 99:
        raise invalid(f"priority must be in 0..99, got {value}", "priority")
    return value


async def _start(request: web.Request, body: dict[str, Any], version: int | None) -> str:
    """Starts the workflow of a StartWorkflowRequest; its id."""
    inline = field(body, "workflowDef", dict, None)
    name = field(body, "name", str, "") or (inline or {}).get("name", "")
    if not name:
        raise invalid("name is required", "name")
    return await engine(request).start_workflow(
        name,
        field(body, "input", dict, {}),
        version=version,
        correlation_id=field(body, "correlationId", str, ""),
        priority=_priority(field(body, "priority", int, 0)),
        idempotency_key=field(body, "idempotencyKey", str, ""),
        task_to_domain=field(body, "taskToDomain", dict, None),
        workflow_def=inline,
        created_by=field(body, "createdBy", str, ""),
    )


async def start_workflow(request: web.Request) -> web.Response:
    """A StartWorkflowRequest; the new workflow's id as text."""
    body = await object_body(request)
    return text(await _start(request, body, field(body, "version", int, None)))


def _reached(workflow: Workflow, task_reference: str) -> bool:
    if workflow.status.terminal:
        return True
    return bool(task_reference) and any(
        t.reference_task_name == task_reference and t.status.terminal for t in workflow.tasks
    )


async def execute(request: web.Request) -> web.Response:
    """Starts a workflow (StartWorkflowRequest; name and version from the path) and answers its
    WorkflowRun once it ends, or once the task ``waitUntilTaskRef`` ends, or after
    ``waitForSeconds`` (default 10, at most 60) as it is then."""
    body = await object_body(request, required=False)
    body["name"] = request.match_info["name"]
    raw_version = request.match_info["version"]
    if not is_digits(raw_version):
        raise invalid(f"version must be an integer, got {raw_version!r}", "version")
    wait = query_int(request, "waitForSeconds", 10) or 0
    if not 0 <= wait <= MAX_EXECUTE_WAIT:
        raise invalid(f"waitForSeconds must be in 0..{MAX_EXECUTE_WAIT}", "waitForSeconds")
    task_reference = request.query.get("waitUntilTaskRef", "")
    workflow_id = await _start(request, body, int(raw_version))
    deadline = time.monotonic() + wait
    while True:
        workflow = await engine(request).get_workflow(workflow_id, True)
        if _reached(workflow, task_reference) or time.monotonic() >= deadline:
            break
        await asyncio.sleep(EXECUTE_CHECK_INTERVAL)
    run = {
        "workflowId": workflow.workflow_id,
        "requestId": request.query.get("requestId", ""),
        "correlationId": workflow.correlation_id,
        "createTime": workflow.create_time,
        "updateTime": workflow.update_time,
        "createdBy": workflow.created_by,
        "priority": workflow.priority,
        "status": str(workflow.status),
        "input": workflow.input,
        "output": workflow.output,
        "variables": workflow.variables,
        "tasks": workflow_doc(workflow)["tasks"],
    }
    return web.json_response(run)


async def start_workflow_by_name(request: web.Request) -> web.Response:
    """The body is the input; ``?version&correlationId&priority``."""
    body = await object_body(request, required=False)
    workflow_id = await engine(request).start_workflow(
        request.match_info["name"],
        body,
        version=query_int(request, "version", None),
        correlation_id=request.query.get("correlationId", ""),
        priority=_priority(query_int(request, "priority", 0) or 0),
    )
    return text(workflow_id)


async def get_workflow(request: web.Request) -> web.Response:
    include_tasks = query_flag(request, "includeTasks", True)
    workflow = await engine(request).get_workflow(request.match_info["workflowId"], include_tasks)
    return web.json_response(workflow_doc(workflow, include_tasks))


async def get_workflow_status(request: web.Request) -> web.Response:
    workflow = await engine(request).get_workflow(request.match_info["workflowId"], False)
    body: dict[str, Any] = {
        "workflowId": workflow.workflow_id,
        "correlationId": workflow.correlation_id,
        "status": str(workflow.status),
    }
    if query_flag(request, "includeOutput", False):
        body["output"] = workflow.output
    if query_flag(request, "includeVariables", False):
        body["variables"] = workflow.variables
    return web.json_response(body)


async def terminate(request: web.Request) -> web.Response:
    await engine(request).terminate(
        request.match_info["workflowId"],
        request.query.get("reason", ""),
        query_flag(request, "triggerFailureWorkflow", False),
    )
    return ok()


async def pause(request: web.Request) -> web.Response:
    await engine(request).pause(request.match_info["workflowId"])
    return ok()


async def resume(request: web.Request) -> web.Response:
    await engine(request).resume(request.match_info["workflowId"])
    return ok()


async def restart(request: web.Request) -> web.Response:
    latest = query_flag(request, "useLatestDefinitions", False)
    await engine(request).restart(request.match_info["workflowId"], latest)
    return ok()


async def retry(request: web.Request) -> web.Response:
    resume_subworkflows = query_flag(request, "resumeSubworkflowTasks", False)
    await engine(request).retry(request.match_info["workflowId"], resume_subworkflows)
    return ok()


async def rerun(request: web.Request) -> web.Response:
    """A RerunWorkflowRequest (empty: from the first task); the workflow's id as text."""
    body = await object_body(request, required=False)
    workflow_id = await engine(request).rerun(
        request.match_info["workflowId"],
        from_task_id=field(body, "reRunFromTaskId", str, ""),
        task_input=field(body, "taskInput", dict, None),
        workflow_input=field(body, "workflowInput", dict, None),
        correlation_id=field(body, "correlationId", str, None),
    )
    return text(workflow_id)


async def skip_task(request: web.Request) -> web.Response:
    """An optional SkipTaskRequest body ``{taskInput, taskOutput}``."""
    body = await object_body(request, required=False)
    await engine(request).skip_task(
        request.match_info["workflowId"],
        request.match_info["taskReferenceName"],
        field(body, "taskInput", dict, None),
        field(body, "taskOutput", dict, None),
    )
    return ok()


async def remove(request: web.Request) -> web.Response:
    await engine(request).remove_workflow(request.match_info["workflowId"])
    return ok()


async def workflow_tasks(request: web.Request) -> web.Response:
    """``?start=0&count=15&status=A&status=B``: a page of the workflow's tasks,
    ``{totalHits, results}``."""
    start = query_int(request, "start", 0) or 0
    count = query_int(request, "count", 15)
    if start < 0 or count is None or count < 0:
        raise invalid("start and count must be >= 0", "start")
    wanted = {s.upper() for raw in request.query.getall("status", []) for s in raw.split(",") if s}
    workflow = await engine(request).get_workflow(request.match_info["workflowId"], True)
    tasks = workflow_doc(workflow)["tasks"]
    if wanted:
        tasks = [t for t in tasks if t["status"] in wanted]
    return web.json_response({"totalHits": len(tasks), "results": tasks[start : start + count]})


async def reset_callbacks(request: web.Request) -> web.Response:
    """Tasks waiting out a ``callbackAfterSeconds`` are due now."""
    await admin.reset_callbacks(engine(request), request.match_info["workflowId"])
    return ok()


async def terminate_remove(request: web.Request) -> web.Response:
    workflow_id = request.match_info["workflowId"]
    workflow = await engine(request).get_workflow(workflow_id, False)
    if not workflow.status.terminal:
        await engine(request).terminate(workflow_id, request.query.get("reason", ""))
    await engine(request).remove_workflow(workflow_id)
    return ok()


async def test_workflow(request: web.Request) -> web.Response:
    """A WorkflowTestRequest: a StartWorkflowRequest (usually with an inline ``workflowDef``)
    and ``taskRefToMockOutput {ref: [{status, output}]}``. The workflow runs for real, each
    mocked task completed with its mocks in turn; answers the Workflow as it then is."""
    body = await object_body(request)
    mocks = field(body, "taskRefToMockOutput", dict, {})
    for ref, results in mocks.items():
        if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
            raise invalid(f"taskRefToMockOutput.{ref} must be a list of TaskMock objects")
    workflow_id = await _start(request, body, field(body, "version", int, None))
    workflow = await admin.test_run(engine(request), workflow_id, mocks)
    return web.json_response(workflow_doc(workflow))


_OPERATIONS = ("READ", "WRITE")
_PAYLOAD_TYPES = ("WORKFLOW_INPUT", "WORKFLOW_OUTPUT", "TASK_INPUT", "TASK_OUTPUT")


async def external_storage_location(request: web.Request) -> web.Response:
    """No external payload storage is configured: as Conductor's default (dummy) storage, a
    fresh path and no ``uri``; payloads stay inline."""
    operation = request.query.get("operation", "")
    payload_type = request.query.get("payloadType", "")
    if operation not in _OPERATIONS:
        raise invalid(f"operation must be one of {', '.join(_OPERATIONS)}", "operation")
    if payload_type not in _PAYLOAD_TYPES:
        raise invalid(f"payloadType must be one of {', '.join(_PAYLOAD_TYPES)}", "payloadType")
    path = request.query.get("path", "")
    return web.json_response({"path": f"{path}{uuid.uuid4()}.json"})


async def decide(request: web.Request) -> web.Response:
    await engine(request).decide(request.match_info["workflowId"])
    return ok()


W = PREFIX + "/workflow"
ID = W + "/{workflowId}"
# Fixed paths first: aiohttp takes the first resource whose pattern matches (the routes of
# conductor_search come before these).
ROUTES: tuple[tuple[str, str, Any], ...] = (
    ("POST", W, start_workflow),
    ("POST", W + "/execute/{name}/{version}", execute),
    ("PUT", W + "/decide/{workflowId}", decide),
    ("POST", W + "/test", test_workflow),
    ("GET", W + "/externalstoragelocation", external_storage_location),
    ("GET", W + "/external-storage-location", external_storage_location),
    ("POST", W + "/{name}", start_workflow_by_name),
    ("GET", ID, get_workflow),
    ("DELETE", ID, terminate),
    ("GET", ID + "/status", get_workflow_status),
    ("PUT", ID + "/pause", pause),
    ("PUT", ID + "/resume", resume),
    ("POST", ID + "/restart", restart),
    ("POST", ID + "/retry", retry),
    ("POST", ID + "/rerun", rerun),
    ("PUT", ID + "/skiptask/{taskReferenceName}", skip_task),
    ("DELETE", ID + "/remove", remove),
    ("GET", ID + "/tasks", workflow_tasks),
    ("POST", ID + "/resetcallbacks", reset_callbacks),
    ("DELETE", ID + "/terminate-remove", terminate_remove),
)
