"""``/ui/`` (every queue and workflow type at a glance) and ``/ui/tasks`` (task queues)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from dynoq.errors import NotFound
from dynoq.services.ui.app import SAMPLER, page
from dynoq.services.ui.common import directory, engine, has_engine
from dynoq.workflow import MISSING_EXTRA
from dynoq.workflow.definitions import TaskType, iter_workflow_tasks
from dynoq.workflow.engine import DECIDER_QUEUE, TASK_QUEUE_PREFIX
from dynoq.workflow.model import WorkflowStatus

SHOWN_STATUSES = (
    WorkflowStatus.RUNNING,
    WorkflowStatus.PAUSED,
    WorkflowStatus.COMPLETED,
    WorkflowStatus.FAILED,
    WorkflowStatus.TIMED_OUT,
    WorkflowStatus.TERMINATED,
)


async def queue_rows(request: web.Request) -> list[dict[str, Any]]:
    queues = directory(request)
    entries = await queues.entries()
    names = [e.name for e in entries]
    _, hour = await request.app[SAMPLER].hour(names)
    opened = [await queues.get(entry.name) for entry in entries]
    all_stats = await asyncio.gather(*(queue.stats() for queue in opened))
    rows = []
    for entry, stats in zip(entries, all_stats, strict=True):
        series = hour[entry.name]
        # the last whole minute: the current one is still being counted
        pushed, acked = series["pushed"][-2], series["acked"][-2]
        rows.append(
            {
                "name": entry.name,
                "stats": stats,
                "pushed": pushed,
                "acked": acked,
                "kind": _kind(entry.name),
            }
        )
    return rows


def _kind(name: str) -> str:
    if name == DECIDER_QUEUE:
        return "workflow decider"
    if name.startswith(TASK_QUEUE_PREFIX):
        return "task queue"
    return ""


async def overview(request: web.Request) -> web.Response:
    if not has_engine(request):  # a queue-only install: the queues, and why no workflows
        context = {"queues": await queue_rows(request), "types": {}, "statuses": []}
        return page(request, "overview.html", {**context, "no_workflows": MISSING_EXTRA})
    wf = engine(request)
    names = sorted({d.name for d in await wf.list_workflow_defs()})
    pairs = [(n, s) for n in names for s in SHOWN_STATUSES]
    counts = await wf.store.count_by_type_and_status(pairs)
    by_type = {n: {} for n in names}  # type: dict[str, dict[str, int]]
    for (name, status), n in zip(pairs, counts, strict=True):
        by_type[name][status.value] = n
    return page(
        request,
        "overview.html",
        {
            "queues": await queue_rows(request),
            "types": by_type,
            "statuses": [s.value for s in SHOWN_STATUSES],
            "no_workflows": "",
        },
    )


async def tasks(request: web.Request) -> web.Response:
    wf = engine(request)
    task_types = {t.name for t in await wf.list_task_defs()}
    for definition in await wf.list_workflow_defs():
        task_types.update(
            t.name for t in iter_workflow_tasks(definition.tasks) if t.type is TaskType.SIMPLE
        )
    names = sorted(task_types)
    sizes = await wf.queue_sizes(names)
    all_polls = await asyncio.gather(*(wf.poll_data(name) for name in names))
    rows = []
    for name, polls in zip(names, all_polls, strict=True):
        last = max((p.get("lastPollTime", 0) for p in polls), default=0)
        rows.append({"name": name, "size": sizes[name], "polls": polls, "last_poll": last})
    found: dict[str, Any] | None = None
    task_id = request.query.get("taskId", "").strip()
    missing = ""
    if task_id:
        try:
            task = await wf.get_task(task_id)
            found = {"task": task}
        except NotFound:
            missing = task_id
    return page(
        request,
        "tasks.html",
        {"rows": rows, "task_id": task_id, "found": found, "missing": missing},
    )


ROUTES = (
    ("GET", "/", overview),
    ("GET", "/tasks", tasks),
)
