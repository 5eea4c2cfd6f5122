"""The routes of Conductor's REST API beyond the worker path: metadata listings, a workflow's
task pages, updates by reference and signals, bulk operations, the query language, queue and
admin routes, and the shapes of the documents (no empty fields, tasks with their
workflowTask). No decider runs: the tests decide through ``PUT /api/workflow/decide/{id}``."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from dynoq.services.conductor.http import ENGINE
from tests.services.test_conductor_api import conductor_error


@pytest.fixture
def redis_url(standalone_url: str) -> str:
    return standalone_url


def _name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def simple(name: str, ref: str) -> dict[str, Any]:
    return {"name": name, "taskReferenceName": ref, "type": "SIMPLE"}


async def define(api: Any, tasks: list[dict[str, Any]], name: str = "", version: int = 1) -> str:
    name = name or _name("wf")
    body = {"name": name, "version": version, "schemaVersion": 2, "tasks": tasks}
    response = await api.post("/api/metadata/workflow", params={"overwrite": "true"}, json=body)
    assert response.status == 200, await response.text()
    return name


async def start(api: Any, name: str, **request: Any) -> str:
    response = await api.post("/api/workflow", json={"name": name, **request})
    assert response.status == 200, await response.text()
    workflow_id = await response.text()
    assert (await api.put(f"/api/workflow/decide/{workflow_id}")).status == 200
    return workflow_id


async def get_json(api: Any, url: str, expect: int = 200, **params: Any) -> Any:
    response = await api.get(url, params=params)
    assert response.status == expect, await response.text()
    return await response.json()


def assert_no_empty_text(doc: Any, where: str = "$") -> None:
    """Conductor leaves unset fields out: no "" or null anywhere in a document."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            if key in ("input", "output", "inputData", "outputData", "variables"):
                continue  # the user's own data
            assert value != "" and value is not None, f"{where}.{key} is {value!r}"
            assert_no_empty_text(value, f"{where}.{key}")
    elif isinstance(doc, list):
        for index, item in enumerate(doc):
            assert_no_empty_text(item, f"{where}[{index}]")


async def test_workflow_definition_listings_and_validation(api):
    first = await define(api, [simple("a", "a")], "alpha")
    await define(api, [simple("a", "a")], first, version=2)
    await define(api, [simple("b", "b")], "beta")
    assert await get_json(api, "/api/metadata/workflow/names") == ["alpha", "beta"]
    both = await get_json(api, "/api/metadata/workflow/names-and-versions")
    assert {n: [s["version"] for s in v] for n, v in both.items()} == {
        "alpha": [1, 2],
        "beta": [1],
    }
    assert all(s["name"] == "alpha" and s["createTime"] for s in both["alpha"])
    latest = await get_json(api, "/api/metadata/workflow/latest-versions")
    assert [(d["name"], d["version"]) for d in latest] == [("alpha", 2), ("beta", 1)]
    versions = await get_json(api, "/api/metadata/workflow/alpha/versions")
    assert [v["version"] for v in versions] == [1, 2]
    good = {"name": "v", "tasks": [simple("a", "a")]}
    assert (await api.post("/api/metadata/workflow/validate", json=good)).status == 200
    bad = {"name": "v", "tasks": [{"name": "a", "type": "NOPE"}]}
    body = await conductor_error(await api.post("/api/metadata/workflow/validate", json=bad), 400)
    assert body["validationErrors"]
    assert "v" not in await get_json(api, "/api/metadata/workflow/names")  # not registered


