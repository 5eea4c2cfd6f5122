"""``decide`` moving a workflow along: scheduling, events, control flow task by task type."""

from __future__ import annotations

from typing import Any

import pytest

from dynoq.workflow.decide import ChildStart, ParentNotice, Push, Removal, current_view
from dynoq.workflow.javascript import JavaScript
from dynoq.workflow.model import TaskStatus, WorkflowStatus
from dynoq.workflow.tasks import parse_duration

from .decide_support import (
    NOW,
    WF_ID,
    S,
    child,
    completed,
    failed,
    in_progress,
    make_flow,
    polled,
    pushed,
    simple,
    started,
    update,
    workflow_doc,
)

RESPONSE_S = 3600  # the default TaskDef's responseTimeoutSeconds


# -- starting -----------------------------------------------------------------------------------
def test_start_schedules_the_first_task_with_resolved_input(js: JavaScript) -> None:
    doc = workflow_doc(
        [
            simple("t1", "encode", inputParameters={"x": "${workflow.input.x}", "fixed": 1}),
            simple("t2"),
        ]
    )
    flow = make_flow(
        js,
        doc,
        {"x": "movie.mp4"},
        priority=7,
        task_defs=[{"name": "encode", "inputTemplate": {"codec": "h264", "fixed": 0}}],
    )
    d = flow.step()
    assert d.changed and not d.ended_now
    assert flow.refs() == ["t1"]
    t1 = flow.task("t1")
    assert t1.task_id == f"{WF_ID}.1"
    assert t1.status is TaskStatus.SCHEDULED
    assert t1.task_type == "encode" and t1.task_def_name == "encode"
    # the TaskDef's inputTemplate gives defaults; the workflow task's inputParameters win
    assert t1.input_data == {"codec": "h264", "fixed": 1, "x": "movie.mp4"}
    assert t1.scheduled_time == NOW and t1.seq == 1 and t1.retry_count == 0
    assert d.pushes == [Push("encode", t1.task_id, 0, 7)]
    assert d.removals == [] and d.children == []
    assert d.parent_notice is None and d.failure_workflow is None
    assert flow.wf.status is WorkflowStatus.RUNNING
    # nothing but the response timeout of a task polled right away is pending
    assert d.next_due_ms == NOW + RESPONSE_S * S


def test_start_delay_delays_the_push(js: JavaScript) -> None:
    flow = make_flow(js, workflow_doc([simple("t1", startDelay=30)]))
    d = flow.step()
    t1 = flow.task("t1")
    assert d.pushes == [Push("t1", t1.task_id, 30 * S, 0)]
    assert t1.start_delay_in_seconds == 30
    assert d.next_due_ms == NOW + (30 + RESPONSE_S) * S


def test_a_second_decide_with_nothing_new_changes_nothing(js: JavaScript) -> None:
    flow = started(js, workflow_doc([simple("t1")]))
    d = flow.step(now=NOW + 5 * S)
    assert not d.changed
    assert d.pushes == [] and d.removals == []
    assert flow.refs() == ["t1"]


# -- a linear flow ------------------------------------------------------------------------------
def linear(**extra: Any) -> dict[str, Any]:
    return workflow_doc(
        [
            simple("t1", inputParameters={"x": "${workflow.input.x}"}),
            simple(
                "t2",
                inputParameters={
                    "y": "${t1.output.y}",
                    "both": "${t1.output.y}-${workflow.input.x}",
                },
            ),
        ],
        **extra,
    )


def test_completing_a_task_schedules_the_next_with_its_output(js: JavaScript) -> None:
    flow = started(js, linear(), {"x": 1})
    t1 = flow.task("t1")
    d = flow.step(
        [polled(t1.task_id, NOW + S), completed(t1.task_id, {"y": "Y"}, NOW + 2 * S)],
        now=NOW + 3 * S,
    )
    t1 = flow.task("t1")
    assert t1.status is TaskStatus.COMPLETED and t1.executed
    assert t1.output_data == {"y": "Y"}
    assert t1.start_time == NOW + S and t1.end_time == NOW + 2 * S
    t2 = flow.task("t2")
    assert t2.status is TaskStatus.SCHEDULED
    assert t2.input_data == {"y": "Y", "both": "Y-1"}
    assert d.pushes == [Push("t2", t2.task_id, 0, 0)]
    assert flow.wf.status is WorkflowStatus.RUNNING


def test_the_last_completion_completes_the_workflow_with_output_parameters(
    js: JavaScript,
) -> None:
    flow = started(
        js,
        linear(outputParameters={"result": "${t2.output.z}", "x": "${workflow.input.x}"}),
        {"x": 1},
    )
    flow.complete("t1", {"y": "Y"})
    d = flow.complete("t2", {"z": 42}, now=NOW + 10 * S)
    assert flow.wf.status is WorkflowStatus.COMPLETED
    assert d.ended_now and d.next_due_ms is None
    assert flow.wf.output == {"result": 42, "x": 1}
    assert flow.wf.end_time == NOW + 10 * S
    assert d.pushes == [] and d.parent_notice is None and d.failure_workflow is None


def test_without_output_parameters_the_output_is_the_last_tasks(js: JavaScript) -> None:
    flow = started(js, linear(), {"x": 1})
    flow.complete("t1", {"y": "Y"})
    flow.complete("t2", {"z": 42})
    assert flow.wf.status is WorkflowStatus.COMPLETED
    assert flow.wf.output == {"z": 42}


