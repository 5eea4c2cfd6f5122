"""The executor (Conductor's workflow executor): starts workflows, decides them under their lock
and carries the decisions out, applies the user's actions, and repairs what a crash left behind.

How state changes stay safe with any number of API servers and deciders:
- a workflow's state is written only under its lock, by the one holder deciding it
  (:meth:`Executor.process`); the write is fenced by the lock token;
- workers and sub-workflows never write it: they append events to the workflow's inbox and wake
  it on the decider queue, whose entry for a workflow is "when to look at it next";
- the holder applies the inbox events it read, saves, pushes task messages, re-arms the decider
  entry, then releases the lock and checks the inbox once more, so an event that arrived during
  the decide is never left waiting.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
import uuid
from typing import Any

from dynoq.core.models import Message
from dynoq.errors import Conflict, DynoqError, InvalidArgument, NotFound
from dynoq.workflow.decide import current_view, decide
from dynoq.workflow.definitions import WorkflowDef, parse_workflow_def, workflow_def_to_doc
from dynoq.workflow.domains import ANY_TASK, active_domains, queue_name
from dynoq.workflow.effects import ChildStart, Decision, Operation, Publish
from dynoq.workflow.executions import Executions
from dynoq.workflow.javascript import JavaScript
from dynoq.workflow.metadata import Metadata, task_def_names
from dynoq.workflow.model import Task, TaskStatus, Workflow, WorkflowStatus
from dynoq.workflow.observer import NOBODY, WorkflowObserver, changes
from dynoq.workflow.queues import LOCK_LEASE_MS, WorkflowQueues, now_ms, task_payload
from dynoq.workflow.store import WorkflowStore, dropped_tasks, statuses

log = logging.getLogger("dynoq.workflow")

LOCK_RETRY_SECONDS = 0.02
MAX_POSTPONE_MS = 3_600_000  # a running workflow is looked at at least hourly
REPAIR_GRACE_MS = 5_000  # a task message is pushed this long after its task is saved, at most


class Executor:
    def __init__(
        self,
        store: WorkflowStore,
        metadata: Metadata,
        executions: Executions,
        queues: WorkflowQueues,
        javascript: JavaScript,
    ) -> None:
        self.store = store
        self.metadata = metadata
        self.executions = executions
        self.queues = queues
        self.js = javascript
        self.observer: WorkflowObserver = NOBODY

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
            definition = await self.metadata.get_workflow_def(name, version)
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
            # the definition's inputTemplate gives the inputs the caller left out
            input={**copy.deepcopy(definition.input_template), **(input or {})},
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
            definition_key=await self.metadata.snapshot_key(definition, doc),
            parent_workflow_id=parent[0] if parent else "",
            parent_workflow_task_id=parent[1] if parent else "",
        )
        # decided before it is stored: nobody can know the id yet, so no lock is needed
        task_defs = await self.metadata.task_defs(task_def_names(definition))
        decision = decide(
            workflow,
            definition,
            task_defs,
            [],
            now,
            self.js,
            owned=True,
            active_domains=await self._active_domains(workflow, definition),
        )
        if not await self.store.create(decision.workflow):
            return new_id  # a sub-workflow or failure workflow started before: same id, same one
        self.observer.started(workflow.workflow_name)
        self.observer.changed(workflow.workflow_name, changes({}, decision.workflow))
        await self._carry_out(decision, None)
        return new_id

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
            current = await self.executions.view(workflow_id)
            latest = await self.metadata.get_workflow_def(current.workflow_name)
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
        workflow = await self.executions.view(workflow_id)
        if not workflow.status.terminal:
            await self.terminate(workflow_id, "removed")
            workflow = await self.executions.view(workflow_id)
        await self.queues.decider.remove(workflow_id)
        await self.store.delete(workflow)

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
                    await self.queues.decider.nack(entry, delay=LOCK_RETRY_SECONDS)
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
                    await self.queues.decider.ack(entry)
                if operation is not None or wait:
                    raise NotFound(f"no workflow {workflow_id}")
                return None
            before = state.status
            saved_statuses = statuses(state)
            read_statuses = dict(saved_statuses)
            for event in events:  # a claim changed its task's summary ahead of the state
                saved_statuses.pop(str(event.get("taskId", "")), None)
            if definition is not None:
                doc = workflow_def_to_doc(definition)
                state.workflow_definition = doc
                state.definition_key = await self.metadata.snapshot_key(definition, doc)
            definition = definition or await self.metadata.definition_of(state)
            decision = decide(
                state,
                definition,
                await self.metadata.task_defs(task_def_names(definition, state)),
                events,
                now_ms(),
                self.js,
                operation,
                owned=True,
                active_domains=await self._active_domains(state, definition),
            )
            wf = decision.workflow
            if decision.changed or events:
                release = entry is not None
                saved = await self.store.save(
                    wf,
                    workflow_id,
                    token,
                    len(events),
                    release=release,
                    before=saved_statuses,
                    dropped=dropped_tasks(read_statuses, wf),
                )
                if saved is None:
                    log.warning("lost the lock of workflow %s before saving it", workflow_id)
                    return None
                if release:
                    held = False
                self.observer.changed(wf.workflow_name, changes(read_statuses, wf))
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
                await self.queues.wake(workflow_id, state.priority if state else 0)

    async def _carry_out(self, decision: Decision, entry: Message | None) -> None:
        """Everything a saved decision asks of the world outside the workflow. Without an
        ``entry`` the decider entry is pushed first: pushed after the task messages, it would
        replace the entry a fast worker's result had just woken (and postpone that result)."""
        wf = decision.workflow
        if entry is None:
            await self._rearm(wf, decision, None)
        await self._push_tasks(decision)
        await self.store.release_slots(decision.released)
        for child in decision.children:
            await self._start_child(child)
        for child_id in decision.terminate_children:
            if await self.store.post(
                child_id, {"kind": "terminate", "reason": "parent ended", "time": now_ms()}
            ):
                await self.queues.wake(child_id, wf.priority)
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
                await self.queues.wake(n.parent_workflow_id, 0)
        if decision.failure_workflow is not None:
            await self._start_child(decision.failure_workflow)
        for publish in decision.publishes:
            await self._publish(publish)
        if entry is not None:
            await self._rearm(wf, decision, entry)

    async def _active_domains(
        self, workflow: Workflow, definition: WorkflowDef
    ) -> dict[str, frozenset[str]]:
        """For a workflow with taskToDomain: by task type, the domains polled lately (read
        only for such workflows, and only for the task types its mapping can apply to)."""
        mapping = workflow.task_to_domain
        if not mapping:
            return {}
        types = set(mapping) - {ANY_TASK}
        if ANY_TASK in mapping:
            types |= task_def_names(definition, workflow)
        now = now_ms()
        return {t: active_domains(await self.store.poll_data(t), now) for t in sorted(types)}

    async def _publish(self, publish: Publish) -> None:
        """An EVENT task's message onto its queue; the task id as message id, so a decision
        carried out again replaces the message instead of adding a second."""
        try:
            queue = self.queues.sink(publish.queue)
            await queue.push(Message(publish.message_id, payload=publish.document))
        except DynoqError as exc:
            log.error("could not publish event %s: %s", publish.document.get("event"), exc)

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
            await self.queues.task(task_type).push(messages)
        for removal in decision.removals:
            await self.queues.task(removal.task_type).remove(removal.task_id)

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
            if child.started_by is not None:
                await self._tell_starter(child, TaskStatus.FAILED, f"{exc}")
                return
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
            await self.queues.wake(parent[0])

        else:
            if child.started_by is not None:
                await self._tell_starter(child, TaskStatus.COMPLETED, "")

    async def _tell_starter(self, child: ChildStart, status: TaskStatus, reason: str) -> None:
        """Ends the START_WORKFLOW task that asked for this start, as the start went."""
        assert child.started_by is not None
        workflow_id, task_id = child.started_by
        event = {
            "kind": "update",
            "taskId": task_id,
            "status": str(status),
            "outputData": {"workflowId": child.workflow_id} if not reason else {},
            "reasonForIncompletion": reason,
            "time": now_ms(),
        }
        outcome, _ = await self.store.post_result(workflow_id, task_id, event)
        if outcome == 3:
            await self.queues.wake(workflow_id)

    async def _rearm(self, wf: Workflow, decision: Decision, entry: Message | None) -> None:
        """Sets the workflow's decider entry to its next deadline, or drops it once there is
        nothing to wait for (ended or paused)."""
        if wf.status is not WorkflowStatus.RUNNING and decision.next_due_ms is None:
            if entry is not None:
                await self.queues.decider.ack(entry)
            else:
                await self.queues.decider.remove(wf.workflow_id)
            return
        now = now_ms()
        due = min(decision.next_due_ms or now + MAX_POSTPONE_MS, now + MAX_POSTPONE_MS)
        delay = max(0, due - now) / 1000
        if entry is not None:
            await self.queues.decider.nack(entry, delay=delay)
        else:
            await self.queues.decider.push(
                Message(wf.workflow_id, priority=wf.priority, delay=delay)
            )

    # -- repairs ----------------------------------------------------------------------------
    async def repair(self, workflow_id: str) -> list[str]:
        """Repairs what a crash may have left behind in a running workflow; the kinds of
        repair made: ``decider_entry``, ``task_message``, ``redecide``."""
        try:
            view = await self.executions.view(workflow_id)
        except NotFound:
            return []
        if view.status is not WorkflowStatus.RUNNING:
            return []
        made: list[str] = []
        if await self.queues.decider.ensure(Message(workflow_id, priority=view.priority)):
            made.append("decider_entry")
        old = now_ms() - REPAIR_GRACE_MS
        waiting = [t for t in view.tasks if _waits_on_queue(t) and _queued_since(t) < old]
        # a backlog's waiting tasks all have their messages: look (one round trip) before
        # taking the lock, which would hold up the workflow's decider meanwhile
        if waiting and await self._messages_missing(waiting):
            made.extend(await self._restore_task_messages(workflow_id, old))
        if not any(not t.status.terminal for t in view.tasks):
            await self.queues.wake(workflow_id, view.priority)
            made.append("redecide")
        return made

    async def _messages_missing(self, tasks: list[Task]) -> bool:
        """Whether any of these SCHEDULED tasks lacks its queue message (one round trip)."""
        found = await asyncio.gather(
            *(
                self.queues.task(queue_name(t.task_type, t.domain)).contains(t.task_id)
                for t in tasks
            )
        )
        return not all(found)

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
                await self.metadata.definition_of(state),
                await self.metadata.task_defs(),
                events,
                now_ms(),
                owned=True,
            )
            for task in view.tasks:
                if not (_waits_on_queue(task) and _queued_since(task) < old):
                    continue
                queue = self.queues.task(queue_name(task.task_type, task.domain))
                if not await queue.contains(task.task_id):
                    payload = task_payload(task)
                    await queue.push(Message(task.task_id, payload, priority=view.priority))
                    made.append("task_message")
        finally:
            if await self.store.release(workflow_id, token):
                await self.queues.wake(workflow_id)
        return made


def _waits_on_queue(task: Task) -> bool:
    # only queued tasks are ever SCHEDULED: the system tasks start (or finish) when scheduled
    return task.status is TaskStatus.SCHEDULED


def _queued_since(task: Task) -> int:
    delay = task.start_delay_in_seconds + task.callback_after_seconds
    return task.scheduled_time + 1000 * delay
