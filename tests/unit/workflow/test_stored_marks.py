"""The decider's own marks on a task (skipped ahead of time, dynamically forked) survive the
store, read from both the current layout and the one that hid them in ``workflowTask``, and
never show in Conductor's task document."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import msgpack

import dynoq.workflow
from dynoq.workflow.effects import Operation
from dynoq.workflow.javascript import JavaScript
from dynoq.workflow.model import Task, TaskStatus, Workflow, WorkflowStatus

from .decide_support import failed, polled, simple, started, workflow_doc


def stored_and_read(wf: Workflow) -> Workflow:
    packed = msgpack.packb(wf.to_stored(), use_bin_type=True)
    return Workflow.from_doc(msgpack.unpackb(packed, raw=False))


def test_a_skip_ahead_survives_the_store_and_the_flow_passes_over_it(js: JavaScript) -> None:
    flow = started(js, workflow_doc([simple("t1"), simple("t2"), simple("t3")]))
    flow.step(operation=Operation("skip", {"reference_name": "t2"}))
    flow.wf = stored_and_read(flow.wf)
    assert flow.task("t2").skip_pending
    assert "skipPending" not in flow.task("t2").to_doc()
    d = flow.complete("t1")
    assert flow.refs() == ["t1", "t2", "t3"]
    assert [p.task_id for p in d.pushes] == [flow.task("t3").task_id]
    assert not flow.task("t2").skip_pending and flow.status("t2") == "SKIPPED"


def test_marks_stored_as_hidden_workflow_task_keys_still_read() -> None:
    doc: dict[str, Any] = {
        "taskId": "wf.1",
        "taskType": "resize",
        "referenceTaskName": "r1",
        "taskDefName": "resize",
        "workflowInstanceId": "wf",
        "status": "SCHEDULED",
        "workflowTask": {"name": "resize", "type": "SIMPLE", "_dynamic": True},
    }
    task = Task.from_doc(doc)
    assert task.dynamic and not task.skip_pending
    assert task.workflow_task == {"name": "resize", "type": "SIMPLE"}
    assert doc["workflowTask"]["_dynamic"] is True  # the caller's document is left alone
    old_skip = {**doc, "status": "SKIPPED", "workflowTask": {"_skipPending": True}}
    skipped = Task.from_doc(old_skip)
    assert skipped.skip_pending and skipped.workflow_task == {}
    assert skipped.status is TaskStatus.SKIPPED
    assert task.to_stored()["dynamic"] is True and "dynamic" not in task.to_doc()


def test_a_dynamic_task_retried_after_the_store_keeps_its_own_definition(js: JavaScript) -> None:
    doc = workflow_doc(
        [
            {
                "name": "dfork",
                "taskReferenceName": "dfork",
                "type": "FORK_JOIN_DYNAMIC",
                "dynamicForkTasksParam": "tasks",
                "dynamicForkTasksInputParamName": "inputs",
                "inputParameters": {"tasks": "${workflow.input.tasks}", "inputs": {}},
            },
            {"name": "djoin", "taskReferenceName": "djoin", "type": "JOIN"},
        ]
    )
    tasks = [{"name": "resize", "taskReferenceName": "r1", "inputParameters": {"w": 1}}]
    flow = started(js, doc, {"tasks": tasks}, task_defs=[{"name": "resize", "retryCount": 1}])
    flow.wf = stored_and_read(flow.wf)
    first = flow.task("r1")
    assert first.dynamic
    flow.step([polled(first.task_id), failed(first.task_id)])
    flow.wf = stored_and_read(flow.wf)
    again = flow.task("r1")
    assert again.task_id != first.task_id and again.dynamic
    assert again.input_data == {"w": 1} and again.status is TaskStatus.SCHEDULED
    assert flow.wf.status is WorkflowStatus.RUNNING


def test_no_function_level_imports_in_the_workflow_package() -> None:
    """Imports at the top of each module only: the modules' dependencies are what they say."""
    late: list[str] = []
    for path in sorted(Path(dynoq.workflow.__file__).parent.glob("*.py")):
        for scope in ast.walk(ast.parse(path.read_text())):
            if isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                late.extend(
                    f"{path.name}:{node.lineno}"
                    for node in ast.walk(scope)
                    if isinstance(node, ast.Import | ast.ImportFrom)
                )
    assert late == []
