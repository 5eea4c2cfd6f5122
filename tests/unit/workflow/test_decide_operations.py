"""The user's operations applied by ``decide``: terminate, pause, resume, restart, retry, rerun
and skip, with the Conflict each raises when it does not fit the workflow's state."""

from __future__ import annotations

from typing import Any

import pytest

from dynoq.errors import Conflict, InvalidArgument
from dynoq.workflow.decide import Operation, ParentNotice, Push, Removal
from dynoq.workflow.javascript import JavaScript
from dynoq.workflow.model import TaskStatus, WorkflowStatus

from .decide_support import (
    NOW,
    Flow,
    S,
    completed,
    failed,
    polled,
    simple,
    started,
    workflow_doc,
)


def three(**extra: Any) -> dict[str, Any]:
    return workflow_doc(
        [
            simple("t1", inputParameters={"x": "${workflow.input.x}"}),
            simple("t2", "work", inputParameters={"y": "${t1.output.y}"}),
            simple("t3"),
        ],
        **extra,
    )


def op(kind: str, **params: Any) -> Operation:
    return Operation(kind, params)


def failed_at_t2(js: JavaScript, **kwargs: Any) -> Flow:
    """A workflow whose t2 failed for good (t1 completed, t3 never ran)."""
    flow = started(js, three(), {"x": 1}, task_defs=[{"name": "work", "retryCount": 0}], **kwargs)
    flow.complete("t1", {"y": "Y"})
    tid = flow.task("t2").task_id
    flow.step([polled(tid), failed(tid, "broken")], now=NOW + 10 * S)
    assert flow.wf.status is WorkflowStatus.FAILED
    return flow


def completed_flow(js: JavaScript, **extra: Any) -> Flow:
    flow = started(js, three(**extra), {"x": 1})
    flow.complete("t1", {"y": "Y"})
    flow.complete("t2", {"z": 2})
    flow.complete("t3", {"done": True})
    assert flow.wf.status is WorkflowStatus.COMPLETED
    return flow


def assert_refused(flow: Flow, operation: Operation, error: type[Exception] = Conflict) -> None:
    before = flow.wf.to_doc()
    with pytest.raises(error):
        flow.step(operation=operation)
    assert flow.wf.to_doc() == before


# -- terminate ------------------------------------------------------------------------------------
def test_terminate_a_running_workflow(js: JavaScript) -> None:
    doc = workflow_doc(
        [
            {
                "name": "fork",
                "taskReferenceName": "fork",
                "type": "FORK_JOIN",
                "forkTasks": [
                    [simple("queued")],
                    [simple("running")],
                    [
                        {
                            "name": "sub",
                            "taskReferenceName": "sub",
                            "type": "SUB_WORKFLOW",
                            "subWorkflowParam": {"name": "kid"},
                        }
                    ],
                ],
            },
            {
                "name": "join",
                "taskReferenceName": "join",
                "type": "JOIN",
                "joinOn": ["queued", "running", "sub"],
            },
        ],
        failureWorkflow="cleanup",
    )
    flow = started(js, doc, parent_workflow_id="p", parent_workflow_task_id="p.2")
    flow.step([polled(flow.task("running").task_id)])
    queued, sub = flow.task("queued"), flow.task("sub")
    d = flow.step(now=NOW + 5 * S, operation=op("terminate", reason="enough"))
    assert flow.wf.status is WorkflowStatus.TERMINATED and d.ended_now
    assert flow.wf.reason_for_incompletion == "enough" and flow.wf.end_time == NOW + 5 * S
    for ref in ("queued", "running", "sub", "join"):
        assert flow.status(ref) == "CANCELED", ref
    assert d.removals == [Removal("queued", queued.task_id)]
    assert d.terminate_children == [sub.sub_workflow_id]
    assert d.pushes == [] and d.next_due_ms is None
    assert d.failure_workflow is None  # Conductor's terminate starts no failure workflow
    assert d.parent_notice == ParentNotice("p", "p.2", WorkflowStatus.TERMINATED, {}, "enough")


def test_a_terminate_event_ends_it_too(js: JavaScript) -> None:
    flow = started(js, three())
    tid = flow.task("t1").task_id
    d = flow.step([{"kind": "terminate", "reason": "parent ended", "time": NOW}])
    assert flow.wf.status is WorkflowStatus.TERMINATED
    assert flow.wf.reason_for_incompletion == "parent ended"
    assert d.removals == [Removal("t1", tid)]


