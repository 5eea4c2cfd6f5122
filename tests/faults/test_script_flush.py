"""``SCRIPT FLUSH`` every 20 ms while the library (blocking and asyncio), a worker, the HTTP
API and the workflow engine run: no caller sees an error (scripts run by SHA, and on NOSCRIPT
are sent again with EVAL)."""

from __future__ import annotations

import asyncio
import textwrap
import threading
from pathlib import Path

import pytest

from dynoq import AsyncQueue, Message, Queue
from dynoq.services.decider import Decider
from dynoq.testing import async_wait_until, wait_until
from dynoq.workflow.engine import WorkflowEngine
from dynoq.workflow.model import TaskResult, TaskStatus, WorkflowStatus
from tests.faults.support import RestartableRedis, call, processes, start_server

ROUNDS = 150


class Flusher(threading.Thread):
    def __init__(self, server: RestartableRedis) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.stop = threading.Event()
        self.flushes = 0

    def run(self) -> None:
        with self.server.client() as client:
            while not self.stop.wait(0.02):
                client.script_flush()
                self.flushes += 1


@pytest.fixture
def flushed():
    with RestartableRedis() as server:
        flusher = Flusher(server)
        flusher.start()
        try:
            yield server
        finally:
            flusher.stop.set()
            flusher.join(timeout=10)
        assert flusher.flushes > 10


def cycle_sync(queue: Queue, n: int) -> None:
    queue.push([Message(f"s{n}-{i}", i) for i in range(5)])
    got = queue.pop(count=5)
    assert queue.ack_many(got) == len(got)
    queue.sweep()


async def cycle_async(queue: AsyncQueue, n: int) -> None:
    await queue.push([Message(f"a{n}-{i}", i) for i in range(5)])
    got = await queue.pop(count=5)
    assert await queue.ack_many(got) == len(got)
    await queue.sweep()


WORKER_APP = """
    import dynoq

    worker = dynoq.Worker()

    @worker.handler("flushjobs")
    async def handle(msg):
        pass
"""


@pytest.mark.timeout(120)
def test_queues_see_no_error_under_script_flush(flushed, namespace, tmp_path: Path):
    (tmp_path / "flushapp.py").write_text(textwrap.dedent(WORKER_APP))
    url = flushed.url
    args = ("--redis-url", url, "--namespace", namespace)
    log = tmp_path / "worker.log"
    with processes() as running:
        base = start_server(running, url, namespace)
        running.dynoq("worker", "flushapp:worker", *args, cwd=tmp_path, log=log)
        errors: list[BaseException] = []

        def library_sync() -> None:
            try:
                with Queue.from_url(url, "sync", namespace=namespace, shards=2) as queue:
                    for n in range(ROUNDS):
                        cycle_sync(queue, n)
            except BaseException as exc:
                errors.append(exc)

        async def library_async() -> None:
            queue = AsyncQueue.from_url(url, "async", namespace=namespace, shards=2)
            try:
                for n in range(ROUNDS):
                    await cycle_async(queue, n)
            finally:
                await queue.aclose()

        thread = threading.Thread(target=library_sync)
        thread.start()
        asyncio.run(library_async())
        http_statuses = set()
        for n in range(ROUNDS // 3):
            body = {"messages": [{"id": f"h{n}", "payload": n}]}
            http_statuses.add(call(base, "POST", "/v1/queues/http/messages", body)[0])
            status, popped = call(base, "POST", "/v1/queues/http/pop", {"count": 1})
            http_statuses.add(status)
            acks = [{"id": m["id"], "receipt": m["receipt"]} for m in popped["messages"]]
            http_statuses.add(call(base, "POST", "/v1/queues/http/ack", {"messages": acks})[0])
        with Queue.from_url(url, "flushjobs", namespace=namespace) as jobs:
            jobs.push([Message(f"w{i}", i) for i in range(200)])
            wait_until(lambda: jobs.stats().ready + jobs.stats().in_flight == 0, timeout=60)
        thread.join(timeout=60)
        assert errors == []
        assert http_statuses == {200, 201}
        assert "Error" not in log.read_text() and "Traceback" not in log.read_text()


@pytest.mark.timeout(120)
def test_the_workflow_engine_sees_no_error_under_script_flush(flushed, namespace):
    definition = {
        "name": "flushed",
        "version": 1,
        "tasks": [
            {"name": "one", "taskReferenceName": "one", "type": "SIMPLE"},
            {"name": "two", "taskReferenceName": "two", "type": "SIMPLE"},
        ],
    }

    async def run() -> None:
        engine = WorkflowEngine.from_url(flushed.url, namespace)
        stop = asyncio.Event()
        decider = asyncio.create_task(Decider(engine, 8).run(stop))
        try:
            await engine.register_workflow_def(definition)
            ids = [await engine.start_workflow("flushed", {"n": n}) for n in range(30)]
            for task_type in ("one", "two"):
                done = 0
                while done < len(ids):
                    for task in await engine.poll(task_type, 10, wait=0.2, worker_id="w"):
                        await engine.update_task(
                            TaskResult(
                                task.task_id,
                                task.workflow_instance_id,
                                TaskStatus.COMPLETED,
                                {"ok": True},
                            )
                        )
                        done += 1

            async def all_completed() -> bool:
                for workflow_id in ids:
                    wf = await engine.get_workflow(workflow_id, include_tasks=False)
                    if wf.status is not WorkflowStatus.COMPLETED:
                        return False
                return True

            await async_wait_until(all_completed, timeout=30)
        finally:
            stop.set()
            await asyncio.wait_for(decider, 10)
            await engine.aclose()

    asyncio.run(run())
