"""What the page handlers share: the engine and queue directory the APIs use."""

from __future__ import annotations

from aiohttp import web

from dynoq.services import queue_api
from dynoq.services.conductor.http import ENGINE
from dynoq.services.directory import QueueDirectory
from dynoq.workflow import MISSING_EXTRA
from dynoq.workflow.engine import WorkflowEngine


class WorkflowsMissing(Exception):
    """A workflow page asked for on a queue-only install (no ``/api``, so no engine)."""


def has_engine(request: web.Request) -> bool:
    return ENGINE in request.config_dict


def engine(request: web.Request) -> WorkflowEngine:
    if not has_engine(request):
        raise WorkflowsMissing(MISSING_EXTRA)
    return request.config_dict[ENGINE]


def directory(request: web.Request) -> QueueDirectory:
    return request.config_dict[queue_api.DIRECTORY]


async def form_fields(request: web.Request) -> dict[str, str]:
    form = await request.post()
    return {k: str(v) for k, v in form.items()}


async def form_list(request: web.Request, name: str) -> list[str]:
    form = await request.post()
    return [str(v) for v in form.getall(name, [])]
