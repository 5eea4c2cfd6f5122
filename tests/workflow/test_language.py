"""The workflow language end to end on a real Redis (issue 12): the system tasks that reach
outside the workflow (EVENT onto a dynoq queue, START_WORKFLOW, HUMAN completed by an update),
the workflow's inputTemplate, and a TaskDef registered by another process just before a start."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from dynoq.backend.queue import AsyncQueue
from dynoq.testing import async_wait_until
from dynoq.workflow.engine import WorkflowEngine
from dynoq.workflow.model import TaskResult, TaskStatus, WorkflowStatus

from .conftest import Services, tasks_by_ref, wait_for_status


def task(kind: str, ref: str, **fields: Any) -> dict[str, Any]:
    return {"name": ref, "taskReferenceName": ref, "type": kind, **fields}


async def test_jq_lambda_event_human_and_start_workflow_in_one_run(
    engine: WorkflowEngine, services: Services, namespace: str
) -> None:
    await engine.register_workflow_def(
        {"name": "other", "version": 1, "tasks": [task("NOOP", "nothing")]}
    )
    jq = task(
        "JSON_JQ_TRANSFORM",
        "totals",
        inputParameters={
            "lines": "${workflow.input.lines}",
            "queryExpression": "[.lines[] | .qty * .price] | add",
        },
    )
    lam = task(
        "LAMBDA",
        "grade",
        inputParameters={
            "total": "${totals.output.result}",
            "scriptExpression": "return $.total > 10 ? 'big' : 'small';",
        },
    )
    event = task(
        "EVENT",
        "tell",
        sink="conductor",
        inputParameters={"grade": "${grade.output.result}"},
    )
    human = task("HUMAN", "approve")
    start = task(
        "START_WORKFLOW",
        "spawn",
        inputParameters={
            "startWorkflow": {"name": "other", "input": {"by": "${approve.output.who}"}}
        },
    )
    await engine.register_workflow_def(
        {
            "name": "order",
            "version": 1,
            "tasks": [jq, lam, event, human, start],
            "outputParameters": {
                "grade": "${grade.output.result}",
                "other": "${spawn.output.workflowId}",
            },
        }
    )
    lines = [{"qty": 2, "price": 4}, {"qty": 1, "price": 5}]
    workflow_id = await engine.start_workflow("order", {"lines": lines}, correlation_id="c-1")

    async def waiting_for_approval() -> Any:
        wf = await engine.get_workflow(workflow_id)
        approve = tasks_by_ref(wf).get("approve")
        return approve[0] if approve and approve[0].status is TaskStatus.IN_PROGRESS else None

    approve = await async_wait_until(waiting_for_approval, timeout=10)
    events = AsyncQueue(engine.client, "conductor-events", namespace=namespace)
    (message,) = await events.peek(10)
    tell = tasks_by_ref(await engine.get_workflow(workflow_id))["tell"][0]
    assert message.id == tell.task_id
    assert message.payload == {
        "event": "conductor:order:tell",
        "payload": {"grade": "big"},
        "workflowInstanceId": workflow_id,
        "workflowType": "order",
        "workflowVersion": 1,
        "correlationId": "c-1",
        "taskId": tell.task_id,
        "taskRefName": "tell",
        "publishedTime": tell.scheduled_time,
    }
    await engine.update_task(
        TaskResult(approve.task_id, workflow_id, TaskStatus.COMPLETED, {"who": "ann"})
    )
    wf = await wait_for_status(engine, workflow_id)
    assert wf.output["grade"] == "big"
    by_ref = tasks_by_ref(wf)
    assert by_ref["totals"][0].output_data == {"result": 13, "resultList": [13]}
    assert by_ref["tell"][0].output_data["event_produced"] == "conductor:order:tell"
    other = await wait_for_status(engine, wf.output["other"])
    assert (other.workflow_name, other.input, other.correlation_id) == (
        "other",
        {"by": "ann"},
        "c-1",
    )
    assert other.parent_workflow_id == ""
    await events.aclose()


async def test_start_workflow_fails_when_the_workflow_cannot_start(
    engine: WorkflowEngine, services: Services
) -> None:
    start = task("START_WORKFLOW", "spawn", inputParameters={"startWorkflow": {"name": "nope"}})
    await engine.register_workflow_def({"name": "spawner", "version": 1, "tasks": [start]})
    workflow_id = await engine.start_workflow("spawner")
    wf = await wait_for_status(engine, workflow_id, WorkflowStatus.FAILED)
    assert "no workflow definition nope" in wf.tasks[0].reason_for_incompletion


async def test_the_input_template_fills_missing_inputs(
    engine: WorkflowEngine, services: Services
) -> None:
    await engine.register_workflow_def(
        {
            "name": "templated",
            "version": 1,
            "inputTemplate": {"region": "eu", "retries": 2},
            "tasks": [task("NOOP", "n")],
            "outputParameters": {
                "region": "${workflow.input.region}",
                "r": "${workflow.input.retries}",
            },
        }
    )
    workflow_id = await engine.start_workflow("templated", {"retries": 5})
    wf = await wait_for_status(engine, workflow_id)
    assert wf.input == {"region": "eu", "retries": 5}
    assert wf.output == {"region": "eu", "r": 5}


async def test_kafka_publish_fails_with_a_clear_reason(
    engine: WorkflowEngine, services: Services
) -> None:
    kafka = task("KAFKA_PUBLISH", "k", inputParameters={"kafka_request": {"topic": "t"}})
    await engine.register_workflow_def({"name": "kafka", "version": 1, "tasks": [kafka]})
    wf = await wait_for_status(engine, await engine.start_workflow("kafka"), WorkflowStatus.FAILED)
    assert "Kafka broker" in wf.reason_for_incompletion


async def test_a_task_def_registered_elsewhere_just_before_the_start_is_used(
    engine: WorkflowEngine, services: Services, standalone_url: str, namespace: str
) -> None:
    """The decider (on ``engine``) has just read the task definitions when another process
    registers one and starts a workflow using it: the retry follows the new TaskDef (no delay),
    not the defaults of a TaskDef it has not seen (60 s)."""
    await engine.register_workflow_def(
        {"name": "fresh", "version": 1, "tasks": [{"name": "fresh_task", "taskReferenceName": "t"}]}
    )
    attempts: list[int] = []

    def fail_once(t: Any) -> dict[str, Any]:
        attempts.append(t.retry_count)
        if t.retry_count == 0:
            raise RuntimeError("first attempt fails")
        return {"ok": True}

    services.worker("fresh_task", fail_once)
    await engine.task_defs()  # the decider's cache is fresh: it will not expire on its own soon
    async with WorkflowEngine.from_url(standalone_url, namespace) as elsewhere:
        await elsewhere.register_task_defs(
            [{"name": "fresh_task", "retryCount": 1, "retryDelaySeconds": 0}]
        )
        workflow_id = await elsewhere.start_workflow("fresh")
    wf = await wait_for_status(engine, workflow_id, timeout=20)
    first, retry = tasks_by_ref(wf)["t"]
    assert (first.status, retry.status) == (TaskStatus.FAILED, TaskStatus.COMPLETED)
    assert retry.start_delay_in_seconds == 0
    assert attempts == [0, 1]


async def test_http_poll_calls_until_its_termination_condition_holds(
    engine: WorkflowEngine, services: Services
) -> None:
    calls: list[str] = []

    async def job(request: web.Request) -> web.Response:
        calls.append(request.path)
        state = "DONE" if len(calls) >= 3 else "RUNNING"
        return web.json_response({"state": state, "calls": len(calls)})

    app = web.Application()
    app.router.add_get("/job", job)
    server = TestServer(app)
    await server.start_server()
    services.start_http_tasks()
    poll = task(
        "HTTP_POLL",
        "await_job",
        inputParameters={
            "http_request": {
                "uri": "${workflow.input.uri}",
                "method": "GET",
                "terminationCondition": "$.output.response.body.state === 'DONE'",
                "pollingInterval": 1,
                "pollingStrategy": "FIXED",
            }
        },
    )
    await engine.register_workflow_def({"name": "poller", "version": 1, "tasks": [poll]})
    workflow_id = await engine.start_workflow("poller", {"uri": str(server.make_url("/job"))})
    wf = await wait_for_status(engine, workflow_id, timeout=20)
    (only,) = wf.tasks  # one task, called again and again: not a task per call
    assert only.task_type == "HTTP_POLL"
    assert only.poll_count == 3
    assert only.output_data["response"]["body"] == {"state": "DONE", "calls": 3}
    assert calls == ["/job"] * 3
    await server.close()


async def test_a_task_with_a_domain_goes_only_to_pollers_of_that_domain(
    engine: WorkflowEngine, services: Services
) -> None:
    await engine.register_workflow_def(
        {"name": "domains", "version": 1, "tasks": [{"name": "dom_task", "taskReferenceName": "t"}]}
    )
    blue = await engine.start_workflow("domains", task_to_domain={"dom_task": "blue"})
    assert await engine.poll("dom_task", 5, worker_id="plain") == []  # no domain: not this one
    (got,) = await engine.poll("dom_task", 5, wait=5, worker_id="b", domain="blue")
    assert (got.workflow_instance_id, got.domain) == (blue, "blue")
    await engine.update_task(TaskResult(got.task_id, blue, TaskStatus.COMPLETED))
    await wait_for_status(engine, blue)
    # "*" with NO_DOMAIN last: no green poller was seen lately, so the task has no domain ...
    anyone = await engine.start_workflow("domains", task_to_domain={"*": "green,NO_DOMAIN"})
    (plain,) = await engine.poll("dom_task", 5, wait=5, worker_id="plain")
    assert (plain.workflow_instance_id, plain.domain) == (anyone, "")
    # ... and once a green poller has polled, the next one goes to green
    assert await engine.poll("dom_task", 1, worker_id="g", domain="green") == []
    green = await engine.start_workflow("domains", task_to_domain={"*": "green,NO_DOMAIN"})
    (got,) = await engine.poll("dom_task", 5, wait=5, worker_id="g", domain="green")
    assert (got.workflow_instance_id, got.domain) == (green, "green")
