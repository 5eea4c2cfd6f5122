"""``/ui/workflows`` (search, bulk actions) and ``/ui/workflows/{id}`` (one execution)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from dynoq.errors import DynoqError, InvalidArgument
from dynoq.services.ui.app import PREFIX, RENDERER, back, page
from dynoq.services.ui.common import engine, form_fields, form_list
from dynoq.services.ui.diagram import DotMissing, latest_by_ref, workflow_dot
from dynoq.workflow.engine import WorkflowEngine
from dynoq.workflow.model import Task, Workflow, WorkflowStatus
from dynoq.workflow.query import All, Clause, SortKey
from dynoq.workflow.search import search_workflows
from dynoq.workflow.structure import base_ref

PAGE_SIZES = (25, 50, 100)
Action = Callable[[WorkflowEngine, str], Awaitable[Any]]
BULK_ACTIONS: dict[str, Action] = {
    "pause": lambda e, i: e.pause(i),
    "resume": lambda e, i: e.resume(i),
    "terminate": lambda e, i: e.terminate(i, "terminated from the UI"),
    "retry": lambda e, i: e.retry(i),
    "restart": lambda e, i: e.restart(i),
    "remove": lambda e, i: e.remove_workflow(i),
}


def workflow_url(workflow_id: str) -> str:
    return f"{PREFIX}/workflows/{quote(workflow_id, safe='')}"


def _millis(text: str, field: str) -> int | None:
    if not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidArgument(f"{field} must be a date and time", field=field) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _int(text: str, default: int, field: str) -> int:
    try:
        return int(text) if text.strip() else default
    except ValueError:
        raise InvalidArgument(f"{field} must be a whole number", field=field) from None


def _query(q: Mapping[str, str], version: int) -> All:
    """The search form as a query of Conductor's language (each field given, ANDed)."""
    status = q.get("status", "")
    if status and status not in WorkflowStatus.__members__:
        raise InvalidArgument(f"no status {status!r}", field="status")
    parts = [
        Clause(field, "=", (value,))
        for field, value in (
            ("workflowtype", q.get("type", "")),
            ("status", status),
            ("correlationid", q.get("correlationId", "").strip()),
            ("version", str(version) if version else ""),
        )
        if value
    ]
    low, high = _millis(q.get("from", ""), "from"), _millis(q.get("to", ""), "to")
    parts += [Clause("starttime", ">=", (str(low),))] if low is not None else []
    parts += [Clause("starttime", "<=", (str(high),))] if high is not None else []
    return All(tuple(parts))


async def search(request: web.Request) -> web.Response:
    q = request.query
    size = _int(q.get("size", ""), PAGE_SIZES[0], "size")
    if size not in PAGE_SIZES:
        size = PAGE_SIZES[0]
    start = max(0, _int(q.get("start", ""), 0, "start"))
    version = _int(q.get("version", ""), 0, "version")
    if version < 0:
        raise InvalidArgument("version must be 1 or more", field="version")
    order = q.get("order", "desc")
    if order not in ("desc", "asc"):
        raise InvalidArgument(f"order is desc or asc, not {order!r}", field="order")
    wf = engine(request)
    # the search of /api/workflow/search: its indexes answer type, status, correlation id and
    # start-time filters sorted by start time; a version or free text reads summaries
    total, docs = await search_workflows(
        wf.store,
        _query(q, version),
        q.get("text", "").strip() or "*",
        (SortKey("startTime", order == "desc"),),
        start,
        size,
    )
    results = [
        Workflow.from_doc(
            dict(d, workflowName=d.get("workflowType"), workflowVersion=d.get("version"))
        )
        for d in docs
    ]
    kept = {k: v for k, v in q.items() if k not in ("start", "msg", "err") and v}

    def page_url(at: int) -> str:
        return f"{PREFIX}/workflows?" + urlencode({**kept, "start": at})

    return page(
        request,
        "workflows.html",
        {
            "query": q,
            "types": sorted({d.name for d in await wf.list_workflow_defs()}),
            "statuses": list(WorkflowStatus.__members__),
            "results": results,
            "total": total,
            "start": start,
            "size": size,
            "sizes": PAGE_SIZES,
            "prev_url": page_url(max(0, start - size)) if start else "",
            "next_url": page_url(start + size) if start + size < total else "",
            "back_url": request.path_qs,
            "actions": list(BULK_ACTIONS),
        },
    )


async def bulk(request: web.Request) -> web.StreamResponse:
    form = await form_fields(request)
    ids = await form_list(request, "ids")
    target = form.get("back", "")
    target = target if target.startswith(PREFIX + "/workflows") else PREFIX + "/workflows"
    action = BULK_ACTIONS.get(form.get("action", ""))
    if action is None:
        raise back(target, err="choose an action")
    if not ids:
        raise back(target, err="select workflows first")
    failed = []
    for workflow_id in ids:
        try:
            await action(engine(request), workflow_id)
        except DynoqError as exc:
            failed.append(f"{workflow_id}: {exc}")
    done = len(ids) - len(failed)
    msg = f"{form['action']}: {done} of {len(ids)} workflow{'s' * (len(ids) != 1)}"
    raise back(target, msg=msg, err="; ".join(failed[:5]))


