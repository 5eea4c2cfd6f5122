"""``/api/workflow`` searches: by query, by correlation id, the running ids, as Conductor's
WorkflowResource."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from dynoq.services.conductor.documents import workflow_doc
from dynoq.services.conductor.http import (
    PREFIX,
    engine,
    invalid,
    list_body,
    query_flag,
    query_int,
)
from dynoq.workflow import admin
from dynoq.workflow.model import Workflow
from dynoq.workflow.query import parse_query, parse_sort
from dynoq.workflow.search import search_workflows

MAX_SEARCH_SIZE = 5000


def _iso(millis: int) -> str:
    """Conductor's summary time format (UTC, milliseconds); empty when unset."""
    if not millis:
        return ""
    moment = datetime.fromtimestamp(millis / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis % 1000:03d}Z"


def summary(workflow: Workflow) -> dict[str, Any]:
    """Conductor's WorkflowSummary (times as ISO text, input and output as JSON text)."""
    doc = {
        "workflowType": workflow.workflow_name,
        "version": workflow.workflow_version,
        "workflowId": workflow.workflow_id,
        "correlationId": workflow.correlation_id,
        "startTime": _iso(workflow.start_time),
        "updateTime": _iso(workflow.update_time),
        "endTime": _iso(workflow.end_time),
        "status": str(workflow.status),
        "input": json.dumps(workflow.input),
        "output": json.dumps(workflow.output),
        "reasonForIncompletion": workflow.reason_for_incompletion,
        "executionTime": workflow.end_time - workflow.start_time if workflow.end_time else 0,
        "event": "",
        "failedReferenceTaskNames": ",".join(workflow.failed_reference_task_names),
        "failedTaskNames": list(workflow.failed_task_names),
        "priority": workflow.priority,
        "createdBy": workflow.created_by,
        "taskToDomain": workflow.task_to_domain,
        "parentWorkflowId": workflow.parent_workflow_id,
    }
    # Conductor leaves unset fields out, but these two default to "" in its WorkflowSummary
    keep = ("failedReferenceTaskNames", "parentWorkflowId")
    return {k: v for k, v in doc.items() if v != "" or k in keep}


def _paging(request: web.Request) -> tuple[int, int]:
    start = query_int(request, "start", 0) or 0
    size = query_int(request, "size", 100)
    if start < 0:
        raise invalid(f"start must be >= 0, got {start}", "start")
    if size is None or not 0 <= size <= MAX_SEARCH_SIZE:
        raise invalid(f"size must be in 0..{MAX_SEARCH_SIZE}, got {size}", "size")
    return start, size


async def found_workflows(request: web.Request) -> tuple[int, list[Workflow]]:
    """The workflows a search request (``?start&size&sort&freeText&query``) asks for."""
    start, size = _paging(request)
    total, summaries = await search_workflows(
        engine(request).store,
        parse_query(request.query.get("query", "")),
        request.query.get("freeText", "*"),
        parse_sort(request.query.get("sort", "")),
        start,
        size,
    )
    results = []
    for doc in summaries:
        doc = dict(doc, workflowName=doc.get("workflowType"), workflowVersion=doc.get("version"))
        results.append(Workflow.from_doc(doc))
    return total, results


async def search(request: web.Request) -> web.Response:
    """``{totalHits, results}`` of WorkflowSummary documents."""
    total, found = await found_workflows(request)
    return web.json_response({"totalHits": total, "results": [summary(w) for w in found]})


async def search_v2(request: web.Request) -> web.Response:
    """``{totalHits, results}`` of Workflow documents (without their tasks)."""
    total, found = await found_workflows(request)
    return web.json_response(
        {"totalHits": total, "results": [workflow_doc(w, False) for w in found]}
    )


async def _by_tasks(request: web.Request) -> tuple[int, list[Workflow]]:
    """The workflows with a task matching the task query, in the order of their newest match."""
    start, size = _paging(request)
    _, found = await admin.search_tasks(
        engine(request),
        parse_query(request.query.get("query", "")),
        request.query.get("freeText", "*"),
        parse_sort(request.query.get("sort", "")),
        0,
        admin.TASK_SEARCH_WORKFLOWS * 10,
    )
    workflows: dict[str, Workflow] = {}
    for _, workflow in found:
        workflows.setdefault(workflow.workflow_id, workflow)
    ordered = list(workflows.values())
    return len(ordered), ordered[start : start + size]


async def search_by_tasks(request: web.Request) -> web.Response:
    total, found = await _by_tasks(request)
    return web.json_response({"totalHits": total, "results": [summary(w) for w in found]})


async def search_by_tasks_v2(request: web.Request) -> web.Response:
    total, found = await _by_tasks(request)
    results = [workflow_doc(w, False) for w in found]
    return web.json_response({"totalHits": total, "results": results})


async def correlated(request: web.Request) -> web.Response:
    workflows = await engine(request).correlated(
        request.match_info["name"],
        request.match_info["correlationId"],
        query_flag(request, "includeClosed", False),
        query_flag(request, "includeTasks", False),
    )
    include_tasks = query_flag(request, "includeTasks", False)
    return web.json_response([workflow_doc(w, include_tasks) for w in workflows])


async def correlated_many(request: web.Request) -> web.Response:
    """The body lists correlation ids; ``{correlationId: [Workflow]}``."""
    ids = await list_body(request)
    if not all(isinstance(i, str) for i in ids):
        raise invalid("the body must be a list of correlation ids (strings)")
    include_closed = query_flag(request, "includeClosed", False)
    include_tasks = query_flag(request, "includeTasks", False)
    out = {}
    for correlation_id in ids:
        workflows = await engine(request).correlated(
            request.match_info["name"], correlation_id, include_closed, include_tasks
        )
        out[correlation_id] = [workflow_doc(w, include_tasks) for w in workflows]
    return web.json_response(out)


async def running(request: web.Request) -> web.Response:
    ids = await engine(request).running_workflow_ids(
        request.match_info["name"],
        query_int(request, "version", None),
        query_int(request, "startTime", None),
        query_int(request, "endTime", None),
    )
    return web.json_response(ids)


W = PREFIX + "/workflow"
# Before conductor_workflows' routes: /search and /running/... would match /{workflowId}...
ROUTES: tuple[tuple[str, str, Any], ...] = (
    ("GET", W + "/search", search),
    ("GET", W + "/search-v2", search_v2),
    ("GET", W + "/search-by-tasks", search_by_tasks),
    ("GET", W + "/search-by-tasks-v2", search_by_tasks_v2),
    ("GET", W + "/running/{name}", running),
    ("GET", W + "/{name}/correlated/{correlationId}", correlated),
    ("POST", W + "/{name}/correlated", correlated_many),
)
