"""Helpers for the ``decide`` tests: a workflow built from a definition document, one ``step``
that decides it (and checks the input was left alone), and the event shapes ``apply_events``
reads."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dynoq.workflow.decide import Decision, Operation, Push, decide
from dynoq.workflow.definitions import TaskDef, WorkflowDef, parse_task_def, parse_workflow_def
from dynoq.workflow.javascript import JavaScript
from dynoq.workflow.model import Task, Workflow, WorkflowStatus

NOW = 1_800_000_000_000
WF_ID = "wf-1"
S = 1000  # ms


def simple(ref: str, name: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"name": name or ref, "taskReferenceName": ref, "type": "SIMPLE", **extra}


def workflow_doc(tasks: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"name": "flow", "version": 1, "tasks": tasks, "schemaVersion": 2, **extra}


@dataclass
class Flow:
    """One workflow execution and what decides it."""

    wf: Workflow
    definition: WorkflowDef
    task_defs: dict[str, TaskDef]
    js: JavaScript
    decisions: list[Decision] = field(default_factory=list)

    def step(
        self,
        events: Iterable[Mapping[str, Any]] = (),
        now: int = NOW,
        operation: Operation | None = None,
    ) -> Decision:
        """Decides once; the new state replaces ``wf``. Asserts decide left its input alone."""
        before = copy.deepcopy(self.wf.to_stored())
        decision = decide(
            self.wf, self.definition, self.task_defs, list(events), now, self.js, operation
        )
        assert self.wf.to_stored() == before, "decide changed the workflow it was given"
        assert decision.workflow is not self.wf
        self.wf = decision.workflow
        self.decisions.append(decision)
        return decision

    def task(self, ref: str) -> Task:
        """The latest task (not a retried one) with that reference name."""
        found = [t for t in self.wf.tasks if t.reference_task_name == ref and not t.retried]
        assert found, f"no task {ref}; tasks: {self.refs()}"
        return found[-1]

    def tasks(self, ref: str) -> list[Task]:
        return [t for t in self.wf.tasks if t.reference_task_name == ref]

    def refs(self) -> list[str]:
        return [t.reference_task_name for t in self.wf.tasks]

    def status(self, ref: str) -> str:
        return str(self.task(ref).status)

    def complete(self, ref: str, output: dict[str, Any] | None = None, now: int = NOW) -> Decision:
        """Poll then complete the latest task ``ref`` in one decide."""
        tid = self.task(ref).task_id
        return self.step([polled(tid, now), completed(tid, output or {}, now)], now)


def make_flow(
    js: JavaScript,
    doc: dict[str, Any],
    input: dict[str, Any] | None = None,
    *,
    task_defs: Iterable[dict[str, Any]] = (),
    priority: int = 0,
    now: int = NOW,
    **fields: Any,
) -> Flow:
    definition = parse_workflow_def(doc)
    defs = {d.name: d for d in (parse_task_def(t) for t in task_defs)}
    wf = Workflow(
        workflow_id=WF_ID,
        workflow_name=definition.name,
        workflow_version=definition.version,
        status=WorkflowStatus.RUNNING,
        input=dict(input or {}),
        variables=dict(definition.variables),
        priority=priority,
        create_time=now,
        start_time=now,
        update_time=now,
        workflow_definition=copy.deepcopy(doc),
        **fields,
    )
    return Flow(wf, definition, defs, js)


def started(
    js: JavaScript, doc: dict[str, Any], input: dict[str, Any] | None = None, **kwargs: Any
) -> Flow:
    """A flow after its first decide."""
    flow = make_flow(js, doc, input, **kwargs)
    flow.step(now=kwargs.get("now", NOW))
    return flow


# -- events -----------------------------------------------------------------------------------
def polled(task_id: str, t: int = NOW, worker: str = "worker-1") -> dict[str, Any]:
    return {"kind": "polled", "taskId": task_id, "time": t, "workerId": worker}


def update(
    task_id: str,
    status: str,
    t: int = NOW,
    *,
    output: dict[str, Any] | None = None,
    reason: str = "",
    callback: int = 0,
    extend_lease: bool = False,
    worker: str = "worker-1",
) -> dict[str, Any]:
    return {
        "kind": "update",
        "taskId": task_id,
        "time": t,
        "workerId": worker,
        "status": status,
        "outputData": output,
        "reasonForIncompletion": reason,
        "callbackAfterSeconds": callback,
        "extendLease": extend_lease,
    }


def completed(task_id: str, output: dict[str, Any] | None = None, t: int = NOW) -> dict[str, Any]:
    return update(task_id, "COMPLETED", t, output=output or {})


def failed(
    task_id: str, reason: str = "boom", t: int = NOW, *, terminal: bool = False
) -> dict[str, Any]:
    status = "FAILED_WITH_TERMINAL_ERROR" if terminal else "FAILED"
    return update(task_id, status, t, reason=reason)


def in_progress(task_id: str, callback: int, t: int = NOW) -> dict[str, Any]:
    return update(task_id, "IN_PROGRESS", t, callback=callback)


def child(
    task_id: str,
    status: str,
    output: dict[str, Any] | None = None,
    reason: str = "",
    t: int = NOW,
) -> dict[str, Any]:
    return {
        "kind": "child",
        "taskId": task_id,
        "status": status,
        "output": output or {},
        "reason": reason,
        "time": t,
    }


def pushed(decision: Decision) -> dict[str, Push]:
    """The decision's pushes by task id."""
    return {p.task_id: p for p in decision.pushes}
