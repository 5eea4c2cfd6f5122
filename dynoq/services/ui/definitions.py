"""``/ui/definitions``: workflow and task definitions, their diagrams, a JSON editor that saves
through the engine (validation errors shown on their lines) and starting a workflow."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from aiohttp import web

from dynoq.errors import DynoqError, InvalidArgument, InvalidDefinition
from dynoq.services.ui.app import PREFIX, RENDERER, back, page
from dynoq.services.ui.common import engine, form_fields
from dynoq.services.ui.diagram import DotMissing, workflow_dot
from dynoq.services.ui.jsonview import dump_with_lines, line_of
from dynoq.services.ui.workflows import workflow_url
from dynoq.workflow.definitions import WorkflowDef, task_def_to_doc, workflow_def_to_doc


def definition_url(name: str, version: int) -> str:
    return f"{PREFIX}/definitions/{quote(name, safe='')}/{version}"


def task_def_url(name: str) -> str:
    return f"{PREFIX}/task-definitions/{quote(name, safe='')}"


async def listing(request: web.Request) -> web.Response:
    wf = engine(request)
    latest: dict[str, WorkflowDef] = {}
    versions: dict[str, list[int]] = {}
    for d in await wf.list_workflow_defs():
        versions.setdefault(d.name, []).append(d.version)
        if d.name not in latest or d.version > latest[d.name].version:
            latest[d.name] = d
    return page(
        request,
        "definitions.html",
        {
            "workflows": [latest[n] for n in sorted(latest)],
            "versions": versions,
            "task_defs": await wf.list_task_defs(),
        },
    )


def _editor(text: str, problems: list[tuple[str, str]], parse_error: str = "") -> dict[str, Any]:
    """The text to edit and, for the problems, the lines they are on."""
    marked: dict[int, list[str]] = {}
    lines: list[str] = text.splitlines()
    if problems:
        try:
            shown, where = dump_with_lines(json.loads(text))
        except ValueError:
            shown, where = text, {}
        lines = shown.splitlines()
        text = shown
        for path, message in problems:
            marked.setdefault(line_of(path, where), []).append(f"{path}: {message}")
    return {"text": text, "lines": lines, "marked": marked, "parse_error": parse_error}


async def _diagram(request: web.Request, definition: WorkflowDef) -> tuple[str, str]:
    try:
        return await request.app[RENDERER].svg(workflow_dot(definition)), ""
    except DotMissing as exc:
        return "", str(exc)


def _version(request: web.Request) -> int | None:
    raw = request.match_info.get("version")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        raise InvalidArgument(f"version must be a whole number, not {raw!r}") from None


async def workflow_definition(request: web.Request) -> web.Response:
    wf = engine(request)
    name = request.match_info["name"]
    version = _version(request)
    definition = await wf.get_workflow_def(name, version)
    doc = definition.raw or workflow_def_to_doc(definition)
    text = json.dumps(doc, indent=2)
    diagram, problem = await _diagram(request, definition)
    all_versions = sorted(d.version for d in await wf.list_workflow_defs() if d.name == name)
    return page(
        request,
        "definition.html",
        {
            "definition": definition,
            "versions": all_versions,
            "diagram": diagram,
            "diagram_problem": problem,
            "editor": _editor(text, []),
            "save_url": PREFIX + "/definitions",
            "kind": "workflow",
        },
    )


async def save_workflow_definition(request: web.Request) -> web.StreamResponse:
    text = (await form_fields(request)).get("json", "")
    try:
        doc = json.loads(text)
    except ValueError as exc:
        return _rejected(request, text, [], f"not valid JSON: {exc}", "workflow")
    try:
        saved = await engine(request).register_workflow_def(doc)
    except InvalidDefinition as exc:
        return _rejected(request, text, exc.problems, "", "workflow")
    except DynoqError as exc:
        return _rejected(request, text, [], str(exc), "workflow")
    raise back(definition_url(saved.name, saved.version), msg="saved")


def _rejected(
    request: web.Request, text: str, problems: list[tuple[str, str]], error: str, kind: str
) -> web.Response:
    """The editor again, with what is wrong; nothing was saved (a page, so 200, like any
    form shown again)."""
    return page(
        request,
        "definition.html",
        {
            "definition": None,
            "versions": [],
            "diagram": "",
            "diagram_problem": "",
            "editor": _editor(text, problems, error),
            "save_url": PREFIX + ("/definitions" if kind == "workflow" else "/task-definitions"),
            "kind": kind,
        },
    )


async def start(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    version = _version(request) or 0
    form = await form_fields(request)
    here = definition_url(name, version)
    try:
        given = json.loads(form.get("input", "") or "{}")
        if not isinstance(given, dict):
            raise back(here, err="the input must be a JSON object")
        workflow_id = await engine(request).start_workflow(
            name, given, version=version, correlation_id=form.get("correlationId", "").strip()
        )
    except ValueError as exc:
        raise back(here, err=f"the input is not valid JSON: {exc}") from None
    except DynoqError as exc:
        raise back(here, err=f"not started: {exc}") from None
    raise back(workflow_url(workflow_id), msg="started")


async def task_definition(request: web.Request) -> web.Response:
    found = await engine(request).get_task_def(request.match_info["name"])
    text = json.dumps(task_def_to_doc(found), indent=2)
    return page(
        request,
        "definition.html",
        {
            "definition": None,
            "task_def": found,
            "versions": [],
            "diagram": "",
            "diagram_problem": "",
            "editor": _editor(text, []),
            "save_url": PREFIX + "/task-definitions",
            "kind": "task",
        },
    )


async def save_task_definition(request: web.Request) -> web.StreamResponse:
    text = (await form_fields(request)).get("json", "")
    try:
        doc = json.loads(text)
    except ValueError as exc:
        return _rejected(request, text, [], f"not valid JSON: {exc}", "task")
    try:
        [saved] = await engine(request).register_task_defs([doc])
    except InvalidDefinition as exc:
        problems = [(p.replace("$[0]", "$", 1), m) for p, m in exc.problems]
        return _rejected(request, text, problems, "", "task")
    except DynoqError as exc:
        return _rejected(request, text, [], str(exc), "task")
    raise back(task_def_url(saved.name), msg="saved")


ROUTES = (
    ("GET", "/definitions", listing),
    ("POST", "/definitions", save_workflow_definition),
    ("GET", "/definitions/{name}", workflow_definition),
    ("GET", "/definitions/{name}/{version}", workflow_definition),
    ("POST", "/definitions/{name}/{version}/start", start),
    ("GET", "/task-definitions/{name}", task_definition),
    ("POST", "/task-definitions", save_task_definition),
)
