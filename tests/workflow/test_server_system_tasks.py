"""``dynoq server`` runs the workflows' HTTP tasks itself (its system-task worker)."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client import CollectorRegistry

from dynoq.runtime.settings import ServerConfig
from dynoq.services.server import build_app
from dynoq.workflow.engine import WorkflowEngine
from dynoq.workflow.variables import SECRETS, VariableStore

from .conftest import Services, wait_for_status


async def test_the_server_completes_http_tasks(
    engine: WorkflowEngine, services: Services, standalone_url: str, namespace: str
) -> None:
    async def hello(request: web.Request) -> web.Response:
        return web.json_response({"hello": request.query.get("who")})

    target = web.Application()
    target.router.add_get("/hello", hello)
    target_server = TestServer(target)
    await target_server.start_server()
    api = TestServer(
        build_app(ServerConfig(redis_url=standalone_url, namespace=namespace), CollectorRegistry())
    )
    await api.start_server()  # nothing else here runs HTTP tasks: the decider fixture does not
    try:
        await engine.register_workflow_def(
            {
                "name": "call",
                "version": 1,
                "tasks": [
                    {
                        "name": "call",
                        "taskReferenceName": "call",
                        "type": "HTTP",
                        "inputParameters": {
                            "http_request": {"uri": str(target_server.make_url("/hello?who=you"))}
                        },
                    }
                ],
            }
        )
        workflow_id = await engine.start_workflow("call")
        wf = await wait_for_status(engine, workflow_id)
        assert wf.tasks[0].output_data["response"]["body"] == {"hello": "you"}
        assert wf.tasks[0].worker_id.endswith("/http")
    finally:
        await api.close()
        await target_server.close()


async def test_an_http_task_gets_the_secret_and_the_workflow_keeps_it_masked(
    engine: WorkflowEngine, services: Services, standalone_url: str, namespace: str
) -> None:
    seen: list[str] = []

    async def echo(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization", ""))
        return web.json_response({"youSent": request.headers.get("Authorization")})

    target = web.Application()
    target.router.add_get("/echo", echo)
    target_server = TestServer(target)
    await target_server.start_server()
    api = TestServer(
        build_app(ServerConfig(redis_url=standalone_url, namespace=namespace), CollectorRegistry())
    )
    await api.start_server()
    try:
        await VariableStore(engine.client, namespace, SECRETS).put("token", "s3cret-value")
        request = {
            "uri": str(target_server.make_url("/echo")),
            "headers": {"Authorization": "Bearer ${workflow.secrets.token}"},
        }
        await engine.register_workflow_def(
            {
                "name": "call_secret",
                "version": 1,
                "tasks": [
                    {
                        "name": "call",
                        "taskReferenceName": "call",
                        "type": "HTTP",
                        "inputParameters": {"http_request": request},
                    }
                ],
            }
        )
        workflow_id = await engine.start_workflow("call_secret")
        wf = await wait_for_status(engine, workflow_id)
        assert seen == ["Bearer s3cret-value"]  # the far end got it
        task = wf.tasks[0]
        assert task.output_data["response"]["body"] == {"youSent": "Bearer ***"}
        assert "s3cret-value" not in repr(wf.to_doc())
    finally:
        await api.close()
        await target_server.close()
