"""``/api/scheduler``: Conductor's workflow scheduler (SchedulerResource), over
:class:`dynoq.Schedules`. Only workflow schedules show here; message schedules live under
``/v1/schedules``. Cron expressions are Conductor's 6-field Spring form (5 and 7 fields work
too, see :mod:`dynoq.core.schedule`); ``runCatchupScheduleInstances`` is catch-up ``all``."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from aiohttp import web

from dynoq.core.schedule import (
    CatchUp,
    Schedule,
    Timing,
    WorkflowAction,
    check_schedule_name,
)
from dynoq.errors import InvalidArgument
from dynoq.runtime.schedules import Schedules
from dynoq.services.conductor.http import (
    PREFIX,
    field,
    invalid,
    list_body,
    object_body,
    ok,
    query_int,
)
from dynoq.services.schedule_api import SCHEDULES

P = PREFIX + "/scheduler"
NAMED = P + "/schedules/{name}"
# dynoq's field names -> Conductor's, for the validation errors
_FIELDS = {"cron": "cronExpression", "zone": "zoneId", "start_ms": "scheduleStartTime",
           "end_ms": "scheduleEndTime", "end": "scheduleEndTime"}  # fmt: skip
_CONDITION = re.compile(
    r"^\s*(scheduleName|workflowName|state)\s*(=|IN)\s*(\(.*\)|'[^']*'|\"[^\"]*\"|\S+)\s*$",
    re.IGNORECASE,
)


def store(request: web.Request) -> Schedules:
    return request.app[SCHEDULES]


def _ms(body: dict[str, Any], name: str) -> int:
    value = field(body, name, int, 0)
    if value < 0:
        raise invalid(f"{name} must be >= 0", name)
    return int(value)


def schedule_from_conductor(body: dict[str, Any]) -> Schedule:
    """SaveScheduleRequest -> Schedule (400 naming Conductor's field when it is wrong)."""
    request = field(body, "startWorkflowRequest", dict, None)
    if request is None:
        raise invalid("startWorkflowRequest is required", "startWorkflowRequest")
    cron = field(body, "cronExpression", str, "")
    if not cron:
        raise invalid("cronExpression is required", "cronExpression")
    extra = {k: body[k] for k in ("createdBy", "updatedBy", "tags") if body.get(k) is not None}
    try:
        return Schedule(
            name=check_schedule_name(field(body, "name", str, "")),
            timing=Timing(
                cron=cron,
                zone=field(body, "zoneId", str, "") or "UTC",
                start_ms=_ms(body, "scheduleStartTime"),
                end_ms=_ms(body, "scheduleEndTime"),
            ),
            action=WorkflowAction(dict(request)),
            paused=bool(field(body, "paused", bool, False)),
            paused_reason=field(body, "pausedReason", str, ""),
            catch_up=CatchUp.ALL
            if field(body, "runCatchupScheduleInstances", bool, False)
            else CatchUp.SKIP,
            description=field(body, "description", str, ""),
            extra=extra,
        )
    except InvalidArgument as exc:
        name = _FIELDS.get(exc.field or "", exc.field)
        raise InvalidArgument(str(exc), field=name) from None


def schedule_to_conductor(schedule: Schedule) -> dict[str, Any]:
    """Schedule -> WorkflowSchedule."""
    action = schedule.action
    assert isinstance(action, WorkflowAction)
    return {
        "name": schedule.name,
        "cronExpression": schedule.timing.cron,
        "runCatchupScheduleInstances": schedule.catch_up is CatchUp.ALL,
        "paused": schedule.paused,
        "pausedReason": schedule.paused_reason or None,
        "startWorkflowRequest": action.request,
        "scheduleStartTime": schedule.timing.start_ms or None,
        "scheduleEndTime": schedule.timing.end_ms or None,
        "createTime": schedule.created_ms,
        "updatedTime": schedule.updated_ms,
        "createdBy": schedule.extra.get("createdBy"),
        "updatedBy": schedule.extra.get("updatedBy"),
        "zoneId": schedule.timing.zone,
        "tags": schedule.extra.get("tags", []),
        "description": schedule.description or None,
    }


async def _workflow_schedule(request: web.Request) -> Schedule:
    schedule = await store(request).require(request.match_info["name"])
    if not isinstance(schedule.action, WorkflowAction):
        raise web.HTTPNotFound(reason=f"{schedule.name!r} is a message schedule (see /v1)")
    return schedule


async def save_schedule(request: web.Request) -> web.Response:
    """Creates or replaces (Conductor's save is an upsert); the creation time is kept."""
    await store(request).save(schedule_from_conductor(await object_body(request)))
    return ok()


async def all_schedules(request: web.Request) -> web.Response:
    name = request.query.get("workflowName") or None
    out = [
        schedule_to_conductor(s)
        for s in await store(request).all()
        if isinstance(s.action, WorkflowAction) and name in (None, s.action.workflow_name)
    ]
    return web.json_response(out)


async def get_schedule(request: web.Request) -> web.Response:
    return web.json_response(schedule_to_conductor(await _workflow_schedule(request)))


async def delete_schedule(request: web.Request) -> web.Response:
    await _workflow_schedule(request)
    await store(request).delete(request.match_info["name"])
    return ok()


async def pause_schedule(request: web.Request) -> web.Response:
    await _workflow_schedule(request)
    await store(request).pause(request.match_info["name"], request.query.get("reason", ""))
    return ok()


async def resume_schedule(request: web.Request) -> web.Response:
    await _workflow_schedule(request)
    await store(request).resume(request.match_info["name"])
    return ok()


async def pause_all(request: web.Request) -> web.Response:
    count = await store(request).pause_all(request.query.get("reason", ""))
    return web.json_response({"paused": count})


async def resume_all(request: web.Request) -> web.Response:
    return web.json_response({"resumed": await store(request).resume_all()})


async def requeue(request: web.Request) -> web.Response:
    """Re-arms every running schedule that has no pending tick."""
    return web.json_response({"requeued": await store(request).repair()})


async def next_few(request: web.Request) -> web.Response:
    """``cronExpression``, ``scheduleStartTime``/``scheduleEndTime`` (ms), ``limit`` (3),
    ``zoneId`` (UTC): the next fire times in ms."""
    cron = request.query.get("cronExpression", "")
    if not cron:
        raise invalid("cronExpression is required", "cronExpression")
    limit = query_int(request, "limit", 3) or 3
    if not 1 <= limit <= 1000:
        raise invalid("limit must be in 1..1000", "limit")
    start = query_int(request, "scheduleStartTime", 0) or 0
    end = query_int(request, "scheduleEndTime", 0) or 0
    try:
        timing = Timing(
            cron=cron, zone=request.query.get("zoneId") or "UTC", start_ms=start, end_ms=end
        )
    except InvalidArgument as exc:
        raise InvalidArgument(str(exc), field=_FIELDS.get(exc.field or "", exc.field)) from None
    now = await store(request).now_ms()
    return web.json_response(timing.next_fires(max(now, start - 1), limit))


def _conditions(query: str) -> list[tuple[str, set[str]]]:
    out = []
    for part in re.split(r"\s+AND\s+", query.strip(), flags=re.IGNORECASE) if query.strip() else []:
        match = _CONDITION.match(part)
        if match is None:
            raise invalid(
                f"cannot read {part!r}: use scheduleName|workflowName|state = x or IN (a,b)",
                "query",
            )
        name, _, value = match.groups()
        values = {v.strip().strip("'\"") for v in value.strip("()").split(",")}
        out.append((name.lower(), values))
    return out


async def search_executions(request: web.Request) -> web.Response:
    """Conductor's SearchResult of WorkflowScheduleExecutionModel: ``query`` (scheduleName,
    workflowName, state with = or IN, joined by AND), ``freeText`` (a part of the schedule or
    workflow name; ``*`` all), ``sort`` (scheduledTime|executionTime[:ASC|DESC]), paged."""
    start = query_int(request, "start", 0) or 0
    size = query_int(request, "size", 100) or 100
    if start < 0 or not 1 <= size <= 1000:
        raise invalid("start must be >= 0 and size in 1..1000", "size")
    conditions = _conditions(request.query.get("query", ""))
    text = request.query.get("freeText", "*").strip()
    sort_field, _, order = request.query.get("sort", "scheduledTime:DESC").partition(":")
    if sort_field not in ("scheduledTime", "executionTime"):
        raise invalid("sort must be scheduledTime or executionTime[:ASC|DESC]", "sort")
    _, docs = await store(request).executions(count=1_000_000)
    keys = {"schedulename": "scheduleName", "workflowname": "workflowName", "state": "state"}
    hits = [
        d
        for d in docs
        if "workflowName" in d
        and all(str(d.get(keys[name])) in values for name, values in conditions)
        and (text in ("", "*") or text in d["scheduleName"] or text in d["workflowName"])
    ]
    hits.sort(key=lambda d: d.get(sort_field) or 0, reverse=order.upper() != "ASC")
    return web.json_response({"totalHits": len(hits), "results": hits[start : start + size]})


async def get_tags(request: web.Request) -> web.Response:
    return web.json_response((await _workflow_schedule(request)).extra.get("tags", []))


async def put_tags(request: web.Request) -> web.Response:
    schedule = await _workflow_schedule(request)
    tags = [t for t in await list_body(request) if isinstance(t, dict)]
    kept = [t for t in schedule.extra.get("tags", []) if t not in tags]
    await store(request).save(replace(schedule, extra={**schedule.extra, "tags": kept + tags}))
    return ok()


async def delete_tags(request: web.Request) -> web.Response:
    schedule = await _workflow_schedule(request)
    drop = await list_body(request)
    kept = [t for t in schedule.extra.get("tags", []) if t not in drop]
    await store(request).save(replace(schedule, extra={**schedule.extra, "tags": kept}))
    return ok()


ROUTES: tuple[tuple[str, str, Any], ...] = (
    ("POST", P + "/schedules", save_schedule),
    ("GET", P + "/schedules", all_schedules),
    ("GET", NAMED, get_schedule),
    ("DELETE", NAMED, delete_schedule),
    # OSS Conductor maps pause/resume as PUT, Orkes as GET: the SDK tries both
    ("PUT", NAMED + "/pause", pause_schedule),
    ("GET", NAMED + "/pause", pause_schedule),
    ("PUT", NAMED + "/resume", resume_schedule),
    ("GET", NAMED + "/resume", resume_schedule),
    ("GET", P + "/admin/pause", pause_all),
    ("GET", P + "/admin/resume", resume_all),
    ("GET", P + "/admin/requeue", requeue),
    ("GET", P + "/nextFewSchedules", next_few),
    ("GET", P + "/search/executions", search_executions),
    ("GET", NAMED + "/tags", get_tags),
    ("PUT", NAMED + "/tags", put_tags),
    ("DELETE", NAMED + "/tags", delete_tags),
)

_SUMMARIES = {
    save_schedule: "Create or replace a schedule (SaveScheduleRequest)",
    all_schedules: "Every workflow schedule (?workflowName=)",
    get_schedule: "A WorkflowSchedule",
    delete_schedule: "Delete a schedule",
    pause_schedule: "Pause a schedule (?reason=)",
    resume_schedule: "Resume a schedule",
    pause_all: "Pause every schedule",
    resume_all: "Resume every schedule",
    requeue: "Re-arm schedules without a pending tick",
    next_few: "Next fire times of a cron expression (ms)",
    search_executions: "Search recorded executions",
    get_tags: "A schedule's tags",
    put_tags: "Add tags",
    delete_tags: "Remove tags",
}
_QUERIES = {
    all_schedules: ("workflowName",),
    pause_schedule: ("reason",),
    pause_all: ("reason",),
    next_few: ("cronExpression", "scheduleStartTime", "scheduleEndTime", "limit", "zoneId"),
    search_executions: ("start", "size", "sort", "freeText", "query"),
}
_BODIES = {save_schedule: "object", put_tags: "array", delete_tags: "array"}


def openapi_paths() -> dict[str, dict[str, Any]]:
    error = {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ConductorError"}}}
    }
    paths: dict[str, dict[str, Any]] = {}
    for method, path, handler in ROUTES:
        operation: dict[str, Any] = {
            "summary": _SUMMARIES[handler],
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": {}}}},
                "400": {"description": "Bad input", **error},
                "404": {"description": "No such schedule", **error},
            },
        }
        parameters: list[dict[str, Any]] = [
            {"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
            for n in re.findall(r"{(\w+)}", path)
        ]
        parameters += [
            {"name": n, "in": "query", "schema": {"type": "string"}}
            for n in _QUERIES.get(handler, ())
        ]
        if parameters:
            operation["parameters"] = parameters
        if handler in _BODIES:
            schema = {"type": _BODIES[handler]}
            operation["requestBody"] = {"content": {"application/json": {"schema": schema}}}
        paths.setdefault(path, {})[method.lower()] = operation
    return paths