@pytest.mark.parametrize("ended", ["completed", "failed"])
def test_terminate_an_ended_workflow_is_a_conflict(js: JavaScript, ended: str) -> None:
    flow = completed_flow(js) if ended == "completed" else failed_at_t2(js)
    assert_refused(flow, op("terminate", reason="late"))


def test_updates_after_terminate_are_ignored(js: JavaScript) -> None:
    flow = started(js, three())
    tid = flow.task("t1").task_id
    flow.step([polled(tid)])
    flow.step(operation=op("terminate"))
    state = flow.wf.to_doc()
    d = flow.step([completed(tid, {"late": 1})])
    assert flow.wf.to_doc() == state and not d.changed


# -- pause and resume -----------------------------------------------------------------------------
def test_pause_stops_scheduling_and_resume_carries_on(js: JavaScript) -> None:
    flow = started(js, three(), {"x": 1})
    tid = flow.task("t1").task_id
    d = flow.step([polled(tid)], operation=op("pause"))
    assert flow.wf.status is WorkflowStatus.PAUSED
    assert d.changed and d.next_due_ms is None and d.pushes == []
    assert flow.status("t1") == "IN_PROGRESS"  # running tasks carry on
    # its result is recorded, but nothing new is scheduled while paused
    d = flow.step([completed(tid, {"y": "Y"})], now=NOW + S)
    assert flow.status("t1") == "COMPLETED" and flow.refs() == ["t1"]
    assert d.pushes == [] and d.next_due_ms is None
    d = flow.step(now=NOW + 100 * S)
    assert flow.refs() == ["t1"] and not d.changed
    d = flow.step(now=NOW + 200 * S, operation=op("resume"))
    assert flow.wf.status is WorkflowStatus.RUNNING
    assert flow.task("t2").input_data == {"y": "Y"}
    assert d.pushes == [Push("work", flow.task("t2").task_id, 0, 0)]


def test_pause_keeps_the_workflow_timeout(js: JavaScript) -> None:
    flow = started(js, three(timeoutSeconds=50, timeoutPolicy="TIME_OUT_WF"))
    d = flow.step(operation=op("pause"))
    assert d.next_due_ms == NOW + 50 * S
    flow.step(now=NOW + 50 * S)
    assert flow.wf.status is WorkflowStatus.TIMED_OUT


def test_pause_and_resume_conflicts(js: JavaScript) -> None:
    flow = started(js, three())
    assert_refused(flow, op("resume"))  # not paused
    flow.step(operation=op("pause"))
    flow.step(operation=op("pause"))  # pausing again is harmless
    assert flow.wf.status is WorkflowStatus.PAUSED
    done = completed_flow(js)
    assert_refused(done, op("pause"))
    assert_refused(done, op("resume"))


# -- restart --------------------------------------------------------------------------------------
def test_restart_a_failed_workflow_from_the_beginning(js: JavaScript) -> None:
    flow = failed_at_t2(js)
    old = {t.task_id for t in flow.wf.tasks}
    flow.wf.variables = {"changed": True}
    d = flow.step(now=NOW + 60 * S, operation=op("restart"))
    wf = flow.wf
    assert wf.status is WorkflowStatus.RUNNING
    assert wf.start_time == NOW + 60 * S and wf.end_time == 0
    assert wf.reason_for_incompletion == "" and wf.failed_reference_task_names == []
    assert wf.failed_task_id == "" and wf.output == {} and wf.variables == {}
    assert flow.refs() == ["t1"]
    t1 = flow.task("t1")
    assert t1.task_id not in old and t1.input_data == {"x": 1}
    assert d.pushes == [Push("t1", t1.task_id, 0, 0)]
    assert d.next_due_ms is not None


def test_restart_a_completed_workflow(js: JavaScript) -> None:
    flow = completed_flow(js)
    flow.step(operation=op("restart"))
    assert flow.wf.status is WorkflowStatus.RUNNING and flow.refs() == ["t1"]