async def test_documents_have_no_empty_fields_and_tasks_carry_their_workflow_task(api):
    switch = {
        "name": "pick",
        "taskReferenceName": "pick",
        "type": "SWITCH",
        "evaluatorType": "value-param",
        "expression": "which",
        "inputParameters": {"which": "${workflow.input.which}"},
        "decisionCases": {"left": [simple("lefty", "left_ref")]},
        "defaultCase": [simple("righty", "right_ref")],
    }
    name = await define(api, [switch])
    workflow_id = await start(api, name, input={"which": "left"})
    doc = await get_json(api, f"/api/workflow/{workflow_id}")
    assert_no_empty_text(doc)
    by_ref = {t["referenceTaskName"]: t for t in doc["tasks"]}
    assert by_ref["pick"]["workflowTask"]["type"] == "SWITCH"
    assert by_ref["pick"]["workflowTask"]["decisionCases"]["left"][0]["name"] == "lefty"
    assert by_ref["left_ref"]["workflowTask"].items() >= simple("lefty", "left_ref").items()
    assert "domain" not in by_ref["left_ref"]
    assert doc["endTime"] == 0  # a number in Conductor's Workflow
    found = await get_json(api, "/api/workflow/search", query=f"workflowType={name}")
    (running,) = found["results"]
    assert running["status"] == "RUNNING" and "endTime" not in running
    # the two fields Conductor's WorkflowSummary defaults to "" rather than leaving out
    assert running["failedReferenceTaskNames"] == running["parentWorkflowId"] == ""
    assert {k for k, v in running.items() if v == ""} == {
        "failedReferenceTaskNames",
        "parentWorkflowId",
    }
    polled = await get_json(api, "/api/tasks/poll/batch/lefty", count=1, timeout=100)
    assert "domain" not in polled[0] and polled[0]["referenceTaskName"] == "left_ref"


async def test_a_workflows_tasks_by_page_and_status(api):
    name = await define(api, [simple("p1", "p1"), simple("p2", "p2")])
    workflow_id = await start(api, name)
    (task,) = await get_json(api, "/api/tasks/poll/batch/p1", count=1, timeout=100)
    result = {"taskId": task["taskId"], "status": "COMPLETED", "outputData": {}}
    assert (await api.post("/api/tasks", json=result)).status == 200
    await api.put(f"/api/workflow/decide/{workflow_id}")
    page = await get_json(api, f"/api/workflow/{workflow_id}/tasks")
    assert page["totalHits"] == 2
    assert [t["referenceTaskName"] for t in page["results"]] == ["p1", "p2"]
    second = await get_json(api, f"/api/workflow/{workflow_id}/tasks", start=1, count=1)
    assert [t["referenceTaskName"] for t in second["results"]] == ["p2"]
    done = await get_json(api, f"/api/workflow/{workflow_id}/tasks", status="COMPLETED")
    assert [t["referenceTaskName"] for t in done["results"]] == ["p1"]


async def test_wait_tasks_are_completed_by_reference_and_by_signal(api):
    wait = {"name": "w", "taskReferenceName": "hold", "type": "WAIT"}
    name = await define(api, [wait, {**wait, "taskReferenceName": "hold2"}])
    workflow_id = await start(api, name)
    response = await api.post(f"/api/tasks/{workflow_id}/hold/COMPLETED", json={"ok": 1})
    assert response.status == 200 and response.content_type == "text/plain"
    task_id = await response.text()
    await api.put(f"/api/workflow/decide/{workflow_id}")
    doc = await get_json(api, f"/api/workflow/{workflow_id}")
    held = next(t for t in doc["tasks"] if t["taskId"] == task_id)
    assert (held["referenceTaskName"], held["status"]) == ("hold", "COMPLETED")
    assert held["outputData"] == {"ok": 1}
    missing = await api.post(f"/api/tasks/{workflow_id}/hold/COMPLETED", json={})
    await conductor_error(missing, 404)  # it ended: nothing pending by that reference
    bad = await api.post(f"/api/tasks/{workflow_id}/hold2/DONE", json={})
    await conductor_error(bad, 400)
    signal = await api.post(f"/api/tasks/{workflow_id}/COMPLETED/signal/sync", json={"s": 2})
    assert signal.status == 200, await signal.text()
    answer = await signal.json()
    assert answer["targetWorkflowId"] == workflow_id
    assert answer["status"] == answer["targetWorkflowStatus"] == "COMPLETED"
    assert answer["tasks"][-1]["outputData"] == {"s": 2}


