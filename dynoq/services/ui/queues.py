"""``/ui/queues/{queue}``: counts, the last hour, the messages of each state, dead letters."""

from __future__ import annotations

import time
from urllib.parse import quote

from aiohttp import web

from dynoq.core.models import MessageState
from dynoq.errors import InvalidArgument
from dynoq.services.ui.app import PREFIX, SAMPLER, back, page
from dynoq.services.ui.chart import line_chart
from dynoq.services.ui.common import directory, form_fields, form_list
from dynoq.services.ui.sampler import RATES, STATES

PAGE_SIZE = 50
COLOURS = {
    "ready": "#1f5fbf",
    "delayed": "#8a6d00",
    "in_flight": "#1e7a34",
    "dead": "#b3261e",
    "pushed": "#6b3fa0",
    "acked": "#1e7a34",
}
MAX_BULK = 10_000  # dead letters removed by one "remove all"


def _url(name: str) -> str:
    return f"{PREFIX}/queues/{quote(name, safe='')}"


def _offset(request: web.Request) -> int:
    try:
        offset = int(request.query.get("offset", "0"))
    except ValueError:
        raise InvalidArgument("offset must be a whole number", field="offset") from None
    return max(0, offset)


async def queue_page(request: web.Request) -> web.Response:
    name = request.match_info["queue"]
    queue = await directory(request).get(name)
    state = request.query.get("state", "ready")
    if state not in {s.value for s in MessageState}:
        raise InvalidArgument(f"no state {state!r}", field="state")
    offset = _offset(request)
    stats = await queue.stats()
    messages = await queue.browse(state, offset, PAGE_SIZE)
    now = time.time()
    sampler = request.app[SAMPLER]
    minutes, hour = await sampler.hour([name], now)
    if hour[name]["ready"][-1] is None:  # new since the last sample: take one now
        await sampler.sample(now)
        minutes, hour = await sampler.hour([name], now)
    series = hour[name]
    now_minute = int(now // 60)
    depth = line_chart(minutes, {s: series[s] for s in STATES}, COLOURS, now_minute)
    rates = line_chart(minutes, {s: series[s] for s in RATES}, COLOURS, now_minute)
    return page(
        request,
        "queue.html",
        {
            "name": name,
            "queue": queue,
            "stats": stats,
            "state": state,
            "states": [s.value for s in MessageState],
            "messages": messages,
            "offset": offset,
            "page_size": PAGE_SIZE,
            "total": getattr(stats, state),
            "depth": depth,
            "rates": rates,
            "url": _url(name),
        },
    )


async def message_page(request: web.Request) -> web.Response:
    name = request.match_info["queue"]
    queue = await directory(request).get(name)
    message = await queue.get(request.match_info["id"])
    if message is None:
        raise web.HTTPNotFound(reason=f"no message {request.match_info['id']!r} in {name}")
    return page(request, "message.html", {"name": name, "message": message, "url": _url(name)})


async def dead_action(request: web.Request) -> web.StreamResponse:
    """action: requeue | remove; ids: the selected ones, or every dead letter with all=1."""
    name = request.match_info["queue"]
    queue = await directory(request).get(name)
    form = await form_fields(request)
    ids = await form_list(request, "ids")
    action = form.get("action", "")
    everything = form.get("all") == "1"
    here = _url(name) + "?state=dead"
    if action not in ("requeue", "remove"):
        raise back(here, err=f"unknown action {action!r}")
    if not ids and not everything:
        raise back(here, err="select dead letters first")
    if action == "requeue":
        n = await queue.requeue_dead(None if everything else ids)
        raise back(here, msg=f"requeued {n} dead letter{'s' * (n != 1)}")
    if everything:
        ids = [m.id for m in await queue.browse("dead", 0, MAX_BULK)]
    removed = 0
    for message_id in ids:
        removed += await queue.remove(message_id)
    raise back(here, msg=f"removed {removed} dead letter{'s' * (removed != 1)}")


async def purge(request: web.Request) -> web.StreamResponse:
    name = request.match_info["queue"]
    form = await form_fields(request)
    if form.get("confirm") != name:
        raise back(_url(name), err=f"type the queue's name, {name}, to purge it")
    await directory(request).drop(name)
    raise back(PREFIX + "/", msg=f"purged and removed queue {name}")


ROUTES = (
    ("GET", "/queues/{queue}", queue_page),
    ("GET", "/queues/{queue}/messages/{id}", message_page),
    ("POST", "/queues/{queue}/dead", dead_action),
    ("POST", "/queues/{queue}/purge", purge),
)
