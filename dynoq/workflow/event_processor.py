"""Runs event handlers on the events that arrive (see :mod:`dynoq.workflow.events`).

Any number of processors may run (``dynoq server`` runs one): each event message is leased to
one of them by its dynoq queue and acked once every matching handler's actions ran, so an event
is handled at least once; a processor that dies mid-way leaves the message to come back when
its lease runs out. Each (message, handler, action) is claimed in Redis before it runs, so a
redelivered message does not run an action that already succeeded; an action that failed for a
passing reason (Redis unreachable, a busy workflow) is released and the message nacked for a
retry. Each outcome is recorded as Conductor's EventExecution.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import uuid
from typing import Any

from dynoq.backend.queue import AsyncQueue
from dynoq.core.models import Message
from dynoq.errors import DynoqError, RedisUnavailable
from dynoq.workflow.admin import base_reference
from dynoq.workflow.effects import Operation
from dynoq.workflow.engine import WorkflowEngine, now_ms
from dynoq.workflow.events import (
    CONDUCTOR_EVENTS,
    DYNOQ_PREFIX,
    EventHandlerStore,
    queue_of,
)
from dynoq.workflow.expressions import resolve
from dynoq.workflow.model import TaskResult, TaskStatus

log = logging.getLogger("dynoq.workflow.events")

EVENT_UNACK_TIMEOUT = 60.0
RETRY_DELAY = 5.0
IDLE_WAIT = 0.25
HANDLERS_TTL = 1.0
_PASSING = (RedisUnavailable,)  # worth another try later


class EventProcessor:
    def __init__(self, engine: WorkflowEngine, batch: int = 10) -> None:
        self.engine = engine
        self.store = EventHandlerStore(engine.client, engine.namespace)
        self.batch = batch
        self._queues: dict[str, AsyncQueue] = {}
        self._handlers: tuple[float, list[dict[str, Any]]] = (0.0, [])

    def queue(self, name: str) -> AsyncQueue:
        if name not in self._queues:
            self._queues[name] = AsyncQueue(
                self.engine.client,
                name,
                namespace=self.engine.namespace,
                unack_timeout=EVENT_UNACK_TIMEOUT,
            )
        return self._queues[name]

    async def aclose(self) -> None:
        for queue in self._queues.values():
            await queue.aclose()

    async def handlers(self, fresh: bool = False) -> list[dict[str, Any]]:
        """The active handlers (cached for a second unless ``fresh``)."""
        loop = asyncio.get_running_loop()
        fetched, found = self._handlers
        if fresh or loop.time() - fetched > HANDLERS_TTL:
            found = [h for h in await self.store.all() if h.get("active", True)]
            self._handlers = (loop.time(), found)
        return found

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    handled = await self.run_once(wait=0.0 if stop.is_set() else 1.0)
                except DynoqError as exc:
                    log.warning("reading events failed: %s", exc)
                    handled = 0
                if not handled:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), IDLE_WAIT)
        finally:
            await self.aclose()

    async def run_once(self, wait: float = 0.0) -> int:
        """Handles what is ready on the event queues; how many messages."""
        names = {CONDUCTOR_EVENTS}
        names.update(
            queue_of(h["event"])
            for h in await self.handlers()
            if h["event"].startswith(DYNOQ_PREFIX)
        )
        handled = 0
        for name in sorted(names):
            queue = self.queue(name)
            messages = await queue.pop(self.batch, wait if len(names) == 1 else 0.0)
            for message in messages:
                if await self.handle(name, message):
                    await queue.ack(message)
                else:
                    await queue.nack(message, delay=RETRY_DELAY)
            handled += len(messages)
        return handled

    async def handle(self, queue_name: str, message: Message) -> bool:
        """Runs the handlers of one event message; False when it should come back later."""
        event, payload = _event_of(queue_name, message.payload)
        if not event:
            log.warning("event message %s on %s names no event: dropped", message.id, queue_name)
            return True
        digest = hashlib.sha1(
            json.dumps(message.payload, sort_keys=True, default=str).encode()
        ).hexdigest()[:16]
        matching = [h for h in await self.handlers() if h["event"] == event]
        if not matching:  # a handler added within the cache's second is not missed
            matching = [h for h in await self.handlers(fresh=True) if h["event"] == event]
        complete = True
        for handler in matching:
            key = f"{queue_name}:{message.id}:{digest}:{handler['name']}"
            complete &= await self._run_handler(handler, event, payload, message.id, key)
        return complete

    async def _run_handler(
        self,
        handler: dict[str, Any],
        event: str,
        payload: dict[str, Any],
        message_id: str,
        key: str,
    ) -> bool:
        base = {"messageId": message_id, "name": handler["name"], "event": event}
        condition = handler.get("condition")
        if condition:
            try:
                holds = await asyncio.to_thread(self.engine.js.evaluate, condition, payload)
            except DynoqError as exc:
                holds = False
                log.warning("event handler %s: condition failed: %s", handler["name"], exc)
            if not holds:
                if await self.store.first_time(f"{key}:condition"):
                    await self._record(base, "SKIPPED", "", {"condition": condition})
                return True
        complete = True
        for index, action in enumerate(handler["actions"]):
            execution_key = f"{key}:{index}"
            if not await self.store.first_time(execution_key):
                continue  # done on an earlier delivery
            kind = action["action"]
            try:
                output = await self.run_action(action, payload, event, message_id)
            except _PASSING as exc:
                await self.store.forget(execution_key)
                log.warning("event handler %s: %s will be retried: %s", handler["name"], kind, exc)
                complete = False
                continue
            except DynoqError as exc:
                await self._record(base, "FAILED", kind, {"error": str(exc)})
                continue
            await self._record(base, "COMPLETED", kind, output)
        return complete

    async def _record(
        self, base: dict[str, Any], status: str, action: str, output: dict[str, Any]
    ) -> None:
        execution = {
            **base,
            "id": str(uuid.uuid4()),
            "created": now_ms(),
            "status": status,
            "action": action,
            "output": output,
        }
        await self.store.record(base["name"], execution)

    async def run_action(
        self, action: dict[str, Any], payload: dict[str, Any], event: str, message_id: str
    ) -> dict[str, Any]:
        """Carries out one action; its output (what it did)."""
        source = _expanded(payload) if action.get("expandInlineJSON") else payload
        kind = action["action"]
        params: dict[str, Any] = resolve(action[kind], source)
        stamp = {"conductor.event.messageId": message_id, "conductor.event.name": event}
        engine = self.engine
        if kind == "start_workflow":
            version = params.get("version")
            workflow_id = await engine.start_workflow(
                str(params["name"]),
                {**(params.get("input") or {}), **stamp},
                version=int(version) if version not in (None, "") else None,
                correlation_id=str(params.get("correlationId") or ""),
                task_to_domain=params.get("taskToDomain") or None,
            )
            return {"workflowId": workflow_id}
        if kind in ("complete_task", "fail_task"):
            return await self._finish_task(kind, params, stamp)
        workflow_id = str(params.get("workflowId") or "")
        if kind == "terminate_workflow":
            await engine.terminate(workflow_id, str(params.get("terminationReason") or ""))
            return {"workflowId": workflow_id}
        variables = {
            "variables": params.get("variables") or {},
            "append_array": bool(params.get("appendArray")),
        }
        await engine.process(workflow_id, Operation("variables", variables), wait=True)
        return {"workflowId": workflow_id, "variables": variables["variables"]}

    async def _finish_task(
        self, kind: str, params: dict[str, Any], stamp: dict[str, Any]
    ) -> dict[str, Any]:
        engine = self.engine
        if params.get("taskId"):
            task = await engine.get_task(str(params["taskId"]))
        else:
            workflow = await engine.get_workflow(str(params["workflowId"]), True)
            reference = str(params["taskRefName"])
            matching = [
                t for t in workflow.tasks if base_reference(t.reference_task_name) == reference
            ]
            if not matching:
                return {
                    **params,
                    "error": f"no task {reference} in workflow {workflow.workflow_id}",
                }
            task = matching[-1]  # the latest attempt or loop iteration
        output = {
            **{k: v for k, v in params.items() if k not in ("output",)},
            **(params.get("output") or {}),
            **stamp,
        }
        status = TaskStatus.COMPLETED if kind == "complete_task" else TaskStatus.FAILED
        reason = str(params.get("reasonForIncompletion") or "") if kind == "fail_task" else ""
        await engine.update_task(
            TaskResult(task.task_id, task.workflow_instance_id, status, output, reason)
        )
        return {"taskId": task.task_id, "workflowId": task.workflow_instance_id}


def _event_of(queue_name: str, body: Any) -> tuple[str, dict[str, Any]]:
    """(event name, payload the handlers see) of a message."""
    if queue_name != CONDUCTOR_EVENTS:
        event = DYNOQ_PREFIX + queue_name
        # an EVENT task with a dynoq: sink publishes its envelope; anyone else, the payload
        published = isinstance(body, dict) and body.get("event") == event and "payload" in body
        if not published:
            return event, body if isinstance(body, dict) else {"payload": body}
    if not isinstance(body, dict) or not isinstance(body.get("event"), str):
        return "", {}
    inner = body.get("payload")
    meta = {k: v for k, v in body.items() if k not in ("event", "payload")}
    return body["event"], {**meta, **(inner if isinstance(inner, dict) else {})}


def _expanded(value: Any) -> Any:
    """Strings holding JSON objects or lists parsed (Conductor's expandInlineJSON)."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return _expanded(json.loads(value))
        except ValueError:
            return value
    if isinstance(value, dict):
        return {k: _expanded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_expanded(v) for v in value]
    return value