async def test_update_by_reference_sync_answers_the_decided_workflow(api):
    name = await define(api, [{"name": "w", "taskReferenceName": "hold", "type": "WAIT"}])
    workflow_id = await start(api, name)
    response = await api.post(f"/api/tasks/{workflow_id}/hold/FAILED/sync", json={"why": "no"})
    assert response.status == 200, await response.text()
    assert (await response.json())["status"] == "FAILED"


async def test_bulk_operations_on_100_workflows_with_invalid_ids(api):
    name = await define(api, [simple("bulk_t", "b")])
    valid = [await start(api, name) for _ in range(95)]
    invalid = [f"no-such-{i}" for i in range(5)]
    ids = valid[:50] + invalid + valid[50:]
    response = await api.put("/api/workflow/bulk/pause", json=ids)
    body = await response.json()
    assert sorted(body["bulkSuccessfulResults"]) == sorted(valid)
    assert sorted(body["bulkErrorResults"]) == sorted(invalid)
    assert all("no-such" in m or "no workflow" in m for m in body["bulkErrorResults"].values())
    resumed = await (await api.put("/api/workflow/bulk/resume", json=valid)).json()
    assert len(resumed["bulkSuccessfulResults"]) == 95
    found = await (await api.post("/api/workflow/bulk/search", json=[*valid[:2], "x"])).json()
    assert [w["workflowId"] for w in found["bulkSuccessfulResults"]] == valid[:2]
    assert list(found["bulkErrorResults"]) == ["x"]
    ended = await (
        await api.post("/api/workflow/bulk/terminate", params={"reason": "bulk"}, json=ids)
    ).json()
    assert len(ended["bulkSuccessfulResults"]) == 95 and len(ended["bulkErrorResults"]) == 5
    doc = await get_json(api, f"/api/workflow/{valid[0]}")
    assert (doc["status"], doc["reasonForIncompletion"]) == ("TERMINATED", "bulk")
    again = await (await api.put("/api/workflow/bulk/pause", json=valid[:3])).json()
    assert sorted(again["bulkErrorResults"]) == sorted(valid[:3])  # ended: cannot pause
    retried = await (await api.post("/api/workflow/bulk/retry", json=valid[:2])).json()
    assert sorted(retried["bulkSuccessfulResults"]) == sorted(valid[:2])
    removed = await (
        await api.request("DELETE", "/api/workflow/bulk/terminate-remove", json=valid)
    ).json()
    assert len(removed["bulkSuccessfulResults"]) == 95
    await get_json(api, f"/api/workflow/{valid[0]}", expect=404)
    too_many = await api.put("/api/workflow/bulk/pause", json=["x"] * 1001)
    assert "1000" in (await conductor_error(too_many, 400))["message"]


