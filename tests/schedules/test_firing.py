"""A scheduler in this process, on a ManualClock: what fires, when, once; pause, resume,
update and delete; catch-up after an outage."""

from __future__ import annotations

import pytest

from dynoq import AsyncQueue, CatchUp, MessageAction, Schedule, Timing
from dynoq.backend.connect import async_client
from dynoq.errors import Conflict, InvalidArgument, NotFound


@pytest.fixture
async def target(redis_url, namespace):
    client = async_client(redis_url)
    queue = AsyncQueue(client, "jobs", namespace=namespace)
    yield queue
    await queue.aclose()
    await client.aclose()


def every(seconds, name="beat", **changes):
    timing = Timing(interval_ms=seconds * 1000) if seconds else Timing(cron="* * * * * *")
    return Schedule(name, timing, MessageAction("jobs"), **changes)


async def ids(queue):
    return sorted(m.id for m in await queue.peek(1000))


async def test_fires_once_per_fire_time_and_arms_the_next(
    schedules, scheduler, clock, target, registry
):
    saved = await schedules.create(every(10))
    start = saved.timing.anchor_ms
    assert await scheduler.run_once() == 0  # nothing due yet
    clock.advance(10)
    assert await scheduler.run_once() == 1
    assert await ids(target) == [f"beat:{start + 10_000}"]
    [message] = await target.peek(1)
    assert message.payload == {"schedule": "beat", "scheduled_time": (start + 10_000) / 1000}
    clock.advance(10)
    await scheduler.run_once()
    assert await ids(target) == [f"beat:{start + 10_000}", f"beat:{start + 20_000}"]
    total, executions = await schedules.executions("beat")
    assert total == 2 and [e["scheduledTime"] for e in executions] == [
        start + 20_000,
        start + 10_000,
    ]
    assert (await schedules.last_fires(["beat"]))["beat"]["scheduledTime"] == start + 20_000
    fires = registry.get_sample_value(
        "dynoq_schedule_fires_total", {"action": "message", "outcome": "executed"}
    )
    assert fires == 2
    assert registry.get_sample_value("dynoq_schedule_lateness_seconds_count") == 2


async def test_a_tick_handled_twice_fires_once(schedules, scheduler, clock, target):
    saved = await schedules.create(every(5))
    clock.advance(5)
    [tick] = await schedules.pop_ticks(1, 0)
    doc = await schedules.fire_message(saved, tick.fire_ms)
    await schedules.record(saved, doc)
    # the scheduler died here, before pushing the next tick; its lease runs out
    clock.advance(11)
    [again] = await schedules.pop_ticks(1, 0)
    assert again.fire_ms == tick.fire_ms and again.message.attempts == 2
    await scheduler.handle(again)
    fired = await ids(target)
    assert fired.count(f"beat:{tick.fire_ms}") == 1
    assert len(fired) == 3  # the repeated fire once, plus the two that came due meanwhile
    sample = scheduler.metrics.fires.labels("message", "repeated")._value.get()
    assert sample == 1


async def test_pause_resume_update_delete(schedules, scheduler, clock, target):
    await schedules.create(every(10))
    with pytest.raises(Conflict):
        await schedules.create(every(10))
    await schedules.pause("beat", "maintenance")
    clock.advance(60)
    assert await scheduler.run_once() == 0 and await ids(target) == []
    resumed = await schedules.resume("beat")
    assert not resumed.paused
    clock.advance(10)
    await scheduler.run_once()
    assert len(await ids(target)) == 1  # the fires while paused are skipped, not caught up
    await schedules.update("beat", timing=Timing(cron="* * * * * *"))  # now every second
    with pytest.raises(InvalidArgument, match="cannot change colour"):
        await schedules.update("beat", colour="red")
    before = len(await ids(target))
    clock.advance(3)
    await scheduler.run_once()
    assert len(await ids(target)) == before + 3
    await schedules.delete("beat")
    clock.advance(30)
    assert await scheduler.run_once() == 0
    with pytest.raises(NotFound):
        await schedules.delete("beat")
    assert await schedules.all() == []


async def test_saving_the_same_definition_keeps_the_tick(schedules, clock):
    first = await schedules.save(every(10))
    clock.advance(4)
    again = await schedules.save(every(10))
    assert again.rev == first.rev
    tick = await schedules.ticks.get("beat")
    assert tick.due_at == (first.timing.anchor_ms + 10_000) / 1000


@pytest.mark.parametrize(("policy", "expected"), [(CatchUp.SKIP, 6), (CatchUp.ALL, 6 + 20)])
async def test_catch_up_after_an_outage(schedules, scheduler, clock, target, policy, expected):
    await schedules.create(every(0, grace_ms=5000, catch_up=policy, max_catch_up=20))
    clock.advance(300)  # five minutes with no scheduler running
    await scheduler.run_once()
    assert len(await ids(target)) == expected
    misses = scheduler.metrics.misses._value.get()
    assert misses == 300 - expected
    clock.advance(1)
    await scheduler.run_once()
    assert len(await ids(target)) == expected + 1


async def test_a_schedule_past_its_end_stops(schedules, scheduler, clock, target):
    now = clock.now_ms()
    schedule = Schedule(
        "short", Timing(cron="* * * * * *", end_ms=now + 2000), MessageAction("jobs")
    )
    await schedules.create(schedule)
    clock.advance(10)
    await scheduler.run_once()
    assert len(await ids(target)) == 2
    assert await schedules.ticks.size() == 0


async def test_repair_arms_a_schedule_without_a_tick(schedules, clock):
    await schedules.create(every(10))
    await schedules.ticks.remove("beat")  # as if the writer died before pushing it
    assert await schedules.repair() == 1
    assert await schedules.ticks.contains("beat")
    assert await schedules.repair() == 0


async def test_an_interval_counts_from_its_start(schedules, scheduler, clock, target):
    start = clock.now_ms() + 4_321
    timing = Timing(interval_ms=10_000, start_ms=start)
    await schedules.create(Schedule("later", timing, MessageAction("jobs")))
    assert await schedules.next_fires("later", 2) == [start / 1000, (start + 10_000) / 1000]
    clock.advance(15)
    await scheduler.run_once()
    assert await ids(target) == [f"later:{start}", f"later:{start + 10_000}"]


async def test_a_fire_repeated_after_its_message_was_consumed_pushes_nothing(
    schedules, scheduler, clock, target
):
    saved = await schedules.create(every(5))
    clock.advance(5)
    [tick] = await schedules.pop_ticks(1, 0)
    await schedules.fire_message(saved, tick.fire_ms)
    # the scheduler dies here, before recording; a worker takes and acks the message
    [message] = await target.pop(1)
    assert await target.ack(message)
    clock.advance(11)
    [again] = await schedules.pop_ticks(1, 0)
    await scheduler.handle(again)
    fired = await ids(target)
    assert f"beat:{tick.fire_ms}" not in fired and len(fired) == 2  # only the later fires
    total, _ = await schedules.executions("beat")
    assert total == 3


async def test_markers_go_once_fires_are_recorded(schedules, scheduler, clock, redis_url):
    await schedules.create(every(0))
    clock.advance(3)
    await scheduler.run_once()
    assert [k async for k in schedules.client.scan_iter(match="*:fired:*")] == []


async def test_names_and_a_page_of_definitions(schedules):
    await schedules.save_many([every(10, "b"), every(10, "a"), every(10, "c", paused=True)])
    assert await schedules.names() == ["a", "b", "c"]
    page = await schedules.get_many(["c", "gone", "a"])
    assert sorted(page) == ["a", "c"] and page["c"].paused
