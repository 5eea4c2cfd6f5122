"""``decide`` when things go wrong: retries and their delays, optional tasks, timeouts of tasks
and workflows, the failure workflow, and the next due time that makes timers fire."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from dynoq.workflow.decide import Push, Removal, retry_delay_ms
from dynoq.workflow.definitions import RetryLogic, TaskDef, parse_task_def
from dynoq.workflow.javascript import JavaScript
from dynoq.workflow.model import TaskStatus, WorkflowStatus

from .decide_support import (
    NOW,
    WF_ID,
    S,
    completed,
    failed,
    polled,
    simple,
    started,
    update,
    workflow_doc,
)


# -- retry_delay_ms -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("tdef", "delays_s"),
    [
        ({}, [60, 60, 60]),  # Conductor's defaults: FIXED, 60 s
        ({"retryLogic": "FIXED", "retryDelaySeconds": 5}, [5, 5, 5, 5]),
        ({"retryLogic": "FIXED", "retryDelaySeconds": 0}, [0, 0]),
        ({"retryLogic": "LINEAR_BACKOFF", "retryDelaySeconds": 2}, [2, 4, 6, 8]),
        (
            {"retryLogic": "LINEAR_BACKOFF", "retryDelaySeconds": 2, "backoffScaleFactor": 3},
            [6, 12, 18],
        ),
        ({"retryLogic": "EXPONENTIAL_BACKOFF", "retryDelaySeconds": 3}, [3, 6, 12, 24, 48]),
        (
            {
                "retryLogic": "EXPONENTIAL_BACKOFF",
                "retryDelaySeconds": 3,
                "maxRetryDelaySeconds": 20,
            },
            [3, 6, 12, 20, 20],
        ),
        (
            {"retryLogic": "LINEAR_BACKOFF", "retryDelaySeconds": 10, "maxRetryDelaySeconds": 25},
            [10, 20, 25, 25],
        ),
        ({"retryDelaySeconds": 30, "maxRetryDelaySeconds": 10}, [10, 10]),
    ],
)
def test_retry_delay_ms(tdef: dict[str, Any], delays_s: list[int]) -> None:
    task_def = parse_task_def({"name": "t", **tdef})
    assert [retry_delay_ms(task_def, n) for n in range(len(delays_s))] == [d * S for d in delays_s]


def test_exponential_backoff_does_not_explode() -> None:
    tdef = TaskDef(name="t", retry_logic=RetryLogic.EXPONENTIAL_BACKOFF)
    assert retry_delay_ms(tdef, 10_000) == 60 * 2**30 * S


# -- retries --------------------------------------------------------------------------------------
RETRY_LOGIC = {
    "FIXED": ({"retryLogic": "FIXED", "retryDelaySeconds": 7}, [7, 7]),
    "LINEAR_BACKOFF": (
        {"retryLogic": "LINEAR_BACKOFF", "retryDelaySeconds": 4, "backoffScaleFactor": 2},
        [8, 16],
    ),
    "EXPONENTIAL_BACKOFF": ({"retryLogic": "EXPONENTIAL_BACKOFF", "retryDelaySeconds": 5}, [5, 10]),
    "capped": (
        {"retryLogic": "EXPONENTIAL_BACKOFF", "retryDelaySeconds": 5, "maxRetryDelaySeconds": 6},
        [5, 6],
    ),
}


def two_tasks(**t1: Any) -> dict[str, Any]:
    return workflow_doc([simple("t1", "work", **t1), simple("t2")])


@pytest.mark.parametrize("logic", list(RETRY_LOGIC))
def test_failed_task_is_retried_until_its_retries_run_out(js: JavaScript, logic: str) -> None:
    tdef, delays = RETRY_LOGIC[logic]
    flow = started(
        js,
        two_tasks(inputParameters={"x": "${workflow.input.x}"}),
        {"x": 1},
        priority=5,
        task_defs=[{"name": "work", "retryCount": 2, **tdef}],
    )
    first = flow.task("t1")
    ids = [first.task_id]
    for n, delay in enumerate(delays, start=1):
        t = flow.task("t1")
        at = NOW + n * 100 * S
        d = flow.step([polled(t.task_id, at), failed(t.task_id, f"boom {n}", at)], now=at)
        old = next(x for x in flow.wf.tasks if x.task_id == t.task_id)
        assert old.status is TaskStatus.FAILED and old.retried
        new = flow.task("t1")
        assert new.task_id not in ids
        ids.append(new.task_id)
        assert new.status is TaskStatus.SCHEDULED
        assert new.retry_count == n and new.retried_task_id == t.task_id
        assert new.input_data == {"x": 1}  # re-resolved from the definition
        assert new.first_scheduled_time == first.scheduled_time
        assert new.start_delay_in_seconds == delay
        assert new.poll_count == 0 and new.output_data == {}
        assert d.pushes == [Push("work", new.task_id, delay * S, 5)]
        assert flow.wf.status is WorkflowStatus.RUNNING
    last = flow.task("t1")
    d = flow.step([polled(last.task_id), failed(last.task_id, "final")], now=NOW + 999 * S)
    assert flow.wf.status is WorkflowStatus.FAILED and d.ended_now
    assert flow.wf.reason_for_incompletion == "final"
    assert flow.wf.failed_reference_task_names == ["t1"]
    assert flow.wf.failed_task_names == ["work"]
    assert flow.wf.failed_task_id == last.task_id
    assert len(flow.tasks("t1")) == 3 and "t2" not in flow.refs()
    assert d.pushes == [] and d.next_due_ms is None


def test_a_retry_that_completes_carries_on(js: JavaScript) -> None:
    flow = started(js, two_tasks(), task_defs=[{"name": "work", "retryDelaySeconds": 0}])
    tid = flow.task("t1").task_id
    flow.step([polled(tid), failed(tid)])
    flow.complete("t1", {"ok": 1})
    assert flow.status("t2") == "SCHEDULED"
    assert [t.retried for t in flow.tasks("t1")] == [True, False]


def test_workflow_task_retry_count_overrides_the_task_def(js: JavaScript) -> None:
    flow = started(js, two_tasks(retryCount=0), task_defs=[{"name": "work", "retryCount": 5}])
    tid = flow.task("t1").task_id
    flow.step([polled(tid), failed(tid)])
    assert flow.wf.status is WorkflowStatus.FAILED and len(flow.wf.tasks) == 1


def test_an_unregistered_simple_task_gets_conductors_default_retries(js: JavaScript) -> None:
    flow = started(js, two_tasks())
    for _ in range(3):
        t = flow.task("t1")
        d = flow.step([polled(t.task_id), failed(t.task_id)])
        assert d.pushes[0].delay_ms == 60 * S
    t = flow.task("t1")
    flow.step([polled(t.task_id), failed(t.task_id)])
    assert flow.wf.status is WorkflowStatus.FAILED
    assert [t.retry_count for t in flow.tasks("t1")] == [0, 1, 2, 3]


def test_failed_with_terminal_error_is_never_retried(js: JavaScript) -> None:
    flow = started(js, two_tasks(), task_defs=[{"name": "work", "retryCount": 5}])
    tid = flow.task("t1").task_id
    d = flow.step([polled(tid), failed(tid, "fatal", terminal=True)])
    assert flow.status("t1") == "FAILED_WITH_TERMINAL_ERROR"
    assert len(flow.wf.tasks) == 1
    assert flow.wf.status is WorkflowStatus.FAILED and d.ended_now
    assert flow.wf.reason_for_incompletion == "fatal"


def test_a_reason_is_made_up_when_the_worker_gives_none(js: JavaScript) -> None:
    flow = started(js, two_tasks(retryCount=0))
    tid = flow.task("t1").task_id
    flow.step([polled(tid), failed(tid, "")])
    assert flow.wf.reason_for_incompletion == "task t1 FAILED"


@pytest.mark.parametrize("terminal", [False, True])
def test_an_optional_task_that_fails_lets_the_workflow_continue(
    js: JavaScript, terminal: bool
) -> None:
    flow = started(
        js,
        two_tasks(optional=True, retryCount=1),
        task_defs=[{"name": "work", "retryDelaySeconds": 0}],
    )
    if not terminal:  # an ordinary failure is retried first
        tid = flow.task("t1").task_id
        flow.step([polled(tid), failed(tid)])
        assert flow.status("t1") == "SCHEDULED"
    tid = flow.task("t1").task_id
    d = flow.step([polled(tid), failed(tid, "meh", terminal=terminal)])
    t1 = flow.task("t1")
    assert t1.status is TaskStatus.COMPLETED_WITH_ERRORS and t1.executed
    assert t1.reason_for_incompletion == "meh"
    assert flow.wf.status is WorkflowStatus.RUNNING
    assert flow.status("t2") == "SCHEDULED"
    assert [p.task_id for p in d.pushes] == [flow.task("t2").task_id]
    flow.complete("t2")
    assert flow.wf.status is WorkflowStatus.COMPLETED


def test_a_failed_inline_script_is_not_retried_without_a_task_def(js: JavaScript) -> None:
    doc = workflow_doc(
        [
            {
                "name": "calc",
                "taskReferenceName": "calc",
                "type": "INLINE",
                "inputParameters": {"evaluatorType": "javascript", "expression": "$.x.y.z"},
            }
        ]
    )
    flow = started(js, doc)
    assert flow.status("calc") == "FAILED" and len(flow.wf.tasks) == 1
    assert flow.wf.status is WorkflowStatus.FAILED


# -- timeouts -------------------------------------------------------------------------------------
def test_response_timeout_times_out_and_retries(js: JavaScript) -> None:
    flow = started(
        js,
        two_tasks(),
        task_defs=[{"name": "work", "responseTimeoutSeconds": 10, "retryDelaySeconds": 1}],
    )
    tid = flow.task("t1").task_id
    d = flow.step([polled(tid, NOW + 2 * S)], now=NOW + 2 * S)
    assert d.next_due_ms == NOW + 12 * S
    d = flow.step(now=NOW + 12 * S - 1)
    assert flow.status("t1") == "IN_PROGRESS" and not d.changed
    d = flow.step(now=NOW + 12 * S)
    old = flow.tasks("t1")[0]
    assert old.status is TaskStatus.TIMED_OUT and old.retried
    assert old.reason_for_incompletion == "response timed out"
    assert old.end_time == NOW + 12 * S
    new = flow.task("t1")
    assert new.status is TaskStatus.SCHEDULED and new.retry_count == 1
    assert d.pushes == [Push("work", new.task_id, S, 0)]
    assert flow.wf.status is WorkflowStatus.RUNNING


def test_an_update_keeps_the_response_timeout_away(js: JavaScript) -> None:
    flow = started(js, two_tasks(), task_defs=[{"name": "work", "responseTimeoutSeconds": 10}])
    tid = flow.task("t1").task_id
    flow.step([polled(tid, NOW)])
    d = flow.step([update(tid, "IN_PROGRESS", NOW + 8 * S, extend_lease=True)], now=NOW + 8 * S)
    assert d.next_due_ms == NOW + 18 * S
    flow.step(now=NOW + 12 * S)
    assert flow.status("t1") == "IN_PROGRESS"


def test_response_timeout_without_retries_times_out_the_workflow(js: JavaScript) -> None:
    flow = started(
        js, two_tasks(), task_defs=[{"name": "work", "responseTimeoutSeconds": 5, "retryCount": 0}]
    )
    tid = flow.task("t1").task_id
    flow.step([polled(tid, NOW)])
    d = flow.step(now=NOW + 5 * S)
    assert flow.status("t1") == "TIMED_OUT"
    assert flow.wf.status is WorkflowStatus.TIMED_OUT and d.ended_now
    assert flow.wf.failed_reference_task_names == ["t1"]


def poll_timeout(policy: str, **extra: Any) -> list[dict[str, Any]]:
    return [
        {
            "name": "work",
            "pollTimeoutSeconds": 30,
            "timeoutPolicy": policy,
            "retryDelaySeconds": 0,
            **extra,
        }
    ]


def test_poll_timeout_retry(js: JavaScript) -> None:
    flow = started(js, two_tasks(), task_defs=poll_timeout("RETRY"))
    first = flow.task("t1")
    assert flow.decisions[-1].next_due_ms == NOW + 30 * S
    d = flow.step(now=NOW + 30 * S)
    old = flow.tasks("t1")[0]
    assert old.status is TaskStatus.TIMED_OUT and old.reason_for_incompletion == "poll timed out"
    new = flow.task("t1")
    assert new.retry_count == 1 and new.retried_task_id == first.task_id
    assert d.removals == [Removal("work", first.task_id)]
    assert d.pushes == [Push("work", new.task_id, 0, 0)]
    assert flow.wf.status is WorkflowStatus.RUNNING
    assert d.next_due_ms == NOW + 60 * S


def test_poll_timeout_time_out_wf(js: JavaScript) -> None:
    flow = started(js, two_tasks(), task_defs=poll_timeout("TIME_OUT_WF"))
    tid = flow.task("t1").task_id
    d = flow.step(now=NOW + 30 * S)
    assert flow.status("t1") == "TIMED_OUT" and len(flow.wf.tasks) == 1
    assert flow.wf.status is WorkflowStatus.TIMED_OUT and d.ended_now
    assert flow.wf.reason_for_incompletion == "task t1: poll timed out"
    assert d.removals == [Removal("work", tid)]
    assert d.next_due_ms is None


def test_poll_timeout_alert_only_does_nothing(js: JavaScript) -> None:
    flow = started(js, two_tasks(), task_defs=poll_timeout("ALERT_ONLY"))
    # the poll deadline is not a due time: only the response window of a task polled now is
    assert flow.decisions[-1].next_due_ms == NOW + 3600 * S
    d = flow.step(now=NOW + 31 * S)
    assert flow.status("t1") == "SCHEDULED" and not d.changed
    assert flow.wf.status is WorkflowStatus.RUNNING


def test_poll_timeout_counts_from_the_start_delay_and_callback(js: JavaScript) -> None:
    flow = started(js, two_tasks(startDelay=20), task_defs=poll_timeout("TIME_OUT_WF"))
    assert flow.decisions[-1].next_due_ms == NOW + 50 * S
    flow.step(now=NOW + 49 * S)
    assert flow.wf.status is WorkflowStatus.RUNNING
    flow.step(now=NOW + 50 * S)
    assert flow.wf.status is WorkflowStatus.TIMED_OUT


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("TIME_OUT_WF", WorkflowStatus.TIMED_OUT),
        ("RETRY", WorkflowStatus.RUNNING),
        ("ALERT_ONLY", WorkflowStatus.RUNNING),
    ],
)
def test_task_timeout_seconds(js: JavaScript, policy: str, expected: WorkflowStatus) -> None:
    flow = started(
        js,
        two_tasks(),
        task_defs=[
            {
                "name": "work",
                "timeoutSeconds": 60,
                "responseTimeoutSeconds": 40,
                "timeoutPolicy": policy,
                "retryDelaySeconds": 0,
            }
        ],
    )
    tid = flow.task("t1").task_id
    flow.step([polled(tid, NOW)])
    for n in range(1, 4):  # keep the response timeout away
        d = flow.step(
            [update(tid, "IN_PROGRESS", NOW + 20 * n * S, extend_lease=True)], now=NOW + 20 * n * S
        )
        if n == 2:
            # the task deadline (60 s) is due before the response deadline (80 s), unless ALERT_ONLY
            assert d.next_due_ms == (NOW + 80 * S if policy == "ALERT_ONLY" else NOW + 60 * S)
    old = next(t for t in flow.wf.tasks if t.task_id == tid)
    assert flow.wf.status is expected
    if policy == "ALERT_ONLY":
        assert old.status is TaskStatus.IN_PROGRESS
    else:
        assert old.status is TaskStatus.TIMED_OUT
        assert old.reason_for_incompletion == "task timed out"
    if policy == "RETRY":
        assert flow.task("t1").retry_count == 1


def test_workflow_timeout_time_out_wf(js: JavaScript) -> None:
    doc = workflow_doc(
        [
            {
                "name": "fork",
                "taskReferenceName": "fork",
                "type": "FORK_JOIN",
                "forkTasks": [
                    [simple("a")],
                    [
                        {
                            "name": "sub",
                            "taskReferenceName": "sub",
                            "type": "SUB_WORKFLOW",
                            "subWorkflowParam": {"name": "kid"},
                        }
                    ],
                    [{"name": "w", "taskReferenceName": "w", "type": "WAIT"}],
                ],
            },
            {
                "name": "join",
                "taskReferenceName": "join",
                "type": "JOIN",
                "joinOn": ["a", "sub", "w"],
            },
        ],
        timeoutSeconds=100,
        timeoutPolicy="TIME_OUT_WF",
    )
    flow = started(js, doc)
    assert flow.decisions[-1].next_due_ms == NOW + 100 * S
    d = flow.step(now=NOW + 100 * S - 1)
    assert flow.wf.status is WorkflowStatus.RUNNING and not d.changed
    a = flow.task("a").task_id
    sub = flow.task("sub")
    d = flow.step(now=NOW + 100 * S)
    assert flow.wf.status is WorkflowStatus.TIMED_OUT and d.ended_now
    assert flow.wf.reason_for_incompletion == "workflow timed out"
    assert flow.wf.end_time == NOW + 100 * S
    for ref in ("a", "sub", "w", "join"):
        assert flow.status(ref) == "CANCELED", ref
    assert d.removals == [Removal("a", a)]
    assert d.terminate_children == [sub.sub_workflow_id]
    assert d.next_due_ms is None


def test_workflow_timeout_alert_only_does_nothing(js: JavaScript) -> None:
    flow = started(js, workflow_doc([simple("t1")], timeoutSeconds=100, timeoutPolicy="ALERT_ONLY"))
    assert flow.decisions[-1].next_due_ms == NOW + 3600 * S
    d = flow.step(now=NOW + 200 * S)
    assert flow.wf.status is WorkflowStatus.RUNNING and not d.changed


def test_next_due_is_the_earliest_deadline(js: JavaScript) -> None:
    doc = workflow_doc(
        [
            {
                "name": "fork",
                "taskReferenceName": "fork",
                "type": "FORK_JOIN",
                "forkTasks": [
                    [simple("a", "slowpoll")],
                    [simple("b", "quick")],
                    [
                        {
                            "name": "w",
                            "taskReferenceName": "w",
                            "type": "WAIT",
                            "inputParameters": {"duration": "500 seconds"},
                        }
                    ],
                ],
            },
            {
                "name": "join",
                "taskReferenceName": "join",
                "type": "JOIN",
                "joinOn": ["a", "b", "w"],
            },
        ],
        timeoutSeconds=1000,
        timeoutPolicy="TIME_OUT_WF",
    )
    defs = [
        {"name": "slowpoll", "pollTimeoutSeconds": 300, "timeoutPolicy": "RETRY"},
        {"name": "quick", "responseTimeoutSeconds": 200},
    ]
    flow = started(js, doc, task_defs=defs)
    # b, were it polled now, could time out first
    assert flow.decisions[-1].next_due_ms == NOW + 200 * S
    b = flow.task("b").task_id
    d = flow.step([polled(b, NOW + 150 * S)], now=NOW + 150 * S)
    assert d.next_due_ms == NOW + 300 * S  # a's poll timeout; b now has until 350
    d = flow.step(now=NOW + 300 * S)
    assert flow.task("a").retry_count == 1
    # a was retried after 60 s; b's response (350 s) comes first
    assert d.next_due_ms == NOW + 350 * S
    flow.step([completed(b, {})], now=NOW + 301 * S)
    d = flow.decisions[-1]
    # now the WAIT's end (500 s) is first, then a's new poll window (300 + 60 + 300 s)
    assert d.next_due_ms == NOW + 500 * S


def test_a_task_nobody_polls_does_not_make_the_workflow_due_at_once(js: JavaScript) -> None:
    """A SCHEDULED task's earliest response deadline is counted from a poll that has not come
    yet: once that moment has passed without a poll, the next due time must still be ahead,
    or the decider would decide the workflow again and again without pause."""
    flow = started(js, two_tasks(), task_defs=[{"name": "work", "responseTimeoutSeconds": 10}])
    assert flow.decisions[-1].next_due_ms == NOW + 10 * S
    later = NOW + 10 * S
    d = flow.step(now=later)
    assert flow.status("t1") == "SCHEDULED"
    assert d.next_due_ms is not None and d.next_due_ms > later
    assert d.next_due_ms == later + 10 * S


# -- the failure workflow -------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["cleanup", "${workflow.input.onFailure}"])
def test_a_failing_workflow_starts_its_failure_workflow(js: JavaScript, name: str) -> None:
    flow = started(
        js,
        two_tasks(retryCount=0),
        {"onFailure": "cleanup"},
        correlation_id="corr",
        priority=3,
        task_to_domain={"t1": "blue"},
    )
    flow.definition = dataclasses.replace(flow.definition, failure_workflow=name)
    tid = flow.task("t1").task_id
    d = flow.step([polled(tid), failed(tid, "disk full")])
    assert flow.wf.status is WorkflowStatus.FAILED
    fw = d.failure_workflow
    assert fw is not None
    assert fw.name == "cleanup" and fw.workflow_id == f"{WF_ID}-failure-{flow.wf.task_counter}"
    assert fw.correlation_id == "corr" and fw.priority == 3 and fw.parent_workflow_id == ""
    # Conductor starts it with the failed workflow's input plus what went wrong
    assert fw.input["onFailure"] == "cleanup"
    assert fw.task_to_domain == {"t1": "blue"}
    assert fw.input["workflowId"] == WF_ID
    assert fw.input["reason"] == "disk full"
    assert fw.input["failureStatus"] == "FAILED"
    assert fw.input["failureTaskId"] == tid
    failed_wf = fw.input["failedWorkflow"]
    assert failed_wf["workflowId"] == WF_ID and failed_wf["status"] == "FAILED"
    assert [t["taskId"] for t in failed_wf["tasks"]] == [tid]
    # only the decide that ends the workflow starts it
    assert flow.step().failure_workflow is None


def test_a_timed_out_workflow_starts_its_failure_workflow(js: JavaScript) -> None:
    flow = started(
        js,
        workflow_doc(
            [simple("t1")], timeoutSeconds=5, timeoutPolicy="TIME_OUT_WF", failureWorkflow="fix"
        ),
    )
    d = flow.step(now=NOW + 5 * S)
    assert d.failure_workflow is not None
    assert d.failure_workflow.input["failureStatus"] == "TIMED_OUT"
    assert d.failure_workflow.input["failureTaskId"] == ""


def test_a_completed_workflow_starts_no_failure_workflow(js: JavaScript) -> None:
    flow = started(js, workflow_doc([simple("t1")], failureWorkflow="fix"))
    d = flow.complete("t1")
    assert flow.wf.status is WorkflowStatus.COMPLETED and d.failure_workflow is None