def valid_actions(wf: Workflow) -> list[str]:
    match wf.status:
        case WorkflowStatus.RUNNING:
            return ["pause", "terminate"]
        case WorkflowStatus.PAUSED:
            return ["resume", "terminate"]
        case WorkflowStatus.COMPLETED:
            return ["restart", "rerun"]
    return ["retry", "restart", "rerun"]


def _timeline(tasks: list[Task], now_ms: int) -> dict[str, Any]:
    """Each task's bar as percentages of the span from the first schedule to the last end."""
    times = [t for t in tasks if t.scheduled_time]
    if not times:
        return {"bars": [], "span": 0}
    first = min(t.scheduled_time for t in times)
    last = max(max(t.end_time, t.update_time, t.start_time, t.scheduled_time) for t in times)
    if any(not t.end_time for t in times):
        last = max(last, now_ms)
    span = max(1, last - first)
    bars = []
    for t in times:
        begin = t.start_time or t.scheduled_time
        end = t.end_time or (now_ms if not t.status.terminal else t.update_time or begin)
        bars.append(
            {
                "task": t,
                "wait_left": 100 * (t.scheduled_time - first) / span,
                "wait_width": 100 * (begin - t.scheduled_time) / span,
                "left": 100 * (begin - first) / span,
                "width": max(0.4, 100 * (end - begin) / span),
                "took": end - begin,
            }
        )
    return {"bars": bars, "span": span}


def _anchor(task: Task) -> str:
    return "task-" + task.task_id.rpartition(".")[2]


async def execution(request: web.Request) -> web.Response:
    wf = engine(request)
    workflow = await wf.get_workflow(request.match_info["id"])
    definition = await wf.definition_of(workflow)
    latest = latest_by_ref(workflow.tasks)
    links = {ref: "#" + _anchor(task) for ref, task in latest.items()}
    diagram, diagram_problem = "", ""
    try:
        diagram = await request.app[RENDERER].svg(workflow_dot(definition, workflow.tasks, links))
    except DotMissing as exc:
        diagram_problem = str(exc)
    found = await asyncio.gather(
        *(wf.store.logs(workflow.workflow_id, t.task_id) for t in workflow.tasks)
    )
    logs = {t.task_id: entries for t, entries in zip(workflow.tasks, found, strict=True)}
    now = int(datetime.now(UTC).timestamp() * 1000)
    return page(
        request,
        "workflow.html",
        {
            "wf": workflow,
            "definition": definition,
            "diagram": diagram,
            "diagram_problem": diagram_problem,
            "actions": valid_actions(workflow),
            "tasks": workflow.tasks,
            "anchor": _anchor,
            "base_ref": base_ref,
            "logs": logs,
            "timeline": _timeline(workflow.tasks, now),
            "skippable": [t.reference_task_name for t in workflow.tasks if not t.status.terminal],
            "url": workflow_url(workflow.workflow_id),
        },
    )


def _json_object(text: str, field: str) -> dict[str, Any] | None:
    if not text.strip():
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidArgument(f"{field} is not valid JSON: {exc}", field=field) from None
    if not isinstance(value, dict):
        raise InvalidArgument(f"{field} must be a JSON object", field=field)
    return value


async def act(request: web.Request) -> web.StreamResponse:
    workflow_id = request.match_info["id"]
    here = workflow_url(workflow_id)
    form = await form_fields(request)
    action = form.get("action", "")
    wf = engine(request)
    try:
        if action in BULK_ACTIONS:
            if action == "terminate":
                await wf.terminate(workflow_id, form.get("reason", "") or "terminated from the UI")
            elif action == "restart":
                await wf.restart(workflow_id, form.get("latest") == "1")
            else:
                await BULK_ACTIONS[action](wf, workflow_id)
            if action == "remove":
                raise back(PREFIX + "/workflows", msg=f"removed workflow {workflow_id}")
        elif action == "rerun":
            await wf.rerun(
                workflow_id,
                from_task_id=form.get("task", ""),
                task_input=_json_object(form.get("input", ""), "input"),
            )
        elif action == "skip":
            await wf.skip_task(workflow_id, form.get("task", ""))
        else:
            raise back(here, err=f"unknown action {action!r}")
    except DynoqError as exc:
        raise back(here, err=f"{action}: {exc}") from None
    raise back(here, msg=f"{action}: done")


ROUTES = (
    ("GET", "/workflows", search),
    ("POST", "/workflows/bulk", bulk),
    ("GET", "/workflows/{id}", execution),
    ("POST", "/workflows/{id}/action", act),
)
