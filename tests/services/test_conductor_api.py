"""The Conductor-compatible API under /api on the aiohttp test client: shapes, status codes,
204 and [] when there is no task, Conductor's error document, unknown fields ignored.

No decider runs here: the tests decide a workflow through ``PUT /api/workflow/decide/{id}``
where a decider service would."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from dynoq.testing import async_wait_until

ERROR_KEYS = {"status", "code", "message", "instance", "retryable", "validationErrors"}


@pytest.fixture
def redis_url(standalone_url: str) -> str:
    return standalone_url


@pytest.fixture
def names() -> dict[str, str]:
    suffix = uuid.uuid4().hex[:8]
    return {"task": f"greet_{suffix}", "workflow": f"hello_{suffix}"}


def workflow_def(names: dict[str, str], version: int = 1) -> dict[str, Any]:
    return {
        "name": names["workflow"],
        "version": version,
        "schemaVersion": 2,
        "tasks": [
            {
                "name": names["task"],
                "taskReferenceName": "greet_ref",
                "type": "SIMPLE",
                "inputParameters": {"who": "${workflow.input.who}"},
            }
        ],
        "outputParameters": {"greeting": "${greet_ref.output.greeting}"},
    }


async def conductor_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status == status, await response.text()
    body = await response.json()
    assert set(body) >= ERROR_KEYS, body
    assert body["status"] == status
    return body  # type: ignore[no-any-return]


async def register(api: Any, names: dict[str, str]) -> None:
    response = await api.post(
        "/api/metadata/taskdefs", json=[{"name": names["task"], "retryCount": 0}]
    )
    assert response.status == 200, await response.text()
    response = await api.post("/api/metadata/workflow", json=workflow_def(names))
    assert response.status == 200, await response.text()


async def start(api: Any, names: dict[str, str], **request: Any) -> str:
    body = {"name": names["workflow"], "input": {"who": "dynoq"}, **request}
    response = await api.post("/api/workflow", json=body)
    assert response.status == 200, await response.text()
    assert response.content_type == "text/plain"
    workflow_id = await response.text()
    assert (await api.put(f"/api/workflow/decide/{workflow_id}")).status == 200
    return workflow_id


async def poll_batch(api: Any, task_type: str, count: int = 1, timeout: int = 1000) -> Any:
    response = await api.get(
        f"/api/tasks/poll/batch/{task_type}",
        params={"count": count, "timeout": timeout, "workerid": "w1"},
    )
    assert response.status == 200, await response.text()
    return await response.json()


async def test_health(api):
    assert await (await api.get("/api/health")).json() == {
        "healthy": True,
        "healthResults": [],
        "suppressedHealthResults": [],
    }
    assert (await (await api.get("/health")).json())["healthy"] is True


async def test_task_definitions(api, names):
    task = names["task"]
    body = [{"name": task, "retryCount": 2, "responseTimeoutSeconds": 30, "unknownField": 1}]
    assert (await api.post("/api/metadata/taskdefs", json=body)).status == 200
    got = await (await api.get(f"/api/metadata/taskdefs/{task}")).json()
    assert (got["name"], got["retryCount"], got["responseTimeoutSeconds"]) == (task, 2, 30)
    assert "unknownField" not in got
    update = {"name": task, "retryCount": 5}
    assert (await api.put("/api/metadata/taskdefs", json=update)).status == 200
    listed = await (await api.get("/api/metadata/taskdefs")).json()
    assert [d["retryCount"] for d in listed if d["name"] == task] == [5]
    assert (await api.delete(f"/api/metadata/taskdefs/{task}")).status == 200
    body = await conductor_error(await api.get(f"/api/metadata/taskdefs/{task}"), 404)
    assert body["code"] == "NOT_FOUND" and body["retryable"] is False


async def test_workflow_definitions(api, names):
    await register(api, names)
    name = names["workflow"]
    again = await api.post("/api/metadata/workflow", json=workflow_def(names))
    assert (await conductor_error(again, 409))["code"] == "CONFLICT"
    response = await api.post(
        "/api/metadata/workflow", params={"overwrite": "true"}, json=workflow_def(names)
    )
    assert response.status == 200
    bulk = await api.put("/api/metadata/workflow", json=[workflow_def(names, 2)])
    assert await bulk.json() == {"bulkErrorResults": {}, "bulkSuccessfulResults": [name]}
    latest = await (await api.get(f"/api/metadata/workflow/{name}")).json()
    assert latest["version"] == 2
    assert latest["tasks"][0]["taskReferenceName"] == "greet_ref"
    first = await (await api.get(f"/api/metadata/workflow/{name}", params={"version": 1})).json()
    assert first["version"] == 1
    listed = await (await api.get("/api/metadata/workflow")).json()
    assert sorted(d["version"] for d in listed if d["name"] == name) == [1, 2]
    assert (await api.delete(f"/api/metadata/workflow/{name}/2")).status == 200
    latest = await (await api.get(f"/api/metadata/workflow/{name}")).json()
    assert latest["version"] == 1
    await conductor_error(await api.get("/api/metadata/workflow/no_such_workflow_x"), 404)


async def test_an_invalid_definition_lists_its_problems(api, names):
    bad = {"name": names["workflow"], "tasks": [{"name": "t", "type": "NO_SUCH_TYPE"}]}
    body = await conductor_error(await api.post("/api/metadata/workflow", json=bad), 400)
    assert body["code"] == "INVALID_INPUT"
    assert body["validationErrors"] and all(
        {"path", "message"} <= set(e) for e in body["validationErrors"]
    )


@pytest.mark.parametrize(
    ("method", "path", "data", "says"),
    [
        ("POST", "/api/workflow", b"{not json", "not valid JSON"),
        ("POST", "/api/workflow", b"[1, 2]", "must be a JSON object"),
        ("POST", "/api/workflow", b"", "body is required"),
        ("POST", "/api/workflow", b'{"input": {}}', "name is required"),
        ("POST", "/api/workflow", b'{"name": "x", "input": []}', "input must be"),
        ("POST", "/api/workflow", b'{"name": "x", "priority": 100}', "priority"),
        ("POST", "/api/metadata/taskdefs", b'{"name": "x"}', "must be a JSON list"),
        ("POST", "/api/metadata/taskdefs", b'["x"]', "must be a TaskDef object"),
        ("PUT", "/api/metadata/workflow", b'{"name": "x"}', "must be a JSON list"),
        ("POST", "/api/tasks", b'{"status": "COMPLETED"}', "taskId is required"),
        ("POST", "/api/tasks", b'{"taskId": "w.1", "status": "DONE"}', "status must be"),
        ("POST", "/api/tasks/update-v2", b'{"taskId": "w.1", "status": 3}', "status must be"),
        (
            "POST",
            "/api/tasks",
            b'{"taskId": "w.1", "status": "COMPLETED", "outputData": 1}',
            "outputData",
        ),
        ("GET", "/api/tasks/poll/batch/t?count=0", None, "count must be"),
        ("GET", "/api/tasks/poll/batch/t?timeout=60000", None, "timeout must be"),
        ("GET", "/api/tasks/poll/batch/t?count=x", None, "count must be an integer"),
        ("GET", "/api/workflow/search?query=status%20IN%20(NAPPING)", None, "unknown status"),
        ("GET", "/api/workflow/search?size=-1", None, "size must be"),
        ("GET", "/api/workflow/x?includeTasks=maybe", None, "includeTasks"),
        ("DELETE", "/api/metadata/workflow/x/one", None, "version must be"),
        # "²" is a digit to str.isdigit, not to int (found by the schemathesis fuzzing)
        ("DELETE", "/api/metadata/workflow/x/%C2%B2", None, "version must be"),
        ("GET", "/api/metadata/workflow/x?version=%C2%B2", None, "version must be"),
    ],
)
async def test_malformed_requests_get_400_with_conductors_error(api, method, path, data, says):
    response = await api.request(
        method, path, data=data, headers={"Content-Type": "application/json"}
    )
    body = await conductor_error(response, 400)
    assert says in body["message"], body
    assert body["code"] == "INVALID_INPUT"


async def test_unknown_routes_and_methods_answer_in_conductors_shape(api):
    assert (await conductor_error(await api.get("/api/no/such/route"), 404))["code"] == "NOT_FOUND"
    await conductor_error(await api.patch("/api/tasks"), 405)
    # the queue API keeps its own error shape
    response = await api.get("/v1/queues/nope")
    assert set(await response.json()) >= {"error", "message"}


async def test_a_worker_polls_and_completes_a_task(api, names):
    await register(api, names)
    task_type = names["task"]
    workflow_id = await start(api, names, unknownField="ignored")
    [task] = await poll_batch(api, task_type, count=5)
    assert task["status"] == "IN_PROGRESS" and task["workerId"] == "w1"
    assert task["workflowInstanceId"] == workflow_id
    assert task["inputData"] == {"who": "dynoq"}
    assert task["taskDefName"] == task_type and task["referenceTaskName"] == "greet_ref"
    assert await poll_batch(api, task_type, timeout=0) == []
    no_task = await api.get(f"/api/tasks/poll/{task_type}", params={"workerid": "w1"})
    assert no_task.status == 204
    polldata = await api.get("/api/tasks/queue/polldata", params={"taskType": task_type})
    assert [p["workerId"] for p in await polldata.json()] == ["w1"]

    result = {
        "taskId": task["taskId"],
        "workflowInstanceId": workflow_id,
        "status": "COMPLETED",
        "outputData": {"greeting": "hello dynoq"},
        "logs": [{"log": "greeted", "taskId": task["taskId"], "createdTime": 1}],
        "workerId": "w1",
        "unknownField": True,
    }
    response = await api.post("/api/tasks/update-v2", json=result)
    assert response.status == 204, await response.text()
    got = await (await api.get(f"/api/tasks/{task['taskId']}")).json()
    assert got["status"] == "COMPLETED" and got["outputData"] == {"greeting": "hello dynoq"}
    logs = await (await api.get(f"/api/tasks/{task['taskId']}/log")).json()
    assert [entry["log"] for entry in logs] == ["greeted"]

    async def completed() -> Any:
        await api.put(f"/api/workflow/decide/{workflow_id}")
        workflow = await (await api.get(f"/api/workflow/{workflow_id}")).json()
        return workflow if workflow["status"] == "COMPLETED" else None

    workflow = await async_wait_until(completed, timeout=10, interval=0.05)
    assert workflow["output"] == {"greeting": "hello dynoq"}
    assert [t["status"] for t in workflow["tasks"]] == ["COMPLETED"]
    assert workflow["workflowName"] == names["workflow"] and workflow["workflowVersion"] == 1
    bare = await (await api.get(f"/api/workflow/{workflow_id}?includeTasks=false")).json()
    assert bare["tasks"] == []
    status = await api.get(f"/api/workflow/{workflow_id}/status", params={"includeOutput": "true"})
    assert await status.json() == {
        "workflowId": workflow_id,
        "correlationId": "",
        "status": "COMPLETED",
        "output": {"greeting": "hello dynoq"},
    }


async def test_update_v2_hands_over_the_next_task_and_v1_returns_the_id(api, names):
    await register(api, names)
    task_type = names["task"]
    first, second = await start(api, names), await start(api, names)
    [task] = await poll_batch(api, task_type)
    result = {"taskId": task["taskId"], "status": "COMPLETED", "workerId": "w1"}
    response = await api.post("/api/tasks/update-v2", json=result)
    assert response.status == 200, await response.text()
    following = await response.json()
    assert following["status"] == "IN_PROGRESS"
    assert {task["workflowInstanceId"], following["workflowInstanceId"]} == {first, second}
    # both handed-over tasks left the queue for good: nothing waits, nothing is leased
    verbose = await (await api.get("/api/tasks/queue/all/verbose")).json()
    assert verbose[task_type] == {"0": {"size": 0, "uacked": 0}}
    result = {"taskId": following["taskId"], "status": "IN_PROGRESS", "callbackAfterSeconds": 60}
    response = await api.post("/api/tasks", json=result)
    assert (response.status, await response.text()) == (200, following["taskId"])
    assert response.content_type == "text/plain"


async def test_execute_answers_the_run_after_waiting(api, names):
    await register(api, names)
    path = f"/api/workflow/execute/{names['workflow']}/1"
    response = await api.post(
        path, params={"waitForSeconds": "0", "requestId": "r1"}, json={"input": {"who": "x"}}
    )
    assert response.status == 200, await response.text()
    run = await response.json()
    assert (run["status"], run["requestId"], run["input"]) == ("RUNNING", "r1", {"who": "x"})
    bad = await api.post(path, params={"waitForSeconds": "600"}, json={})
    await conductor_error(bad, 400)


async def test_task_logs_take_raw_or_json_text(api, names):
    await register(api, names)
    await start(api, names)
    [task] = await poll_batch(api, names["task"])
    path = f"/api/tasks/{task['taskId']}/log"
    assert (await api.post(path, data=b"raw line")).status == 200
    assert (await api.post(path, json="json line")).status == 200
    logs = await (await api.get(path)).json()
    assert [entry["log"] for entry in logs] == ["raw line", "json line"]
    assert {"taskId", "createdTime"} <= set(logs[0])
    await conductor_error(await api.get("/api/tasks/nope.1"), 404)


async def test_queue_sizes(api, names):
    await register(api, names)
    await start(api, names)
    await start(api, names)
    response = await api.get(
        "/api/tasks/queue/sizes", params=[("taskType", names["task"]), ("taskType", "none_x")]
    )
    assert await response.json() == {names["task"]: 2, "none_x": 0}


async def test_start_by_name_search_running_and_correlated(api, names):
    await register(api, names)
    name = names["workflow"]
    response = await api.post(
        f"/api/workflow/{name}", params={"correlationId": "c-1", "priority": "5"}, json={"who": "x"}
    )
    assert response.status == 200
    by_name = await response.text()
    await api.put(f"/api/workflow/decide/{by_name}")
    other = await start(api, names, correlationId="c-2")
    running = await (await api.get(f"/api/workflow/running/{name}")).json()
    assert sorted(running) == sorted([by_name, other])

    query = f"workflowType IN ({name}) AND status IN (RUNNING) AND correlationId='c-1'"

    async def found() -> Any:
        page = await (await api.get("/api/workflow/search", params={"query": query})).json()
        return page if page["totalHits"] == 1 else None

    page = await async_wait_until(found, timeout=10, interval=0.05)
    [summary] = page["results"]
    assert (summary["workflowId"], summary["workflowType"], summary["status"]) == (
        by_name,
        name,
        "RUNNING",
    )
    assert summary["priority"] == 5 and summary["startTime"].endswith("Z")
    assert summary["input"] == '{"who": "x"}'
    correlated = await api.get(f"/api/workflow/{name}/correlated/c-2")
    assert [w["workflowId"] for w in await correlated.json()] == [other]
    many = await api.post(f"/api/workflow/{name}/correlated", json=["c-1", "c-9"])
    assert {k: [w["workflowId"] for w in v] for k, v in (await many.json()).items()} == {
        "c-1": [by_name],
        "c-9": [],
    }


async def test_operations_on_a_workflow(api, names):
    await register(api, names)
    workflow_id = await start(api, names)
    base = f"/api/workflow/{workflow_id}"

    async def status() -> str:
        return str((await (await api.get(base + "/status")).json())["status"])

    assert (await api.put(base + "/pause")).status == 200
    assert await status() == "PAUSED"
    assert (await api.put(base + "/resume")).status == 200
    assert await status() == "RUNNING"
    await conductor_error(await api.put(base + "/resume"), 409)
    assert (await api.delete(base, params={"reason": "enough"})).status == 200
    assert await status() == "TERMINATED"
    workflow = await (await api.get(base)).json()
    assert workflow["reasonForIncompletion"] == "enough"
    assert (await api.post(base + "/restart")).status == 200
    assert await status() == "RUNNING"
    assert (await api.delete(base + "/remove")).status == 200
    await conductor_error(await api.get(base), 404)
    for method, path in [
        ("PUT", "/pause"),
        ("PUT", "/resume"),
        ("POST", "/retry"),
        ("POST", "/restart"),
        ("POST", "/rerun"),
        ("DELETE", ""),
        ("PUT", "/skiptask/greet_ref"),
    ]:
        await conductor_error(await api.request(method, base + path), 404)


async def test_tokens_in_authorization_or_x_authorization(make_api, names):
    api = await make_api(tokens=("s3cret",))
    body = await conductor_error(await api.get("/api/metadata/taskdefs"), 401)
    assert body["code"] == "UNAUTHORIZED"
    assert (await api.get("/api/health")).status == 200
    exchange = await api.post("/api/token", json={"keyId": "any", "keySecret": "s3cret"})
    token = (await exchange.json())["token"]
    for headers in ({"X-Authorization": token}, {"Authorization": f"Bearer {token}"}):
        assert (await api.get("/api/metadata/taskdefs", headers=headers)).status == 200
    wrong = await api.post("/api/token", json={"keyId": "any", "keySecret": "guess"})
    await conductor_error(wrong, 401)
    assert (await api.get("/v1/queues", headers={"X-Authorization": "s3cret"})).status == 200


async def test_without_tokens_the_token_endpoint_is_absent(api):
    # Conductor's SDKs read a 404 here as "this server does not authenticate".
    await conductor_error(await api.post("/api/token", json={"keyId": "a", "keySecret": "b"}), 404)


@pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning")
async def test_conductors_python_sdk_authenticates_through_the_token_exchange(make_api, names):
    pytest.importorskip("conductor.client", reason="conductor-python is in the dev extra")
    from conductor.client.configuration.configuration import Configuration
    from conductor.client.configuration.settings.authentication_settings import (
        AuthenticationSettings,
    )
    from conductor.client.http.models.task_def import TaskDef
    from conductor.client.orkes.orkes_metadata_client import OrkesMetadataClient

    api = await make_api(tokens=("s3cret",))
    url = str(api.make_url("/api"))

    def register_and_read(secret: str) -> Any:
        settings = AuthenticationSettings(key_id="any", key_secret=secret)
        metadata = OrkesMetadataClient(
            Configuration(server_api_url=url, authentication_settings=settings)
        )
        metadata.register_task_def(TaskDef(name=names["task"]))
        return metadata.get_task_def(names["task"]).name

    # the SDK is blocking: it runs on a thread while this loop serves it
    assert await asyncio.to_thread(register_and_read, "s3cret") == names["task"]
    with pytest.raises(Exception, match="401"):
        await asyncio.to_thread(register_and_read, "wrong")
