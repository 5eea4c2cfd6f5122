"""Redis full: ``maxmemory`` with ``noeviction`` reached mid-run. Pushes and workflow starts
fail with RedisUnavailable (HTTP 503 with the JSON error saying so), nothing of a refused call
is written, and service resumes once memory is freed. And every service warns at start when
``maxmemory-policy`` would evict keys."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from dynoq import Message, Queue
from dynoq.errors import RedisUnavailable
from dynoq.testing import wait_until
from dynoq.workflow.engine import WorkflowEngine
from tests.faults.support import RestartableRedis, call, processes, start_server

PAYLOAD = "x" * 20_000
DEFINITION = {
    "name": "full",
    "version": 1,
    "tasks": [{"name": "t", "taskReferenceName": "t", "type": "SIMPLE"}],
}


def counted(queue: Queue) -> tuple[int, int, int, int]:
    stats = queue.stats()
    return stats.ready, stats.delayed, stats.in_flight, stats.dead


def fill(queue: Queue) -> int:
    """Pushes batches of 10 until Redis refuses; returns how many were written."""
    n = 0
    while True:
        batch = [Message(f"fill{n + i}", PAYLOAD) for i in range(10)]
        try:
            queue.push(batch)
        except RedisUnavailable as exc:
            assert "out of memory" in str(exc)
            assert queue.get(batch[0].id) is None and queue.get(batch[-1].id) is None
            return n
        n += 10


@pytest.mark.timeout(120)
def test_a_full_redis_refuses_writes_cleanly_and_resumes_once_freed(namespace, tmp_path: Path):
    with (
        RestartableRedis("--maxmemory", "4mb", "--maxmemory-policy", "noeviction") as server,
        processes() as running,
    ):
        base = start_server(running, server.url, namespace)
        status, _ = call(base, "POST", "/api/metadata/workflow", DEFINITION)
        assert status in (200, 204)
        with Queue.from_url(server.url, "filler", namespace=namespace) as queue:
            written = fill(queue)
            assert written > 0
            with server.client() as admin:  # keep it full: what fill left may dip under the limit
                used = int(admin.info("memory")["used_memory"])
                admin.config_set("maxmemory", str(used - 200_000))
            counts = counted(queue)
            # over HTTP: the queue API and the Conductor API answer 503 with a clear message
            body = {"messages": [{"id": "h1", "payload": PAYLOAD}]}
            status, answer = call(base, "POST", "/v1/queues/filler/messages", body)
            assert status == 503 and answer.get("error") == "redis_unavailable", (status, answer)
            assert "out of memory" in answer["message"]
            status, answer = call(base, "POST", "/api/workflow/full", {"a": PAYLOAD})
            assert status == 503 and answer["retryable"] is True, answer
            assert "memory" in answer["message"]
            assert counted(queue) == counts and queue.get("h1") is None

            async def start() -> None:
                engine = WorkflowEngine.from_url(server.url, namespace)
                try:
                    with pytest.raises(RedisUnavailable):
                        await engine.start_workflow("full", {"a": PAYLOAD})
                finally:
                    await engine.aclose()

            asyncio.run(start())
            # freed: everything works again, without restarting anything
            queue.clear()
            queue.push(Message("after", PAYLOAD))
            status, answer = call(base, "POST", "/v1/queues/filler/messages", body)
            assert (status, answer) == (201, {"ids": ["h1"]})
            status, answer = call(base, "POST", "/api/workflow/full", {"a": 1})
            assert status == 200, answer


@pytest.mark.timeout(120)
def test_every_service_warns_when_redis_would_evict(namespace, tmp_path: Path):
    (tmp_path / "noop.py").write_text(
        "import dynoq\nworker = dynoq.Worker()\n\n"
        "@worker.handler('noop')\ndef handle(msg):\n    pass\n"
    )
    with (
        RestartableRedis("--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru") as server,
        processes() as running,
    ):
        args = ("--redis-url", server.url, "--namespace", namespace)
        logs = {
            name: tmp_path / f"{name}.log"
            for name in ("server", "worker", "sweeper", "decider", "workflow-sweeper", "scheduler")
        }
        start_server(running, server.url, namespace, log=logs["server"])
        running.dynoq("worker", "noop:worker", *args, cwd=tmp_path, log=logs["worker"])
        for name in ("sweeper", "decider", "workflow-sweeper", "scheduler"):
            running.dynoq(name, *args, log=logs[name])
        for name, log in logs.items():
            wait_until(
                lambda log=log: "maxmemory-policy is allkeys-lru" in log.read_text(),
                timeout=30,
                message=f"{name} did not warn",
            )
    with RestartableRedis() as server, processes() as running:  # noeviction: no warning
        log = tmp_path / "quiet.log"
        start_server(running, server.url, namespace, log=log)
        assert "maxmemory-policy" not in log.read_text()
