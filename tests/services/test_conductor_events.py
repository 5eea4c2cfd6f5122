"""Event handlers (``/api/event`` and the processor ``dynoq server`` runs), environment
variables and secrets (``/api/environment``, ``/api/secrets`` and their resolution when a task
is handed to its worker)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from dynoq.backend.queue import AsyncQueue
from dynoq.core.models import Message
from dynoq.services.conductor.http import ENGINE
from dynoq.testing import async_wait_until
from dynoq.workflow.event_processor import EventProcessor
from dynoq.workflow.events import CONDUCTOR_EVENTS
from tests.services.test_conductor_api import conductor_error
from tests.services.test_conductor_parity import define, get_json, simple, start


@pytest.fixture
def redis_url(standalone_url: str) -> str:
    return standalone_url


def handler(name: str, event: str, *actions: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": name, "event": event, "actions": list(actions), **extra}


def start_action(workflow: str, **input: Any) -> dict[str, Any]:
    return {
        "action": "start_workflow",
        "start_workflow": {"name": workflow, "input": input, "correlationId": "${order}"},
    }


async def test_event_handler_routes(api):
    body = handler("h1", "conductor:shop:publish", start_action("x"))
    assert (await api.post("/api/event", json=body)).status == 200
    await conductor_error(await api.post("/api/event", json=body), 409)
    listed = await get_json(api, "/api/event")
    assert [(h["name"], h["active"], h["evaluatorType"]) for h in listed] == [
        ("h1", True, "javascript")
    ]
    assert [h["name"] for h in await get_json(api, "/api/event/conductor:shop:publish")] == ["h1"]
    assert await get_json(api, "/api/event/conductor:other") == []
    inactive = {**body, "active": False}
    assert (await api.put("/api/event", json=inactive)).status == 200
    assert await get_json(api, "/api/event/conductor:shop:publish") == []
    both = await get_json(api, "/api/event/conductor:shop:publish", activeOnly="false")
    assert [h["active"] for h in both] == [False]
    missing = handler("nope", "conductor:x", start_action("x"))
    await conductor_error(await api.put("/api/event", json=missing), 404)
    bad = {"name": "h2", "event": "e", "actions": [{"action": "launch_rocket"}]}
    errors = (await conductor_error(await api.post("/api/event", json=bad), 400))[
        "validationErrors"
    ]
    assert errors[0]["path"] == "$.actions[0].action"
    assert (await api.delete("/api/event/h1")).status == 200
    await conductor_error(await api.delete("/api/event/h1"), 404)
    assert await get_json(api, "/api/event") == []


async def _events_queue(api: Any, name: str = CONDUCTOR_EVENTS) -> AsyncQueue:
    engine = api.server.app[ENGINE]
    return AsyncQueue(engine.client, name, namespace=engine.namespace)


def event_message(event: str, payload: dict[str, Any], **meta: Any) -> Message:
    body = {"event": event, "payload": payload, "workflowInstanceId": "src", **meta}
    return Message(str(uuid.uuid4()), body)


async def test_an_event_starts_a_workflow_once_per_message(make_api):
    api = await make_api(system_tasks=True)  # the server runs the event processor
    target = await define(api, [simple("shipper", "ship")])
    on_event = handler("starter", "conductor:shop:publish", start_action(target, sku="${sku}"))
    assert (await api.post("/api/event", json=on_event)).status == 200
    queue = await _events_queue(api)
    message = event_message("conductor:shop:publish", {"sku": "blue", "order": "o-1"})
    await queue.push(message)

    async def started() -> list[dict[str, Any]]:
        found = await get_json(api, "/api/workflow/search", query=f"workflowType = {target}")
        return found["results"]  # type: ignore[no-any-return]

    await async_wait_until(started, timeout=10, message="the handler started no workflow")
    (summary,) = await started()
    doc = await get_json(api, f"/api/workflow/{summary['workflowId']}")
    assert doc["correlationId"] == "o-1"
    assert doc["input"]["sku"] == "blue"
    assert doc["input"]["conductor.event.name"] == "conductor:shop:publish"
    assert doc["input"]["conductor.event.messageId"] == message.id

    async def executed() -> list[dict[str, Any]]:
        return await get_json(api, "/api/event/starter/executions")  # type: ignore[no-any-return]

    await async_wait_until(executed, timeout=10, message="no execution recorded")
    (execution,) = await executed()
    assert execution["status"] == "COMPLETED" and execution["action"] == "start_workflow"
    assert execution["output"] == {"workflowId": summary["workflowId"]}
    await async_wait_until(lambda: _empty(queue), timeout=10, message="the event was not acked")
    # a redelivery of the same message (as after a crash before the ack) starts nothing more
    engine = api.server.app[ENGINE]
    processor = EventProcessor(engine)
    assert await processor.handle(CONDUCTOR_EVENTS, message) is True
    await processor.aclose()
    assert len(await started()) == 1
    await queue.aclose()


async def _empty(queue: AsyncQueue) -> bool:
    stats = await queue.stats()
    return stats.ready + stats.delayed + stats.in_flight == 0


async def test_a_dynoq_queue_event_completes_a_wait_task_when_the_condition_holds(api):
    name = await define(api, [{"name": "w", "taskReferenceName": "hold", "type": "WAIT"}])
    workflow_id = await start(api, name)
    complete = {
        "action": "complete_task",
        "complete_task": {
            "workflowId": "${workflowId}",
            "taskRefName": "hold",
            "output": {"decision": "${decision}"},
        },
    }
    body = handler("approver", "dynoq:approvals", complete, condition="$.decision == 'yes'")
    assert (await api.post("/api/event", json=body)).status == 200
    engine = api.server.app[ENGINE]
    processor = EventProcessor(engine)
    queue = await _events_queue(api, "approvals")
    await queue.push(Message("m1", {"workflowId": workflow_id, "decision": "no"}))
    assert await processor.run_once() == 1
    (skipped,) = await get_json(api, "/api/event/approver/executions")
    assert skipped["status"] == "SKIPPED"
    await queue.push(Message("m2", {"workflowId": workflow_id, "decision": "yes"}))
    assert await processor.run_once() == 1
    await api.put(f"/api/workflow/decide/{workflow_id}")
    doc = await get_json(api, f"/api/workflow/{workflow_id}")
    assert doc["status"] == "COMPLETED"
    output = doc["tasks"][0]["outputData"]
    assert output["decision"] == "yes" and output["conductor.event.name"] == "dynoq:approvals"
    # what an EVENT task with the sink dynoq:approvals publishes: its envelope
    other = await start(api, name)
    envelope = {"event": "dynoq:approvals", "payload": {"workflowId": other, "decision": "yes"}}
    await queue.push(Message("m3", {**envelope, "workflowInstanceId": "src", "taskId": "t"}))
    assert await processor.run_once() == 1
    await api.put(f"/api/workflow/decide/{other}")
    assert (await get_json(api, f"/api/workflow/{other}"))["status"] == "COMPLETED"
    await processor.aclose()
    await queue.aclose()


async def test_terminate_update_variables_and_a_failing_action(api):
    name = await define(api, [{"name": "w", "taskReferenceName": "hold", "type": "WAIT"}])
    first = await start(api, name)
    second = await start(api, name)
    actions = [
        {
            "action": "update_workflow_variables",
            "update_workflow_variables": {"workflowId": "${a}", "variables": {"seen": "${n}"}},
        },
        {
            "action": "terminate_workflow",
            "terminate_workflow": {"workflowId": "${b}", "terminationReason": "by event"},
        },
        start_action("no_such_workflow"),
    ]
    assert (await api.post("/api/event", json=handler("many", "conductor:go", *actions))).status
    engine = api.server.app[ENGINE]
    processor = EventProcessor(engine)
    queue = await _events_queue(api)
    await queue.push(event_message("conductor:go", {"a": first, "b": second, "n": 7}))
    assert await processor.run_once() == 1
    assert (await get_json(api, f"/api/workflow/{first}"))["variables"] == {"seen": 7}
    ended = await get_json(api, f"/api/workflow/{second}")
    assert (ended["status"], ended["reasonForIncompletion"]) == ("TERMINATED", "by event")
    executions = await get_json(api, "/api/event/many/executions")
    assert sorted((e["action"], e["status"]) for e in executions) == [
        ("start_workflow", "FAILED"),
        ("terminate_workflow", "COMPLETED"),
        ("update_workflow_variables", "COMPLETED"),
    ]
    assert await _empty(queue)  # a final failure is recorded, not retried
    await processor.aclose()
    await queue.aclose()


async def test_environment_variables_and_secrets_crud(api):
    assert (await api.put("/api/environment/base", data="https://example.test")).status == 200
    assert await get_json(api, "/api/environment") == [
        {"name": "base", "value": "https://example.test"}
    ]
    value = await api.get("/api/environment/base")
    assert value.content_type == "text/plain" and await value.text() == "https://example.test"
    assert (await api.delete("/api/environment/base")).status == 200
    await conductor_error(await api.get("/api/environment/base"), 404)
    await conductor_error(await api.put("/api/environment/bad%20name", data="x"), 400)
    response = await api.put("/api/secrets/token", json="s3cret")  # as Orkes' client sends it
    assert response.status == 200
    assert await get_json(api, "/api/secrets") == ["token"]
    assert await (await api.post("/api/secrets")).json() == ["token"]
    assert await get_json(api, "/api/secrets/token") == "s3cret"
    assert await get_json(api, "/api/secrets/token/exists") is True
    assert (await api.delete("/api/secrets/token")).status == 200
    assert await get_json(api, "/api/secrets/token/exists") is False
    await conductor_error(await api.delete("/api/secrets/token"), 404)


async def test_secrets_reach_the_worker_and_nothing_else(api):
    await api.put("/api/secrets/token", data="s3cret-value")
    await api.put("/api/environment/base", data="https://example.test")
    caller = {
        **simple("caller", "call"),
        "inputParameters": {
            "auth": "${workflow.secrets.token}",
            "header": "Bearer ${workflow.secrets.token}",
            "url": "${workflow.env.base}/orders/${workflow.input.id}",
            "missing": "${workflow.secrets.none}",
        },
    }
    name = await define(api, [caller])
    workflow_id = await start(api, name, input={"id": 7})
    (task,) = await get_json(api, "/api/tasks/poll/batch/caller", count=1, timeout=100)
    assert task["inputData"] == {
        "auth": "s3cret-value",
        "header": "Bearer s3cret-value",
        "url": "https://example.test/orders/7",
        "missing": None,
    }
    stored = await get_json(api, f"/api/workflow/{workflow_id}")
    assert "s3cret-value" not in json.dumps(stored)
    assert stored["tasks"][0]["inputData"]["auth"] == "${workflow.secrets.token}"
    assert "s3cret-value" not in json.dumps(await get_json(api, f"/api/tasks/{task['taskId']}"))
    found = await get_json(api, "/api/workflow/search", freeText="s3cret-value")
    assert found["totalHits"] == 0
    result = {"taskId": task["taskId"], "status": "COMPLETED", "outputData": {"ok": True}}
    assert (await api.post("/api/tasks", json=result)).status == 200


async def test_an_event_task_starts_a_workflow_and_completes_a_wait_task(make_api):
    api = await make_api(system_tasks=True)  # the server runs the event processor
    shipper = await define(api, [{"name": "w", "taskReferenceName": "ship", "type": "WAIT"}])
    announce = {
        "name": "announce",
        "taskReferenceName": "announce",
        "type": "EVENT",
        "sink": "conductor",
        "inputParameters": {"orderId": "${workflow.input.orderId}"},
    }
    hold = {"name": "w", "taskReferenceName": "hold", "type": "WAIT"}
    publisher = await define(api, [announce, hold])
    event = f"conductor:{publisher}:announce"
    start_shipper = {
        "action": "start_workflow",
        "start_workflow": {
            "name": shipper,
            "input": {"orderId": "${orderId}"},
            "correlationId": "${workflowInstanceId}",
        },
    }
    release = {
        "action": "complete_task",
        "complete_task": {
            "workflowId": "${workflowInstanceId}",
            "taskRefName": "hold",
            "output": {"released": True},
        },
    }
    for body in (
        handler("start_shipper", event, start_shipper),
        handler("release", event, release),
    ):
        assert (await api.post("/api/event", json=body)).status == 200
    workflow_id = await start(api, publisher, input={"orderId": "o-9"})

    async def both_done() -> bool:
        await api.put(f"/api/workflow/decide/{workflow_id}")  # no decider runs here
        doc = await get_json(api, f"/api/workflow/{workflow_id}")
        found = await get_json(api, "/api/workflow/search", query=f"correlationId = {workflow_id}")
        return doc["status"] == "COMPLETED" and found["totalHits"] == 1

    await async_wait_until(both_done, timeout=15, message="the event's handlers did not run")
    doc = await get_json(api, f"/api/workflow/{workflow_id}")
    assert doc["tasks"][-1]["outputData"]["released"] is True
    (started,) = (await get_json(api, "/api/workflow/search", query=f"workflowType = {shipper}"))[
        "results"
    ]
    assert json.loads(started["input"])["orderId"] == "o-9"