def test_restart_conflicts(js: JavaScript) -> None:
    assert_refused(started(js, three()), op("restart"))  # still running
    assert_refused(completed_flow(js, restartable=False), op("restart"))
    # restartable only guards COMPLETED ones: a failed one restarts
    flow = started(js, three(restartable=False), task_defs=[{"name": "t1", "retryCount": 0}])
    tid = flow.task("t1").task_id
    flow.step([polled(tid), failed(tid)])
    flow.step(operation=op("restart"))
    assert flow.wf.status is WorkflowStatus.RUNNING


# -- retry ----------------------------------------------------------------------------------------
def test_retry_from_the_failed_task(js: JavaScript) -> None:
    flow = failed_at_t2(js)
    t1, t2 = flow.task("t1"), flow.task("t2")
    d = flow.step(now=NOW + 60 * S, operation=op("retry"))
    wf = flow.wf
    assert wf.status is WorkflowStatus.RUNNING
    assert wf.last_retried_time == NOW + 60 * S and wf.reason_for_incompletion == ""
    assert wf.failed_reference_task_names == []
    assert flow.task("t1").task_id == t1.task_id  # completed tasks stay
    new = flow.task("t2")
    assert new.task_id != t2.task_id and new.retried_task_id == t2.task_id
    assert new.retry_count == t2.retry_count + 1 and new.input_data == {"y": "Y"}
    assert next(t for t in wf.tasks if t.task_id == t2.task_id).retried
    assert d.pushes == [Push("work", new.task_id, 0, 0)]
    flow.complete("t2")
    flow.complete("t3", {"end": 1})
    assert wf.status is WorkflowStatus.RUNNING  # (the old object: decide never changes it)
    assert flow.wf.status is WorkflowStatus.COMPLETED and flow.wf.output == {"end": 1}


def test_retry_reopens_a_canceled_join(js: JavaScript) -> None:
    doc = workflow_doc(
        [
            {
                "name": "fork",
                "taskReferenceName": "fork",
                "type": "FORK_JOIN",
                "forkTasks": [[simple("a")], [simple("b", retryCount=0)]],
            },
            {"name": "join", "taskReferenceName": "join", "type": "JOIN", "joinOn": ["a", "b"]},
        ]
    )
    flow = started(js, doc)
    flow.complete("a", {"a": 1})
    b = flow.task("b").task_id
    flow.step([polled(b), failed(b)])
    assert flow.wf.status is WorkflowStatus.FAILED and flow.status("join") == "CANCELED"
    flow.step(operation=op("retry"))
    assert flow.status("join") == "IN_PROGRESS" and flow.status("b") == "SCHEDULED"
    flow.complete("b", {"b": 1})
    assert flow.task("join").output_data == {"a": {"a": 1}, "b": {"b": 1}}
    assert flow.wf.status is WorkflowStatus.COMPLETED


def test_retry_conflicts(js: JavaScript) -> None:
    assert_refused(started(js, three()), op("retry"))  # running
    assert_refused(completed_flow(js), op("retry"))


# -- rerun ----------------------------------------------------------------------------------------
def test_rerun_from_a_task_with_new_input(js: JavaScript) -> None:
    flow = completed_flow(js)
    t1, t2 = flow.task("t1"), flow.task("t2")
    d = flow.step(
        now=NOW + 60 * S,
        operation=op("rerun", from_task_id=t2.task_id, task_input={"extra": 7}),
    )
    assert flow.wf.status is WorkflowStatus.RUNNING and flow.wf.output == {}
    assert flow.refs() == ["t1", "t2"]
    assert flow.task("t1").task_id == t1.task_id
    new = flow.task("t2")
    assert new.task_id != t2.task_id and new.status is TaskStatus.SCHEDULED
    assert new.input_data == {"y": "Y", "extra": 7}
    assert d.pushes == [Push("work", new.task_id, 0, 0)]
    flow.complete("t2")
    flow.complete("t3", {"again": True})
    assert flow.wf.status is WorkflowStatus.COMPLETED and flow.wf.output == {"again": True}


def test_rerun_of_a_running_workflow_terminates_the_children_it_drops(js: JavaScript) -> None:
    doc = workflow_doc(
        [
            simple("t1"),
            {
                "name": "sub",
                "taskReferenceName": "sub",
                "type": "SUB_WORKFLOW",
                "subWorkflowParam": {"name": "kid"},
            },
        ]
    )
    flow = started(js, doc)
    t1 = flow.task("t1").task_id
    flow.complete("t1")
    sub = flow.task("sub")
    assert sub.status is TaskStatus.IN_PROGRESS
    d = flow.step(operation=op("rerun", from_task_id=t1))
    assert flow.refs() == ["t1"]
    # the old child would run on, its end reported to a task that is gone
    assert d.terminate_children == [sub.sub_workflow_id]