def test_a_completed_workflow_decided_again_stays_put(js: JavaScript) -> None:
    flow = started(js, workflow_doc([simple("t1")]))
    flow.complete("t1", {"a": 1})
    d = flow.step(now=NOW + 100 * S)
    assert not d.changed and not d.ended_now
    assert flow.wf.status is WorkflowStatus.COMPLETED
    assert d.pushes == [] and d.next_due_ms is None


# -- polls and updates --------------------------------------------------------------------------
def test_poll_puts_the_task_in_progress(js: JavaScript) -> None:
    flow = started(js, workflow_doc([simple("t1")]))
    tid = flow.task("t1").task_id
    d = flow.step([polled(tid, NOW + 2 * S, worker="w7")], now=NOW + 3 * S)
    t1 = flow.task("t1")
    assert t1.status is TaskStatus.IN_PROGRESS
    assert t1.start_time == NOW + 2 * S and t1.update_time == NOW + 2 * S
    assert t1.worker_id == "w7" and t1.poll_count == 1
    assert t1.queue_wait_time == 2 * S
    assert d.changed and d.pushes == []
    # the response timeout now counts from the poll
    assert d.next_due_ms == NOW + 2 * S + RESPONSE_S * S


def test_current_view_applies_events_without_touching_its_input(js: JavaScript) -> None:
    flow = started(js, workflow_doc([simple("t1"), simple("t2")]))
    tid = flow.task("t1").task_id
    before = flow.wf.to_doc()
    view = current_view(flow.wf, flow.definition, flow.task_defs, [polled(tid, NOW + S)], NOW + S)
    assert view is not flow.wf
    assert view.tasks[0].status is TaskStatus.IN_PROGRESS and view.tasks[0].poll_count == 1
    assert flow.wf.to_doc() == before
    assert flow.task("t1").status is TaskStatus.SCHEDULED
    # a completion is shown, but nothing is scheduled by a view
    view = current_view(flow.wf, flow.definition, flow.task_defs, [completed(tid, {"a": 1})], NOW)
    assert [t.reference_task_name for t in view.tasks] == ["t1"]
    assert view.tasks[0].status is TaskStatus.COMPLETED
    assert current_view(flow.wf, flow.definition, flow.task_defs, [], NOW) is flow.wf


def test_a_second_poll_of_a_polled_task_changes_nothing(js: JavaScript) -> None:
    flow = started(js, workflow_doc([simple("t1")]))
    tid = flow.task("t1").task_id
    flow.step([polled(tid, NOW + S, worker="a")])
    d = flow.step([polled(tid, NOW + 2 * S, worker="b")])
    t1 = flow.task("t1")
    assert (t1.worker_id, t1.poll_count, t1.start_time) == ("a", 1, NOW + S)
    assert not d.changed


def test_duplicate_and_late_updates_change_nothing(js: JavaScript) -> None:
    flow = started(js, workflow_doc([simple("t1"), simple("t2")]))
    tid = flow.task("t1").task_id
    flow.step([polled(tid), completed(tid, {"v": 1})])
    state = flow.wf.to_doc()
    # a second COMPLETED (or FAILED) for a terminal task is ignored
    d = flow.step([completed(tid, {"v": 2}, NOW + S), failed(tid, "late", NOW + S)], now=NOW + S)
    assert not d.changed and d.pushes == [] and d.removals == []
    assert flow.wf.to_doc() == state
    assert flow.task("t1").output_data == {"v": 1}


def test_two_completions_in_one_batch_count_once(js: JavaScript) -> None:
    flow = started(js, workflow_doc([simple("t1"), simple("t2")]))
    tid = flow.task("t1").task_id
    d = flow.step([polled(tid), completed(tid, {"v": 1}), completed(tid, {"v": 2})])
    assert flow.task("t1").output_data == {"v": 1}
    assert flow.refs() == ["t1", "t2"] and len(d.pushes) == 1


def test_updates_for_unknown_tasks_are_ignored(js: JavaScript) -> None:
    flow = started(js, workflow_doc([simple("t1")]))
    state = flow.wf.to_doc()
    d = flow.step([completed("wf-1.99", {"a": 1}), polled("other.1"), {"kind": "bogus"}])
    assert not d.changed and flow.wf.to_doc() == state


def test_completing_a_scheduled_task_removes_its_message(js: JavaScript) -> None:
    flow = started(js, workflow_doc([simple("t1")]))
    tid = flow.task("t1").task_id
    d = flow.step([completed(tid, {"a": 1})])
    assert d.removals == [Removal("t1", tid)]
    assert flow.wf.status is WorkflowStatus.COMPLETED


def test_in_progress_with_callback_waits_on_the_queue_again(js: JavaScript) -> None:
    flow = started(js, workflow_doc([simple("t1")]), priority=3)
    tid = flow.task("t1").task_id
    flow.step([polled(tid, NOW + S)], now=NOW + S)
    d = flow.step(
        [update(tid, "IN_PROGRESS", NOW + 2 * S, output={"p": 50}, callback=30)], now=NOW + 2 * S
    )
    t1 = flow.task("t1")
    assert t1.status is TaskStatus.SCHEDULED
    assert t1.callback_after_seconds == 30 and t1.scheduled_time == NOW + 2 * S
    assert t1.output_data == {"p": 50}
    assert d.pushes == [Push("t1", tid, 30 * S, 3)]
    assert d.next_due_ms == NOW + 2 * S + (30 + RESPONSE_S) * S
    # polled again later: the callback is over
    flow.step([polled(tid, NOW + 40 * S)], now=NOW + 40 * S)
    t1 = flow.task("t1")
    assert t1.status is TaskStatus.IN_PROGRESS and t1.poll_count == 2
    assert t1.callback_after_seconds == 0 and t1.start_time == NOW + S