async def test_search_with_or_parentheses_sort_and_free_text(api):
    orders = await define(api, [simple("s1", "s1")], "orders")
    refunds = await define(api, [simple("s1", "s1")], "refunds")
    first = await start(api, orders, correlationId="c-1", input={"sku": "blue-shoe"})
    second = await start(api, refunds, correlationId="c-2", input={"sku": "red-hat"})
    third = await start(api, orders, correlationId="c-3")
    assert (await api.delete(f"/api/workflow/{third}")).status == 200

    async def ids(**params: Any) -> list[str]:
        found = await get_json(api, "/api/workflow/search", **params)
        assert found["totalHits"] == len(found["results"])
        return [r["workflowId"] for r in found["results"]]

    assert await ids(query="workflowType = refunds OR status = TERMINATED") == [third, second]
    query = "(workflowType = orders AND status IN (RUNNING)) OR correlationId = 'c-2'"
    assert await ids(query=query) == [second, first]
    assert await ids(query=query, sort="startTime:ASC") == [first, second]
    assert await ids(query="workflowType IN (orders, refunds)", sort="correlationId:DESC") == [
        third,
        second,
        first,
    ]
    assert await ids(freeText="blue-shoe") == [first]
    assert await ids(freeText=second) == [second]
    assert await ids(query=f"workflowId IN ({first}, {third}, nope)") == [third, first]
    assert await ids(query=f"workflowId = {first} AND status = TERMINATED") == []
    assert await ids(query="status = RUNNING", freeText="red-hat") == [second]
    doc = await get_json(api, f"/api/workflow/{first}")
    between = f"startTime BETWEEN {doc['startTime']} AND {doc['startTime']}"
    assert await ids(query=between) == [first]
    v2 = await get_json(api, "/api/workflow/search-v2", query="correlationId = c-1")
    assert [w["workflowId"] for w in v2["results"]] == [first]
    assert v2["results"][0]["input"] == {"sku": "blue-shoe"}  # a Workflow, not a summary
    by_tasks = await get_json(api, "/api/workflow/search-by-tasks", query="taskType = s1")
    assert {w["workflowId"] for w in by_tasks["results"]} == {first, second, third}
    bad = await api.get("/api/workflow/search", params={"query": "status = RUNNING OR"})
    await conductor_error(bad, 400)
    bad = await api.get("/api/workflow/search", params={"sort": "startTime:SIDEWAYS"})
    await conductor_error(bad, 400)


async def test_task_search(api):
    name = await define(api, [simple("ts_a", "a"), simple("ts_b", "b")])
    workflow_id = await start(api, name, input={"x": 1})
    found = await get_json(api, "/api/tasks/search", query="taskType = ts_a")
    (summary,) = found["results"]
    assert (summary["workflowId"], summary["taskType"], summary["status"]) == (
        workflow_id,
        "ts_a",
        "SCHEDULED",
    )
    assert summary["workflowType"] == name and "endTime" not in summary
    v2 = await get_json(api, "/api/tasks/search-v2", query=f"workflowId = {workflow_id}")
    assert [t["taskDefName"] for t in v2["results"]] == ["ts_a"]
    none = await get_json(api, "/api/tasks/search", query="status = COMPLETED")
    assert none == {"totalHits": 0, "results": []}


async def test_task_queue_routes(api):
    name = await define(api, [simple("qt", "q")])
    await start(api, name)
    await start(api, name)
    assert await get_json(api, "/api/tasks/queue/size", taskType="qt") == 2
    assert (await get_json(api, "/api/tasks/queue/all"))["qt"] == 2
    verbose = await get_json(api, "/api/tasks/queue/all/verbose")
    assert verbose["qt"] == {"0": {"size": 2, "uacked": 0}}
    pending = await get_json(api, "/api/admin/task/qt", count=1)
    assert len(pending) == 1 and pending[0]["taskType"] == "qt"
    await get_json(api, "/api/tasks/poll/batch/qt", count=1, timeout=100, workerid="w9")
    polls = await get_json(api, "/api/tasks/queue/polldata/all")
    assert [(p["queueName"], p["workerId"]) for p in polls] == [("qt", "w9")]
    assert "domain" not in polls[0]
    engine = api.server.app[ENGINE]
    queue = engine.task_queue("qt")
    (message,) = await queue.pop(1)
    await queue.set_unack_timeout(message, 0)  # a lease that ran out
    response = await api.post("/api/tasks/queue/requeue/qt")
    assert response.status == 200 and int(await response.text()) == 1
    assert await get_json(api, "/api/tasks/queue/size", taskType="qt") == 1


