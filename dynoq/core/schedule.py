"""Schedules without I/O: what a schedule is, when it fires, and what a due tick must do.

Cron expressions are parsed by ``cronsim``; accepted forms:

* 5 fields ``minute hour day-of-month month day-of-week`` (Unix cron);
* 6 fields ``second minute hour day-of-month month day-of-week`` (Spring, which Conductor's
  scheduler uses, and Quartz without the year);
* 7 fields, Quartz with a year, when the year is ``*`` or ``?``.

``?`` means "any" (Quartz/Spring); ``L``, ``W`` and ``#`` work where cronsim accepts them.
Numeric days of the week are Unix/Spring's (0 or 7 Sunday, 1 Monday), not Quartz's (1 Sunday);
names (``MON-FRI``) mean the same everywhere.

Time zones are IANA names. Daylight saving: an expression whose minute and hour fields are
both fixed (``30 2 * * *``) fires once per matching local time: a local time skipped by a
spring-forward jump fires once, shifted by the jump (02:30 becomes 03:30 the new offset), and a
local time repeated by a fall-back fires only the first time. Other expressions
(``*/15 * * * *``, ``0 * * * *``) follow elapsed time: a skipped local time does not fire and a
repeated hour fires in both of its occurrences, as Debian cron does.
"""

from __future__ import annotations

import functools
import math
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from dynoq.core.models import MAX_PRIORITY, check_id
from dynoq.errors import InvalidArgument, InvalidMessage

NAME_PATTERN = re.compile(r"[A-Za-z0-9._:@-]{1,200}")
MAX_CATCH_UP = 10_000
DEFAULT_MAX_CATCH_UP = 100
DEFAULT_GRACE_SECONDS = 60.0
DEFAULT_MESSAGE_ID = "{schedule}:{fire_ms}"
MIN_INTERVAL_SECONDS = 0.001
ENUMERATION_LIMIT = 100_000  # fire times looked at per plan, at most


class CatchUp(StrEnum):
    """What happens to fires missed by more than the grace (nothing ran, or it was late)."""

    SKIP = "skip"  # missed fires are counted, not run
    ALL = "all"  # each missed fire runs, the latest ``max_catch_up`` of them


@dataclass(frozen=True, slots=True)
class MessageAction:
    """At each fire, ``ensure`` a message on ``queue``. ``id`` is a template with
    ``{schedule}``, ``{fire_ms}`` (ms since the epoch) and ``{fire_time}`` (ISO 8601 UTC); a
    template without the fire time makes one message at a time (a fire whose id is still queued
    does nothing). ``payload`` None sends ``{"schedule": name, "scheduled_time": seconds}``."""

    queue: str
    payload: Any = None
    priority: int = 0
    id: str = DEFAULT_MESSAGE_ID

    def __post_init__(self) -> None:
        if not isinstance(self.queue, str) or not self.queue:
            raise InvalidArgument("message.queue must be a queue name", field="message.queue")
        prio = self.priority
        if isinstance(prio, bool) or not isinstance(prio, int) or not 0 <= prio <= MAX_PRIORITY:
            raise InvalidArgument(
                f"message.priority must be an int in 0..{MAX_PRIORITY}", field="message.priority"
            )
        try:
            message_id(self.id, "x", 0)
        except (KeyError, IndexError, ValueError) as exc:
            raise InvalidArgument(
                f"message.id template {self.id!r} is not valid: use {{schedule}}, {{fire_ms}}, "
                f"{{fire_time}} ({exc})",
                field="message.id",
            ) from None


@dataclass(frozen=True, slots=True)
class WorkflowAction:
    """At each fire, start a workflow: ``request`` is Conductor's StartWorkflowRequest."""

    request: dict[str, Any]

    def __post_init__(self) -> None:
        name = self.request.get("name") if isinstance(self.request, dict) else None
        if not isinstance(name, str) or not name:
            raise InvalidArgument(
                "startWorkflowRequest.name (the workflow's name) is required",
                field="startWorkflowRequest.name",
            )
        if not isinstance(self.request.get("input", {}) or {}, dict):
            raise InvalidArgument(
                "startWorkflowRequest.input must be an object", field="startWorkflowRequest.input"
            )

    @property
    def workflow_name(self) -> str:
        return str(self.request["name"])


