"""The orchestrator's Python API: definitions, executions and the worker-facing task calls.

Every method is a coroutine; errors are dynoq's: ``NotFound`` (404), ``Conflict`` (409),
``InvalidArgument``/``InvalidDefinition`` (400).

How state changes stay safe with any number of API servers and deciders:
- a workflow's state is written only under its lock, by the one holder deciding it
  (:meth:`WorkflowEngine.process`); the write is fenced by the lock token;
- workers and sub-workflows never write it: they append events to the workflow's inbox and wake
  it on the decider queue, whose entry for a workflow is "when to look at it next";
- the holder applies the inbox events it read, saves, pushes task messages, re-arms the decider
  entry, then releases the lock and checks the inbox once more, so an event that arrived during
  the decide is never left waiting.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Iterable
from typing import Any

from dynoq.backend.connect import AsyncClient, async_client
from dynoq.backend.queue import AsyncQueue
from dynoq.core.models import Message
from dynoq.errors import Conflict, DynoqError, InvalidArgument, InvalidDefinition, NotFound
from dynoq.workflow.decide import ChildStart, Decision, Operation, current_view, decide
from dynoq.workflow.definitions import (
    TaskDef,
    WorkflowDef,
    parse_task_def,
    parse_workflow_def,
    task_def_to_doc,
    workflow_def_to_doc,
)
from dynoq.workflow.javascript import JavaScript
from dynoq.workflow.model import (
    RESULT_STATUSES,
    SearchFilter,
    SearchPage,
    Task,
    TaskResult,
    TaskStatus,
    Workflow,
    WorkflowStatus,
    workflow_id_of_task,
)
from dynoq.workflow.store import WorkflowStore, statuses
from dynoq.workflow.variables import resolved_input

log = logging.getLogger("dynoq.workflow")

DECIDER_QUEUE = "wf.decider"
TASK_QUEUE_PREFIX = "wf.task."
LOCK_LEASE_MS = 30_000
LOCK_RETRY_SECONDS = 0.02
MAX_POSTPONE_MS = 3_600_000  # a running workflow is looked at at least hourly
DEFINITIONS_TTL_SECONDS = 1.0  # other processes' definition changes show within this
REPAIR_GRACE_MS = 5_000  # a task message is pushed this long after its task is saved, at most


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class WorkflowEngine:
    def __init__(
        self,
        client: AsyncClient,
        namespace: str = "dynoq",
        *,
        shards: int = 1,
        javascript: JavaScript | None = None,
    ) -> None:
        self.client = client
        self.namespace = namespace
        self.shards = shards
        self.store = WorkflowStore(client, namespace)
        self.js = javascript or JavaScript()
        self.decider_queue = AsyncQueue(
            client,
            DECIDER_QUEUE,
            namespace=namespace,
            shards=shards,
            unack_timeout=LOCK_LEASE_MS / 1000,
        )
        self._task_queues: dict[str, AsyncQueue] = {}
        self._snapshots: dict[str, tuple[dict[str, Any], WorkflowDef]] = {}
        self._snapshot_keys: dict[tuple[str, int, int], str] = {}
        self._task_defs: tuple[float, dict[str, TaskDef]] = (0.0, {})
        self._workflow_defs: dict[str, tuple[float, dict[int, WorkflowDef]]] = {}
        self._polls_recorded: dict[tuple[str, str], float] = {}
        self._owns_client = False

    @classmethod
    def from_url(cls, url: str, namespace: str = "dynoq", **options: Any) -> WorkflowEngine:
        engine = cls(async_client(url, bounded=False), namespace, **options)
        engine._owns_client = True
        return engine

    async def aclose(self) -> None:
        for queue in (self.decider_queue, *self._task_queues.values()):
            await queue.aclose()  # stops its wake-up listener; the client is ours
        if self._owns_client:
            await self.client.aclose()

    async def __aenter__(self) -> WorkflowEngine:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def task_queue(self, task_type: str) -> AsyncQueue:
        queue = self._task_queues.get(task_type)
        if queue is None:
            try:
                queue = AsyncQueue(
                    self.client,
                    TASK_QUEUE_PREFIX + task_type,
                    namespace=self.namespace,
                    shards=self.shards,
                )
            except ValueError as exc:
                raise InvalidArgument(
                    f"bad task type {task_type!r}: {exc}", field="taskType"
                ) from exc
            self._task_queues[task_type] = queue
        return queue

    # -- definitions ------------------------------------------------------------------------
    async def register_workflow_def(
        self, definition: dict[str, Any] | WorkflowDef, *, overwrite: bool = True
    ) -> WorkflowDef:
        """Conflict when that name+version exists and overwrite is False."""
        doc = workflow_def_to_doc(definition) if isinstance(definition, WorkflowDef) else definition
        parsed = parse_workflow_def(doc)
        exists = await self.store.workflow_def_exists(parsed.name, parsed.version)
        if exists and not overwrite:
            raise Conflict(f"workflow definition {parsed.name} version {parsed.version} exists")
        stamped = workflow_def_to_doc(parsed)
        now = now_ms()
        stamped["createTime"] = parsed.create_time or now
        stamped["updateTime"] = now
        await self.store.put_workflow_def(parsed.name, parsed.version, stamped)
        self._workflow_defs.pop(parsed.name, None)
        return parse_workflow_def(stamped)

    async def get_workflow_def(self, name: str, version: int | None = None) -> WorkflowDef:
        """The latest version when version is None (read through a one-second cache)."""
        fetched_at, versions = self._workflow_defs.get(name, (0.0, {}))
        if time.monotonic() - fetched_at > DEFINITIONS_TTL_SECONDS:
            docs = await self.store.workflow_defs(name)
            versions = {v: parse_workflow_def(d) for v, d in docs.items()}
            self._workflow_defs[name] = (time.monotonic(), versions)
        if not versions or (version is not None and version not in versions):
            which = f" version {version}" if version is not None else ""
            raise NotFound(f"no workflow definition {name}{which}")
        return versions[version if version is not None else max(versions)]

    async def list_workflow_defs(self) -> list[WorkflowDef]:
        """Every version of every workflow definition."""
        found: list[WorkflowDef] = []
        for name in await self.store.workflow_def_names():
            versions = await self.store.workflow_defs(name)
            found.extend(parse_workflow_def(versions[v]) for v in sorted(versions))
        return found

    async def delete_workflow_def(self, name: str, version: int) -> None:
        self._workflow_defs.pop(name, None)
        if not await self.store.delete_workflow_def(name, version):
            raise NotFound(f"no workflow definition {name} version {version}")

    async def register_task_defs(
        self, definitions: Iterable[dict[str, Any] | TaskDef]
    ) -> list[TaskDef]:
        """Creates or replaces each, all validated before any is stored."""
        parsed: list[TaskDef] = []
        problems: list[tuple[str, str]] = []
        for i, d in enumerate(definitions):
            try:
                parsed.append(d if isinstance(d, TaskDef) else parse_task_def(d))
            except InvalidDefinition as exc:
                problems.extend((f"$[{i}]{path.removeprefix('$')}", m) for path, m in exc.problems)
        if problems:
            raise InvalidDefinition(problems)
        now = now_ms()
        docs = []
        for d in parsed:
            doc = task_def_to_doc(d)
            doc["createTime"] = d.create_time or now
            doc["updateTime"] = now
            docs.append((d.name, doc))
        await self.store.put_task_defs(docs)
        self._task_defs = (0.0, {})
        return [parse_task_def(doc) for _, doc in docs]

    async def get_task_def(self, name: str) -> TaskDef:
        found = (await self.store.task_defs()).get(name)
        if found is None:
            raise NotFound(f"no task definition {name}")
        return parse_task_def(found)

    async def list_task_defs(self) -> list[TaskDef]:
        docs = await self.store.task_defs()
        return [parse_task_def(docs[n]) for n in sorted(docs)]

    async def delete_task_def(self, name: str) -> None:
        if not await self.store.delete_task_def(name):
            raise NotFound(f"no task definition {name}")
        self._task_defs = (0.0, {})

    async def task_defs(self) -> dict[str, TaskDef]:
        """The task definitions, cached for a second."""
        fetched_at, defs = self._task_defs
        if time.monotonic() - fetched_at > DEFINITIONS_TTL_SECONDS:
            defs = {n: parse_task_def(d) for n, d in (await self.store.task_defs()).items()}
            self._task_defs = (time.monotonic(), defs)
        return defs

    async def definition_of(self, workflow: Workflow) -> WorkflowDef:
        """The definition a workflow runs, by its snapshot key (cached: snapshots never change);
        fills in ``workflow.workflow_definition``."""
        key = workflow.definition_key
        found = self._snapshots.get(key)
        if found is None:
            doc = workflow.workflow_definition or await self.store.snapshot(key)
            if doc is None:
                raise NotFound(f"workflow {workflow.workflow_id} lost its definition {key}")
            if len(self._snapshots) > 1000:
                self._snapshots.clear()
            found = self._snapshots[key] = (doc, parse_workflow_def(doc))
        workflow.workflow_definition = found[0]
        return found[1]

    async def snapshot_key(self, definition: WorkflowDef, doc: dict[str, Any]) -> str:
        """Stores the definition a new workflow runs (once) and gives its key."""
        stamp = (definition.name, definition.version, definition.update_time)
        key = self._snapshot_keys.get(stamp, "") if definition.update_time else ""
        if not key:
            body = json.dumps(doc, sort_keys=True, separators=(",", ":"))
            key = hashlib.sha1(body.encode()).hexdigest()[:24]
            if definition.update_time:  # a registered definition: its stamp names it
                self._snapshot_keys[stamp] = key
        if key not in self._snapshots:
            await self.store.put_snapshot(key, doc)
            self._snapshots[key] = (doc, definition)
        return key

    # -- starting ---------------------------------------------------------------------------
    async def start_workflow(
        self,
        name: str,
        input: dict[str, Any] | None = None,
        *,
        version: int | None = None,
        correlation_id: str = "",
        priority: int = 0,
        idempotency_key: str = "",
        task_to_domain: dict[str, str] | None = None,
        workflow_def: dict[str, Any] | None = None,
        created_by: str = "",
        workflow_id: str | None = None,
        parent: tuple[str, str] | None = None,
    ) -> str:
        """The new workflow's id (or the existing one's for a known idempotency key)."""
        if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 99:
            raise InvalidArgument(
                f"priority must be an int in 0..99, got {priority!r}", field="priority"
            )
        if input is not None and not isinstance(input, dict):
            raise InvalidArgument("input must be a JSON object", field="input")
        if workflow_def is not None:
            definition = parse_workflow_def(workflow_def)
            doc = workflow_def_to_doc(definition)
            doc["updateTime"] = now_ms()  # an inline definition is its own version
        else:
            definition = await self.get_workflow_def(name, version)
            doc = definition.raw or workflow_def_to_doc(definition)
        new_id = workflow_id or str(uuid.uuid4())
        if idempotency_key:
            held = await self.store.claim_idempotency_key(definition.name, idempotency_key, new_id)
            if held is not None:
                return held
        now = now_ms()
        workflow = Workflow(
            workflow_id=new_id,
            workflow_name=definition.name,
            workflow_version=definition.version,
            input=dict(input or {}),
            variables=dict(definition.variables),
            correlation_id=correlation_id or "",
            priority=priority,
            create_time=now,
            start_time=now,
            update_time=now,
            task_to_domain=dict(task_to_domain or {}),
            idempotency_key=idempotency_key,
            created_by=created_by,
            workflow_definition=doc,
            definition_key=await self.snapshot_key(definition, doc),
            parent_workflow_id=parent[0] if parent else "",
            parent_workflow_task_id=parent[1] if parent else "",
        )
        # decided before it is stored: nobody can know the id yet, so no lock is needed
        decision = decide(
            workflow, definition, await self.task_defs(), [], now, self.js, owned=True
        )
        if not await self.store.create(decision.workflow):
            return new_id  # a sub-workflow or failure workflow started before: same id, same one
        await self._carry_out(decision, None)
        return new_id

    # -- reading ----------------------------------------------------------------------------
    async def _view(self, workflow_id: str) -> Workflow:
        state, events = await self.store.read(workflow_id)
        if state is None:
            raise NotFound(f"no workflow {workflow_id}")
        definition = await self.definition_of(state)
        if not events:
            return state
        return current_view(
            state,
            definition,
            await self.task_defs(),
            events,
            now_ms(),
            owned=True,
        )

    async def get_workflow(self, workflow_id: str, include_tasks: bool = True) -> Workflow:
        workflow = await self._view(workflow_id)
        if not include_tasks:
            workflow.tasks = []
        return workflow

    async def search(self, where: SearchFilter, start: int = 0, size: int = 100) -> SearchPage:
        """Newest first by start time."""
        total, summaries = await self.store.search(where, start, size)
        results = []
        for s in summaries:
            doc = dict(s)
            doc["workflowName"] = s.get("workflowType")
            doc["workflowVersion"] = s.get("version")
            results.append(Workflow.from_doc(doc))
        return SearchPage(total, results)

    async def running_workflow_ids(
        self,
        name: str,
        version: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
    ) -> list[str]:
        page = await self.search(
            SearchFilter(
                workflow_types=(name,),
                statuses=(WorkflowStatus.RUNNING,),
                start_time_from=start_time,
                start_time_to=end_time,
            ),
            0,
            10_000,
        )
        return [
            w.workflow_id for w in page.results if version is None or w.workflow_version == version
        ]

    async def correlated(
        self,
        name: str,
        correlation_id: str,
        include_closed: bool = False,
        include_tasks: bool = False,
    ) -> list[Workflow]:
        page = await self.search(
            SearchFilter(workflow_types=(name,), correlation_ids=(correlation_id,)), 0, 1000
        )
        found = []
        for w in page.results:
            if not include_closed and w.status.terminal:
                continue
            try:
                found.append(await self.get_workflow(w.workflow_id, include_tasks))
            except NotFound:
                continue
        return found

    # -- actions ----------------------------------------------------------------------------
    async def terminate(
        self, workflow_id: str, reason: str = "", trigger_failure_workflow: bool = False
    ) -> None:
        params = {"reason": reason, "trigger_failure_workflow": trigger_failure_workflow}
        await self.process(workflow_id, Operation("terminate", params), wait=True)

    async def pause(self, workflow_id: str) -> None:
        await self.process(workflow_id, Operation("pause"), wait=True)

    async def resume(self, workflow_id: str) -> None:
        await self.process(workflow_id, Operation("resume"), wait=True)

    async def restart(self, workflow_id: str, use_latest_definitions: bool = False) -> None:
        latest = None
        if use_latest_definitions:
            current = await self._view(workflow_id)
            latest = await self.get_workflow_def(current.workflow_name)
        await self.process(workflow_id, Operation("restart"), wait=True, definition=latest)

    async def retry(self, workflow_id: str, resume_subworkflow_tasks: bool = False) -> None:
        await self.process(workflow_id, Operation("retry"), wait=True)

    async def rerun(
        self,
        workflow_id: str,
        *,
        from_task_id: str = "",
        task_input: dict[str, Any] | None = None,
        workflow_input: dict[str, Any] | None = None,
        correlation_id: str | None = None,
    ) -> str:
        params = {
            "from_task_id": from_task_id,
            "task_input": task_input,
            "workflow_input": workflow_input,
            "correlation_id": correlation_id,
        }
        await self.process(workflow_id, Operation("rerun", params), wait=True)
        return workflow_id

    async def skip_task(
        self,
        workflow_id: str,
        reference_name: str,
        task_input: dict[str, Any] | None = None,
        task_output: dict[str, Any] | None = None,
    ) -> None:
        params = {
            "reference_name": reference_name,
            "task_input": task_input,
            "task_output": task_output,
        }
        await self.process(workflow_id, Operation("skip", params), wait=True)

    async def remove_workflow(self, workflow_id: str) -> None:
        workflow = await self._view(workflow_id)
        if not workflow.status.terminal:
            await self.terminate(workflow_id, "removed")
            workflow = await self._view(workflow_id)
        await self.decider_queue.remove(workflow_id)
        await self.store.delete(workflow)

    async def decide(self, workflow_id: str) -> None:
        """Decides the workflow now (normally the decider service does, on every change)."""
        await self.process(workflow_id, wait=True)

    async def wake(self, workflow_id: str, priority: int = 0) -> None:
        """Asks the deciders to look at the workflow now. A decider-queue entry that is being
        decided is left alone: its decider checks the inbox after re-arming it (see process)."""
        if not await self.decider_queue.set_delay(workflow_id, 0):
            await self.decider_queue.ensure(Message(workflow_id, priority=priority))

    # -- deciding ---------------------------------------------------------------------------
    async def process(
        self,
        workflow_id: str,
        operation: Operation | None = None,
        *,
        wait: bool = False,
        entry: Message | None = None,
        definition: WorkflowDef | None = None,
    ) -> Decision | None:
        """Decides one workflow under its lock and carries the decision out. Without ``wait``,
        a workflow locked by someone else is left to them (None); with it, waits up to 5 s.

        ``entry`` is the decider-queue delivery that asked for this decide. With it the lock is
        released as the state is saved, before the task pushes: re-arming the entry by its
        receipt cannot undo a wake-up that arrives meanwhile (a wake-up replaces the entry, so
        the re-arm finds its receipt stale), and after the re-arm the inbox is checked once more
        for events whose wake-up found the entry in flight. Without it the entry is re-armed by
        a push, so the lock is held until that is done, and released after."""
        token = uuid.uuid4().hex
        deadline = time.monotonic() + 5.0
        while True:
            got = await self.store.acquire(workflow_id, token, LOCK_LEASE_MS)
            if got is not None:
                break
            if not wait:
                if entry is not None:  # the holder will see what woke us: look again soon
                    await self.decider_queue.nack(entry, delay=LOCK_RETRY_SECONDS)
                return None
            if time.monotonic() > deadline:
                raise Conflict(f"workflow {workflow_id} is busy; try again")
            await asyncio.sleep(LOCK_RETRY_SECONDS)
        state, events = got
        held = True
        pending = 0
        try:
            if state is None:
                if entry is not None:
                    await self.decider_queue.ack(entry)
                if operation is not None or wait:
                    raise NotFound(f"no workflow {workflow_id}")
                return None
            before = state.status
            saved_statuses = statuses(state)
            for event in events:  # a claim changed its task's summary ahead of the state
                saved_statuses.pop(str(event.get("taskId", "")), None)
            if definition is not None:
                doc = workflow_def_to_doc(definition)
                state.workflow_definition = doc
                state.definition_key = await self.snapshot_key(definition, doc)
            decision = decide(
                state,
                definition or await self.definition_of(state),
                await self.task_defs(),
                events,
                now_ms(),
                self.js,
                operation,
                owned=True,
            )
            wf = decision.workflow
            if decision.changed or events:
                release = entry is not None
                saved = await self.store.save(
                    wf, workflow_id, token, len(events), release=release, before=saved_statuses
                )
                if saved is None:
                    log.warning("lost the lock of workflow %s before saving it", workflow_id)
                    return None
                if release:
                    held = False
                if wf.status is not before or decision.ended_now:
                    await self.store.index(wf, before)
            await self._carry_out(decision, entry)
            if not held:  # events posted since the save found the entry in flight: see to them
                pending = await self.store.pending_events(workflow_id)
            return decision
        finally:
            if held:
                pending = await self.store.release(workflow_id, token)
            if pending:
                await self.wake(workflow_id, state.priority if state else 0)

    async def _carry_out(self, decision: Decision, entry: Message | None) -> None:
        """Everything a saved decision asks of the world outside the workflow."""
        wf = decision.workflow
        await self._push_tasks(decision)
        await self.store.release_slots(decision.released)
        for child in decision.children:
            await self._start_child(child)
        for child_id in decision.terminate_children:
            if await self.store.post(
                child_id, {"kind": "terminate", "reason": "parent ended", "time": now_ms()}
            ):
                await self.wake(child_id, wf.priority)
        if decision.parent_notice is not None:
            n = decision.parent_notice
            event = {
                "kind": "child",
                "taskId": n.parent_task_id,
                "status": str(n.status),
                "output": n.output,
                "reason": n.reason,
                "time": now_ms(),
            }
            if await self.store.post(n.parent_workflow_id, event):
                await self.wake(n.parent_workflow_id, 0)
        if decision.failure_workflow is not None:
            await self._start_child(decision.failure_workflow)
        await self._rearm(wf, decision, entry)

    async def _push_tasks(self, decision: Decision) -> None:
        by_id = {t.task_id: t for t in decision.workflow.tasks}
        by_type: dict[str, list[Message]] = {}
        for push in decision.pushes:
            task = by_id[push.task_id]
            by_type.setdefault(push.task_type, []).append(
                Message(
                    push.task_id,
                    payload=task_payload(task),
                    priority=push.priority,
                    delay=push.delay_ms / 1000,
                )
            )
        for task_type, messages in by_type.items():
            await self.task_queue(task_type).push(messages)
        for removal in decision.removals:
            await self.task_queue(removal.task_type).remove(removal.task_id)

    async def _start_child(self, child: ChildStart) -> None:
        parent = (
            (child.parent_workflow_id, child.parent_workflow_task_id)
            if child.parent_workflow_id
            else None
        )
        try:
            await self.start_workflow(
                child.name,
                child.input,
                version=child.version,
                correlation_id=child.correlation_id,
                priority=child.priority,
                workflow_def=child.definition,
                task_to_domain=child.task_to_domain,
                workflow_id=child.workflow_id,
                parent=parent,
            )
        except DynoqError as exc:
            if parent is None:
                log.error("could not start workflow %s: %s", child.name, exc)
                return
            event = {
                "kind": "child",
                "taskId": parent[1],
                "status": str(WorkflowStatus.FAILED),
                "output": {},
                "reason": f"could not start sub-workflow {child.name}: {exc}",
                "time": now_ms(),
            }
            await self.store.post(parent[0], event)
            await self.wake(parent[0])

    async def _rearm(self, wf: Workflow, decision: Decision, entry: Message | None) -> None:
        """Sets the workflow's decider entry to its next deadline, or drops it once there is
        nothing to wait for (ended or paused)."""
        if wf.status is not WorkflowStatus.RUNNING and decision.next_due_ms is None:
            if entry is not None:
                await self.decider_queue.ack(entry)
            else:
                await self.decider_queue.remove(wf.workflow_id)
            return
        now = now_ms()
        due = min(decision.next_due_ms or now + MAX_POSTPONE_MS, now + MAX_POSTPONE_MS)
        delay = max(0, due - now) / 1000
        if entry is not None:
            await self.decider_queue.nack(entry, delay=delay)
        else:
            await self.decider_queue.push(
                Message(wf.workflow_id, priority=wf.priority, delay=delay)
            )

    # -- repairs ----------------------------------------------------------------------------
    async def repair(self, workflow_id: str) -> list[str]:
        """Repairs what a crash may have left behind in a running workflow; the kinds of
        repair made: ``decider_entry``, ``task_message``, ``redecide``."""
        try:
            view = await self._view(workflow_id)
        except NotFound:
            return []
        if view.status is not WorkflowStatus.RUNNING:
            return []
        made: list[str] = []
        if await self.decider_queue.ensure(Message(workflow_id, priority=view.priority)):
            made.append("decider_entry")
        old = now_ms() - REPAIR_GRACE_MS
        if any(_waits_on_queue(t) and _queued_since(t) < old for t in view.tasks):
            made.extend(await self._restore_task_messages(workflow_id, old))
        if not any(not t.status.terminal for t in view.tasks):
            await self.wake(workflow_id, view.priority)
            made.append("redecide")
        return made

    async def _restore_task_messages(self, workflow_id: str, old: int) -> list[str]:
        token = uuid.uuid4().hex
        got = await self.store.acquire(workflow_id, token, LOCK_LEASE_MS)
        if got is None:
            return []  # being decided right now: nothing to repair
        made: list[str] = []
        try:
            state, events = got
            if state is None:
                return []
            view = current_view(
                state,
                await self.definition_of(state),
                await self.task_defs(),
                events,
                now_ms(),
                owned=True,
            )
            for task in view.tasks:
                if not (_waits_on_queue(task) and _queued_since(task) < old):
                    continue
                queue = self.task_queue(task.task_type)
                if not await queue.contains(task.task_id):
                    payload = task_payload(task)
                    await queue.push(Message(task.task_id, payload, priority=view.priority))
                    made.append("task_message")
        finally:
            if await self.store.release(workflow_id, token):
                await self.wake(workflow_id)
        return made

    # -- workers ----------------------------------------------------------------------------
    async def poll(
        self,
        task_type: str,
        count: int = 1,
        wait: float = 0.0,
        worker_id: str = "",
        domain: str = "",
    ) -> list[Task]:
        """Up to count tasks, now IN_PROGRESS for this worker; waits up to wait s for the first."""
        queue = self.task_queue(task_type)
        messages = await queue.pop(count, wait)
        await self._record_poll(task_type, worker_id, domain)
        if not messages:
            return []
        claims = await asyncio.gather(*(self._claim(queue, m, worker_id) for m in messages))
        # a message leaves its queue once its task is IN_PROGRESS (or was gone): the decider
        # enforces the response timeout from here; a postponed one stays, nacked
        done = [m for m, (task, keep) in zip(messages, claims, strict=True) if not keep]
        if done:
            await queue.ack_many(done)
        handed = [task for task, _ in claims if task is not None]
        for task in handed:  # the worker's copy only: see dynoq.workflow.variables
            task.input_data = await resolved_input(self.client, self.namespace, task.input_data)
        return handed

    async def _record_poll(self, task_type: str, worker_id: str, domain: str) -> None:
        """Poll data (a worker's last poll time), written at most once a second per worker."""
        key = (task_type, worker_id)
        if time.monotonic() - self._polls_recorded.get(key, 0.0) < 1.0:
            return
        self._polls_recorded[key] = time.monotonic()
        await self.store.record_poll(task_type, worker_id, domain, now_ms())

    async def _claim(
        self, queue: AsyncQueue, message: Message, worker_id: str
    ) -> tuple[Task | None, bool]:
        """The task handed to the worker (or None), and whether the message stays queued.
        The message carries the task as it was scheduled; the claim script checks it is still
        waiting for a worker, so no workflow state is read here."""
        workflow_id = workflow_id_of_task(message.id)
        if not isinstance(message.payload, dict) or not workflow_id:
            return None, False
        task = Task.from_doc(message.payload)
        tdef = (await self.task_defs()).get(task.task_def_name)
        if tdef is not None and (tdef.concurrent_exec_limit or tdef.rate_limit_per_frequency):
            wait_ms = await self.store.claim_slot(
                tdef.name,
                task.task_id,
                tdef.concurrent_exec_limit,
                tdef.rate_limit_per_frequency,
                1000 * max(1, tdef.rate_limit_frequency_in_seconds),
            )
            if wait_ms:
                await queue.nack(message, delay=wait_ms / 1000)
                return None, True
        now = now_ms()
        event = {"kind": "polled", "taskId": task.task_id, "workerId": worker_id, "time": now}
        if not await self.store.claim_task(workflow_id, task.task_id, event):
            return None, False
        task.status = TaskStatus.IN_PROGRESS
        task.start_time = task.start_time or now
        task.worker_id = worker_id
        task.poll_count += 1
        task.update_time = now
        task.queue_wait_time = max(0, now - task.scheduled_time)
        task.callback_after_seconds = 0
        return task, False

    async def update_task(self, result: TaskResult) -> Task:
        """Records a worker's result. Returns the task's identity and status after the update
        (ids, type, status, output: not its whole document, which this call does not read)."""
        if result.status not in RESULT_STATUSES:
            raise InvalidArgument(
                f"status must be one of {sorted(RESULT_STATUSES)}, got {result.status}",
                field="status",
            )
        workflow_id = workflow_id_of_task(result.task_id)
        if not workflow_id:
            raise NotFound(f"no task {result.task_id}")
        if result.workflow_instance_id and result.workflow_instance_id != workflow_id:
            raise InvalidArgument(
                f"task {result.task_id} is not in workflow {result.workflow_instance_id}",
                field="workflowInstanceId",
            )
        now = now_ms()
        event = {
            "kind": "update",
            "taskId": result.task_id,
            "status": str(result.status),
            "outputData": result.output_data,
            "reasonForIncompletion": result.reason_for_incompletion,
            "callbackAfterSeconds": result.callback_after_seconds,
            "workerId": result.worker_id,
            "extendLease": result.extend_lease,
            "time": now,
        }
        outcome, summary = await self.store.post_result(workflow_id, result.task_id, event)
        if outcome == 0:
            raise NotFound(f"no workflow {workflow_id}")
        if outcome == 1:
            raise NotFound(f"no task {result.task_id}")
        if result.logs:
            await self.store.add_logs(
                workflow_id,
                result.task_id,
                [
                    {"log": line, "taskId": result.task_id, "createdTime": now}
                    for line in result.logs
                ],
            )
        posted = outcome == 3
        if posted and not result.extend_lease:
            await self.wake(workflow_id)
        status, task_type, def_name = summary
        return Task(
            task_id=result.task_id,
            task_type=task_type,
            reference_task_name="",
            task_def_name=def_name,
            workflow_instance_id=workflow_id,
            status=result.status if posted and not result.extend_lease else TaskStatus(status),
            output_data=result.output_data if posted else {},
            update_time=now,
        )

    async def get_task(self, task_id: str) -> Task:
        workflow_id = workflow_id_of_task(task_id)
        if not workflow_id:
            raise NotFound(f"no task {task_id}")
        try:
            workflow = await self._view(workflow_id)
        except NotFound:
            raise NotFound(f"no task {task_id}") from None
        task = next((t for t in workflow.tasks if t.task_id == task_id), None)
        if task is None:
            raise NotFound(f"no task {task_id}")
        return task

    async def add_task_log(self, task_id: str, message: str) -> None:
        task = await self.get_task(task_id)
        await self.store.add_logs(
            task.workflow_instance_id,
            task_id,
            [{"log": message, "taskId": task_id, "createdTime": now_ms()}],
        )

    async def get_task_logs(self, task_id: str) -> list[dict[str, Any]]:
        """[{"log", "taskId", "createdTime"}] oldest first."""
        task = await self.get_task(task_id)
        return await self.store.logs(task.workflow_instance_id, task_id)

    async def queue_sizes(self, task_types: Iterable[str]) -> dict[str, int]:
        return {t: await self.task_queue(t).size() for t in task_types}

    async def poll_data(self, task_type: str) -> list[dict[str, Any]]:
        """[{"queueName", "domain", "workerId", "lastPollTime"}] per worker."""
        return await self.store.poll_data(task_type)


def task_payload(task: Task) -> dict[str, Any]:
    """What a task's queue message carries: the task as scheduled, handed to the worker."""
    return task.to_doc()


def _waits_on_queue(task: Task) -> bool:
    # only queued tasks are ever SCHEDULED: the system tasks start (or finish) when scheduled
    return task.status is TaskStatus.SCHEDULED


def _queued_since(task: Task) -> int:
    delay = task.start_delay_in_seconds + task.callback_after_seconds
    return task.scheduled_time + 1000 * delay