def test_extend_lease_only_moves_the_update_time(js: JavaScript) -> None:
    flow = started(js, workflow_doc([simple("t1")]))
    tid = flow.task("t1").task_id
    flow.step([polled(tid, NOW)])
    d = flow.step(
        [update(tid, "COMPLETED", NOW + 100 * S, output={"x": 1}, extend_lease=True)],
        now=NOW + 100 * S,
    )
    t1 = flow.task("t1")
    assert t1.status is TaskStatus.IN_PROGRESS and t1.output_data == {}
    assert t1.update_time == NOW + 100 * S
    assert d.next_due_ms == NOW + (100 + RESPONSE_S) * S


# -- concurrency slots ------------------------------------------------------------------------
LIMITED = [{"name": "t1", "concurrentExecLimit": 2}]


def test_a_finished_task_gives_its_concurrency_slot_back(js: JavaScript) -> None:
    flow = started(js, workflow_doc([simple("t1")]), task_defs=LIMITED)
    tid = flow.task("t1").task_id
    assert flow.step([polled(tid)]).released == []
    assert flow.step([completed(tid, {})]).released == [("t1", tid)]


def test_no_slots_without_a_limit(js: JavaScript) -> None:
    flow = started(js, workflow_doc([simple("t1")]))
    tid = flow.task("t1").task_id
    assert flow.step([polled(tid), completed(tid, {})]).released == []


def test_a_task_waiting_for_its_callback_holds_no_slot(js: JavaScript) -> None:
    # Conductor counts only IN_PROGRESS tasks against concurrentExecLimit; a task that asked
    # to be called back waits on its queue (SCHEDULED) and claims a slot again when polled
    flow = started(js, workflow_doc([simple("t1")]), task_defs=LIMITED)
    tid = flow.task("t1").task_id
    flow.step([polled(tid)])
    d = flow.step([in_progress(tid, 60)])
    assert flow.status("t1") == "SCHEDULED"
    assert d.released == [("t1", tid)]


@pytest.mark.parametrize("how", ["terminate", "poll timeout", "update"])
def test_a_task_ended_while_scheduled_leaks_no_slot(js: JavaScript, how: str) -> None:
    # the engine claims the slot before it posts the poll event: a task can hold one while
    # the state still says SCHEDULED (and, before the callback fix, after a callback too)
    flow = started(
        js,
        workflow_doc([simple("t1")]),
        task_defs=[{**LIMITED[0], "pollTimeoutSeconds": 10, "timeoutPolicy": "TIME_OUT_WF"}],
    )
    tid = flow.task("t1").task_id
    if how == "terminate":
        d = flow.step([{"kind": "terminate", "reason": "stop", "time": NOW}])
    elif how == "poll timeout":
        d = flow.step(now=NOW + 10 * S)
    else:
        d = flow.step([completed(tid, {})])
    assert flow.task("t1").status.terminal
    assert d.released == [("t1", tid)]


# -- SWITCH -------------------------------------------------------------------------------------
def switch_doc(switch: dict[str, Any]) -> dict[str, Any]:
    return workflow_doc(
        [
            {
                "name": "sw",
                "taskReferenceName": "sw",
                "type": "SWITCH",
                "decisionCases": {
                    "a": [simple("a1"), simple("a2")],
                    "b": [simple("b1")],
                    "none": [],
                },
                "defaultCase": [simple("d1")],
                **switch,
            },
            simple("after", inputParameters={"case": "${sw.output.selectedCase}"}),
        ]
    )


VALUE_PARAM = {
    "evaluatorType": "value-param",
    "expression": "kind",
    "inputParameters": {"kind": "${workflow.input.kind}"},
}
JAVASCRIPT = {
    "evaluatorType": "javascript",
    "expression": "$.n > 10 ? 'a' : ($.n > 5 ? 'b' : 'other')",
    "inputParameters": {"n": "${workflow.input.n}"},
}


@pytest.mark.parametrize(
    ("switch", "input", "case", "first"),
    [
        (VALUE_PARAM, {"kind": "a"}, "a", "a1"),
        (VALUE_PARAM, {"kind": "b"}, "b", "b1"),
        (VALUE_PARAM, {"kind": "zzz"}, "zzz", "d1"),
        (VALUE_PARAM, {}, "", "d1"),
        (JAVASCRIPT, {"n": 11}, "a", "a1"),
        (JAVASCRIPT, {"n": 7}, "b", "b1"),
        (JAVASCRIPT, {"n": 1}, "other", "d1"),
    ],
)
def test_switch_schedules_the_chosen_case(
    js: JavaScript, switch: dict[str, Any], input: dict[str, Any], case: str, first: str
) -> None:
    flow = make_flow(js, switch_doc(switch), input)
    d = flow.step()
    sw = flow.task("sw")
    assert sw.status is TaskStatus.COMPLETED and sw.executed
    assert sw.output_data == {"evaluationResult": [case], "selectedCase": case, "hasChildren": True}
    assert flow.refs() == ["sw", first]
    assert [p.task_id for p in d.pushes] == [flow.task(first).task_id]


