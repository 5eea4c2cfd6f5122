"""``/api/workflow/bulk``: one operation on a list of workflow ids, as Conductor's
WorkflowBulkResource. The answer is Conductor's BulkResponse: the ids that succeeded in
``bulkSuccessfulResults`` (for search, the workflows), the others with the reason in
``bulkErrorResults``; more than :data:`MAX_BULK` ids is a 400."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from dynoq.errors import DynoqError
from dynoq.services.conductor.documents import workflow_doc
from dynoq.services.conductor.http import PREFIX, engine, invalid, list_body, query_flag
from dynoq.workflow.engine import WorkflowEngine

MAX_BULK = 1000
Action = Callable[[WorkflowEngine, str, web.Request], Awaitable[Any]]


async def _ids(request: web.Request) -> list[str]:
    ids = await list_body(request)
    if not all(isinstance(i, str) for i in ids):
        raise invalid("the body must be a list of workflow ids (strings)")
    if len(ids) > MAX_BULK:
        raise invalid(f"cannot process more than {MAX_BULK} workflows, got {len(ids)}")
    return ids


def _bulk(action: Action) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        successes: list[Any] = []
        errors: dict[str, str] = {}
        for workflow_id in await _ids(request):
            try:
                result = await action(engine(request), workflow_id, request)
            except DynoqError as exc:
                errors[workflow_id] = str(exc)
                continue
            successes.append(workflow_id if result is None else result)
        return web.json_response({"bulkSuccessfulResults": successes, "bulkErrorResults": errors})

    return handler


async def _pause(e: WorkflowEngine, workflow_id: str, request: web.Request) -> None:
    await e.pause(workflow_id)


async def _resume(e: WorkflowEngine, workflow_id: str, request: web.Request) -> None:
    await e.resume(workflow_id)


async def _restart(e: WorkflowEngine, workflow_id: str, request: web.Request) -> None:
    await e.restart(workflow_id, query_flag(request, "useLatestDefinitions", False))


async def _retry(e: WorkflowEngine, workflow_id: str, request: web.Request) -> None:
    await e.retry(workflow_id)


async def _terminate(e: WorkflowEngine, workflow_id: str, request: web.Request) -> None:
    await e.terminate(workflow_id, request.query.get("reason", ""))


async def _remove(e: WorkflowEngine, workflow_id: str, request: web.Request) -> None:
    await e.remove_workflow(workflow_id)


async def _terminate_remove(e: WorkflowEngine, workflow_id: str, request: web.Request) -> None:
    workflow = await e.get_workflow(workflow_id, False)
    if not workflow.status.terminal:
        await e.terminate(workflow_id, request.query.get("reason", ""))
    await e.remove_workflow(workflow_id)


async def _search(e: WorkflowEngine, workflow_id: str, request: web.Request) -> dict[str, Any]:
    include_tasks = query_flag(request, "includeTasks", True)
    return workflow_doc(await e.get_workflow(workflow_id, include_tasks), include_tasks)


B = PREFIX + "/workflow/bulk"
# before conductor_workflows' routes: /bulk/... would match /{workflowId}/...
ROUTES: tuple[tuple[str, str, Any], ...] = (
    ("PUT", B + "/pause", _bulk(_pause)),
    ("PUT", B + "/resume", _bulk(_resume)),
    ("POST", B + "/restart", _bulk(_restart)),
    ("POST", B + "/retry", _bulk(_retry)),
    ("POST", B + "/terminate", _bulk(_terminate)),
    ("DELETE", B + "/remove", _bulk(_remove)),
    ("DELETE", B + "/terminate-remove", _bulk(_terminate_remove)),
    ("POST", B + "/search", _bulk(_search)),
)
