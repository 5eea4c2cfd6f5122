"""``/api/metadata``: workflow and task definitions, as Conductor's MetadataResource."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from dynoq.core.models import is_digits
from dynoq.services.conductor.documents import definition_doc
from dynoq.services.conductor.http import (
    PREFIX,
    engine,
    invalid,
    list_body,
    object_body,
    ok,
    query_flag,
    query_int,
)
from dynoq.workflow.definitions import (
    WorkflowDef,
    parse_workflow_def,
    task_def_to_doc,
    workflow_def_to_doc,
)


def _objects(items: list[Any], what: str) -> list[dict[str, Any]]:
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise invalid(f"[{index}] must be a {what} object", f"[{index}]")
    return items


async def create_workflow_def(request: web.Request) -> web.Response:
    """One WorkflowDef; 409 when that name and version exist, unless ``?overwrite=true``."""
    body = await object_body(request)
    await engine(request).register_workflow_def(
        body, overwrite=query_flag(request, "overwrite", False)
    )
    return ok()


async def update_workflow_defs(request: web.Request) -> web.Response:
    """A list of WorkflowDefs, created or replaced (``?overwrite=false`` refuses existing ones);
    Conductor's BulkResponse. Each is stored as it is validated, so an invalid one (400) leaves
    the ones before it registered."""
    bodies = _objects(await list_body(request), "WorkflowDef")
    overwrite = query_flag(request, "overwrite", True)
    names = []
    for body in bodies:
        definition = await engine(request).register_workflow_def(body, overwrite=overwrite)
        names.append(definition.name)
    return web.json_response({"bulkErrorResults": {}, "bulkSuccessfulResults": names})


async def get_workflow_def(request: web.Request) -> web.Response:
    version = query_int(request, "version", None)
    definition = await engine(request).get_workflow_def(request.match_info["name"], version)
    return web.json_response(definition_doc(workflow_def_to_doc(definition)))


async def list_workflow_defs(request: web.Request) -> web.Response:
    definitions = await engine(request).list_workflow_defs()
    return web.json_response([definition_doc(workflow_def_to_doc(d)) for d in definitions])


async def validate_workflow_def(request: web.Request) -> web.Response:
    """200 when the WorkflowDef is valid; Conductor's 400 with validationErrors when not."""
    parse_workflow_def(await object_body(request))
    return ok()


def _def_summary(definition: WorkflowDef) -> dict[str, Any]:
    """Conductor's WorkflowDefSummary."""
    return {
        "name": definition.name,
        "version": definition.version,
        "createTime": definition.create_time or None,
    }


async def workflow_names(request: web.Request) -> web.Response:
    definitions = await engine(request).list_workflow_defs()
    return web.json_response(sorted({d.name for d in definitions}))


async def names_and_versions(request: web.Request) -> web.Response:
    """``{name: [WorkflowDefSummary, ...]}``, oldest version first."""
    out: dict[str, list[dict[str, Any]]] = {}
    for definition in await engine(request).list_workflow_defs():
        out.setdefault(definition.name, []).append(_def_summary(definition))
    return web.json_response(out)


async def workflow_versions(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    found = [d for d in await engine(request).list_workflow_defs() if d.name == name]
    return web.json_response([_def_summary(d) for d in found])


async def latest_versions(request: web.Request) -> web.Response:
    """The latest version of each workflow definition."""
    latest: dict[str, WorkflowDef] = {}
    for definition in await engine(request).list_workflow_defs():
        if definition.name not in latest or definition.version > latest[definition.name].version:
            latest[definition.name] = definition
    return web.json_response(
        [definition_doc(workflow_def_to_doc(latest[n])) for n in sorted(latest)]
    )


async def delete_workflow_def(request: web.Request) -> web.Response:
    raw = request.match_info["version"]
    if not is_digits(raw):
        raise invalid(f"version must be an integer, got {raw!r}", "version")
    await engine(request).delete_workflow_def(request.match_info["name"], int(raw))
    return ok()


async def register_task_defs(request: web.Request) -> web.Response:
    """A list of TaskDefs, each created or replaced; all are validated before any is stored."""
    bodies = _objects(await list_body(request), "TaskDef")
    await engine(request).register_task_defs(bodies)
    return ok()


async def update_task_def(request: web.Request) -> web.Response:
    await engine(request).register_task_defs([await object_body(request)])
    return ok()


async def get_task_def(request: web.Request) -> web.Response:
    definition = await engine(request).get_task_def(request.match_info["tasktype"])
    return web.json_response(definition_doc(task_def_to_doc(definition)))


async def list_task_defs(request: web.Request) -> web.Response:
    return web.json_response(
        [definition_doc(task_def_to_doc(d)) for d in await engine(request).list_task_defs()]
    )


async def delete_task_def(request: web.Request) -> web.Response:
    await engine(request).delete_task_def(request.match_info["tasktype"])
    return ok()


W = PREFIX + "/metadata/workflow"
T = PREFIX + "/metadata/taskdefs"
ROUTES: tuple[tuple[str, str, Any], ...] = (
    ("POST", W, create_workflow_def),
    ("PUT", W, update_workflow_defs),
    ("GET", W, list_workflow_defs),
    ("POST", W + "/validate", validate_workflow_def),
    ("GET", W + "/names", workflow_names),
    ("GET", W + "/names-and-versions", names_and_versions),
    ("GET", W + "/latest-versions", latest_versions),
    ("GET", W + "/{name}/versions", workflow_versions),
    ("GET", W + "/{name}", get_workflow_def),
    ("DELETE", W + "/{name}/{version}", delete_workflow_def),
    ("POST", T, register_task_defs),
    ("PUT", T, update_task_def),
    ("GET", T, list_task_defs),
    ("GET", T + "/{tasktype}", get_task_def),
    ("DELETE", T + "/{tasktype}", delete_task_def),
)
