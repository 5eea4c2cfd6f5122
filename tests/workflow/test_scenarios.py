"""Workflows end to end over a real Redis, with the decider and the workflow sweeper running."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from dynoq.errors import Conflict, NotFound
from dynoq.testing import async_wait_until
from dynoq.workflow.engine import WorkflowEngine
from dynoq.workflow.model import (
    SearchFilter,
    SearchPage,
    Task,
    TaskResult,
    TaskStatus,
    WorkflowStatus,
)

from .conftest import Services, tasks_by_ref, wait_for_status


def simple(ref: str, name: str = "work", **extra: Any) -> dict[str, Any]:
    return {"name": name, "taskReferenceName": ref, "type": "SIMPLE", **extra}


async def queue_drained(engine: WorkflowEngine, task_type: str) -> None:
    async def empty() -> bool:
        return await engine.queue_sizes([task_type]) == {task_type: 0}

    await async_wait_until(empty, timeout=5, message=f"{task_type} still has messages")


async def register(engine: WorkflowEngine, tasks: list[dict[str, Any]], **extra: Any) -> str:
    name = extra.pop("name", "flow")
    await engine.register_workflow_def({"name": name, "version": 1, "tasks": tasks, **extra})
    return name


async def test_linear_workflow_passes_outputs_along(
    engine: WorkflowEngine, services: Services
) -> None:
    await register(
        engine,
        [
            simple("first", inputParameters={"n": "${workflow.input.n}"}),
            simple(
                "second",
                inputParameters={"n": "${first.output.n}", "text": "got ${first.output.n}"},
            ),
        ],
        outputParameters={"final": "${second.output.n}", "said": "${second.input.text}"},
    )
    services.worker("work", lambda task: {"n": task.input_data["n"] + 1})
    workflow_id = await engine.start_workflow("flow", {"n": 1}, correlation_id="c-1")
    wf = await wait_for_status(engine, workflow_id)
    assert wf.output == {"final": 3, "said": "got 2"}
    assert [t.reference_task_name for t in wf.tasks] == ["first", "second"]
    assert all(t.poll_count == 1 and t.worker_id == "test" and t.start_time for t in wf.tasks)


@pytest.mark.parametrize(
    ("switch", "expected"),
    [
        (
            {
                "evaluatorType": "value-param",
                "expression": "kind",
                "inputParameters": {"kind": "${workflow.input.kind}"},
            },
            "b",
        ),
        (
            {
                "evaluatorType": "javascript",
                "expression": "$.n > 10 ? 'b' : 'a'",
                "inputParameters": {"n": "${workflow.input.n}"},
            },
            "b",
        ),
    ],
)
async def test_switch_runs_the_chosen_case_then_what_follows(
    engine: WorkflowEngine, services: Services, switch: dict[str, Any], expected: str
) -> None:
    await register(
        engine,
        [
            {
                "name": "pick",
                "taskReferenceName": "pick",
                "type": "SWITCH",
                **switch,
                "decisionCases": {"a": [simple("in_a")], "b": [simple("in_b"), simple("in_b2")]},
                "defaultCase": [simple("in_default")],
            },
            simple("after"),
        ],
    )
    services.worker("work", lambda task: {"ref": task.reference_task_name})
    workflow_id = await engine.start_workflow("flow", {"kind": "b", "n": 42})
    wf = await wait_for_status(engine, workflow_id)
    refs = [t.reference_task_name for t in wf.tasks]
    assert refs == ["pick", "in_b", "in_b2", "after"]
    assert wf.tasks[0].output_data["evaluationResult"] == [expected]


async def test_nested_fork_join_waits_for_every_branch(
    engine: WorkflowEngine, services: Services
) -> None:
    inner = {
        "name": "inner_fork",
        "taskReferenceName": "inner_fork",
        "type": "FORK_JOIN",
        "forkTasks": [[simple("c1")], [simple("c2")]],
    }
    await register(
        engine,
        [
            {
                "name": "fork",
                "taskReferenceName": "fork",
                "type": "FORK_JOIN",
                "forkTasks": [
                    [simple("a1"), simple("a2")],
                    [
                        inner,
                        {
                            "name": "inner_join",
                            "taskReferenceName": "inner_join",
                            "type": "JOIN",
                            "joinOn": ["c1", "c2"],
                        },
                    ],
                ],
            },
            {
                "name": "join",
                "taskReferenceName": "join",
                "type": "JOIN",
                "joinOn": ["a2", "inner_join"],
            },
            simple("after", inputParameters={"joined": "${join.output}"}),
        ],
    )
    services.worker("work", lambda task: {"ref": task.reference_task_name})
    workflow_id = await engine.start_workflow("flow")
    wf = await wait_for_status(engine, workflow_id)
    by_ref = tasks_by_ref(wf)
    assert set(by_ref) == {
        "fork",
        "a1",
        "a2",
        "inner_fork",
        "c1",
        "c2",
        "inner_join",
        "join",
        "after",
    }
    assert all(len(v) == 1 for v in by_ref.values())
    joined = by_ref["after"][0].input_data["joined"]
    assert joined["a2"] == {"ref": "a2"}
    assert joined["inner_join"] == {"c1": {"ref": "c1"}, "c2": {"ref": "c2"}}


async def test_do_while_repeats_with_loop_variables(
    engine: WorkflowEngine, services: Services
) -> None:
    await register(
        engine,
        [
            {
                "name": "loop",
                "taskReferenceName": "loop",
                "type": "DO_WHILE",
                "inputParameters": {"times": "${workflow.input.times}"},
                "loopCondition": "$.loop['iteration'] < $.times && $.step['total'] < 100",
                "loopOver": [simple("step", inputParameters={"i": "${loop.output.iteration}"})],
            },
            simple("after", inputParameters={"last": "${step.output.total}"}),
        ],
    )
    services.worker("work", lambda task: {"total": 10 * int(task.input_data.get("i") or 0)})
    workflow_id = await engine.start_workflow("flow", {"times": 3})
    wf = await wait_for_status(engine, workflow_id)
    refs = [t.reference_task_name for t in wf.tasks]
    assert refs == ["loop", "step__1", "step__2", "step__3", "after"]
    loop = wf.tasks[0]
    assert loop.output_data["iteration"] == 3
    assert set(loop.output_data) >= {"1", "2", "3"}


async def test_wait_ends_within_a_second_of_its_deadline(
    engine: WorkflowEngine, services: Services
) -> None:
    await register(
        engine,
        [
            {
                "name": "pause",
                "taskReferenceName": "pause",
                "type": "WAIT",
                "inputParameters": {"duration": "1 seconds"},
            }
        ],
    )
    workflow_id = await engine.start_workflow("flow")
    wf = await wait_for_status(engine, workflow_id)
    wait = wf.tasks[0]
    assert wait.status is TaskStatus.COMPLETED
    assert 0 <= wait.end_time - wait.wait_timeout < 1000
    assert wait.wait_timeout - wait.start_time == 1000


async def test_sub_workflow_completes_with_the_childs_output(
    engine: WorkflowEngine, services: Services
) -> None:
    await register(
        engine, [simple("leaf", inputParameters={"x": "${workflow.input.x}"})], name="child"
    )
    await register(
        engine,
        [
            {
                "name": "sub",
                "taskReferenceName": "sub",
                "type": "SUB_WORKFLOW",
                "subWorkflowParam": {"name": "child"},
                "inputParameters": {"x": "${workflow.input.x}"},
            }
        ],
        name="parent",
    )
    services.worker("work", lambda task: {"doubled": 2 * task.input_data["x"]})
    workflow_id = await engine.start_workflow("parent", {"x": 21})
    wf = await wait_for_status(engine, workflow_id)
    sub = wf.tasks[0]
    assert sub.output_data == {"doubled": 42, "subWorkflowId": sub.sub_workflow_id}
    child = await engine.get_workflow(sub.sub_workflow_id)
    assert child.status is WorkflowStatus.COMPLETED
    assert child.parent_workflow_id == workflow_id


async def test_a_failing_child_fails_its_parent(engine: WorkflowEngine, services: Services) -> None:
    await engine.register_task_defs([{"name": "work", "retryCount": 0}])
    await register(engine, [simple("leaf")], name="child")
    await register(
        engine,
        [
            {
                "name": "sub",
                "taskReferenceName": "sub",
                "type": "SUB_WORKFLOW",
                "subWorkflowParam": {"name": "child"},
            }
        ],
        name="parent",
    )

    def fail(task: Any) -> None:
        raise RuntimeError("boom")

    services.worker("work", fail)
    workflow_id = await engine.start_workflow("parent")
    wf = await wait_for_status(engine, workflow_id, WorkflowStatus.FAILED)
    assert wf.tasks[0].status is TaskStatus.FAILED
    assert wf.failed_reference_task_names == ["sub"]
    child = await engine.get_workflow(wf.tasks[0].sub_workflow_id)
    assert child.status is WorkflowStatus.FAILED
    assert child.reason_for_incompletion == "boom"


async def test_http_task_calls_a_local_server(engine: WorkflowEngine, services: Services) -> None:
    async def handler(request: web.Request) -> web.Response:
        if request.path == "/fail":
            return web.json_response({"error": "nope"}, status=500)
        body = await request.json()
        return web.json_response({"echo": body, "method": request.method})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    server = TestServer(app)
    await server.start_server()
    services.start_http_tasks()
    await engine.register_task_defs([{"name": "call", "retryCount": 0}])
    await register(
        engine,
        [
            {
                "name": "call",
                "taskReferenceName": "call",
                "type": "HTTP",
                "inputParameters": {
                    "http_request": {
                        "uri": "${workflow.input.uri}",
                        "method": "POST",
                        "body": {"n": 1},
                    }
                },
            }
        ],
    )
    ok = await engine.start_workflow("flow", {"uri": str(server.make_url("/ok"))})
    bad = await engine.start_workflow("flow", {"uri": str(server.make_url("/fail"))})
    wf = await wait_for_status(engine, ok)
    response = wf.tasks[0].output_data["response"]
    assert response["statusCode"] == 200
    assert response["body"] == {"echo": {"n": 1}, "method": "POST"}
    failed = await wait_for_status(engine, bad, WorkflowStatus.FAILED)
    assert failed.tasks[0].output_data["response"]["statusCode"] == 500
    await server.close()


@pytest.mark.parametrize(
    ("logic", "expected_delays"),
    [
        ("FIXED", [1000, 1000]),
        ("LINEAR_BACKOFF", [1000, 2000]),
        ("EXPONENTIAL_BACKOFF", [1000, 2000]),
    ],
)
async def test_retries_wait_as_the_retry_logic_says(
    engine: WorkflowEngine, services: Services, logic: str, expected_delays: list[int]
) -> None:
    await engine.register_task_defs(
        [
            {
                "name": "flaky",
                "retryCount": 2,
                "retryLogic": logic,
                "retryDelaySeconds": 1,
                "backoffScaleFactor": 1,
            }
        ]
    )
    await register(engine, [simple("flaky", name="flaky")])

    def flaky(task: Any) -> dict[str, Any]:
        if task.retry_count < 2:
            raise RuntimeError(f"attempt {task.retry_count}")
        return {"ok": True}

    services.worker("flaky", flaky)
    workflow_id = await engine.start_workflow("flow")
    wf = await wait_for_status(engine, workflow_id, timeout=20)
    attempts = wf.tasks
    assert [t.retry_count for t in attempts] == [0, 1, 2]
    assert [t.status for t in attempts] == [
        TaskStatus.FAILED,
        TaskStatus.FAILED,
        TaskStatus.COMPLETED,
    ]
    assert attempts[1].retried_task_id == attempts[0].task_id
    for before, after, delay in zip(attempts[:-1], attempts[1:], expected_delays, strict=True):
        waited = after.start_time - before.end_time
        assert delay <= waited < delay + 1000


async def test_response_timeout_times_the_task_out_and_retries_it(
    engine: WorkflowEngine, services: Services
) -> None:
    await engine.register_task_defs(
        [
            {
                "name": "slow",
                "retryCount": 1,
                "retryDelaySeconds": 0,
                "responseTimeoutSeconds": 1,
                "timeoutSeconds": 0,
            }
        ]
    )
    await register(engine, [simple("slow", name="slow")])
    workflow_id = await engine.start_workflow("flow")
    [silent] = await engine.poll("slow", wait=5)  # polled, then never answered
    services.worker("slow", lambda task: {"second": True})
    wf = await wait_for_status(engine, workflow_id)
    first, second = wf.tasks
    assert first.task_id == silent.task_id
    assert first.status is TaskStatus.TIMED_OUT
    assert 1000 <= first.end_time - silent.start_time < 2000  # within a second of its deadline
    assert second.output_data == {"second": True}


@pytest.mark.parametrize("policy", ["RETRY", "TIME_OUT_WF"])
async def test_poll_timeout_follows_the_timeout_policy(
    engine: WorkflowEngine, services: Services, policy: str
) -> None:
    await engine.register_task_defs(
        [
            {
                "name": "unpolled",
                "retryCount": 1,
                "retryDelaySeconds": 0,
                "pollTimeoutSeconds": 1,
                "timeoutPolicy": policy,
            }
        ]
    )
    await register(engine, [simple("unpolled", name="unpolled")])
    workflow_id = await engine.start_workflow("flow")
    wf = await wait_for_status(engine, workflow_id, WorkflowStatus.TIMED_OUT, timeout=10)
    expected = 2 if policy == "RETRY" else 1  # RETRY tries once more, then times out for good
    assert len(wf.tasks) == expected
    assert all(t.status is TaskStatus.TIMED_OUT for t in wf.tasks)
    first = wf.tasks[0]
    assert 1000 <= first.end_time - first.scheduled_time < 2000
    await queue_drained(engine, "unpolled")  # the message goes right after the state is saved


async def test_alert_only_poll_timeout_keeps_waiting(
    engine: WorkflowEngine, services: Services
) -> None:
    await engine.register_task_defs(
        [{"name": "patient", "pollTimeoutSeconds": 1, "timeoutPolicy": "ALERT_ONLY"}]
    )
    await register(engine, [simple("patient", name="patient")])
    workflow_id = await engine.start_workflow("flow")
    wf = await engine.get_workflow(workflow_id)
    deadline = wf.tasks[0].scheduled_time + 1500

    while time.time() * 1000 < deadline:
        await asyncio.sleep(0.1)
    wf = await engine.get_workflow(workflow_id)
    assert wf.tasks[0].status is TaskStatus.SCHEDULED
    services.worker("patient", lambda task: {})
    await wait_for_status(engine, workflow_id)


async def test_task_and_workflow_timeouts(engine: WorkflowEngine, services: Services) -> None:
    await engine.register_task_defs(
        [
            {
                "name": "long",
                "retryCount": 0,
                "timeoutSeconds": 1,
                "responseTimeoutSeconds": 1,
                "timeoutPolicy": "TIME_OUT_WF",
            }
        ]
    )
    await register(engine, [simple("long", name="long")], name="task_timeout")
    await register(
        engine,
        [simple("never", name="never")],
        name="wf_timeout",
        timeoutSeconds=1,
        timeoutPolicy="TIME_OUT_WF",
    )
    by_task = await engine.start_workflow("task_timeout")
    by_workflow = await engine.start_workflow("wf_timeout")
    await engine.poll("long", wait=5)
    wf = await wait_for_status(engine, by_task, WorkflowStatus.TIMED_OUT)
    assert wf.tasks[0].status is TaskStatus.TIMED_OUT
    wf = await wait_for_status(engine, by_workflow, WorkflowStatus.TIMED_OUT)
    assert 1000 <= wf.end_time - wf.start_time < 2000
    assert wf.tasks[0].status is TaskStatus.CANCELED
    await queue_drained(engine, "never")


async def test_optional_task_failure_lets_the_workflow_complete(
    engine: WorkflowEngine, services: Services
) -> None:
    await engine.register_task_defs([{"name": "shaky", "retryCount": 0}])
    await register(engine, [simple("shaky", name="shaky", optional=True), simple("after")])

    def fail(task: Any) -> None:
        raise RuntimeError("optional failure")

    services.worker("shaky", fail)
    services.worker("work", lambda task: {})
    workflow_id = await engine.start_workflow("flow")
    wf = await wait_for_status(engine, workflow_id)
    assert wf.tasks[0].status is TaskStatus.COMPLETED_WITH_ERRORS
    assert wf.tasks[1].status is TaskStatus.COMPLETED


async def test_failure_workflow_starts_with_the_failed_workflow(
    engine: WorkflowEngine, services: Services
) -> None:
    await engine.register_task_defs([{"name": "doomed", "retryCount": 0}])
    await register(
        engine,
        [simple("cleanup", inputParameters={"id": "${workflow.input.workflowId}"})],
        name="on_failure",
    )
    await register(
        engine, [simple("doomed", name="doomed")], name="flow", failureWorkflow="on_failure"
    )

    def fail(task: Any) -> None:
        raise RuntimeError("doomed")

    services.worker("doomed", fail)
    services.worker("work", lambda task: {"cleaned": task.input_data["id"]})
    workflow_id = await engine.start_workflow("flow")
    failed = await wait_for_status(engine, workflow_id, WorkflowStatus.FAILED)

    async def started() -> SearchPage | None:
        page = await engine.search(SearchFilter(workflow_types=("on_failure",)))
        return page if page.total_hits else None

    page = await async_wait_until(started, timeout=5)
    assert page.total_hits == 1
    handler = await wait_for_status(engine, page.results[0].workflow_id)
    assert handler.input["workflowId"] == workflow_id
    assert handler.input["failureStatus"] == "FAILED"
    assert handler.input["failedWorkflow"]["workflowId"] == failed.workflow_id
    assert handler.output == {"cleaned": workflow_id}


async def test_terminate_pause_resume(engine: WorkflowEngine, services: Services) -> None:
    await register(engine, [simple("one"), simple("two")])
    workflow_id = await engine.start_workflow("flow")
    await engine.pause(workflow_id)
    [task] = await engine.poll("work", wait=5)
    await engine.update_task(TaskResult(task.task_id, workflow_id, TaskStatus.COMPLETED))
    await wait_for_status(engine, workflow_id, WorkflowStatus.PAUSED)
    assert await engine.poll("work", wait=0.5) == []  # paused: the next task is not scheduled
    with pytest.raises(Conflict):
        await engine.retry(workflow_id)  # paused, not failed
    await engine.resume(workflow_id)
    [task] = await engine.poll("work", wait=5)
    assert task.reference_task_name == "two"
    await engine.terminate(workflow_id, "enough")
    wf = await wait_for_status(engine, workflow_id, WorkflowStatus.TERMINATED)
    assert wf.reason_for_incompletion == "enough"
    assert wf.tasks[-1].status is TaskStatus.CANCELED
    with pytest.raises(Conflict):
        await engine.terminate(workflow_id)


async def test_retry_restart_and_rerun(engine: WorkflowEngine, services: Services) -> None:
    await engine.register_task_defs([{"name": "picky", "retryCount": 0}])
    await register(
        engine,
        [
            simple("prep"),
            simple("picky", name="picky", inputParameters={"v": "${workflow.input.v}"}),
        ],
    )
    services.worker("work", lambda task: {"prepared": True})

    def picky(task: Any) -> dict[str, Any]:
        if not task.input_data.get("v") and not task.input_data.get("override"):
            raise RuntimeError("no v")
        return {"v": task.input_data.get("v"), "override": task.input_data.get("override")}

    services.worker("picky", picky)
    workflow_id = await engine.start_workflow("flow", {})
    await wait_for_status(engine, workflow_id, WorkflowStatus.FAILED)

    first_picky = (await engine.get_workflow(workflow_id)).tasks[1].task_id
    await engine.rerun(workflow_id, from_task_id=first_picky, task_input={"override": "yes"})
    wf = await wait_for_status(engine, workflow_id)
    assert wf.tasks[-1].output_data == {"v": None, "override": "yes"}
    assert [t.reference_task_name for t in wf.tasks] == ["prep", "picky"]
    with pytest.raises(NotFound):  # a late result for the task the rerun replaced is refused
        await engine.update_task(TaskResult(first_picky, workflow_id, TaskStatus.COMPLETED))

    with pytest.raises(Conflict):
        await engine.retry(workflow_id)  # completed: nothing to retry
    await engine.restart(workflow_id)
    wf = await wait_for_status(engine, workflow_id, WorkflowStatus.FAILED)
    assert [t.reference_task_name for t in wf.tasks] == ["prep", "picky"]

    failing = wf.tasks[-1]
    await engine.retry(workflow_id)
    wf = await wait_for_status(engine, workflow_id, WorkflowStatus.FAILED)  # still no v
    assert [t.retried for t in wf.tasks if t.reference_task_name == "picky"] == [True, False]
    assert wf.tasks[-1].retried_task_id == failing.task_id


async def test_skip_a_task_ahead_of_time(engine: WorkflowEngine, services: Services) -> None:
    await register(engine, [simple("one"), simple("skipped"), simple("three")])
    services.worker("work", lambda task: {"ran": task.reference_task_name})
    workflow_id = await engine.start_workflow("flow")
    await engine.skip_task(workflow_id, "skipped", task_output={"pretend": True})
    wf = await wait_for_status(engine, workflow_id)
    by_ref = tasks_by_ref(wf)
    assert by_ref["skipped"][0].status is TaskStatus.SKIPPED
    assert by_ref["skipped"][0].output_data == {"pretend": True}
    assert by_ref["three"][0].output_data == {"ran": "three"}


async def test_priority_is_carried_to_the_task_queues(engine: WorkflowEngine) -> None:
    await register(engine, [simple("only")])
    low = await engine.start_workflow("flow", priority=9)
    high = await engine.start_workflow("flow", priority=0)
    first, second = await engine.poll("work", count=2)
    assert (first.workflow_instance_id, second.workflow_instance_id) == (high, low)
    assert (first.workflow_priority, second.workflow_priority) == (0, 9)


async def test_an_idempotency_key_starts_one_workflow(engine: WorkflowEngine) -> None:
    await register(engine, [simple("only")])
    first = await engine.start_workflow("flow", idempotency_key="order-1")
    again = await engine.start_workflow("flow", idempotency_key="order-1")
    other = await engine.start_workflow("flow", idempotency_key="order-2")
    assert first == again != other
    assert await engine.queue_sizes(["work"]) == {"work": 2}


async def test_search_is_newest_first_paged_and_filtered(engine: WorkflowEngine) -> None:
    await register(engine, [simple("only")])
    await register(engine, [simple("only")], name="other")
    ids = []
    for i in range(5):
        ids.append(await engine.start_workflow("flow", correlation_id=f"c{i % 2}"))
        await asyncio.sleep(0.002)  # distinct start times, so "newest first" is one order
    await engine.start_workflow("other")
    await engine.terminate(ids[0])
    page = await engine.search(SearchFilter(workflow_types=("flow",)), start=1, size=2)
    assert page.total_hits == 5
    assert [w.workflow_id for w in page.results] == [ids[3], ids[2]]
    running = await engine.search(
        SearchFilter(workflow_types=("flow",), statuses=(WorkflowStatus.RUNNING,))
    )
    assert [w.workflow_id for w in running.results] == ids[:0:-1]
    by_correlation = await engine.search(SearchFilter(correlation_ids=("c0",)))
    assert {w.workflow_id for w in by_correlation.results} == {ids[0], ids[2], ids[4]}
    started = (await engine.get_workflow(ids[2])).start_time
    window = await engine.search(
        SearchFilter(workflow_types=("flow",), start_time_from=started, start_time_to=started)
    )
    assert [w.workflow_id for w in window.results] == [ids[2]]
    assert await engine.running_workflow_ids("flow") == ids[:0:-1]


async def test_concurrency_and_rate_limits_hold_at_poll_time(engine: WorkflowEngine) -> None:
    await engine.register_task_defs(
        [
            {"name": "single", "concurrentExecLimit": 1},
            {"name": "rated", "rateLimitPerFrequency": 2, "rateLimitFrequencyInSeconds": 60},
        ]
    )
    await register(engine, [simple("s", name="single")], name="one_at_a_time")
    await register(engine, [simple("r", name="rated")], name="two_a_minute")
    singles = [await engine.start_workflow("one_at_a_time") for _ in range(3)]
    for _ in range(3):
        await engine.start_workflow("two_a_minute")
    [running] = await engine.poll("single", count=3)
    assert await engine.poll("single", count=3) == []  # the slot is taken until it finishes
    await engine.update_task(
        TaskResult(running.task_id, running.workflow_instance_id, TaskStatus.COMPLETED)
    )
    await engine.decide(running.workflow_instance_id)  # frees the slot, as the decider would
    assert running.workflow_instance_id in singles
    # the refused polls were put back for a second; then one more (and only one) gets the slot
    assert len(await async_wait_until(lambda: engine.poll("single", count=3), timeout=5)) == 1
    assert await engine.poll("single", count=3) == []
    assert len(await engine.poll("rated", count=3)) == 2  # the third waits for the next minute
    assert await engine.poll("rated", count=3) == []


async def test_tasks_a_loop_or_a_rerun_drops_leave_nothing_behind(
    engine: WorkflowEngine, services: Services
) -> None:
    loop = {
        "name": "loop",
        "taskReferenceName": "loop",
        "type": "DO_WHILE",
        "items": "${workflow.input.names}",
        "inputParameters": {"keepLastN": 2},
        "loopOver": [simple("greet")],
    }
    await register(engine, [loop])
    done: list[Task] = []

    async def greet(task: Task) -> dict[str, Any]:
        await engine.add_task_log(task.task_id, f"greeting {task.reference_task_name}")
        done.append(task)
        return {"ok": True}

    services.worker("work", greet)
    workflow_id = await engine.start_workflow("flow", {"names": list("abcde")})
    wf = await wait_for_status(engine, workflow_id)

    kept = {t.task_id for t in wf.tasks}
    assert [t.reference_task_name for t in wf.tasks] == ["loop", "greet__4", "greet__5"]
    keys = engine.store.keys(workflow_id)
    stored = {k.decode() for k in await engine.client.hkeys(keys.tasks)}
    assert stored == kept | {""}
    for task in done:
        logs = await engine.client.exists(keys.log(task.task_id))
        assert logs == (task.task_id in kept)
    dropped = next(t for t in done if t.task_id not in kept)
    with pytest.raises(NotFound):  # a late result for a dropped iteration is refused
        await engine.update_task(
            TaskResult(dropped.task_id, workflow_id, TaskStatus.COMPLETED, output_data={})
        )


async def test_an_index_write_that_lands_after_a_removal_leaves_nothing_behind(
    engine: WorkflowEngine, services: Services
) -> None:
    """A decider that saved a workflow and is slow to index it, while it is terminated and
    removed: whether its late write lands before or after the removal, nothing stays found."""
    await register(engine, [simple("only")])
    workflow_id = await engine.start_workflow("flow", correlation_id="gone-1")
    running = await engine.get_workflow(workflow_id)
    where = SearchFilter(workflow_types=("flow",), correlation_ids=("gone-1",))
    assert (await engine.search(where)).total_hits == 1

    await engine.remove_workflow(workflow_id)
    await engine.store.index(running, None)  # the slow decider's write, after the removal

    assert (await engine.search(where)).total_hits == 0
    for status in (None, WorkflowStatus.RUNNING, WorkflowStatus.TERMINATED):
        statuses = () if status is None else (status,)
        found = await engine.search(SearchFilter(statuses=statuses, workflow_types=("flow",)))
        assert found.total_hits == 0
    assert not await engine.client.hexists(f"{engine.namespace}:wfsummary", workflow_id)