@pytest.mark.parametrize(
    ("decision", "input", "first"),
    [
        ({"caseValueParam": "kind"}, {"kind": "b"}, "b1"),
        ({"caseValueParam": "kind"}, {"kind": "?"}, "d1"),
        ({"caseExpression": "$.n > 10 ? 'a' : 'b'"}, {"n": 11}, "a1"),
        ({"caseExpression": "$.n > 10 ? 'a' : 'b'"}, {"n": 1}, "b1"),
        ({"caseExpression": "$.n > 10 ? 'a' : 'b'"}, {}, "b1"),
    ],
)
def test_decision_the_older_switch(
    js: JavaScript, decision: dict[str, Any], input: dict[str, Any], first: str
) -> None:
    doc = switch_doc(
        {
            **decision,
            "inputParameters": {"kind": "${workflow.input.kind}", "n": "${workflow.input.n}"},
        }
    )
    doc["tasks"][0]["type"] = "DECISION"
    flow = make_flow(js, doc, input)
    flow.step()
    assert flow.refs() == ["sw", first]


def test_the_task_after_a_switch_runs_once_its_case_ends(js: JavaScript) -> None:
    flow = started(js, switch_doc(VALUE_PARAM), {"kind": "a"})
    flow.complete("a1")
    assert flow.refs() == ["sw", "a1", "a2"]
    flow.complete("a2")
    assert flow.refs() == ["sw", "a1", "a2", "after"]
    assert flow.task("after").input_data == {"case": "a"}
    flow.complete("after", {"end": True})
    assert flow.wf.status is WorkflowStatus.COMPLETED
    assert flow.wf.output == {"end": True}


def test_an_empty_case_goes_straight_past_the_switch(js: JavaScript) -> None:
    flow = started(js, switch_doc(VALUE_PARAM), {"kind": "none"})
    assert flow.refs() == ["sw", "after"]
    assert flow.task("sw").output_data["hasChildren"] is False
    assert flow.task("after").input_data == {"case": "none"}


def test_a_javascript_error_fails_the_switch_and_the_workflow(js: JavaScript) -> None:
    flow = make_flow(js, switch_doc({**JAVASCRIPT, "expression": "$.n.deep.er"}), {"n": 1})
    d = flow.step()
    assert flow.task("sw").status is TaskStatus.FAILED
    assert flow.wf.status is WorkflowStatus.FAILED and d.ended_now
    assert flow.wf.failed_reference_task_names == ["sw"]
    assert "TypeError" in flow.wf.reason_for_incompletion


# -- FORK_JOIN ------------------------------------------------------------------------------------
def fork_doc() -> dict[str, Any]:
    return workflow_doc(
        [
            {
                "name": "fork",
                "taskReferenceName": "fork",
                "type": "FORK_JOIN",
                "forkTasks": [[simple("a1"), simple("a2")], [simple("b1"), simple("b2")]],
            },
            {"name": "join", "taskReferenceName": "join", "type": "JOIN", "joinOn": ["a2", "b2"]},
            simple("after", inputParameters={"j": "${join.output}"}),
        ]
    )


def test_fork_schedules_every_branch_and_the_join(js: JavaScript) -> None:
    flow = make_flow(js, fork_doc())
    d = flow.step()
    assert flow.refs() == ["fork", "a1", "b1", "join"]
    assert flow.status("fork") == "COMPLETED"
    assert flow.status("join") == "IN_PROGRESS"
    assert set(pushed(d)) == {flow.task("a1").task_id, flow.task("b1").task_id}


def test_join_completes_only_when_both_branch_ends_are_done(js: JavaScript) -> None:
    flow = started(js, fork_doc())
    flow.complete("a1")
    flow.complete("a2", {"a": 2})
    assert flow.status("join") == "IN_PROGRESS"
    flow.complete("b1")
    assert flow.status("join") == "IN_PROGRESS"
    assert "after" not in flow.refs()
    flow.complete("b2", {"b": 2})
    join = flow.task("join")
    assert join.status is TaskStatus.COMPLETED
    assert join.output_data == {"a2": {"a": 2}, "b2": {"b": 2}}
    assert flow.task("after").input_data == {"j": {"a2": {"a": 2}, "b2": {"b": 2}}}
    flow.complete("after")
    assert flow.wf.status is WorkflowStatus.COMPLETED


def test_nested_fork_inside_a_branch(js: JavaScript) -> None:
    doc = workflow_doc(
        [
            {
                "name": "fork",
                "taskReferenceName": "fork",
                "type": "FORK_JOIN",
                "forkTasks": [
                    [
                        {
                            "name": "inner",
                            "taskReferenceName": "inner",
                            "type": "FORK_JOIN",
                            "forkTasks": [[simple("x")], [simple("y")]],
                        },
                        {
                            "name": "ijoin",
                            "taskReferenceName": "ijoin",
                            "type": "JOIN",
                            "joinOn": ["x", "y"],
                        },
                        simple("a_end"),
                    ],
                    [simple("b1")],
                ],
            },
            {
                "name": "join",
                "taskReferenceName": "join",
                "type": "JOIN",
                "joinOn": ["a_end", "b1"],
            },
        ]
    )
    flow = started(js, doc)
    assert flow.refs() == ["fork", "inner", "x", "y", "ijoin", "b1", "join"]
    flow.complete("x", {"x": 1})
    flow.complete("b1", {"b": 1})
    assert flow.status("ijoin") == "IN_PROGRESS" and "a_end" not in flow.refs()
    flow.complete("y", {"y": 1})
    assert flow.task("ijoin").output_data == {"x": {"x": 1}, "y": {"y": 1}}
    assert flow.status("join") == "IN_PROGRESS"
    assert flow.refs().count("ijoin") == 1
    flow.complete("a_end", {"a": 1})
    assert flow.task("join").output_data == {"a_end": {"a": 1}, "b1": {"b": 1}}
    assert flow.wf.status is WorkflowStatus.COMPLETED
    # like Conductor, without outputParameters the output is that of the last task in the list
    # (the last one scheduled, a_end), not of the last to finish (the JOIN)
    assert flow.wf.output == {"a": 1}