Action = MessageAction | WorkflowAction


@dataclass(frozen=True, slots=True)
class Timing:
    """When a schedule fires: a ``cron`` expression in ``zone``, or every ``interval_ms``
    counted from ``anchor_ms``; never before ``start_ms`` nor after ``end_ms`` (0: unbounded)."""

    cron: str = ""
    interval_ms: int = 0
    zone: str = "UTC"
    start_ms: int = 0
    end_ms: int = 0
    anchor_ms: int = 0

    def __post_init__(self) -> None:
        if bool(self.cron) == bool(self.interval_ms):
            raise InvalidArgument("give either a cron expression or an interval", field="cron")
        if self.cron:
            parse_cron(self.cron)
        elif self.interval_ms < 1:
            raise InvalidArgument("interval must be at least 0.001 s", field="interval")
        check_zone(self.zone)
        for name in ("start_ms", "end_ms", "anchor_ms"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidArgument(f"{name} must be an int >= 0", field=name)
        if self.end_ms and self.start_ms and self.end_ms < self.start_ms:
            raise InvalidArgument("the end time is before the start time", field="end")

    def fires_after(self, after_ms: int) -> Iterator[int]:
        """Fire times strictly after ``after_ms``, ascending, within start and end."""
        after_ms = max(after_ms, self.start_ms - 1)
        times = (
            _interval_fires(self.interval_ms, self.anchor_ms or self.start_ms, after_ms)
            if self.interval_ms
            else _cron_fires(self.cron, ZoneInfo(self.zone), after_ms)
        )
        for fire_ms in times:
            if self.end_ms and fire_ms > self.end_ms:
                return
            yield fire_ms

    def next_fire(self, after_ms: int) -> int | None:
        return next(self.fires_after(after_ms), None)

    def next_fires(self, after_ms: int, count: int) -> list[int]:
        out: list[int] = []
        for fire_ms in self.fires_after(after_ms):
            if len(out) >= count:
                break
            out.append(fire_ms)
        return out


@dataclass(frozen=True, slots=True)
class Schedule:
    """A named schedule: its timing, what each fire does, and how it catches up. ``rev``
    changes with every update (a tick carries the revision it was planned with)."""

    name: str
    timing: Timing
    action: Action
    paused: bool = False
    paused_reason: str = ""
    catch_up: CatchUp = CatchUp.SKIP
    max_catch_up: int = DEFAULT_MAX_CATCH_UP
    grace_ms: int = round(DEFAULT_GRACE_SECONDS * 1000)
    description: str = ""
    created_ms: int = 0
    updated_ms: int = 0
    rev: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. Conductor's createdBy, tags

    def __post_init__(self) -> None:
        check_schedule_name(self.name)
        if not isinstance(self.catch_up, CatchUp):
            raise InvalidArgument("catch_up must be 'skip' or 'all'", field="catch_up")
        mc = self.max_catch_up
        if isinstance(mc, bool) or not isinstance(mc, int) or not 0 <= mc <= MAX_CATCH_UP:
            raise InvalidArgument(
                f"max_catch_up must be in 0..{MAX_CATCH_UP}", field="max_catch_up"
            )
        if isinstance(self.grace_ms, bool) or not isinstance(self.grace_ms, int):
            raise InvalidArgument("grace must be a number of seconds", field="grace")
        if self.grace_ms < 0:
            raise InvalidArgument("grace must be >= 0", field="grace")

    def same_definition(self, other: Schedule) -> bool:
        """True when only bookkeeping (times, revision) differs."""
        bookkeeping = {"created_ms": 0, "updated_ms": 0, "rev": ""}
        return replace(self, **bookkeeping) == replace(other, **bookkeeping)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class FirePlan:
    """What a due tick does: the fire times to run now, how many were missed, the next tick."""

    fires: list[int]
    missed: int
    next_ms: int | None


def plan_tick(schedule: Schedule, tick_ms: int, now_ms: int) -> FirePlan:
    """The fires due for a tick planned at ``tick_ms``, seen at ``now_ms``: every fire time in
    ``[tick_ms, now_ms]``. Those at most ``grace`` old run; older ones are missed, or with
    ``CatchUp.ALL`` run too, the latest ``max_catch_up`` of them. A tick seen before its time
    fires nothing and comes back at ``tick_ms``."""
    timing = schedule.timing
    late_limit = now_ms - schedule.grace_ms
    cursor: int | None = tick_ms
    late: list[int] = []
    if tick_ms < late_limit:  # an outage: walk the late fires, bounded
        late = [tick_ms]
        for fire_ms in timing.fires_after(tick_ms):
            if fire_ms >= late_limit or len(late) >= ENUMERATION_LIMIT:
                break
            late.append(fire_ms)
        cursor = timing.next_fire(max(late[-1], late_limit - 1))
    keep = schedule.max_catch_up if schedule.catch_up is CatchUp.ALL else 0
    due = late[-keep:] if keep else []
    while cursor is not None and cursor <= now_ms:
        due.append(cursor)
        cursor = timing.next_fire(cursor)
    return FirePlan(due, len(late) - min(keep, len(late)), cursor)


# -- validation -------------------------------------------------------------------------------
def check_schedule_name(name: object) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise InvalidArgument(
            f"schedule name must match [A-Za-z0-9._:@-]{{1,200}}, got {name!r}", field="name"
        )
    return name


def check_zone(zone: object) -> ZoneInfo:
    if not isinstance(zone, str) or not zone:
        raise InvalidArgument("zone must be an IANA time zone name", field="zone")
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidArgument(
            f"unknown time zone {zone!r} (use an IANA name such as 'Europe/Berlin' or 'UTC')",
            field="zone",
        ) from None


def parse_cron(expr: object) -> str:
    """The expression in cronsim's form (5 or 6 fields), or InvalidArgument saying what is
    wrong."""
    if not isinstance(expr, str) or not expr.strip():
        raise InvalidArgument("cron must be a non-empty string", field="cron")
    return _parse_cron(expr)


@functools.lru_cache(maxsize=4096)
def _parse_cron(expr: str) -> str:
    if not expr.strip():
        raise InvalidArgument("cron must be a non-empty string", field="cron")
    parts = expr.split()
    if len(parts) == 7:
        if parts[6] not in ("*", "?"):
            raise InvalidArgument(
                f"cron {expr!r}: the 7th (year) field must be * or ?", field="cron"
            )
        parts = parts[:6]
    if len(parts) not in (5, 6):
        raise InvalidArgument(
            f"cron {expr!r} has {len(parts)} fields: give 5 (minute hour day month weekday), "
            "6 (second first) or 7 (Quartz, year last)",
            field="cron",
        )
    normal = " ".join("*" if part == "?" else part for part in parts)
    try:
        CronSim(normal, datetime(2000, 1, 1, tzinfo=UTC))
    except CronSimError as exc:
        raise InvalidArgument(f"cron {expr!r}: {exc}", field="cron") from None
    return normal


def check_seconds_ms(value: object, name: str, *, minimum: float = 0.0) -> int:
    """Seconds (a finite number >= minimum) as integer ms."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value < minimum:  # type: ignore[operator, arg-type]
        raise InvalidArgument(f"{name} must be a number of seconds >= {minimum:g}", field=name)
    return round(value * 1000)  # type: ignore[operator]


# -- fire times -------------------------------------------------------------------------------
def _interval_fires(interval_ms: int, anchor_ms: int, after_ms: int) -> Iterator[int]:
    k = max(0, (after_ms - anchor_ms) // interval_ms + 1)
    while True:
        yield anchor_ms + k * interval_ms
        k += 1


def _fixed_time(normal: str) -> bool:
    """Minute and hour both fixed: such jobs follow the wall clock across DST changes."""
    fields = normal.split()
    if len(fields) == 5:
        fields.insert(0, "0")
    return not fields[1].startswith("*") and not fields[2].startswith("*")


def _cron_fires(expr: str, zone: ZoneInfo, after_ms: int) -> Iterator[int]:
    normal = parse_cron(expr)
    after = datetime.fromtimestamp(after_ms / 1000, UTC)
    if not _fixed_time(normal):
        local = after.astimezone(zone).replace(microsecond=0)
        for dt in CronSim(normal, local):
            fire_ms = int(dt.timestamp() * 1000)
            if fire_ms > after_ms:
                yield fire_ms
        return
    # Wall-clock iteration: each matching local time once; a time in a gap shifts by the gap
    # (fold=0 there takes the offset before the jump), a repeated one takes its first instant.
    # Start a day early: a fold can put the next local match before the local "now".
    wall = (after.astimezone(zone) - timedelta(days=1)).replace(tzinfo=None, microsecond=0)
    last = after_ms
    for naive in CronSim(normal, wall):
        fire_ms = int(naive.replace(tzinfo=zone, fold=0).timestamp() * 1000)
        if fire_ms > last:
            last = fire_ms
            yield fire_ms


def message_id(template: str, schedule: str, fire_ms: int) -> str:
    fire_time = datetime.fromtimestamp(fire_ms / 1000, UTC).isoformat(timespec="milliseconds")
    out = template.format(schedule=schedule, fire_ms=fire_ms, fire_time=fire_time)
    try:
        check_id(out)
    except InvalidMessage as exc:
        raise ValueError(str(exc)) from None
    return out


def workflow_id(namespace: str, schedule: str, fire_ms: int) -> str:
    """The id of the workflow a fire starts: the same for the same schedule and fire time, so a
    repeated fire finds the workflow it started before."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"dynoq-schedule:{namespace}:{schedule}:{fire_ms}"))


def execution_id(schedule: str, fire_ms: int) -> str:
    return f"{schedule}:{fire_ms}"


# -- documents --------------------------------------------------------------------------------
SCHEDULE_FIELDS = (
    "name", "cron", "interval", "zone", "start", "end", "paused", "paused_reason", "catch_up",
    "max_catch_up", "grace", "description", "message", "workflow",
)  # fmt: skip
MESSAGE_FIELDS = ("queue", "payload", "priority", "id")


def _seconds(ms: int) -> float | None:
    return ms / 1000 if ms else None


def schedule_to_doc(schedule: Schedule) -> dict[str, Any]:
    """The JSON form (``/v1/schedules``, the CLI): times in seconds since the epoch."""
    timing = schedule.timing
    doc: dict[str, Any] = {
        "name": schedule.name,
        "cron": timing.cron or None,
        "interval": _seconds(timing.interval_ms),
        "zone": timing.zone,
        "start": _seconds(timing.start_ms),
        "end": _seconds(timing.end_ms),
        "paused": schedule.paused,
        "paused_reason": schedule.paused_reason,
        "catch_up": str(schedule.catch_up),
        "max_catch_up": schedule.max_catch_up,
        "grace": schedule.grace_ms / 1000,
        "description": schedule.description,
        "created_at": _seconds(schedule.created_ms),
        "updated_at": _seconds(schedule.updated_ms),
    }
    action = schedule.action
    if isinstance(action, MessageAction):
        doc["message"] = {
            "queue": action.queue,
            "payload": action.payload,
            "priority": action.priority,
            "id": action.id,
        }
    else:
        doc["workflow"] = dict(action.request)
    return doc


def _optional_ms(doc: dict[str, Any], name: str, *, minimum: float = 0.0) -> int:
    value = doc.get(name)
    return 0 if value is None else check_seconds_ms(value, name, minimum=minimum)


def schedule_from_doc(doc: object) -> Schedule:
    """A schedule from its JSON form; InvalidArgument names the first bad field."""
    if not isinstance(doc, dict):
        raise InvalidArgument("a schedule must be an object")
    for key in doc:
        if key not in (*SCHEDULE_FIELDS, "created_at", "updated_at"):
            raise InvalidArgument(f"unknown field {key!s}", field=str(key))
    message, workflow = doc.get("message"), doc.get("workflow")
    if (message is None) == (workflow is None):
        raise InvalidArgument(
            "give either message (queue, payload...) or workflow", field="message"
        )
    action: Action
    if message is not None:
        if not isinstance(message, dict):
            raise InvalidArgument("message must be an object", field="message")
        for key in message:
            if key not in MESSAGE_FIELDS:
                raise InvalidArgument(f"unknown field message.{key!s}", field=f"message.{key!s}")
        action = MessageAction(
            queue=message.get("queue", ""),
            payload=message.get("payload"),
            priority=message.get("priority", 0),
            id=message.get("id") or DEFAULT_MESSAGE_ID,
        )
    else:
        if not isinstance(workflow, dict):
            raise InvalidArgument(
                "workflow must be a StartWorkflowRequest object", field="workflow"
            )
        action = WorkflowAction(dict(workflow))
    cron = doc.get("cron") or ""
    interval_ms = _optional_ms(doc, "interval", minimum=0.001)
    catch_up = doc.get("catch_up", "skip")
    if catch_up not in ("skip", "all"):
        raise InvalidArgument("catch_up must be 'skip' or 'all'", field="catch_up")
    for name in ("paused",):
        if not isinstance(doc.get(name, False), bool):
            raise InvalidArgument(f"{name} must be true or false", field=name)
    for name in ("zone", "description", "paused_reason"):
        if doc.get(name) is not None and not isinstance(doc[name], str):
            raise InvalidArgument(f"{name} must be a string", field=name)
    return Schedule(
        name=doc.get("name"),  # type: ignore[arg-type]
        timing=Timing(
            cron=cron,
            interval_ms=interval_ms,
            zone=doc.get("zone") or "UTC",
            start_ms=_optional_ms(doc, "start"),
            end_ms=_optional_ms(doc, "end"),
        ),
        action=action,
        paused=bool(doc.get("paused", False)),
        paused_reason=doc.get("paused_reason") or "",
        catch_up=CatchUp(catch_up),
        max_catch_up=doc.get("max_catch_up", DEFAULT_MAX_CATCH_UP),
        grace_ms=_optional_ms(doc, "grace") if doc.get("grace") is not None else 60_000,
        description=doc.get("description") or "",
    )


def schedule_to_record(schedule: Schedule) -> dict[str, Any]:
    """What Redis keeps: the JSON form plus the bookkeeping, in ms."""
    record = schedule_to_doc(schedule)
    record.update(
        anchor_ms=schedule.timing.anchor_ms,
        created_ms=schedule.created_ms,
        updated_ms=schedule.updated_ms,
        rev=schedule.rev,
        extra=schedule.extra,
    )
    for name in ("created_at", "updated_at"):
        record.pop(name)
    return record


def schedule_from_record(record: dict[str, Any]) -> Schedule:
    bookkeeping = {k: record.pop(k) for k in ("anchor_ms", "created_ms", "updated_ms", "rev")}
    extra = record.pop("extra", {})
    schedule = schedule_from_doc(record)
    return replace(
        schedule,
        timing=replace(schedule.timing, anchor_ms=bookkeeping["anchor_ms"]),
        created_ms=bookkeeping["created_ms"],
        updated_ms=bookkeeping["updated_ms"],
        rev=bookkeeping["rev"],
        extra=extra,
    )
