"""The system tasks that run outside the decider: HTTP calls, made with aiohttp.

An HTTP task waits on the ``HTTP`` task queue like a worker task; :class:`HttpTaskRunner` polls
it, makes the call and reports the result (2xx completes the task, anything else fails it, so
the TaskDef's retries apply).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from typing import Any

import aiohttp

from dynoq.errors import DynoqError
from dynoq.workflow.engine import WorkflowEngine
from dynoq.workflow.model import Task, TaskResult, TaskStatus
from dynoq.workflow.variables import without_secrets

log = logging.getLogger("dynoq.workflow.http")

HTTP_TASK_TYPE = "HTTP"


class HttpTaskRunner:
    def __init__(self, engine: WorkflowEngine, concurrency: int = 32) -> None:
        self.engine = engine
        self.concurrency = concurrency
        self.worker_id = f"{socket.gethostname()}/http"

    async def run(self, stop: asyncio.Event) -> None:
        running: set[asyncio.Task[None]] = set()
        async with aiohttp.ClientSession() as session:
            while not stop.is_set():
                free = self.concurrency - len(running)
                if free <= 0:
                    await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                    continue
                try:
                    tasks = await self.engine.poll(HTTP_TASK_TYPE, free, 1.0, self.worker_id)
                except DynoqError as exc:
                    log.warning("polling HTTP tasks failed: %s", exc)
                    await asyncio.sleep(1.0)
                    continue
                for task in tasks:
                    job = asyncio.create_task(self._run_one(session, task))
                    running.add(job)
                    job.add_done_callback(running.discard)
            if running:
                await asyncio.wait(running, timeout=10)

    async def _run_one(self, session: aiohttp.ClientSession, task: Task) -> None:
        status, output, reason = await call(session, task.input_data)
        output, reason = await without_secrets(
            self.engine.client, self.engine.namespace, [output, reason]
        )
        result = TaskResult(
            task.task_id,
            task.workflow_instance_id,
            status,
            output,
            reason,
            worker_id=self.worker_id,
        )
        try:
            await self.engine.update_task(result)
        except DynoqError as exc:  # the response timeout will retry the task
            log.warning("reporting HTTP task %s failed: %s", task.task_id, exc)


async def call(
    session: aiohttp.ClientSession, inputs: dict[str, Any]
) -> tuple[TaskStatus, dict[str, Any], str]:
    """Makes the request an HTTP task's input describes: (status, output, reason)."""
    request = inputs.get("http_request", inputs)
    if not isinstance(request, dict) or not isinstance(request.get("uri"), str):
        return TaskStatus.FAILED, {}, "the input needs http_request.uri"
    method = str(request.get("method", "GET")).upper()
    headers = {str(k): str(v) for k, v in (request.get("headers") or {}).items()}
    if request.get("accept"):
        headers.setdefault("Accept", str(request["accept"]))
    body = request.get("body")
    data: bytes | None = None
    if body is not None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        headers.setdefault("Content-Type", str(request.get("contentType") or "application/json"))
    timeout = aiohttp.ClientTimeout(
        sock_connect=_ms(request.get("connectionTimeOut"), 3000),
        sock_read=_ms(request.get("readTimeOut"), 3000),
    )
    try:
        async with session.request(
            method, request["uri"], headers=headers, data=data, timeout=timeout
        ) as response:
            text = await response.text()
            try:
                parsed: Any = json.loads(text) if text else None
            except ValueError:
                parsed = text
            output = {
                "response": {
                    "statusCode": response.status,
                    "reasonPhrase": response.reason or "",
                    "headers": {k: v for k, v in response.headers.items()},
                    "body": parsed,
                }
            }
            if 200 <= response.status < 300:
                return TaskStatus.COMPLETED, output, ""
            return (
                TaskStatus.FAILED,
                output,
                f"HTTP {response.status} {response.reason or ''}".strip(),
            )
    except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
        return (
            TaskStatus.FAILED,
            {},
            f"{method} {request['uri']} failed: {exc or type(exc).__name__}",
        )


def _ms(value: Any, default: int) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value) / 1000
    return default / 1000
