"""The system tasks that run outside the decider: HTTP calls, made with aiohttp.

An HTTP task waits on the ``HTTP`` task queue like a worker task; :class:`HttpTaskRunner` polls
it, makes the call and reports the result (2xx completes the task, anything else fails it, so
the TaskDef's retries apply).

An HTTP_POLL task (on the ``HTTP_POLL`` queue) makes the same call, then evaluates its
``terminationCondition`` (JavaScript, ``$.output`` the call's output, ``$.input`` the task's
input): true (or 1) completes it, -1 fails it, anything else reports it IN_PROGRESS with a
callback after ``pollingInterval`` seconds (``pollingStrategy`` FIXED, LINEAR_BACKOFF or
EXPONENTIAL_BACKOFF), so the task waits on its queue and is called again; ``maxPollCount``
(default 1000) polls at most.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from typing import Any

import aiohttp

from dynoq.core.models import is_digits
from dynoq.errors import DynoqError, JavaScriptError
from dynoq.workflow.engine import WorkflowEngine
from dynoq.workflow.model import Task, TaskResult, TaskStatus
from dynoq.workflow.variables import without_secrets

log = logging.getLogger("dynoq.workflow.http")

HTTP_TASK_TYPE = "HTTP"
HTTP_POLL_TASK_TYPE = "HTTP_POLL"
DEFAULT_MAX_POLL_COUNT = 1000
DEFAULT_POLLING_INTERVAL = 60  # seconds, Conductor's documented floor; dynoq applies no floor


class HttpTaskRunner:
    def __init__(self, engine: WorkflowEngine, concurrency: int = 32) -> None:
        self.engine = engine
        self.concurrency = concurrency
        self.worker_id = f"{socket.gethostname()}/http"

    async def run(self, stop: asyncio.Event) -> None:
        async with aiohttp.ClientSession() as session:
            await asyncio.gather(
                self._serve(session, HTTP_TASK_TYPE, stop),
                self._serve(session, HTTP_POLL_TASK_TYPE, stop),
            )

    async def _serve(
        self, session: aiohttp.ClientSession, task_type: str, stop: asyncio.Event
    ) -> None:
        running: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            free = self.concurrency - len(running)
            if free <= 0:
                await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                continue
            try:
                tasks = await self.engine.poll(task_type, free, 1.0, self.worker_id)
            except DynoqError as exc:
                log.warning("polling %s tasks failed: %s", task_type, exc)
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
        callback = 0
        if task.task_type == HTTP_POLL_TASK_TYPE and status is TaskStatus.COMPLETED:
            status, reason, callback = self._poll_outcome(task, output)
        output, reason = await without_secrets(
            self.engine.client, self.engine.namespace, [output, reason]
        )
        result = TaskResult(
            task.task_id,
            task.workflow_instance_id,
            status,
            output,
            reason,
            callback_after_seconds=callback,
            worker_id=self.worker_id,
        )
        try:
            await self.engine.update_task(result)
        except DynoqError as exc:  # the response timeout will retry the task
            log.warning("reporting HTTP task %s failed: %s", task.task_id, exc)

    def _poll_outcome(self, task: Task, output: dict[str, Any]) -> tuple[TaskStatus, str, int]:
        """(status, reason, callback seconds) of one HTTP_POLL call that succeeded."""
        settings = poll_settings(task.input_data)
        condition = str(settings.get("terminationCondition") or "")
        try:
            verdict = self.engine.js.evaluate(
                condition, {"output": output, "input": task.input_data}
            )
        except JavaScriptError as exc:
            return TaskStatus.FAILED, f"terminationCondition failed: {exc}", 0
        if verdict is True or verdict == 1:
            return TaskStatus.COMPLETED, "", 0
        if verdict == -1:
            return TaskStatus.FAILED, "terminationCondition gave -1", 0
        limit = _positive(settings.get("maxPollCount"), DEFAULT_MAX_POLL_COUNT)
        if task.poll_count >= limit:
            return TaskStatus.FAILED, f"terminationCondition not met after {limit} polls", 0
        return TaskStatus.IN_PROGRESS, "", poll_delay(settings, task.poll_count)


def poll_settings(inputs: dict[str, Any]) -> dict[str, Any]:
    """An HTTP_POLL's polling fields: in its http_request (as Conductor documents them), or
    beside it in the input."""
    request = inputs.get("http_request")
    return {**inputs, **(request if isinstance(request, dict) else {})}


def poll_delay(settings: dict[str, Any], poll_count: int) -> int:
    """Seconds before the next call, after ``poll_count`` calls."""
    interval = _positive(settings.get("pollingInterval"), DEFAULT_POLLING_INTERVAL)
    strategy = str(settings.get("pollingStrategy") or "FIXED").upper()
    count = max(1, poll_count)
    if strategy == "LINEAR_BACKOFF":
        return interval * count
    if strategy == "EXPONENTIAL_BACKOFF":
        return int(interval * 2 ** min(count - 1, 20))
    return interval


def _positive(value: Any, default: int) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return int(value)
    if isinstance(value, str) and is_digits(value) and int(value) > 0:
        return int(value)
    return default


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
