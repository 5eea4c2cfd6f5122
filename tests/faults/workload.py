"""The whole workload of dynoq, each part under its own Redis user: the library, a worker, a
sweeper, the server (``/v1`` and ``/api``, search included), a decider, a workflow sweeper and
the CLI's ``dead`` and ``purge``. The security test runs it under the ACL of docs/security.md."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

from dynoq import AsyncQueue, Message, Queue
from dynoq.testing import wait_until
from tests.faults.support import Processes, call, start_server

SERVICES = ("app", "worker", "sweeper", "server", "decider", "workflow-sweeper", "cli")

WORKER_APP = """
    import dynoq

    worker = dynoq.Worker()

    @worker.handler("jobs", max_deliveries=1)
    async def handle(msg):
        if msg.payload == "poison":
            raise RuntimeError("poison")
"""

DEFINITION = {
    "name": "acl",
    "version": 1,
    "tasks": [
        {"name": "step", "taskReferenceName": "step", "type": "SIMPLE"},
        {
            "name": "pause",
            "taskReferenceName": "pause",
            "type": "WAIT",
            "inputParameters": {"duration": "1 seconds"},
        },
    ],
}


def run_workload(
    url_for: Callable[[str], str], namespace: str, running: Processes, tmp_path: Path
) -> None:
    """``url_for(service)`` is the Redis URL a service connects with (its own user)."""
    (tmp_path / "aclapp.py").write_text(textwrap.dedent(WORKER_APP))

    def args(service: str) -> tuple[str, ...]:
        return ("--redis-url", url_for(service), "--namespace", namespace)

    # the library: every queue operation, blocking and asyncio
    with Queue.from_url(
        url_for("app"), "lib", namespace=namespace, shards=2, max_deliveries=1, unack_timeout=0.2
    ) as queue:
        queue.push([Message(f"m{i}", i, delay=0.1 * (i % 2)) for i in range(6)])
        assert queue.ensure(Message("e", 1))
        queue.peek(3)
        got = queue.pop(count=3, wait=1)
        queue.ack(got[0])
        queue.nack(got[1], delay=0)
        queue.set_unack_timeout(got[2], 0)
        queue.set_delay("e", 0.1)
        queue.get("m1")
        queue.remove("m5")
        wait_until(lambda: queue.sweep() >= 0 and queue.pop(count=10, wait=0.5) == [], timeout=10)
        queue.stats()
        queue.dead_letters()
        queue.requeue_dead()
        queue.clear()

    async def library_async() -> None:
        queue = AsyncQueue.from_url(url_for("app"), "alib", namespace=namespace)
        try:
            await queue.push(Message("a", 1))
            [message] = await queue.pop(wait=1)
            await queue.ack(message)
        finally:
            await queue.aclose()

    asyncio.run(library_async())
    # services
    base = start_server(running, url_for("server"), namespace)
    running.dynoq("worker", "aclapp:worker", *args("worker"), cwd=tmp_path)
    running.dynoq("sweeper", *args("sweeper"), "--interval", "0.2")
    running.dynoq("decider", *args("decider"), "--no-system-tasks")
    running.dynoq("workflow-sweeper", *args("workflow-sweeper"), "--interval", "0.3")
    # /v1
    pushed = {"messages": [{"id": "j1", "payload": "ok"}, {"id": "j2", "payload": "poison"}]}
    assert call(base, "POST", "/v1/queues/jobs/messages", pushed)[0] == 201
    assert call(base, "POST", "/v1/queues/web/messages", {"messages": [{"id": "w"}]})[0] == 201
    status, popped = call(base, "POST", "/v1/queues/web/pop", {"count": 1, "wait": 1})
    [message] = popped["messages"]
    ack = {"messages": [{"id": "w", "receipt": message["receipt"]}]}
    assert call(base, "POST", "/v1/queues/web/ack", ack) == (200, {"acked": 1})
    for path in ("/v1/queues", "/v1/queues/web", "/v1/queues/web/dead", "/metrics", "/ready"):
        assert call(base, "GET", path)[0] == 200, path
    # the worker handles j1 and dead-letters j2
    wait_until(lambda: call(base, "GET", "/v1/queues/jobs")[1].get("dead") == 1, timeout=30)
    # /api: a workflow through the decider, a worker over HTTP and the WAIT
    assert call(base, "POST", "/api/metadata/taskdefs", [{"name": "step"}])[0] in (200, 204)
    assert call(base, "POST", "/api/metadata/workflow", DEFINITION)[0] in (200, 204)
    status, workflow_id = call(base, "POST", "/api/workflow/acl", {"x": 1})
    assert status == 200, workflow_id

    def polled() -> object:
        status, task = call(base, "GET", "/api/tasks/poll/step?workerid=w")
        return task if status == 200 and isinstance(task, dict) else None

    task = wait_until(polled, timeout=30)
    result = {"taskId": task["taskId"], "workflowInstanceId": workflow_id, "status": "COMPLETED"}
    assert call(base, "POST", "/api/tasks", result)[0] == 200
    wait_until(
        lambda: (
            call(base, "GET", f"/api/workflow/{workflow_id}/status")[1].get("status") == "COMPLETED"
        ),
        timeout=30,
    )
    status, found = call(base, "GET", "/api/workflow/search?query=workflowType%3Dacl")
    assert status == 200 and found["totalHits"] == 1
    # the CLI
    for command in (
        ["dead", "ls", "jobs"],
        ["dead", "requeue", "jobs"],
        ["purge", "jobs", "--yes"],
    ):
        subprocess.run(
            [sys.executable, "-m", "dynoq", *command, *args("cli")],
            check=True,
            capture_output=True,
            timeout=60,
        )