def test_rerun_from_the_start_with_new_workflow_input(js: JavaScript) -> None:
    flow = failed_at_t2(js)
    flow.step(operation=op("rerun", workflow_input={"x": 99}, correlation_id="c2"))
    assert flow.wf.status is WorkflowStatus.RUNNING and flow.wf.correlation_id == "c2"
    assert flow.refs() == ["t1"] and flow.task("t1").input_data == {"x": 99}


def test_rerun_from_an_unknown_task(js: JavaScript) -> None:
    assert_refused(completed_flow(js), op("rerun", from_task_id="nope"), InvalidArgument)


# -- skip -----------------------------------------------------------------------------------------
def test_skip_a_task_not_yet_scheduled(js: JavaScript) -> None:
    flow = started(js, three(), {"x": 1})
    d = flow.step(operation=op("skip", reference_name="t2", task_output={"y": "skipped"}))
    assert d.pushes == []
    t2 = flow.task("t2")
    assert t2.status is TaskStatus.SKIPPED and t2.output_data == {"y": "skipped"}
    assert flow.wf.status is WorkflowStatus.RUNNING
    # once t1 is done the flow passes over t2 to t3
    d = flow.complete("t1", {"y": "Y"})
    assert flow.refs() == ["t1", "t2", "t3"]
    assert len(flow.tasks("t2")) == 1
    assert [p.task_id for p in d.pushes] == [flow.task("t3").task_id]
    flow.complete("t3", {"end": 1})
    assert flow.wf.status is WorkflowStatus.COMPLETED


def test_skip_a_scheduled_task(js: JavaScript) -> None:
    flow = started(js, three(), {"x": 1})
    tid = flow.task("t1").task_id
    d = flow.step(operation=op("skip", reference_name="t1", task_output={"y": "S"}))
    t1 = flow.task("t1")
    assert t1.status is TaskStatus.SKIPPED and t1.output_data == {"y": "S"}
    assert d.removals == [Removal("t1", tid)]
    assert flow.task("t2").input_data == {"y": "S"}
    assert [p.task_id for p in d.pushes] == [flow.task("t2").task_id]


def test_skip_conflicts(js: JavaScript) -> None:
    flow = started(js, three(), {"x": 1})
    flow.complete("t1", {"y": "Y"})
    assert_refused(flow, op("skip", reference_name="t1"))  # already ended
    assert_refused(flow, op("skip", reference_name="nope"), InvalidArgument)
    assert_refused(completed_flow(js), op("skip", reference_name="t3"))


def test_an_unknown_operation(js: JavaScript) -> None:
    assert_refused(started(js, three()), op("explode"), InvalidArgument)


def test_resume_restarts_the_workflow_timeout_clock(js: JavaScript) -> None:
    flow = started(js, three(timeoutSeconds=50, timeoutPolicy="TIME_OUT_WF"))
    flow.step(now=NOW + 10 * S, operation=op("pause"))
    d = flow.step(now=NOW + 40 * S, operation=op("resume"))
    assert flow.wf.last_retried_time == NOW + 40 * S
    assert d.next_due_ms == NOW + 90 * S  # Conductor's: counted from the resume
    flow.step(now=NOW + 60 * S)
    assert flow.wf.status is WorkflowStatus.RUNNING


def test_terminate_can_start_the_failure_workflow(js: JavaScript) -> None:
    flow = started(js, three(failureWorkflow="cleanup"), {"order": 7})
    d = flow.step(operation=op("terminate", reason="by hand"))
    assert d.failure_workflow is None  # not by default, as in Conductor OSS
    flow = started(js, three(failureWorkflow="cleanup"), {"order": 7})
    d = flow.step(operation=op("terminate", reason="by hand", trigger_failure_workflow=True))
    assert d.failure_workflow is not None
    assert d.failure_workflow.name == "cleanup"
    assert d.failure_workflow.input["reason"] == "by hand"
    assert d.failure_workflow.input["failureStatus"] == "TERMINATED"
    assert d.failure_workflow.input["order"] == 7
