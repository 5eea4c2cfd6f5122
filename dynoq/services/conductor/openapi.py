"""The ``/api`` (Conductor-compatible) part of ``/openapi.json``. Bodies are Conductor's
documents; like Conductor, the server ignores fields it does not know, so no schema here
forbids additional properties."""

from __future__ import annotations

import re
from typing import Any

OBJECT = {"type": "object"}
TEXT = {"type": "string"}
IDS = {"type": "array", "items": TEXT}

SCHEMAS: dict[str, Any] = {
    "ConductorError": {
        "type": "object",
        "properties": {
            "status": {"type": "integer"},
            "code": TEXT,
            "message": TEXT,
            "instance": TEXT,
            "retryable": {"type": "boolean"},
            "validationErrors": {
                "type": "array",
                "items": {"type": "object", "properties": {"path": TEXT, "message": TEXT}},
            },
        },
        "required": ["status", "message"],
    },
    "WorkflowDef": {
        "type": "object",
        "properties": {"name": TEXT, "version": {"type": "integer"}, "tasks": {"type": "array"}},
    },
    "TaskDef": {"type": "object", "properties": {"name": TEXT}},
    "StartWorkflowRequest": {
        "type": "object",
        "properties": {
            "name": TEXT,
            "version": {"type": "integer"},
            "correlationId": TEXT,
            "input": OBJECT,
            "taskToDomain": {"type": "object", "additionalProperties": TEXT},
            "workflowDef": OBJECT,
            "priority": {"type": "integer", "minimum": 0, "maximum": 99},
            "idempotencyKey": TEXT,
            "createdBy": TEXT,
        },
    },
    "Workflow": {
        "type": "object",
        "properties": {"workflowId": TEXT, "status": TEXT, "tasks": {"type": "array"}},
    },
    "Task": {
        "type": "object",
        "properties": {"taskId": TEXT, "taskType": TEXT, "status": TEXT, "inputData": OBJECT},
    },
    "BulkResponse": {
        "type": "object",
        "properties": {
            "bulkSuccessfulResults": {"type": "array"},
            "bulkErrorResults": {"type": "object", "additionalProperties": TEXT},
        },
    },
    "SearchResult": {
        "type": "object",
        "properties": {"totalHits": {"type": "integer"}, "results": {"type": "array"}},
    },
    "EventHandler": {
        "type": "object",
        "properties": {
            "name": TEXT,
            "event": TEXT,
            "condition": TEXT,
            "evaluatorType": TEXT,
            "active": {"type": "boolean"},
            "actions": {"type": "array", "items": OBJECT},
        },
        "required": ["name", "event", "actions"],
    },
    "TaskResult": {
        "type": "object",
        "properties": {
            "taskId": TEXT,
            "workflowInstanceId": TEXT,
            "status": {
                "enum": ["IN_PROGRESS", "COMPLETED", "FAILED", "FAILED_WITH_TERMINAL_ERROR"]
            },
            "outputData": OBJECT,
            "reasonForIncompletion": TEXT,
            "callbackAfterSeconds": {"type": "integer", "minimum": 0},
            "workerId": TEXT,
            "logs": {"type": "array"},
            "extendLease": {"type": "boolean"},
        },
        "required": ["taskId", "status"],
    },
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _list(name: str) -> dict[str, Any]:
    return {"type": "array", "items": _ref(name)}


EMPTY = None  # 200 with an empty body
NO_TASK = "204"  # a Task, or 204 when there is none

# (method, path, summary, request body, response, query parameters "name:type")
OPERATIONS: tuple[tuple[str, str, str, Any, Any, tuple[str, ...]], ...] = (
    ("get", "/api/health", "Conductor's health document", None, OBJECT, ()),
    (
        "post",
        "/api/token",
        "{keyId, keySecret} -> {token} (404 without tokens)",
        OBJECT,
        OBJECT,
        (),
    ),
    (
        "post",
        "/api/metadata/workflow",
        "Register a workflow definition",
        _ref("WorkflowDef"),
        EMPTY,
        ("overwrite:boolean",),
    ),
    (
        "put",
        "/api/metadata/workflow",
        "Create or update workflow definitions (BulkResponse)",
        _list("WorkflowDef"),
        OBJECT,
        ("overwrite:boolean",),
    ),
    (
        "get",
        "/api/metadata/workflow",
        "Every version of every workflow definition",
        None,
        _list("WorkflowDef"),
        (),
    ),
    (
        "get",
        "/api/metadata/workflow/{name}",
        "A workflow definition (latest by default)",
        None,
        _ref("WorkflowDef"),
        ("version:integer",),
    ),
    (
        "delete",
        "/api/metadata/workflow/{name}/{version}",
        "Remove a workflow definition",
        None,
        EMPTY,
        (),
    ),
    (
        "post",
        "/api/metadata/taskdefs",
        "Create or replace task definitions",
        _list("TaskDef"),
        EMPTY,
        (),
    ),
    (
        "put",
        "/api/metadata/taskdefs",
        "Create or replace one task definition",
        _ref("TaskDef"),
        EMPTY,
        (),
    ),
    ("get", "/api/metadata/taskdefs", "Every task definition", None, _list("TaskDef"), ()),
    ("get", "/api/metadata/taskdefs/{tasktype}", "A task definition", None, _ref("TaskDef"), ()),
    ("delete", "/api/metadata/taskdefs/{tasktype}", "Remove a task definition", None, EMPTY, ()),
    (
        "post",
        "/api/workflow",
        "Start a workflow; its id as text",
        _ref("StartWorkflowRequest"),
        TEXT,
        (),
    ),
    (
        "post",
        "/api/workflow/execute/{name}/{version}",
        "Start a workflow and answer its WorkflowRun when it ends (or waitUntilTaskRef ends)",
        _ref("StartWorkflowRequest"),
        OBJECT,
        ("requestId:string", "waitUntilTaskRef:string", "waitForSeconds:integer"),
    ),
    (
        "get",
        "/api/workflow/search",
        "Search executions: {totalHits, results[WorkflowSummary]}",
        None,
        OBJECT,
        ("start:integer", "size:integer", "freeText:string", "query:string", "sort:string"),
    ),
    (
        "get",
        "/api/workflow/running/{name}",
        "Ids of running workflows",
        None,
        IDS,
        ("version:integer", "startTime:integer", "endTime:integer"),
    ),
    ("put", "/api/workflow/decide/{workflowId}", "Decide the workflow now", None, EMPTY, ()),
    (
        "get",
        "/api/workflow/{name}/correlated/{correlationId}",
        "Workflows of a correlation id",
        None,
        _list("Workflow"),
        ("includeClosed:boolean", "includeTasks:boolean"),
    ),
    (
        "post",
        "/api/workflow/{name}/correlated",
        "Workflows of each listed correlation id",
        IDS,
        OBJECT,
        ("includeClosed:boolean", "includeTasks:boolean"),
    ),
    (
        "post",
        "/api/workflow/{name}",
        "Start a workflow, the body being its input; id as text",
        OBJECT,
        TEXT,
        ("version:integer", "correlationId:string", "priority:integer"),
    ),
    (
        "get",
        "/api/workflow/{workflowId}",
        "A workflow execution",
        None,
        _ref("Workflow"),
        ("includeTasks:boolean",),
    ),
    (
        "delete",
        "/api/workflow/{workflowId}",
        "Terminate a workflow",
        None,
        EMPTY,
        ("reason:string", "triggerFailureWorkflow:boolean"),
    ),
    (
        "get",
        "/api/workflow/{workflowId}/status",
        "Status (optionally output and variables)",
        None,
        OBJECT,
        ("includeOutput:boolean", "includeVariables:boolean"),
    ),
    ("put", "/api/workflow/{workflowId}/pause", "Pause", None, EMPTY, ()),
    ("put", "/api/workflow/{workflowId}/resume", "Resume", None, EMPTY, ()),
    (
        "post",
        "/api/workflow/{workflowId}/restart",
        "Restart from the beginning",
        None,
        EMPTY,
        ("useLatestDefinitions:boolean",),
    ),
    (
        "post",
        "/api/workflow/{workflowId}/retry",
        "Retry the last failed task",
        None,
        EMPTY,
        ("resumeSubworkflowTasks:boolean",),
    ),
    (
        "post",
        "/api/workflow/{workflowId}/rerun",
        "Rerun (RerunWorkflowRequest); id as text",
        OBJECT,
        TEXT,
        (),
    ),
    (
        "put",
        "/api/workflow/{workflowId}/skiptask/{taskReferenceName}",
        "Skip a task (optional {taskInput, taskOutput})",
        OBJECT,
        EMPTY,
        (),
    ),
    (
        "delete",
        "/api/workflow/{workflowId}/remove",
        "Remove a workflow execution",
        None,
        EMPTY,
        ("archiveWorkflow:boolean",),
    ),
    (
        "post",
        "/api/tasks",
        "Update a task (TaskResult); its id as text",
        _ref("TaskResult"),
        TEXT,
        (),
    ),
    (
        "post",
        "/api/tasks/update-v2",
        "Update a task; the next task of its type, or 204",
        _ref("TaskResult"),
        NO_TASK,
        (),
    ),
    (
        "get",
        "/api/tasks/poll/batch/{tasktype}",
        "Long-poll up to count tasks ([] when none)",
        None,
        _list("Task"),
        ("count:integer", "timeout:integer", "workerid:string", "domain:string"),
    ),
    (
        "get",
        "/api/tasks/poll/{tasktype}",
        "Poll one task (204 when none)",
        None,
        NO_TASK,
        ("workerid:string", "domain:string"),
    ),
    ("get", "/api/tasks/queue/sizes", "Pending tasks per type", None, OBJECT, ("taskType:string",)),
    (
        "get",
        "/api/tasks/queue/polldata",
        "Last poll per worker",
        None,
        {"type": "array"},
        ("taskType:string",),
    ),
    ("get", "/api/tasks/{taskId}", "A task", None, _ref("Task"), ()),
    ("get", "/api/tasks/{taskId}/log", "A task's log lines", None, {"type": "array"}, ()),
    ("post", "/api/tasks/{taskId}/log", "Add a log line (the raw body)", TEXT, EMPTY, ()),
)

BULK = _ref("BulkResponse")
SEARCH = _ref("SearchResult")
PAGE = ("start:integer", "size:integer", "sort:string", "freeText:string", "query:string")
Q = "query"
# the routes added for Conductor parity, in the same form
PARITY_OPERATIONS: tuple[tuple[str, str, str, Any, Any, tuple[str, ...]], ...] = (
    (
        "post",
        "/api/metadata/workflow/validate",
        "Validate a definition",
        _ref("WorkflowDef"),
        EMPTY,
        (),
    ),
    ("get", "/api/metadata/workflow/names", "Workflow definition names", None, IDS, ()),
    (
        "get",
        "/api/metadata/workflow/names-and-versions",
        "{name: [WorkflowDefSummary]}",
        None,
        OBJECT,
        (),
    ),
    (
        "get",
        "/api/metadata/workflow/latest-versions",
        "The latest version of each definition",
        None,
        _list("WorkflowDef"),
        (),
    ),
    (
        "get",
        "/api/metadata/workflow/{name}/versions",
        "[WorkflowDefSummary] of a name",
        None,
        {"type": "array"},
        (),
    ),
    (
        "get",
        "/api/workflow/{workflowId}/tasks",
        "A page of a workflow's tasks",
        None,
        SEARCH,
        ("start:integer", "count:integer", "status:string"),
    ),
    (
        "post",
        "/api/workflow/{workflowId}/resetcallbacks",
        "Tasks waiting out a callback are due now",
        None,
        EMPTY,
        (),
    ),
    (
        "delete",
        "/api/workflow/{workflowId}/terminate-remove",
        "Terminate, then remove",
        None,
        EMPTY,
        ("reason:string", "archiveWorkflow:boolean"),
    ),
    ("get", "/api/workflow/search-v2", "Search: Workflow documents", None, SEARCH, PAGE),
    (
        "get",
        "/api/workflow/search-by-tasks",
        "Workflows whose tasks match: WorkflowSummary",
        None,
        SEARCH,
        PAGE,
    ),
    (
        "get",
        "/api/workflow/search-by-tasks-v2",
        "Workflows whose tasks match: Workflow",
        None,
        SEARCH,
        PAGE,
    ),
    (
        "post",
        "/api/workflow/test",
        "Run with mocked task outputs (WorkflowTestRequest)",
        OBJECT,
        _ref("Workflow"),
        (),
    ),
    (
        "get",
        "/api/workflow/externalstoragelocation",
        "No external storage: a path, no uri",
        None,
        OBJECT,
        ("path:string", "operation:string", "payloadType:string"),
    ),
    (
        "get",
        "/api/workflow/external-storage-location",
        "The same",
        None,
        OBJECT,
        ("path:string", "operation:string", "payloadType:string"),
    ),
    ("put", "/api/workflow/bulk/pause", "Pause workflows", IDS, BULK, ()),
    ("put", "/api/workflow/bulk/resume", "Resume workflows", IDS, BULK, ()),
    (
        "post",
        "/api/workflow/bulk/restart",
        "Restart workflows",
        IDS,
        BULK,
        ("useLatestDefinitions:boolean",),
    ),
    ("post", "/api/workflow/bulk/retry", "Retry workflows", IDS, BULK, ()),
    ("post", "/api/workflow/bulk/terminate", "Terminate workflows", IDS, BULK, ("reason:string",)),
    (
        "delete",
        "/api/workflow/bulk/remove",
        "Remove workflows",
        IDS,
        BULK,
        ("archiveWorkflow:boolean",),
    ),
    (
        "delete",
        "/api/workflow/bulk/terminate-remove",
        "Terminate and remove",
        IDS,
        BULK,
        ("reason:string",),
    ),
    ("post", "/api/workflow/bulk/search", "Workflows by id", IDS, BULK, ("includeTasks:boolean",)),
    (
        "post",
        "/api/tasks/{workflowId}/{taskRefName}/{status}",
        "Update a pending task by reference (body: output)",
        OBJECT,
        TEXT,
        ("workerid:string",),
    ),
    (
        "post",
        "/api/tasks/{workflowId}/{taskRefName}/{status}/sync",
        "The same; answers the Workflow",
        OBJECT,
        _ref("Workflow"),
        ("workerid:string",),
    ),
    (
        "post",
        "/api/tasks/{workflowId}/{status}/signal",
        "Complete the task the workflow waits on",
        OBJECT,
        EMPTY,
        (),
    ),
    (
        "post",
        "/api/tasks/{workflowId}/{status}/signal/sync",
        "The same; answers a SignalResponse",
        OBJECT,
        OBJECT,
        ("returnStrategy:string",),
    ),
    (
        "get",
        "/api/tasks/queue/size",
        "Pending tasks of a type",
        None,
        {"type": "integer"},
        ("taskType:string", "domain:string"),
    ),
    ("get", "/api/tasks/queue/all", "{taskType: size}", None, OBJECT, ()),
    (
        "get",
        "/api/tasks/queue/all/verbose",
        "{taskType: {shard: {size, uacked}}}",
        None,
        OBJECT,
        (),
    ),
    (
        "get",
        "/api/tasks/queue/polldata/all",
        "Poll data of every task type",
        None,
        {"type": "array"},
        (),
    ),
    (
        "post",
        "/api/tasks/queue/requeue/{taskType}",
        "Expired leases and dead letters back",
        None,
        TEXT,
        (),
    ),
    ("get", "/api/tasks/search", "Task search: TaskSummary", None, SEARCH, PAGE),
    ("get", "/api/tasks/search-v2", "Task search: Task", None, SEARCH, PAGE),
    ("post", "/api/event", "Add an event handler", _ref("EventHandler"), EMPTY, ()),
    ("put", "/api/event", "Update an event handler", _ref("EventHandler"), EMPTY, ()),
    ("get", "/api/event", "Every event handler", None, _list("EventHandler"), ()),
    (
        "get",
        "/api/event/{event}",
        "The handlers of an event",
        None,
        _list("EventHandler"),
        ("activeOnly:boolean",),
    ),
    (
        "get",
        "/api/event/{name}/executions",
        "A handler's last executions",
        None,
        {"type": "array"},
        ("count:integer",),
    ),
    ("delete", "/api/event/{name}", "Remove an event handler", None, EMPTY, ()),
    ("get", "/api/environment", "[{name, value}]", None, {"type": "array"}, ()),
    ("get", "/api/environment/{key}", "A variable's value", None, TEXT, ()),
    ("put", "/api/environment/{key}", "Set a variable (body: the value)", TEXT, EMPTY, ()),
    ("post", "/api/environment/{key}", "Set a variable (body: the value)", TEXT, EMPTY, ()),
    ("delete", "/api/environment/{key}", "Remove a variable", None, EMPTY, ()),
    ("get", "/api/secrets", "Secret names (never values)", None, IDS, ()),
    ("post", "/api/secrets", "Secret names (never values)", None, IDS, ()),
    ("get", "/api/secrets/{key}", "A secret's value (JSON string)", None, TEXT, ()),
    ("get", "/api/secrets/{key}/exists", "Whether it exists", None, {"type": "boolean"}, ()),
    ("put", "/api/secrets/{key}", "Set a secret (body: the value)", TEXT, EMPTY, ()),
    ("delete", "/api/secrets/{key}", "Remove a secret", None, EMPTY, ()),
    ("get", "/api/admin/config", "The server's configuration (nothing secret)", None, OBJECT, ()),
    (
        "get",
        "/api/admin/task/{tasktype}",
        "Tasks waiting in a queue",
        None,
        _list("Task"),
        ("start:integer", "count:integer"),
    ),
    ("post", "/api/admin/sweep/requeue/{workflowId}", "Decide the workflow now", None, TEXT, ()),
    (
        "post",
        "/api/admin/consistency/verifyAndRepair/{workflowId}",
        "The sweeper's repair",
        None,
        TEXT,
        (),
    ),
    ("get", "/api/admin/queues", "The event queues", None, OBJECT, ("verbose:boolean",)),
    ("get", "/api/queue/size", "Event queue sizes", None, OBJECT, ()),
    ("get", "/api/queue/", "Event queue names by status", None, OBJECT, ()),
    (
        "post",
        "/api/queue/update/{workflowId}/{taskRefName}/{status}",
        "Update a pending task by reference",
        OBJECT,
        EMPTY,
        (),
    ),
    (
        "post",
        "/api/queue/update/{workflowId}/task/{taskId}/{status}",
        "Update a task by id",
        OBJECT,
        EMPTY,
        (),
    ),
    ("get", "/api/version", "The server's version", None, TEXT, ()),
)

_ERRORS = {
    "400": "Bad input",
    "401": "Missing or wrong token",
    "404": "No such workflow, task or definition",
    "409": "Does not apply in the current state",
}


def _responses(response: Any) -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": _ref("ConductorError")}}}
    out: dict[str, Any] = {code: {"description": text, **error} for code, text in _ERRORS.items()}
    if response is EMPTY:
        out["200"] = {"description": "OK (empty body)"}
    elif response == NO_TASK:
        out["200"] = {"description": "A task", "content": _content(_ref("Task"))}
        out["204"] = {"description": "No task"}
    else:
        out["200"] = {"description": "OK", "content": _content(response)}
    return out


def _content(schema: Any) -> dict[str, Any]:
    kind = "text/plain" if schema is TEXT else "application/json"
    return {kind: {"schema": schema}}


def conductor_paths() -> dict[str, dict[str, Any]]:
    paths: dict[str, dict[str, Any]] = {}
    for method, path, summary, body, response, query in OPERATIONS + PARITY_OPERATIONS:
        operation: dict[str, Any] = {"summary": summary, "responses": _responses(response)}
        parameters: list[dict[str, Any]] = [
            {"name": name, "in": "path", "required": True, "schema": TEXT}
            for name in re.findall(r"{(\w+)}", path)
        ]
        for spec in query:
            name, _, kind = spec.partition(":")
            parameters.append({"name": name, "in": "query", "schema": {"type": kind}})
        if parameters:
            operation["parameters"] = parameters
        if body is not None:
            operation["requestBody"] = {"content": _content(body)}
        paths.setdefault(path, {})[method] = operation
    return paths