def test_an_optional_branch_failure_gives_join_completed_with_errors(js: JavaScript) -> None:
    doc = fork_doc()
    doc["tasks"][0]["forkTasks"][1] = [simple("b1"), simple("b2", optional=True, retryCount=0)]
    flow = started(js, doc)
    flow.complete("a1")
    flow.complete("a2")
    flow.complete("b1")
    tid = flow.task("b2").task_id
    flow.step([polled(tid), failed(tid, "meh")])
    assert flow.status("b2") == "COMPLETED_WITH_ERRORS"
    assert flow.status("join") == "COMPLETED_WITH_ERRORS"
    assert flow.wf.status is WorkflowStatus.RUNNING
    assert flow.status("after") == "SCHEDULED"


# -- FORK_JOIN_DYNAMIC ---------------------------------------------------------------------------
def test_dynamic_fork_and_its_join(js: JavaScript) -> None:
    doc = workflow_doc(
        [
            {
                "name": "dfork",
                "taskReferenceName": "dfork",
                "type": "FORK_JOIN_DYNAMIC",
                "dynamicForkTasksParam": "tasks",
                "dynamicForkTasksInputParamName": "inputs",
                "inputParameters": {
                    "tasks": "${workflow.input.tasks}",
                    "inputs": "${workflow.input.inputs}",
                },
            },
            {"name": "djoin", "taskReferenceName": "djoin", "type": "JOIN"},
            simple("after", inputParameters={"j": "${djoin.output}"}),
        ]
    )
    tasks = [
        {"name": "resize", "taskReferenceName": "r1", "inputParameters": {"w": 1}},
        {"name": "resize", "taskReferenceName": "r2"},
    ]
    flow = make_flow(
        js, doc, {"tasks": tasks, "inputs": {"r1": {"h": 10}, "r2": {"h": 20}}}, priority=2
    )
    d = flow.step()
    assert flow.refs() == ["dfork", "r1", "r2", "djoin"]
    assert flow.task("dfork").output_data == {"forkedTasks": ["r1", "r2"]}
    r1, r2 = flow.task("r1"), flow.task("r2")
    assert r1.task_type == "resize" and r1.input_data == {"w": 1, "h": 10}
    assert r2.input_data == {"h": 20}
    assert d.pushes == [Push("resize", r1.task_id, 0, 2), Push("resize", r2.task_id, 0, 2)]
    assert flow.task("djoin").input_data["joinOn"] == ["r1", "r2"]
    flow.complete("r2", {"n": 2})
    assert flow.status("djoin") == "IN_PROGRESS"
    flow.complete("r1", {"n": 1})
    assert flow.task("djoin").output_data == {"r1": {"n": 1}, "r2": {"n": 2}}
    assert flow.task("after").input_data == {"j": {"r1": {"n": 1}, "r2": {"n": 2}}}


def test_a_dynamic_fork_inside_a_loop_forks_again_each_iteration(js: JavaScript) -> None:
    doc = workflow_doc(
        [
            {
                "name": "loop",
                "taskReferenceName": "loop",
                "type": "DO_WHILE",
                "loopCondition": "$.loop['iteration'] < 2",
                "loopOver": [
                    {
                        "name": "dfork",
                        "taskReferenceName": "dfork",
                        "type": "FORK_JOIN_DYNAMIC",
                        "dynamicForkTasksParam": "tasks",
                        "dynamicForkTasksInputParamName": "inputs",
                        "inputParameters": {
                            "tasks": "${workflow.input.tasks}",
                            "inputs": {"r": {"size": 5}},
                        },
                    },
                    {"name": "djoin", "taskReferenceName": "djoin", "type": "JOIN"},
                ],
            },
            simple("after"),
        ]
    )
    flow = started(
        js,
        doc,
        {"tasks": [{"name": "resize", "taskReferenceName": "r"}]},
        task_defs=[{"name": "resize", "retryDelaySeconds": 0}],
    )
    assert flow.refs() == ["loop", "dfork__1", "r__1", "djoin__1"]
    assert flow.task("dfork__1").output_data == {"forkedTasks": ["r__1"]}
    r1 = flow.task("r__1")
    assert (r1.task_def_name, r1.input_data) == ("resize", {"size": 5})
    flow.complete("r__1", {"n": 1})
    # the second iteration forks its own task, and its JOIN waits for it
    assert flow.refs()[-3:] == ["dfork__2", "r__2", "djoin__2"]
    assert flow.status("djoin__2") == "IN_PROGRESS"
    assert flow.task("r__2").iteration == 2
    assert flow.task("r__2").input_data == {"size": 5}
    # a retry keeps the iteration's name
    tid = flow.task("r__2").task_id
    flow.step([polled(tid), failed(tid)])
    assert flow.task("r__2").retried_task_id == tid
    flow.complete("r__2", {"n": 2})
    assert flow.task("djoin__2").output_data == {"r__2": {"n": 2}}
    assert flow.status("loop") == "COMPLETED" and flow.status("after") == "SCHEDULED"


