"""``Schedules``: recurring messages and workflows, kept in Redis and fired by ``dynoq scheduler``.

::

    schedules = dynoq.Schedules.from_url("redis://localhost:6379/0")
    await schedules.create(dynoq.Schedule("nightly", dynoq.Timing(cron="0 3 * * *",
                           zone="Europe/Berlin"), dynoq.MessageAction("reports")))

Each schedule has exactly one pending *tick*: a message on the queue ``_schedules`` whose id is
the schedule's name, delayed to its next fire time, so writing a tick again replaces it. Keys,
under one hash tag so the execution script runs on Redis Cluster::

    {<ns>:schedules}:defs        hash  name -> definition (JSON)
    {<ns>:schedules}:state       hash  name -> last fire (JSON)
    {<ns>:schedules}:execs       hash  execution id -> execution (JSON)
    {<ns>:schedules}:execs:time  zset  execution id by fire time (the newest MAX_EXECUTIONS)
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from typing import Any

from dynoq.backend.connect import AsyncClient, async_client
from dynoq.backend.queue import AsyncQueue
from dynoq.backend.registry import alookup, aregister
from dynoq.backend.runner import AsyncScripts, translated_errors
from dynoq.core.clock import Clock
from dynoq.core.codec import encode_payload
from dynoq.core.keys import shard_of
from dynoq.core.models import Message
from dynoq.core.ops import MOVE_LIMIT, ScriptCall
from dynoq.core.schedule import (
    MessageAction,
    Schedule,
    WorkflowAction,
    check_schedule_name,
    execution_id,
    message_id,
    schedule_from_record,
    schedule_to_record,
)
from dynoq.errors import Conflict, InvalidArgument, NotFound

TICK_QUEUE = "_schedules"
TICK_LEASE_SECONDS = 10.0  # a scheduler killed mid-fire: its tick is fired again after this
MAX_EXECUTIONS = 100_000  # execution history kept per namespace
WRITE_BATCH = 1000  # schedules per round trip in save_many
CLOCK_REFRESH_SECONDS = 10.0
# A tick comes due this much before its fire time; the scheduler holding it waits out the rest
# on its own clock, so the fire does not also wait for the queue's wake-up.
TICK_LEAD_MS = 100
REPAIR_BATCH = 500
# How long a fire's marker outlives a push whose execution was never recorded (the scheduler
# died in between): a repeat of that fire within this time pushes nothing, even when the first
# message was consumed meanwhile.
FIRE_MARKER_TTL_SECONDS = 24 * 3600.0
PARSED_CACHE = 10_000  # definitions kept parsed, by their stored bytes


@dataclass(frozen=True, slots=True)
class ScheduleKeys:
    defs: str
    state: str
    executions: str
    by_time: str


def fire_marker_key(shard_ready_key: str, message_id: str) -> str:
    """The marker of one fire's push, under the target shard's hash tag (the shard's keys all
    end ``:<kind>`` after the tag)."""
    return f"{shard_ready_key.rsplit(':', 1)[0]}:fired:{message_id}"


def schedule_keys(namespace: str) -> ScheduleKeys:
    tag = f"{{{namespace}:schedules}}"
    return ScheduleKeys(f"{tag}:defs", f"{tag}:state", f"{tag}:execs", f"{tag}:execs:time")


@dataclass(frozen=True, slots=True)
class Tick:
    """A popped tick: the schedule, the fire time it was planned for, and its definition's
    revision then."""

    message: Message
    name: str
    fire_ms: int
    rev: str


class Schedules:
    """Create, change and read schedules; the scheduler's steps (ticks, fires, executions)."""

    def __init__(
        self, client: AsyncClient, namespace: str = "dynoq", *, clock: Clock | None = None
    ) -> None:
        self.client = client
        self.namespace = namespace
        self.clock = clock
        self.keys = schedule_keys(namespace)
        self.ticks = AsyncQueue(
            client, TICK_QUEUE, namespace=namespace, unack_timeout=TICK_LEASE_SECONDS, clock=clock
        )
        self._scripts = AsyncScripts(client)  # EVALSHA, EVAL on NOSCRIPT, like the queue
        self._queues: dict[str, AsyncQueue] = {}
        self._owns_client = False
        self._offset: tuple[float, float] | None = None  # (server - local seconds, when read)
        self._parsed: dict[str, tuple[bytes | str, Schedule]] = {}

    @classmethod
    def from_url(cls, url: str, namespace: str = "dynoq", **options: Any) -> Schedules:
        schedules = cls(async_client(url), namespace, **options)
        schedules._owns_client = True
        return schedules

    async def aclose(self) -> None:
        for queue in (self.ticks, *self._queues.values()):
            await queue.aclose()
        if self._owns_client:
            await self.client.aclose()

    async def __aenter__(self) -> Schedules:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def now_ms(self) -> int:
        """The clock ticks are due by: the Redis server's (or the test clock). Its offset from
        this machine's clock is read every CLOCK_REFRESH_SECONDS, so a tick's delay is reckoned
        without a round trip: the server's time is taken as of the middle of the quickest of three
        round trips (so it is off by at most half of that round trip)."""
        if self.clock is not None:
            return self.clock.now_ms()
        if self._offset is None or time.monotonic() - self._offset[1] > CLOCK_REFRESH_SECONDS:
            samples = []
            for _ in range(3):
                before = time.time()
                with translated_errors():
                    seconds, micros = await self.client.time()
                after = time.time()
                server = int(seconds) + int(micros) / 1e6
                samples.append((after - before, server - (before + after) / 2))
            self._offset = (min(samples)[1], time.monotonic())
        return int((time.time() + self._offset[0]) * 1000)

    # -- definitions ------------------------------------------------------------------------
    async def get(self, name: str) -> Schedule | None:
        with translated_errors():
            raw = await self.client.hget(self.keys.defs, name)
        if raw is None:
            return None
        cached = self._parsed.get(name)
        if cached is not None and cached[0] == raw:
            return cached[1]
        schedule = schedule_from_record(json.loads(raw))
        if len(self._parsed) >= PARSED_CACHE:
            self._parsed.clear()
        self._parsed[name] = (raw, schedule)
        return schedule

    async def require(self, name: str) -> Schedule:
        schedule = await self.get(check_schedule_name(name))
        if schedule is None:
            raise NotFound(f"no schedule {name!r}")
        return schedule

    async def all(self) -> list[Schedule]:
        """Every schedule, by name."""
        out = []
        with translated_errors():
            async for _, raw in self.client.hscan_iter(self.keys.defs, count=1000):
                out.append(schedule_from_record(json.loads(raw)))
        return sorted(out, key=lambda s: s.name)

    async def names(self) -> list[str]:
        """Every schedule's name, sorted (without reading the definitions)."""
        with translated_errors():
            found = await self.client.hkeys(self.keys.defs)
        return sorted(n.decode() if isinstance(n, bytes) else str(n) for n in found)

    async def get_many(self, names: Iterable[str]) -> dict[str, Schedule]:
        """The named schedules that exist, by name (a page of a listing)."""
        return await self._get_many(list(names))

    async def create(self, schedule: Schedule) -> Schedule:
        """Adds a schedule; Conflict if the name is taken."""
        if await self.get(schedule.name) is not None:
            raise Conflict(f"schedule {schedule.name!r} exists (use save to replace it)")
        return await self.save(schedule)

    async def save(self, schedule: Schedule) -> Schedule:
        """Creates or replaces a schedule. Saving what is already stored changes nothing (so a
        worker registering its cron jobs at every start does not move their ticks)."""
        [saved] = await self.save_many([schedule])
        return saved

    async def save_many(self, schedules: Iterable[Schedule]) -> list[Schedule]:
        """:meth:`save` for many, in a few round trips."""
        now = await self.now_ms()
        given = list(schedules)
        existing = await self._get_many([s.name for s in given])
        out, changed = [], []
        for schedule in given:
            old = existing.get(schedule.name)
            if old is not None and not schedule.timing.anchor_ms:
                timing = replace(schedule.timing, anchor_ms=old.timing.anchor_ms)
                schedule = replace(schedule, timing=timing)
            if old is not None and old.same_definition(schedule):
                out.append(old)
                continue
            stored = replace(
                schedule,
                created_ms=old.created_ms if old is not None else now,
                updated_ms=now,
                rev=uuid.uuid4().hex[:12],
                timing=replace(schedule.timing, anchor_ms=_anchor(schedule, now)),
            )
            out.append(stored)
            changed.append(stored)
        for start in range(0, len(changed), WRITE_BATCH):
            chunk = changed[start : start + WRITE_BATCH]
            with translated_errors():
                mapping = {s.name: json.dumps(schedule_to_record(s)) for s in chunk}
                await self.client.hset(self.keys.defs, mapping=mapping)  # type: ignore[arg-type]
            await self._arm(chunk, now)
        return out

    async def _get_many(self, names: list[str]) -> dict[str, Schedule]:
        out = {}
        for start in range(0, len(names), WRITE_BATCH):
            chunk = names[start : start + WRITE_BATCH]
            with translated_errors():
                raws = await self.client.hmget(self.keys.defs, chunk)
            for name, raw in zip(chunk, raws, strict=True):
                if raw is not None:
                    out[name] = schedule_from_record(json.loads(raw))
        return out

    async def update(self, name: str, **changes: Any) -> Schedule:
        """Changes fields of a stored schedule (``timing``, ``action``, ``catch_up``, ...)."""
        schedule = await self.require(name)
        unknown = set(changes) - {f.name for f in fields(Schedule)} | ({"name"} & set(changes))
        if unknown:
            raise InvalidArgument(f"cannot change {', '.join(sorted(unknown))}", field="name")
        return await self.save(replace(schedule, **changes))

    async def delete(self, name: str) -> None:
        await self.require(name)
        with translated_errors():
            await self.client.hdel(self.keys.defs, name)
            await self.client.hdel(self.keys.state, name)
        await self.ticks.remove(name)

    async def pause(self, name: str, reason: str = "") -> Schedule:
        schedule = await self.require(name)
        return await self.save(replace(schedule, paused=True, paused_reason=reason))

    async def resume(self, name: str) -> Schedule:
        """Fires resume from the next fire time after now; the ones while paused are skipped."""
        schedule = await self.require(name)
        return await self.save(replace(schedule, paused=False, paused_reason=""))

    async def pause_all(self, reason: str = "") -> int:
        running = [s for s in await self.all() if not s.paused]
        await self.save_many(replace(s, paused=True, paused_reason=reason) for s in running)
        return len(running)

    async def resume_all(self) -> int:
        paused = [s for s in await self.all() if s.paused]
        await self.save_many(replace(s, paused=False, paused_reason="") for s in paused)
        return len(paused)

    async def next_fires(self, name: str, count: int = 5) -> list[float]:
        """The next ``count`` fire times of a schedule, Unix seconds."""
        schedule = await self.require(name)
        return [ms / 1000 for ms in schedule.timing.next_fires(await self.now_ms(), count)]

    async def last_fires(self, names: Iterable[str]) -> dict[str, dict[str, Any]]:
        names = list(names)
        if not names:
            return {}
        with translated_errors():
            raws = await self.client.hmget(self.keys.state, names)
        return {n: json.loads(r) for n, r in zip(names, raws, strict=True) if r is not None}

    # -- ticks ------------------------------------------------------------------------------
    async def _arm(self, schedules: list[Schedule], now_ms: int) -> None:
        """Pushes each running schedule's tick for its next fire; removes a paused one's."""
        pushes = []
        for schedule in schedules:
            fire_ms = None if schedule.paused else schedule.timing.next_fire(now_ms)
            if fire_ms is None:
                await self.ticks.remove(schedule.name)
            else:
                pushes.append(self._tick_message(schedule, fire_ms, now_ms))
        if pushes:
            await self.ticks.push(pushes)

    async def arm(self, schedule: Schedule) -> None:
        await self._arm([schedule], await self.now_ms())

    def _tick_message(self, schedule: Schedule, fire_ms: int, now_ms: int) -> Message:
        payload = {"fire_ms": fire_ms, "rev": schedule.rev}
        lead = 0 if self.clock is not None else TICK_LEAD_MS
        return Message(schedule.name, payload, delay=max(0, fire_ms - lead - now_ms) / 1000)

    async def pop_ticks(self, count: int, wait: float) -> list[Tick]:
        messages = await self.ticks.pop(count, wait)
        out = []
        for message in messages:
            payload = message.payload if isinstance(message.payload, dict) else {}
            fire_ms, rev = payload.get("fire_ms"), payload.get("rev")
            if not isinstance(fire_ms, int) or not isinstance(rev, str):
                await self.ticks.ack(message)  # not a tick of ours
                continue
            out.append(Tick(message, message.id, fire_ms, rev))
        return out

    async def push_tick(self, schedule: Schedule, fire_ms: int, now_ms: int) -> None:
        """The next tick; it replaces the one being handled (whose lease this cancels)."""
        await self.ticks.push(self._tick_message(schedule, fire_ms, now_ms))

    async def repair(self, pause: float = 0.0) -> int:
        """Arms every running schedule that has no tick (a writer died between storing a
        definition and pushing its tick); how many it armed. Looks at REPAIR_BATCH schedules
        at a time, ``pause`` seconds apart, so a large installation is checked gently."""
        armed = 0
        batch: list[tuple[str, bytes | str]] = []
        with translated_errors():
            async for name, raw in self.client.hscan_iter(self.keys.defs, count=REPAIR_BATCH):
                batch.append((name.decode() if isinstance(name, bytes) else name, raw))
                if len(batch) >= REPAIR_BATCH:
                    armed += await self._repair_batch(batch)
                    batch = []
                    await asyncio.sleep(pause)
        return armed + await self._repair_batch(batch)

    async def _repair_batch(self, batch: list[tuple[str, bytes | str]]) -> int:
        present = await asyncio.gather(*(self.ticks.contains(name) for name, _ in batch))
        missing = [
            schedule_from_record(json.loads(raw))
            for (_, raw), found in zip(batch, present, strict=True)
            if not found
        ]
        missing = [s for s in missing if not s.paused]
        if missing:
            await self._arm(missing, await self.now_ms())
        return len(missing)

    # -- fires and executions ---------------------------------------------------------------
    async def fire_message(self, schedule: Schedule, fire_ms: int) -> dict[str, Any]:
        """Pushes the fire's message unless this fire pushed it before (its id derives from
        the fire time, and a marker on the target shard remembers the push until the
        execution is recorded, or FIRE_MARKER_TTL_SECONDS); the execution document."""
        action = schedule.action
        assert isinstance(action, MessageAction)
        queue = await self._queue(action.queue)
        payload = action.payload
        if payload is None:
            payload = {"schedule": schedule.name, "scheduled_time": fire_ms / 1000}
        try:
            mid = message_id(action.id, schedule.name, fire_ms)
        except (KeyError, IndexError, ValueError) as exc:
            raise InvalidArgument(f"message id template: {exc}", field="message.id") from None
        spec = queue.spec
        keys = spec.keys[shard_of(mid, spec.shards)].all
        marker = fire_marker_key(keys[0], mid)
        args = [
            "" if self.clock is None else self.clock.now_ms(),
            spec.channel,
            MOVE_LIMIT,
            mid,
            action.priority,
            0,
            encode_payload(payload, spec.max_payload_bytes),
            round(FIRE_MARKER_TTL_SECONDS * 1000),
        ]
        pushed = await self._scripts.run(ScriptCall("schedules/fire", (*keys, marker), tuple(args)))
        doc = self.execution(schedule, fire_ms, "EXECUTED")
        doc.update(queue=action.queue, messageId=mid, duplicate=not pushed, _marker=marker)
        return doc

    async def _queue(self, name: str) -> AsyncQueue:
        queue = self._queues.get(name)
        if queue is None:
            entry = await alookup(self.client, self.namespace, name)
            options = entry.options() if entry is not None else {"namespace": self.namespace}
            queue = AsyncQueue(self.client, name, **options)
            await aregister(self.client, queue.spec)
            self._queues[name] = queue
        return queue

    def execution(self, schedule: Schedule, fire_ms: int, state: str) -> dict[str, Any]:
        """An execution document, shaped as Conductor's WorkflowScheduleExecutionModel."""
        doc: dict[str, Any] = {
            "executionId": execution_id(schedule.name, fire_ms),
            "scheduleName": schedule.name,
            "scheduledTime": fire_ms,
            "executionTime": time.time_ns() // 1_000_000,
            "state": state,
            "zoneId": schedule.timing.zone,
        }
        if isinstance(schedule.action, WorkflowAction):
            doc["workflowName"] = schedule.action.workflow_name
            doc["startWorkflowRequest"] = schedule.action.request
        return doc

    async def executed(self, name: str, fire_ms: int) -> bool:
        with translated_errors():
            found = await self.client.hexists(self.keys.executions, execution_id(name, fire_ms))
        return bool(found)

    async def record(self, schedule: Schedule, doc: dict[str, Any]) -> bool:
        """Keeps an execution and the schedule's last fire; True if it is new."""
        marker = doc.pop("_marker", None)
        last = {k: doc.get(k) for k in ("executionId", "scheduledTime", "executionTime", "state")}
        keys = [self.keys.executions, self.keys.by_time, self.keys.state]
        args = [
            doc["executionId"],
            doc["scheduledTime"],
            json.dumps(doc),
            schedule.name,
            json.dumps(last),
            MAX_EXECUTIONS,
        ]
        new = bool(
            await self._scripts.run(ScriptCall("schedules/record", tuple(keys), tuple(args)))
        )
        with translated_errors():
            if marker:  # recorded: a repeat now finds the record, the marker may go
                await self.client.delete(marker)
        return new

    async def executions(
        self,
        name: str | None = None,
        *,
        start: int = 0,
        count: int = 100,
        newest_first: bool = True,
    ) -> tuple[int, list[dict[str, Any]]]:
        """Recorded executions (of one schedule, or all), newest first: (total, page)."""
        with translated_errors():
            found = await self.client.zrange(self.keys.by_time, 0, -1, desc=newest_first)
            ids = [bytes(i) for i in found]  # type: ignore[arg-type]
            if name is not None:
                prefix = f"{name}:".encode()
                ids = [i for i in ids if i.startswith(prefix) and i[len(prefix) :].isdigit()]
            page = ids[start : start + count]
            raws = await self.client.hmget(self.keys.executions, page) if page else []
        return len(ids), [json.loads(r) for r in raws if r is not None]


def _anchor(schedule: Schedule, now_ms: int) -> int:
    """Where an interval schedule counts from: its start time, else when it was first saved."""
    return schedule.timing.anchor_ms or schedule.timing.start_ms or now_ms
