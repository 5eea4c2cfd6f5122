"""Fire times of cron and interval schedules, across zones and daylight-saving days, and the
plan a due tick follows (pure: no Redis)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dynoq import CatchUp, InvalidArgument, MessageAction, Schedule, Timing
from dynoq.core.schedule import (
    plan_tick,
    schedule_from_doc,
    schedule_from_record,
    schedule_to_doc,
    schedule_to_record,
)
from dynoq.testing import ManualClock


def ms(year, month, day, hour=0, minute=0, second=0, zone="UTC"):
    return int(
        datetime(year, month, day, hour, minute, second, tzinfo=ZoneInfo(zone)).timestamp() * 1000
    )


def local(fire_ms, zone):
    return datetime.fromtimestamp(fire_ms / 1000, ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S%z")


def fires(cron, zone, after_ms, count=4):
    return [local(f, zone) for f in Timing(cron=cron, zone=zone).next_fires(after_ms, count)]


@pytest.mark.parametrize(
    ("cron", "zone", "start", "expected"),
    [
        ("*/15 * * * *", "UTC", (2026, 5, 1, 10, 7), ["10:15", "10:30", "10:45", "11:00"]),
        ("0 9 * * MON-FRI", "Europe/Berlin", (2026, 5, 1, 10), ["05-04 09:00", "05-05 09:00"]),
        ("0 0 1 * *", "Asia/Tokyo", (2026, 1, 15), ["02-01 00:00", "03-01 00:00"]),
        ("*/10 * * * * *", "UTC", (2026, 5, 1, 10, 0, 5), ["10:00:10", "10:00:20"]),
        ("0 0 12 ? * MON", "America/New_York", (2026, 5, 1), ["05-04 12:00", "05-11 12:00"]),
        ("0 0 12 ? * SUN *", "UTC", (2026, 5, 1), ["05-03 12:00", "05-10 12:00"]),
        ("0 0 12 * * 0", "UTC", (2026, 5, 1), ["05-03 12:00", "05-10 12:00"]),
        ("0 0 12 * * 7", "UTC", (2026, 5, 1), ["05-03 12:00", "05-10 12:00"]),
        ("30 5 L * *", "Australia/Sydney", (2026, 2, 1), ["02-28 05:30", "03-31 05:30"]),
        ("0 8 * * 5#2", "UTC", (2026, 5, 1), ["05-08 08:00", "06-12 08:00"]),
        ("45 23 * * *", "Asia/Kolkata", (2026, 5, 1), ["05-01 23:45", "05-02 23:45"]),
    ],
)
def test_cron_fire_times_in_zones(cron, zone, start, expected):
    got = fires(cron, zone, ms(*start, zone=zone), len(expected))
    for text, want in zip(got, expected, strict=True):
        assert want in text, (got, expected)


def test_spring_forward_fires_a_skipped_fixed_time_once_shifted_by_the_jump():
    # 2026-03-08 New York: 02:00 EST jumps to 03:00 EDT, so 02:30 does not exist that day
    for cron in ("30 2 * * *", "0 30 2 * * *"):
        got = fires(cron, "America/New_York", ms(2026, 3, 7, 12, zone="America/New_York"), 3)
        assert got == [
            "2026-03-08 03:30:00-0400",
            "2026-03-09 02:30:00-0400",
            "2026-03-10 02:30:00-0400",
        ]


def test_fall_back_fires_a_repeated_fixed_time_once():
    # 2026-11-01 New York: 01:00-02:00 happens twice (EDT, then EST)
    for cron in ("30 1 * * *", "0 30 1 * * *"):
        got = fires(cron, "America/New_York", ms(2026, 10, 31, 12, zone="America/New_York"), 2)
        assert got == ["2026-11-01 01:30:00-0400", "2026-11-02 01:30:00-0500"]
    # asked from inside the repeated hour, it does not fire the second 01:30 either
    inside = ms(2026, 11, 1, 6, 10)  # 01:10 EST
    assert fires("30 1 * * *", "America/New_York", inside, 1) == ["2026-11-02 01:30:00-0500"]


def test_hourly_jobs_follow_elapsed_time_across_dst():
    back = fires("0 * * * *", "America/New_York", ms(2026, 11, 1, 4, 30), 3)
    assert back == [
        "2026-11-01 01:00:00-0400",
        "2026-11-01 01:00:00-0500",
        "2026-11-01 02:00:00-0500",
    ]
    forward = fires("0 * * * *", "Europe/London", ms(2026, 3, 29, 0, 30), 2)
    assert forward == ["2026-03-29 02:00:00+0100", "2026-03-29 03:00:00+0100"]


def test_europe_dst_days_for_a_fixed_time():
    got = fires("30 2 * * *", "Europe/Berlin", ms(2026, 3, 28, 12), 2)
    assert got == ["2026-03-29 03:30:00+0200", "2026-03-30 02:30:00+0200"]
    got = fires("30 2 * * *", "Europe/Berlin", ms(2026, 10, 24, 12), 2)
    assert got == ["2026-10-25 02:30:00+0200", "2026-10-26 02:30:00+0100"]


def test_interval_start_and_end():
    clock = ManualClock(start_ms=1_000_000)
    timing = Timing(interval_ms=2500, anchor_ms=clock.now_ms())
    assert timing.next_fires(clock.now_ms(), 3) == [1_002_500, 1_005_000, 1_007_500]
    bounded = Timing(cron="* * * * * *", start_ms=10_000_000, end_ms=10_002_000)
    assert bounded.next_fires(0, 10) == [10_000_000, 10_001_000, 10_002_000]
    assert bounded.next_fire(10_002_000) is None


@pytest.mark.parametrize(
    ("cron", "says"),
    [
        ("* * *", "3 fields"),
        ("61 * * * *", "Bad minute"),
        ("0 0 25 * * *", "Bad hour"),
        ("* * * * * * 2027", "year"),
        ("* * * 13 *", "Bad month"),
        ("   ", "non-empty"),
    ],
)
def test_bad_cron_expressions_say_what_is_wrong(cron, says):
    with pytest.raises(InvalidArgument) as caught:
        Timing(cron=cron)
    assert says in str(caught.value) and caught.value.field == "cron"


def test_bad_zone_says_what_is_wrong():
    with pytest.raises(InvalidArgument, match="unknown time zone 'Mars/Olympus'") as caught:
        Timing(cron="* * * * *", zone="Mars/Olympus")
    assert caught.value.field == "zone"


def every_second(**changes):
    return Schedule("s", Timing(cron="* * * * * *"), MessageAction("q"), **changes)


def test_plan_fires_each_due_time_within_grace_and_arms_the_next():
    plan = plan_tick(every_second(), 1_000_000, 1_003_400)
    assert plan.fires == [1_000_000, 1_001_000, 1_002_000, 1_003_000]
    assert plan.missed == 0 and plan.next_ms == 1_004_000


def test_plan_of_an_early_tick_fires_nothing_and_keeps_the_time():
    plan = plan_tick(every_second(), 1_005_000, 1_004_990)
    assert plan.fires == [] and plan.next_ms == 1_005_000


def test_plan_after_an_outage_skips_or_catches_up_bounded():
    now = 1_000_000 + 600_000  # ten minutes of every-second fires not run
    skip = plan_tick(every_second(grace_ms=5000), 1_000_000, now)
    assert skip.fires == list(range(now - 5000, now + 1, 1000))
    assert skip.missed == 595
    catch_up = plan_tick(
        every_second(grace_ms=5000, catch_up=CatchUp.ALL, max_catch_up=50), 1_000_000, now
    )
    assert len(catch_up.fires) == 50 + 6 and catch_up.missed == 545
    assert catch_up.fires == sorted(catch_up.fires) and catch_up.fires[-1] == now
    assert catch_up.next_ms == now + 1000


def test_documents_round_trip_and_reject_unknown_fields():
    doc = {
        "name": "nightly",
        "cron": "0 3 * * *",
        "zone": "Europe/Berlin",
        "message": {"queue": "reports", "payload": {"k": 1}, "priority": 3},
        "catch_up": "all",
        "max_catch_up": 5,
    }
    schedule = schedule_from_doc(doc)
    again = schedule_from_doc(
        {
            k: v
            for k, v in schedule_to_doc(schedule).items()
            if k not in ("created_at", "updated_at")
        }
    )
    assert again == schedule
    stored = replace(schedule, rev="abc", created_ms=5, updated_ms=6)
    assert schedule_from_record(schedule_to_record(stored)) == stored
    with pytest.raises(InvalidArgument, match="unknown field color"):
        schedule_from_doc({**doc, "color": "red"})
    with pytest.raises(InvalidArgument, match="either message"):
        schedule_from_doc({"name": "x", "cron": "* * * * *"})
    with pytest.raises(InvalidArgument, match="either a cron expression or an interval"):
        schedule_from_doc({"name": "x", "message": {"queue": "q"}})
    with pytest.raises(InvalidArgument, match="template"):
        schedule_from_doc({**doc, "message": {"queue": "q", "id": "{nope}"}})
