"""Every page of the UI in headless Chromium, against a seeded Redis: what an operator sees and
the actions they click."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from dynoq.workflow.model import WorkflowStatus
from tests.ui.conftest import PHONE, Stack, Watched, screenshot


def row(page, table: str, text: str):
    return page.locator(f"{table} tbody tr", has_text=text)


def fits_phone(page) -> None:
    """No sideways scrolling of the page itself at phone width (wide tables scroll in place)."""
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide on a phone"


def test_overview_shows_queues_and_workflow_counts(page: Watched, stack: Stack) -> None:
    p = page.open("/")  # redirects to /ui/
    assert p.url.endswith("/ui/")
    emails = row(p, "#queues", "emails")
    expect(emails.locator("td")).to_have_text(
        [re.compile("emails"), "6", "3", "3", "2", re.compile(r"-|\d"), re.compile(r"-|\d")]
    )
    order = row(p, "#workflow-types", "order")
    expect(order.locator("td")).to_have_text(
        [
            "order",
            re.compile(r"[1-9]"),
            re.compile(r"[1-9]"),
            re.compile(r"[1-9]"),
            re.compile(r"[1-9]"),
            re.compile(r"\d"),
            re.compile(r"\d"),
        ]
    )
    screenshot(p, "overview")
    fits_phone(p)


def test_queue_page_lists_each_state_and_requeues_a_dead_letter(
    page: Watched, stack: Stack
) -> None:
    p = page.open("/ui/queues/emails")
    expect(p.locator(".chart svg polyline").first).to_be_attached()
    expect(p.locator("#messages tbody tr")).to_have_count(6)
    p.get_by_role("link", name="delayed (3)").click()
    expect(p.locator("#messages tbody tr").first).to_contain_text("later-0")
    p.get_by_role("link", name="in flight (3)").click()
    expect(p.locator("#messages tbody tr")).to_have_count(3)
    p.get_by_role("link", name=re.compile(r"^dead \(\d\)")).click()
    screenshot(p, "queue")
    p.get_by_label("select poison-0").check()
    p.get_by_role("button", name="Requeue selected").click()
    expect(p.locator(".notice")).to_have_text("requeued 1 dead letter")
    expect(p.locator("#messages tbody tr")).to_have_count(1)
    p.get_by_role("link", name="poison-1").click()
    expect(p.locator("dl.facts")).to_contain_text("dead")
    expect(p.locator("pre.json")).to_contain_text('"to": "nobody"')
    screenshot(p, "message")
    requeued = stack.call(stack.queue.get("poison-0"))
    assert (requeued.state, requeued.attempts) == ("ready", 0)
    fits_phone(p)


def test_search_and_open_a_failed_execution(page: Watched, stack: Stack) -> None:
    p = page.open("/ui/workflows")
    p.get_by_label("Type").select_option("order")
    p.get_by_label("Status").select_option("FAILED")
    p.get_by_role("button", name="Search").click()
    results = p.locator("#results tbody tr")
    expect(results).to_have_count(1)
    screenshot(p, "workflows")
    results.get_by_role("link").click()
    expect(p.locator("#wf-status")).to_have_text("FAILED")
    expect(p.locator("#reason")).to_contain_text("card declined")
    assert stack.seeded.failed in p.url
    fits_phone(p)


def test_search_sorts_by_start_time_and_filters_by_version_and_free_text(
    page: Watched, stack: Stack
) -> None:
    p = page.open("/ui/workflows?type=order")
    p.get_by_label(re.compile(r"^Sort")).select_option("asc")
    p.get_by_role("button", name="Search").click()
    started = p.locator("#results tbody tr td:nth-child(5)")
    expect(started).not_to_have_count(0)
    oldest_first = started.all_inner_texts()
    assert oldest_first == sorted(oldest_first) and len(oldest_first) >= 4
    p.get_by_label(re.compile(r"^Sort")).select_option("desc")
    p.get_by_role("button", name="Search").click()
    expect(started).to_have_count(len(oldest_first))
    assert started.all_inner_texts() == sorted(oldest_first, reverse=True)

    p.get_by_label("Version").fill("2")
    p.get_by_role("button", name="Search").click()
    expect(p.get_by_text("No workflow matches.")).to_be_visible()
    p.get_by_label("Version").fill("1")
    p.get_by_label("Free text").fill("fail-1")
    p.get_by_role("button", name="Search").click()
    results = p.locator("#results tbody tr")
    expect(results).to_have_count(1)
    expect(results).to_contain_text(stack.seeded.failed)


def test_the_diagram_opens_a_tasks_details(page: Watched, stack: Stack) -> None:
    p = page.open(f"/ui/workflows/{stack.seeded.completed}")
    diagram = p.locator("#diagram svg")
    for ref in ("charge", "route", "ship_fast", "pack", "fan_out", "invoice", "join", "recheck"):
        expect(diagram.locator(f"#node-{ref}")).to_be_attached()
    # a completed task is drawn green, one that never ran (the switch's other case) white
    assert "#d3f2d8" in diagram.locator(
        "#node-charge polygon, #node-charge path"
    ).first.get_attribute("fill")
    assert (
        diagram.locator("#node-pack polygon, #node-pack path").first.get_attribute("fill")
        == "#ffffff"
    )
    expect(p.locator("#timeline .lane")).not_to_have_count(0)
    screenshot(p, "workflow")
    diagram.locator("#node-charge a").click()
    panel = p.locator(".task-panel:target")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("worker-charge")
    expect(panel).to_contain_text('"charged": 42')
    expect(panel).to_contain_text("charge done")
    screenshot(p, "task-details")
    p.keyboard.press("Escape")
    expect(panel).to_have_count(0)
    diagram.locator("#node-invoice a").click()
    p.locator(".task-panel:target").get_by_role("link", name=re.compile(".")).last.click()
    expect(p.locator("h1")).to_contain_text("COMPLETED")
    p.get_by_role("link", name=stack.seeded.completed).click()
    assert p.url.endswith(stack.seeded.completed)


def test_terminate_then_retry_a_workflow(page: Watched, stack: Stack) -> None:
    workflow_id = stack.call(
        stack.engine.start_workflow("order", {"amount": 1}, correlation_id="ui-terminate")
    )
    p = page.open(f"/ui/workflows/{workflow_id}")
    expect(p.locator("#wf-status")).to_have_text("RUNNING")
    p.get_by_role("button", name="Terminate").click()
    expect(p.locator("#wf-status")).to_have_text("TERMINATED")
    expect(p.locator(".notice")).to_have_text("terminate: done")
    p.get_by_role("button", name="Retry").click()
    expect(p.locator("#wf-status")).to_have_text("RUNNING")
    wf = stack.call(stack.engine.get_workflow(workflow_id))
    assert wf.status is WorkflowStatus.RUNNING
    assert wf.tasks[-1].reference_task_name == "charge" and not wf.tasks[-1].status.terminal


def test_bulk_pause_and_resume_from_the_search(page: Watched, stack: Stack) -> None:
    workflow_id = stack.call(stack.engine.start_workflow("invoice", {}, correlation_id="ui-bulk"))
    p = page.open("/ui/workflows?correlationId=ui-bulk")
    p.get_by_label("select all").check()
    p.get_by_role("button", name="Pause").click()
    expect(p.locator(".notice")).to_have_text("pause: 1 of 1 workflow")
    expect(row(p, "#results", workflow_id)).to_contain_text("PAUSED")
    p.get_by_label(f"select {workflow_id}").check()
    p.get_by_role("button", name="Resume").click()
    expect(row(p, "#results", workflow_id)).to_contain_text("RUNNING")


def test_edit_a_definition_with_an_error_then_without(page: Watched, stack: Stack) -> None:
    p = page.open("/ui/definitions")
    screenshot(p, "definitions")
    p.get_by_role("link", name="invoice").first.click()
    expect(p.locator("#diagram svg #node-bill")).to_be_attached()
    doc = json.loads(p.locator("#editor textarea").input_value())
    broken = {**doc, "tasks": [{"name": "bill", "type": "SIMPLE"}]}  # no taskReferenceName
    p.locator("#editor textarea").fill(json.dumps(broken))
    p.locator("#editor").get_by_role("button", name="Save").click()
    expect(p.locator("#json-error")).to_contain_text("Not saved")
    marked = p.locator("#problems li.marked")
    expect(marked).to_have_count(1)
    expect(marked).to_contain_text("taskReferenceName")
    expect(marked.locator("code")).to_have_text("    {")  # the task object lacking it
    screenshot(p, "definition-error")
    fixed = {**doc, "description": "bills the order"}
    p.locator("#editor textarea").fill(json.dumps(fixed))
    p.locator("#editor").get_by_role("button", name="Save").click()
    expect(p.locator(".notice")).to_have_text("saved")
    expect(p.locator("main")).to_contain_text("bills the order")
    saved = stack.call(stack.engine.get_workflow_def("invoice", 1))
    assert saved.description == "bills the order"


def test_start_a_workflow_from_its_definition(page: Watched, stack: Stack) -> None:
    p = page.open("/ui/definitions/order/1")
    screenshot(p, "definition")
    p.get_by_label("Input (JSON)").fill('{"kind": "express", "amount": 5}')
    p.get_by_label("Correlation id").fill("ui-started")
    p.get_by_role("button", name="Start").click()
    expect(p.locator(".notice")).to_have_text("started")
    expect(p.locator("#wf-status")).to_have_text("RUNNING")
    workflow_id = p.url.split("?")[0].rsplit("/", 1)[1]
    wf = stack.call(stack.engine.get_workflow(workflow_id))
    assert (wf.input, wf.correlation_id) == ({"kind": "express", "amount": 5}, "ui-started")


def test_tasks_page_shows_queues_workers_and_finds_a_task(page: Watched, stack: Stack) -> None:
    p = page.open("/ui/tasks")
    charge = row(p, "#task-queues", "charge")
    expect(charge).to_contain_text("worker-charge")
    screenshot(p, "tasks")
    task_id = f"{stack.seeded.completed}.1"
    p.get_by_label("Task id").fill(task_id)
    p.get_by_role("button", name="Find").click()
    expect(p.locator("#found-task")).to_contain_text("COMPLETED")
    p.locator("#found-task").get_by_role("link").click()
    expect(p.locator(".task-panel:target")).to_contain_text("worker-charge")
    fits_phone(p)


def test_remove_dead_letters_then_purge_after_typing_the_name(page: Watched, stack: Stack) -> None:
    from dynoq import AsyncQueue, Message

    async def scratch() -> None:
        queue = AsyncQueue.from_url(
            stack.redis_url, "scratch", namespace=stack.namespace, max_deliveries=1
        )
        await queue.push([Message("a", 1), Message("b", 2), Message("c", 3)])
        for message in await queue.pop(2):
            await queue.nack(message)  # dead
        await queue.aclose()

    stack.call(scratch())
    p = page.open("/ui/queues/scratch?state=dead")
    expect(p.locator("#messages tbody tr")).to_have_count(2)
    p.get_by_role("button", name="Remove all").click()
    expect(p.locator(".notice")).to_have_text("removed 2 dead letters")
    p.get_by_text("Purge this queue").click()
    purge = p.get_by_role("button", name="Purge scratch")
    p.get_by_label("Queue name").fill("scratc")
    expect(purge).to_be_disabled()
    p.get_by_label("Queue name").fill("scratch")
    purge.click()
    expect(p.locator(".notice")).to_have_text("purged and removed queue scratch")
    expect(p.locator("#queues")).not_to_contain_text("scratch")


def test_skip_a_task_then_rerun_from_it(page: Watched, stack: Stack) -> None:
    workflow_id = stack.call(stack.engine.start_workflow("invoice", {}, correlation_id="ui-skip"))
    p = page.open(f"/ui/workflows/{workflow_id}")
    p.get_by_label("Skip").select_option("bill")
    p.get_by_role("button", name="Skip").click()
    expect(p.locator(".notice")).to_have_text("skip: done")
    expect(p.locator("#wf-status")).to_have_text("COMPLETED")
    expect(row(p, "#tasks", "bill")).to_contain_text("SKIPPED")
    p.get_by_label("Rerun from").select_option(label="bill (SKIPPED)")
    p.get_by_role("button", name="Rerun").click()
    expect(p.locator("#wf-status")).to_have_text("RUNNING")
    wf = stack.call(stack.engine.get_workflow(workflow_id))
    assert [t.status.value for t in wf.tasks] == ["SCHEDULED"]


def test_unknown_things_get_a_page_that_says_so(page: Watched, stack: Stack) -> None:
    p = page.page
    for path, status, says in (
        ("/ui/workflows/no-such-id", 404, "no workflow no-such-id"),
        ("/ui/queues/no-such-queue", 404, "queue 'no-such-queue' does not exist"),
        ("/ui/definitions/order/x", 400, "version must be a whole number"),
        ("/ui/workflows?status=SLEEPING", 400, "no status 'SLEEPING'"),
    ):
        response = p.goto(stack.url + path)
        assert response is not None and response.status == status
        expect(p.locator("h1")).to_have_text(str(status))
        expect(p.locator(".problem")).to_contain_text(says)
    # the four error answers this test asked for, each also logged by Chromium
    answers = [x for x in page.problems if ": GET " in x]
    logged = [x for x in page.problems if x.startswith("console: Failed to load resource")]
    assert (len(answers), len(logged), len(page.problems)) == (4, 4, 8)
    page.problems.clear()