def test_a_dynamic_fork_with_a_bad_list_fails(js: JavaScript) -> None:
    doc = workflow_doc(
        [
            {
                "name": "dfork",
                "taskReferenceName": "dfork",
                "type": "FORK_JOIN_DYNAMIC",
                "dynamicForkTasksParam": "tasks",
                "inputParameters": {"tasks": "${workflow.input.tasks}"},
            },
            {"name": "djoin", "taskReferenceName": "djoin", "type": "JOIN"},
        ]
    )
    flow = make_flow(js, doc, {"tasks": "nope"})
    flow.step()
    assert flow.status("dfork") == "FAILED"
    assert flow.wf.status is WorkflowStatus.FAILED


# -- DO_WHILE -------------------------------------------------------------------------------------
def loop_doc(condition: str) -> dict[str, Any]:
    return workflow_doc(
        [
            {
                "name": "loop",
                "taskReferenceName": "loop",
                "type": "DO_WHILE",
                "inputParameters": {"max": "${workflow.input.max}"},
                "loopCondition": condition,
                "loopOver": [
                    simple("fetch", inputParameters={"page": "${loop.output.iteration}"}),
                    simple("store", inputParameters={"items": "${fetch.output.items}"}),
                ],
            },
            simple("after", inputParameters={"n": "${loop.output.iteration}"}),
        ]
    )


def test_do_while_runs_n_iterations(js: JavaScript) -> None:
    flow = make_flow(js, loop_doc("$.loop['iteration'] < $.max"), {"max": 3})
    d = flow.step()
    assert flow.refs() == ["loop", "fetch__1"]
    assert flow.task("loop").status is TaskStatus.IN_PROGRESS
    fetch = flow.task("fetch__1")
    assert fetch.iteration == 1 and fetch.loop_parent == "loop"
    assert fetch.task_type == "fetch"
    assert d.pushes == [Push("fetch", fetch.task_id, 0, 0)]
    for n in (1, 2, 3):
        flow.complete(f"fetch__{n}", {"items": [n]})
        assert flow.task(f"store__{n}").input_data == {"items": [n]}
        flow.complete(f"store__{n}", {"stored": n})
        if n < 3:
            assert flow.task("loop").status is TaskStatus.IN_PROGRESS
            assert flow.task(f"fetch__{n + 1}").iteration == n + 1
    loop = flow.task("loop")
    assert loop.status is TaskStatus.COMPLETED
    assert loop.output_data == {
        "1": {"fetch": {"items": [1]}, "store": {"stored": 1}},
        "2": {"fetch": {"items": [2]}, "store": {"stored": 2}},
        "3": {"fetch": {"items": [3]}, "store": {"stored": 3}},
        "iteration": 3,
    }
    assert flow.refs() == [
        "loop",
        "fetch__1",
        "store__1",
        "fetch__2",
        "store__2",
        "fetch__3",
        "store__3",
        "after",
    ]
    assert flow.task("after").input_data == {"n": 3}


def test_do_while_condition_reads_a_loop_tasks_output(js: JavaScript) -> None:
    flow = started(js, loop_doc("$.fetch.more == true"), {"max": 9})
    flow.complete("fetch__1", {"items": [], "more": True})
    flow.complete("store__1")
    assert "fetch__2" in flow.refs()
    flow.complete("fetch__2", {"more": False})
    flow.complete("store__2")
    assert flow.task("loop").status is TaskStatus.COMPLETED
    assert flow.task("loop").output_data["iteration"] == 2
    assert flow.status("after") == "SCHEDULED"


def test_do_while_retries_keep_the_iteration_name(js: JavaScript) -> None:
    flow = started(
        js, loop_doc("false"), {"max": 1}, task_defs=[{"name": "fetch", "retryDelaySeconds": 0}]
    )
    tid = flow.task("fetch__1").task_id
    d = flow.step([polled(tid), failed(tid)])
    retry = flow.task("fetch__1")
    assert retry.task_id != tid and retry.retried_task_id == tid and retry.iteration == 1
    assert retry.loop_parent == "loop"
    assert d.pushes == [Push("fetch", retry.task_id, 0, 0)]


# -- WAIT ------------------------------------------------------------------------------------------
def wait_doc(params: dict[str, Any]) -> dict[str, Any]:
    return workflow_doc(
        [
            {"name": "w", "taskReferenceName": "w", "type": "WAIT", "inputParameters": params},
            simple("after"),
        ]
    )


def test_wait_with_duration(js: JavaScript) -> None:
    flow = make_flow(js, wait_doc({"duration": "1m 30s"}))
    d = flow.step()
    w = flow.task("w")
    assert w.status is TaskStatus.IN_PROGRESS and w.wait_timeout == NOW + 90 * S
    assert d.pushes == [] and d.next_due_ms == NOW + 90 * S
    d = flow.step(now=NOW + 89 * S)
    assert not d.changed and flow.status("w") == "IN_PROGRESS"
    assert d.next_due_ms == NOW + 90 * S
    d = flow.step(now=NOW + 90 * S)
    assert flow.status("w") == "COMPLETED"
    assert flow.task("w").end_time == NOW + 90 * S
    assert flow.status("after") == "SCHEDULED"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30 seconds", 30),
        ("1 second", 1),
        ("5 secs", 5),
        ("2 minutes", 120),
        ("4 mins", 240),
        ("1 hour", 3600),
        ("2 hrs", 7200),
        ("3 days", 3 * 86400),
        ("1 day 2 hours", 93600),
        ("1h 30m", 5400),
        ("1h30m", 5400),
        ("2m", 120),
        ("1d", 86400),
        ("10", 10),
        (45, 45),
    ],
)
def test_wait_reads_conductors_durations(js: JavaScript, text: Any, seconds: int) -> None:
    assert parse_duration(text) == seconds
    flow = make_flow(js, wait_doc({"duration": text}))
    assert flow.step().next_due_ms == NOW + seconds * S


