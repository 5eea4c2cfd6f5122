"""The schedules pages in headless Chromium: schedules fired by a real ``dynoq scheduler``
(running in this process until each firing schedule has executions), one paused, one that has
not fired; pause, resume and delete through the page."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from dynoq import MessageAction, Schedule, Schedules, Timing, WorkflowAction
from dynoq.runtime.settings import SchedulerConfig
from dynoq.services import scheduler
from dynoq.testing import async_wait_until
from tests.ui.conftest import Stack, Watched, screenshot
from tests.ui.test_pages import fits_phone, row

SEEDED = (
    Schedule("heartbeat", Timing(interval_ms=1000), MessageAction("beats", {"ping": True})),
    Schedule(
        "missing-flow",
        Timing(interval_ms=1000),
        WorkflowAction({"name": "no_such_flow", "version": 1}),
        description="starts a workflow nobody defined: each fire fails",
    ),
    Schedule(
        "nightly-report",
        Timing(cron="30 2 * * *", zone="Europe/Berlin"),
        WorkflowAction({"name": "order", "input": {"amount": 1}}),
        description="the night's orders, half past two in Berlin",
    ),
    Schedule(
        "cleanup",
        Timing(cron="0 */6 * * *", zone="America/New_York"),
        MessageAction("maintenance"),
        paused=True,
        paused_reason="disk migration",
    ),
)


@pytest.fixture(scope="module")
def store(stack: Stack) -> Iterator[Schedules]:
    """The seeded schedules; the firing ones fired by ``dynoq scheduler`` until each has
    executions, then the scheduler stops (the pages show what it left)."""

    async def seed() -> Schedules:
        schedules = Schedules.from_url(stack.redis_url, stack.namespace)
        await schedules.save_many(SEEDED)
        stop = asyncio.Event()
        config = SchedulerConfig(redis_url=stack.redis_url, namespace=stack.namespace)
        firing = asyncio.create_task(scheduler.run(config, stop=stop))

        async def fired() -> bool:
            beats, _ = await schedules.executions("heartbeat")
            failed, _ = await schedules.executions("missing-flow")
            return beats >= 2 and failed >= 1

        try:
            await async_wait_until(fired, timeout=20, message="the scheduler fired nothing")
        finally:
            stop.set()
            await firing
        return schedules

    schedules: Schedules = stack.call(seed())
    yield schedules
    stack.call(schedules.aclose())


def get(stack: Stack, store: Schedules, name: str) -> Any:
    return stack.call(store.get(name))


def test_list_shows_each_schedule_with_last_and_next_fires(
    page: Watched, stack: Stack, store: Schedules
) -> None:
    p = page.open("/ui/")
    p.locator("header nav").get_by_role("link", name="Schedules").click()
    expect(p).to_have_url(re.compile(r"/ui/schedules$"))
    beat = row(p, "#schedules", "heartbeat").locator("td")
    expect(beat).to_have_text(
        [
            "heartbeat",
            "active",
            re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d EXECUTED$"),
            re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d){3}$"),
            "every 1 s",
            "UTC",
            "queue beats",
        ]
    )
    failed = row(p, "#schedules", "missing-flow").locator("td")
    expect(failed.nth(6)).to_have_text("workflow no_such_flow")
    expect(failed.nth(2)).to_contain_text("FAILED")
    nightly = row(p, "#schedules", "nightly-report").locator("td")
    expect(nightly.nth(4)).to_have_text("30 2 * * *")
    expect(nightly.nth(5)).to_have_text("Europe/Berlin")
    expect(nightly.nth(2)).to_have_text("-")  # never fired
    # 02:30 in Berlin is 00:30 or 01:30 UTC, by the season
    expect(nightly.nth(3)).to_contain_text(re.compile(r" 0[01]:30:00"))
    paused = row(p, "#schedules", "cleanup").locator("td")
    expect(paused.nth(1)).to_have_text("paused")
    expect(paused.nth(3)).to_have_text("-")  # a paused schedule has no next fire
    screenshot(p, "schedules")
    fits_phone(p)


def test_detail_shows_definition_next_fires_and_executions(
    page: Watched, stack: Stack, store: Schedules
) -> None:
    p = page.open("/ui/schedules")
    p.get_by_role("link", name="heartbeat").click()
    expect(p.locator("#schedule-state")).to_have_text("active")
    expect(p.locator("#next-fires li")).to_have_count(10)
    _, executions = stack.call(store.executions("heartbeat"))
    rows = p.locator("#executions tbody tr")
    expect(rows).to_have_count(len(executions))
    newest = executions[0]
    expect(rows.first).to_contain_text("EXECUTED")
    expect(rows.first).to_contain_text(newest["messageId"])
    expect(p.locator("#schedule-json pre.json")).to_contain_text('"ping": true')
    screenshot(p, "schedule")
    rows.first.get_by_role("link", name=newest["messageId"]).click()
    expect(p.locator("pre.json")).to_contain_text('"ping": true')  # the message it pushed

    p = page.open("/ui/schedules/missing-flow")
    expect(p.locator("#executions tbody tr").first).to_contain_text(
        re.compile(r"FAILED .*no_such_flow")
    )
    p = page.open("/ui/schedules/nightly-report")
    # the zone's own clock: half past two, CET in winter, CEST in summer
    expect(p.locator("#next-fires li").first).to_contain_text(re.compile(r"02:30:00 CES?T"))
    expect(p.locator("#executions")).to_have_count(0)
    fits_phone(p)


def test_pause_resume_and_delete(page: Watched, stack: Stack, store: Schedules) -> None:
    p = page.open("/ui/schedules/nightly-report")
    p.get_by_label("Reason").fill("quarter-end freeze")
    p.get_by_role("button", name="Pause").click()
    expect(p.locator(".notice")).to_have_text("paused nightly-report")
    expect(p.locator("#schedule-state")).to_have_text("paused")
    expect(p.locator("#paused-reason")).to_have_text("quarter-end freeze")
    saved = get(stack, store, "nightly-report")
    assert (saved.paused, saved.paused_reason) == (True, "quarter-end freeze")
    p.get_by_role("button", name="Resume").click()
    expect(p.locator("#schedule-state")).to_have_text("active")
    assert not get(stack, store, "nightly-report").paused

    stack.call(store.save(Schedule("scratch", Timing(interval_ms=60_000), MessageAction("x"))))
    p = page.open("/ui/schedules/scratch")
    p.get_by_role("button", name="Delete").click()  # the confirm dialog is accepted
    expect(p.locator(".notice")).to_have_text("deleted scratch")
    expect(row(p, "#schedules", "scratch")).to_have_count(0)
    assert get(stack, store, "scratch") is None


def test_a_post_without_the_pages_csrf_value_changes_nothing(
    page: Watched, stack: Stack, store: Schedules
) -> None:
    p = page.open("/ui/schedules/heartbeat")  # has the CSRF cookie, not the form's value
    response = p.request.post(
        stack.url + "/ui/schedules/heartbeat/action", form={"action": "pause"}
    )
    assert response.status == 403
    assert not get(stack, store, "heartbeat").paused


def test_an_unknown_schedule_is_a_404_page(page: Watched) -> None:
    response = page.page.goto(page.base + "/ui/schedules/nope")
    assert response is not None and response.status == 404
    expect(page.page.locator("main")).to_contain_text("nope")
    page.problems.clear()  # the 404 was the point


def test_the_list_pages_by_name(
    page: Watched, stack: Stack, store: Schedules, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dynoq.services.ui import schedules as ui_schedules

    monkeypatch.setattr(ui_schedules, "LIST_PAGE", 2)
    p = page.open("/ui/schedules")
    names = p.locator("#schedules tbody tr td:first-child")
    expect(names).to_have_text(["cleanup", "heartbeat"])
    expect(p.locator(".pager")).to_contain_text(re.compile(r"^1.2 of 4"))
    p.get_by_role("link", name="next").click()
    expect(names).to_have_text(["missing-flow", "nightly-report"])
    expect(p.locator(".pager a")).to_have_text(["previous"])
