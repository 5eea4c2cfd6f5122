"""Event handlers (Conductor's EventHandler): when an event named ``event`` arrives and its
``condition`` holds, run the ``actions``.

Events come from the dynoq queue :data:`CONDUCTOR_EVENTS` (EVENT tasks with a ``conductor:``
sink publish there; the message payload is ``{event, payload, workflowInstanceId, ...}``) and,
for a handler whose ``event`` is ``dynoq:<queue>``, from that dynoq queue (the message payload
is the event payload, or, from an EVENT task with a ``dynoq:`` sink, the same envelope as
above). A handler document::

    {"name", "event", "condition"?, "evaluatorType"? ("javascript"), "active"? (true),
     "actions": [{"action": "start_workflow" | "complete_task" | "fail_task"
                             | "terminate_workflow" | "update_workflow_variables",
                  "start_workflow": {name, version?, correlationId?, input?, taskToDomain?},
                  "complete_task" / "fail_task": {workflowId, taskRefName | taskId, output?,
                                                  reasonForIncompletion?},
                  "terminate_workflow": {workflowId, terminationReason?},
                  "update_workflow_variables": {workflowId, variables, appendArray?},
                  "expandInlineJSON"?}]}

Action parameters are templates resolved against the event payload (``${path}``), as
Conductor's. Stored in ``<ns>:wfevents`` (hash name -> JSON); the executions of each handler in
``<ns>:wfevexec:<name>`` (newest first, the last :data:`KEPT_EXECUTIONS`).
"""

from __future__ import annotations

import json
from typing import Any

from dynoq.backend.connect import AsyncClient
from dynoq.backend.runner import translated_errors
from dynoq.errors import Conflict, InvalidDefinition, NotFound

CONDUCTOR_EVENTS = "conductor-events"
DYNOQ_PREFIX = "dynoq:"
ACTIONS = (
    "start_workflow",
    "complete_task",
    "fail_task",
    "terminate_workflow",
    "update_workflow_variables",
)
EVALUATORS = ("javascript", "graaljs")
KEPT_EXECUTIONS = 1000
DONE_TTL_SECONDS = 7 * 24 * 3600  # how long a handled (message, handler) pair is remembered


def parse_event_handler(doc: Any) -> dict[str, Any]:
    """The handler document with defaults filled in; InvalidDefinition lists every problem."""
    problems: list[tuple[str, str]] = []
    if not isinstance(doc, dict):
        raise InvalidDefinition([("$", "an event handler must be a JSON object")])
    for name in ("name", "event"):
        if not isinstance(doc.get(name), str) or not doc[name].strip():
            problems.append((f"$.{name}", f"{name} is required"))
    if isinstance(doc.get("event"), str) and doc["event"] == DYNOQ_PREFIX:
        problems.append(("$.event", "dynoq:<queue> names a queue"))
    condition = doc.get("condition")
    if condition is not None and not isinstance(condition, str):
        problems.append(("$.condition", "condition must be a JavaScript expression (text)"))
    evaluator = doc.get("evaluatorType") or "javascript"
    if evaluator not in EVALUATORS:
        problems.append(("$.evaluatorType", f"evaluatorType must be one of {EVALUATORS}"))
    actions = doc.get("actions")
    if not isinstance(actions, list) or not actions:
        problems.append(("$.actions", "at least one action is required"))
        actions = []
    for index, action in enumerate(actions):
        where = f"$.actions[{index}]"
        kind = action.get("action") if isinstance(action, dict) else None
        if kind not in ACTIONS:
            problems.append((f"{where}.action", f"action must be one of {', '.join(ACTIONS)}"))
            continue
        params = action.get(kind)
        if not isinstance(params, dict):
            problems.append((f"{where}.{kind}", f"the {kind} action needs its parameters"))
            continue
        problems.extend((f"{where}.{kind}.{n}", m) for n, m in _action_problems(kind, params))
    active = doc.get("active", True)
    if not isinstance(active, bool):
        problems.append(("$.active", "active must be true or false"))
    if problems:
        raise InvalidDefinition(problems)
    return {**doc, "evaluatorType": evaluator, "active": active}


def _action_problems(kind: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    if kind == "start_workflow":
        return [] if params.get("name") else [("name", "the workflow to start is required")]
    if not params.get("workflowId") and not params.get("taskId"):
        return [("workflowId", "workflowId is required")]
    no_task = not params.get("taskRefName") and not params.get("taskId")
    if kind in ("complete_task", "fail_task") and no_task:
        return [("taskRefName", "taskRefName or taskId is required")]
    if kind == "update_workflow_variables" and not isinstance(params.get("variables"), dict):
        return [("variables", "variables must be an object")]
    return []


def queue_of(event: str) -> str:
    """The dynoq queue an event name is read from."""
    return event[len(DYNOQ_PREFIX) :] if event.startswith(DYNOQ_PREFIX) else CONDUCTOR_EVENTS


class EventHandlerStore:
    def __init__(self, client: AsyncClient, namespace: str) -> None:
        self.client: Any = client
        self.ns = namespace
        self.key = f"{namespace}:wfevents"

    async def add(self, doc: dict[str, Any]) -> None:
        handler = parse_event_handler(doc)
        with translated_errors():
            if not await self.client.hsetnx(self.key, handler["name"], json.dumps(handler)):
                raise Conflict(f"event handler {handler['name']} exists")

    async def update(self, doc: dict[str, Any]) -> None:
        handler = parse_event_handler(doc)
        with translated_errors():
            if not await self.client.hexists(self.key, handler["name"]):
                raise NotFound(f"no event handler {handler['name']}")
            await self.client.hset(self.key, handler["name"], json.dumps(handler))

    async def remove(self, name: str) -> None:
        with translated_errors():
            if not await self.client.hdel(self.key, name):
                raise NotFound(f"no event handler {name}")

    async def all(self) -> list[dict[str, Any]]:
        with translated_errors():
            raw = await self.client.hgetall(self.key)
        return [json.loads(raw[k]) for k in sorted(raw)]

    async def for_event(self, event: str, active_only: bool = True) -> list[dict[str, Any]]:
        return [
            h
            for h in await self.all()
            if h.get("event") == event and (h.get("active", True) or not active_only)
        ]

    def _executions_key(self, handler: str) -> str:
        return f"{self.ns}:wfevexec:{handler}"

    async def first_time(self, execution_id: str) -> bool:
        """Claims an execution id: False when it was handled before (a redelivered message)."""
        with translated_errors():
            done = await self.client.set(
                f"{self.ns}:wfevdone:{execution_id}", "1", nx=True, ex=DONE_TTL_SECONDS
            )
        return bool(done)

    async def forget(self, execution_id: str) -> None:
        """Lets a failed execution run again when its message comes back."""
        with translated_errors():
            await self.client.delete(f"{self.ns}:wfevdone:{execution_id}")

    async def record(self, handler: str, execution: dict[str, Any]) -> None:
        key = self._executions_key(handler)
        with translated_errors():
            pipe = self.client.pipeline(transaction=False)
            pipe.lpush(key, json.dumps(execution))
            pipe.ltrim(key, 0, KEPT_EXECUTIONS - 1)
            await pipe.execute()

    async def executions(self, handler: str, count: int = 100) -> list[dict[str, Any]]:
        with translated_errors():
            raw = await self.client.lrange(self._executions_key(handler), 0, count - 1)
        return [json.loads(r) for r in raw]