@pytest.mark.parametrize("text", ["soon", "5 ms", "ten seconds", "5 fortnights"])
def test_an_unreadable_duration_fails_the_wait(js: JavaScript, text: str) -> None:
    assert parse_duration(text) is None
    flow = make_flow(js, wait_doc({"duration": text}))
    flow.step()
    assert flow.status("w") == "FAILED"
    assert flow.task("w").reason_for_incompletion == f"cannot read duration {text!r}"


def test_wait_until(js: JavaScript) -> None:
    flow = make_flow(js, wait_doc({"until": "2027-01-15 10:00"}))
    d = flow.step()
    until = NOW + 2 * 3600 * S  # NOW is 2027-01-15T08:00:00Z
    assert flow.task("w").wait_timeout == until == d.next_due_ms
    flow.step(now=until)
    assert flow.status("w") == "COMPLETED"


def test_wait_until_in_the_past_completes_at_once(js: JavaScript) -> None:
    flow = make_flow(js, wait_doc({"until": "2020-01-01T00:00:00Z"}))
    flow.step()
    assert flow.status("w") == "COMPLETED" and flow.status("after") == "SCHEDULED"


def test_wait_without_a_time_waits_for_an_update(js: JavaScript) -> None:
    flow = make_flow(js, wait_doc({}))
    d = flow.step()
    assert flow.status("w") == "IN_PROGRESS" and d.next_due_ms is None
    flow.step([completed(flow.task("w").task_id, {"ok": 1})])
    assert flow.status("w") == "COMPLETED" and flow.status("after") == "SCHEDULED"


# -- INLINE, SET_VARIABLE, TERMINATE -------------------------------------------------------------
def test_inline_result_feeds_the_next_task(js: JavaScript) -> None:
    doc = workflow_doc(
        [
            {
                "name": "calc",
                "taskReferenceName": "calc",
                "type": "INLINE",
                "inputParameters": {
                    "evaluatorType": "javascript",
                    "expression": "$.a * 2 + 1",
                    "a": "${workflow.input.a}",
                },
            },
            simple("use", inputParameters={"r": "${calc.output.result}"}),
        ]
    )
    flow = make_flow(js, doc, {"a": 20})
    flow.step()
    assert flow.task("calc").output_data == {"result": 41}
    assert flow.task("use").input_data == {"r": 41}


def test_set_variable_then_read_back(js: JavaScript) -> None:
    doc = workflow_doc(
        [
            {
                "name": "setv",
                "taskReferenceName": "setv",
                "type": "SET_VARIABLE",
                "inputParameters": {"who": "${workflow.input.who}", "n": 2},
            },
            simple("use", inputParameters={"v": "${workflow.variables.who}"}),
        ],
        variables={"n": 1, "keep": True},
    )
    flow = make_flow(js, doc, {"who": "ann"})
    flow.step()
    assert flow.wf.variables == {"n": 2, "keep": True, "who": "ann"}
    assert flow.task("use").input_data == {"v": "ann"}


@pytest.mark.parametrize(
    ("status", "expected"),
    [("COMPLETED", WorkflowStatus.COMPLETED), ("FAILED", WorkflowStatus.FAILED)],
)
@pytest.mark.parametrize("terminate_first", [False, True])
def test_terminate_task_ends_the_workflow(
    js: JavaScript, status: str, expected: WorkflowStatus, terminate_first: bool
) -> None:
    stop = {
        "name": "stop",
        "taskReferenceName": "stop",
        "type": "TERMINATE",
        "inputParameters": {
            "terminationStatus": status,
            "terminationReason": "enough",
            "workflowOutput": {"why": "${workflow.input.why}"},
        },
    }
    branches = [[simple("slow")], [stop]]
    if terminate_first:
        branches.reverse()
    doc = workflow_doc(
        [
            {
                "name": "fork",
                "taskReferenceName": "fork",
                "type": "FORK_JOIN",
                "forkTasks": branches,
            },
            {
                "name": "join",
                "taskReferenceName": "join",
                "type": "JOIN",
                "joinOn": ["slow", "stop"],
            },
            simple("never"),
        ]
    )
    flow = make_flow(js, doc, {"why": "done"})
    d = flow.step()
    assert flow.wf.status is expected and d.ended_now
    assert flow.wf.output == {"why": "done"}
    assert flow.wf.reason_for_incompletion == "enough"
    stop = flow.task("stop")
    assert stop.status is TaskStatus.COMPLETED
    assert stop.output_data == {"why": "done"}  # Conductor's: the workflowOutput, no more
    # nothing is left running or waiting on a queue in the ended workflow
    assert all(t.status.terminal for t in flow.wf.tasks), flow.wf.tasks
    assert "never" not in flow.refs()
    assert d.pushes == [] or d.removals == [Removal("slow", flow.task("slow").task_id)]
    if expected is WorkflowStatus.FAILED:
        assert flow.wf.failed_reference_task_names == ["stop"]
    else:
        assert flow.wf.failed_reference_task_names == []
    assert d.next_due_ms is None