async def test_admin_and_queue_admin_routes(api):
    name = await define(api, [{"name": "w", "taskReferenceName": "hold", "type": "WAIT"}])
    workflow_id = await start(api, name)
    config = await get_json(api, "/api/admin/config")
    assert config["server"] == "dynoq" and "redis" not in json.dumps(config).lower()
    response = await api.post(f"/api/admin/sweep/requeue/{workflow_id}")
    assert await response.text() == workflow_id
    engine = api.server.app[ENGINE]
    assert await engine.decider_queue.contains(workflow_id)
    await engine.decider_queue.remove(workflow_id)  # as a crash might leave it
    response = await api.post(f"/api/admin/consistency/verifyAndRepair/{workflow_id}")
    assert await response.text() == "true"
    assert await engine.decider_queue.contains(workflow_id)
    await conductor_error(await api.post("/api/admin/sweep/requeue/nope"), 404)
    queues = await get_json(api, "/api/admin/queues")
    assert queues == {"conductor": "conductor-events"}
    assert await get_json(api, "/api/queue/size") == {"conductor-events": 0}
    response = await api.post(f"/api/queue/update/{workflow_id}/hold/COMPLETED", json={"q": 1})
    assert response.status == 200, await response.text()
    await api.put(f"/api/workflow/decide/{workflow_id}")
    assert (await get_json(api, f"/api/workflow/{workflow_id}"))["status"] == "COMPLETED"
    version = await api.get("/api/version")
    assert version.content_type == "text/plain" and (await version.text()).count(".") == 2


async def test_reset_callbacks_terminate_remove_and_external_storage(api):
    name = await define(api, [simple("cb", "cb")])
    workflow_id = await start(api, name)
    (task,) = await get_json(api, "/api/tasks/poll/batch/cb", count=1, timeout=100)
    later = {"taskId": task["taskId"], "status": "IN_PROGRESS", "callbackAfterSeconds": 3600}
    await api.post("/api/tasks", json=later)
    await api.put(f"/api/workflow/decide/{workflow_id}")
    assert await get_json(api, "/api/tasks/poll/batch/cb", count=1, timeout=0) == []
    assert (await api.post(f"/api/workflow/{workflow_id}/resetcallbacks")).status == 200
    (again,) = await get_json(api, "/api/tasks/poll/batch/cb", count=1, timeout=100)
    assert again["taskId"] == task["taskId"]
    response = await api.delete(f"/api/workflow/{workflow_id}/terminate-remove")
    assert response.status == 200
    await get_json(api, f"/api/workflow/{workflow_id}", expect=404)
    location = await get_json(
        api,
        "/api/workflow/externalstoragelocation",
        path="p/",
        operation="WRITE",
        payloadType="TASK_OUTPUT",
    )
    assert location["path"].startswith("p/") and "uri" not in location
    bad = await api.get("/api/workflow/externalstoragelocation", params={"operation": "X"})
    await conductor_error(bad, 400)


async def test_a_test_run_with_mocked_outputs(api):
    definition = {
        "name": _name("tested"),
        "tasks": [simple("m1", "m1"), simple("m2", "m2")],
        "outputParameters": {"got": "${m2.output.v}"},
    }
    request = {
        "name": definition["name"],
        "workflowDef": definition,
        "taskRefToMockOutput": {
            "m1": [{"status": "COMPLETED", "output": {"v": 1}}],
            "m2": [{"status": "FAILED", "output": {}}, {"status": "COMPLETED", "output": {"v": 2}}],
        },
    }
    await api.post(
        "/api/metadata/taskdefs", json=[{"name": "m2", "retryCount": 1, "retryDelaySeconds": 0}]
    )
    doc = await (await api.post("/api/workflow/test", json=request)).json()
    assert doc["status"] == "COMPLETED", doc
    assert doc["output"] == {"got": 2}
    assert [(t["referenceTaskName"], t["status"]) for t in doc["tasks"]] == [
        ("m1", "COMPLETED"),
        ("m2", "FAILED"),
        ("m2", "COMPLETED"),
    ]
