"""``/ui/schedules`` (every schedule with its last and next fires) and ``/ui/schedules/{name}``
(definition, next fire times, recent executions, pause/resume/delete), over the same
:class:`~dynoq.runtime.schedules.Schedules` as ``/v1/schedules``. The list reads the names and
then only the definitions of its page, so its cost does not grow with every definition stored."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from aiohttp import web

from dynoq.core.schedule import (
    MessageAction,
    Schedule,
    WorkflowAction,
    check_schedule_name,
    schedule_to_doc,
)
from dynoq.errors import InvalidArgument
from dynoq.runtime.schedules import Schedules
from dynoq.services.schedule_api import SCHEDULES
from dynoq.services.ui.app import PREFIX, back, page
from dynoq.services.ui.common import form_fields

LIST_PAGE = 100
LIST_NEXT = 3  # next fire times shown per schedule in the list
DETAIL_NEXT = 10
EXECUTIONS_PAGE = 25


def schedules(request: web.Request) -> Schedules:
    return request.config_dict[SCHEDULES]


def schedule_url(name: str) -> str:
    return f"{PREFIX}/schedules/{quote(name, safe='')}"


def _local(ms: int, zone: str) -> str:
    """A time in the schedule's own zone (the zone its cron is read in)."""
    moment = datetime.fromtimestamp(ms / 1000, UTC).astimezone(ZoneInfo(zone))
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z")


def _when(schedule: Schedule) -> str:
    timing = schedule.timing
    if timing.cron:
        return timing.cron
    seconds = timing.interval_ms / 1000
    return f"every {seconds:g} s"


def _target(schedule: Schedule) -> dict[str, str]:
    action = schedule.action
    if isinstance(action, MessageAction):
        url = f"{PREFIX}/queues/{quote(action.queue, safe='')}"
        return {"kind": "queue", "name": action.queue, "url": url}
    assert isinstance(action, WorkflowAction)
    name = action.workflow_name
    return {"kind": "workflow", "name": name, "url": f"{PREFIX}/definitions/{quote(name, safe='')}"}


def _fires(schedule: Schedule, now_ms: int, count: int) -> list[dict[str, Any]]:
    return [
        {"ms": ms, "local": _local(ms, schedule.timing.zone)}
        for ms in schedule.timing.next_fires(now_ms, count)
    ]


def _row(schedule: Schedule, last: dict[str, Any] | None, now_ms: int) -> dict[str, Any]:
    return {
        "s": schedule,
        "url": schedule_url(schedule.name),
        "when": _when(schedule),
        "target": _target(schedule),
        "last": last,
        "next": [] if schedule.paused else _fires(schedule, now_ms, LIST_NEXT),
    }


def _start(request: web.Request) -> int:
    raw = request.query.get("start", "0")
    try:
        start = int(raw)
    except ValueError:
        raise InvalidArgument(f"start must be a whole number, not {raw!r}") from None
    return max(0, start)


async def listing(request: web.Request) -> web.Response:
    store = schedules(request)
    start = _start(request)
    now_ms = await store.now_ms()
    names = await store.names()
    wanted = names[start : start + LIST_PAGE]
    found = await store.get_many(wanted)
    shown = [found[n] for n in wanted if n in found]  # one deleted meanwhile is left out
    last = await store.last_fires(s.name for s in shown)
    return page(
        request,
        "schedules.html",
        {
            "rows": [_row(s, last.get(s.name), now_ms) for s in shown],
            "total": len(names),
            "start": start,
            "size": LIST_PAGE,
        },
    )


def _name(request: web.Request) -> str:
    return check_schedule_name(request.match_info["name"])


async def detail(request: web.Request) -> web.Response:
    store = schedules(request)
    schedule = await store.require(_name(request))
    start = _start(request)
    now_ms = await store.now_ms()
    last = (await store.last_fires([schedule.name])).get(schedule.name)
    total, executions = await store.executions(schedule.name, start=start, count=EXECUTIONS_PAGE)
    return page(
        request,
        "schedule.html",
        {
            **_row(schedule, last, now_ms),
            "doc": schedule_to_doc(schedule),
            "upcoming": _fires(schedule, now_ms, DETAIL_NEXT),
            "executions": executions,
            "total": total,
            "start": start,
            "size": EXECUTIONS_PAGE,
        },
    )


async def act(request: web.Request) -> web.StreamResponse:
    """pause (with a reason), resume or delete, then back to a page that shows the result."""
    name = _name(request)
    form = await form_fields(request)
    action = form.get("action", "")
    store = schedules(request)
    if action == "pause":
        await store.pause(name, form.get("reason", "").strip())
        raise back(schedule_url(name), f"paused {name}")
    if action == "resume":
        await store.resume(name)
        raise back(schedule_url(name), f"resumed {name}")
    if action == "delete":
        await store.delete(name)
        raise back(f"{PREFIX}/schedules", f"deleted {name}")
    raise InvalidArgument(f"unknown action {action!r}: pause, resume or delete")


ROUTES = (
    ("GET", "/schedules", listing),
    ("GET", "/schedules/{name}", detail),
    ("POST", "/schedules/{name}/action", act),
)