# -- SUB_WORKFLOW ---------------------------------------------------------------------------------
def sub_doc() -> dict[str, Any]:
    return workflow_doc(
        [
            {
                "name": "sub",
                "taskReferenceName": "sub",
                "type": "SUB_WORKFLOW",
                "subWorkflowParam": {"name": "child_flow", "version": 2},
                "inputParameters": {"id": "${workflow.input.id}"},
            },
            simple("after", inputParameters={"r": "${sub.output.r}"}),
        ]
    )


def test_sub_workflow_starts_a_child_with_a_fixed_id(js: JavaScript) -> None:
    flow = make_flow(js, sub_doc(), {"id": 5}, priority=4, correlation_id="c-1")
    d = flow.step()
    sub = flow.task("sub")
    assert sub.status is TaskStatus.IN_PROGRESS
    assert sub.sub_workflow_id == f"{sub.task_id}-sub"
    assert sub.output_data == {"subWorkflowId": sub.sub_workflow_id}
    assert d.pushes == []
    assert d.children == [
        ChildStart(
            workflow_id=f"{sub.task_id}-sub",
            name="child_flow",
            version=2,
            input={"id": 5},
            correlation_id="c-1",
            priority=4,
            parent_workflow_id=WF_ID,
            parent_workflow_task_id=sub.task_id,
        )
    ]
    # deciding again does not start it twice
    assert flow.step().children == []
    # the same state decides to the same child id
    again = make_flow(js, sub_doc(), {"id": 5}, priority=4, correlation_id="c-1").step()
    assert again.children == d.children


def test_child_completed_completes_the_task_with_its_output(js: JavaScript) -> None:
    flow = started(js, sub_doc(), {"id": 5})
    tid = flow.task("sub").task_id
    flow.step([child(tid, "COMPLETED", {"r": "ok"}, t=NOW + 5 * S)], now=NOW + 6 * S)
    sub = flow.task("sub")
    assert sub.status is TaskStatus.COMPLETED and sub.end_time == NOW + 5 * S
    # the child's output is added to the task's: subWorkflowId stays (Conductor's addOutput)
    assert sub.output_data == {"subWorkflowId": f"{tid}-sub", "r": "ok"}
    assert flow.task("after").input_data == {"r": "ok"}


@pytest.mark.parametrize(
    ("child_status", "task_status", "wf_status"),
    [
        ("FAILED", TaskStatus.FAILED, WorkflowStatus.FAILED),
        ("TIMED_OUT", TaskStatus.TIMED_OUT, WorkflowStatus.TIMED_OUT),
        ("TERMINATED", TaskStatus.CANCELED, WorkflowStatus.TERMINATED),
    ],
)
def test_child_failure_fails_the_parent_without_retries(
    js: JavaScript, child_status: str, task_status: TaskStatus, wf_status: WorkflowStatus
) -> None:
    flow = started(js, sub_doc(), {"id": 5})
    tid = flow.task("sub").task_id
    d = flow.step([child(tid, child_status, {}, reason="child broke")])
    assert [t.task_id for t in flow.wf.tasks] == [tid]  # no retry
    assert flow.task("sub").status is task_status
    assert flow.wf.status is wf_status and d.ended_now
    assert flow.wf.reason_for_incompletion == "child broke"
    assert flow.wf.failed_reference_task_names == ["sub"]


def test_a_child_event_for_a_worker_task_is_ignored(js: JavaScript) -> None:
    flow = started(js, workflow_doc([simple("t1")]))
    d = flow.step([child(flow.task("t1").task_id, "COMPLETED", {"x": 1})])
    assert flow.status("t1") == "SCHEDULED" and not d.changed


@pytest.mark.parametrize("outcome", ["COMPLETED", "FAILED"])
def test_a_child_workflow_that_ends_tells_its_parent(js: JavaScript, outcome: str) -> None:
    flow = started(
        js,
        workflow_doc([simple("t1")], outputParameters={"r": "${t1.output.r}"}),
        parent_workflow_id="parent-1",
        parent_workflow_task_id="parent-1.3",
    )
    tid = flow.task("t1").task_id
    if outcome == "COMPLETED":
        d = flow.step([polled(tid), completed(tid, {"r": 1})])
        expected = ParentNotice("parent-1", "parent-1.3", WorkflowStatus.COMPLETED, {"r": 1}, "")
    else:
        d = flow.step([polled(tid), failed(tid, "bad", terminal=True)])
        expected = ParentNotice("parent-1", "parent-1.3", WorkflowStatus.FAILED, {}, "bad")
    assert d.parent_notice == expected
    # an ended child decided again tells again (the notice is idempotent at the parent)
    assert flow.step().parent_notice == expected


def test_a_running_child_tells_nobody(js: JavaScript) -> None:
    flow = make_flow(
        js, workflow_doc([simple("t1")]), parent_workflow_id="p", parent_workflow_task_id="p.1"
    )
    assert flow.step().parent_notice is None


# -- purity ----------------------------------------------------------------------------------------
def test_decide_never_changes_its_input(js: JavaScript) -> None:
    # every step() asserts this; here a busy decide: a fork, events and a timeout at once
    flow = started(js, fork_doc())
    a1 = flow.task("a1").task_id
    before = flow.wf.to_doc()
    wf = flow.wf
    flow.step(
        [polled(a1), completed(a1, {"x": [1, {"y": 2}]}), in_progress(flow.task("b1").task_id, 5)]
    )
    assert wf.to_doc() == before
    assert flow.wf is not wf
