"""The workflow language as Conductor runs it (issue 12): the system task types the decider runs
itself, and the results that used to differ silently. Each expectation is Conductor's behaviour
as its source and documentation give it."""

from __future__ import annotations

from typing import Any

import pytest

from dynoq.errors import InvalidDefinition
from dynoq.workflow.definitions import parse_workflow_def
from dynoq.workflow.domains import domain_choices, pick_domain
from dynoq.workflow.effects import Publish
from dynoq.workflow.javascript import JavaScript
from dynoq.workflow.model import TaskStatus, WorkflowStatus
from dynoq.workflow.system_tasks import poll_delay, poll_settings

from .decide_support import (
    NOW,
    failed,
    make_flow,
    polled,
    simple,
    started,
    update,
    workflow_doc,
)


def system(kind: str, ref: str, **fields: Any) -> dict[str, Any]:
    return {"name": ref, "taskReferenceName": ref, "type": kind, **fields}


def refused(doc: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidDefinition) as caught:
        parse_workflow_def(doc)
    return dict(caught.value.problems)


# -- task types that used to be refused -----------------------------------------------------
def test_json_jq_transform_runs_real_jq(js: JavaScript) -> None:
    jq = system(
        "JSON_JQ_TRANSFORM",
        "jq",
        inputParameters={
            "orders": "${workflow.input.orders}",
            "queryExpression": (
                ".orders | map(select(.qty > 1)) | .[] | {id, total: (.qty * .price)}"
            ),
        },
    )
    flow = started(
        js,
        workflow_doc([jq, simple("after", inputParameters={"r": "${jq.output}"})]),
        {
            "orders": [
                {"id": "a", "qty": 2, "price": 3},
                {"id": "b", "qty": 1, "price": 9},
                {"id": "c", "qty": 4, "price": 1},
            ],
        },
    )
    out = flow.task("jq").output_data
    assert flow.task("jq").status is TaskStatus.COMPLETED
    assert out == {
        "result": {"id": "a", "total": 6},
        "resultList": [{"id": "a", "total": 6}, {"id": "c", "total": 4}],
    }
    assert flow.task("after").input_data == {"r": out}


def test_json_jq_transform_error_fails_the_task_with_jq_s_message(js: JavaScript) -> None:
    jq = system("JSON_JQ_TRANSFORM", "jq", inputParameters={"v": 1, "queryExpression": ".v.x"})
    flow = started(js, workflow_doc([jq]))
    task = flow.task("jq")
    assert task.status is TaskStatus.FAILED
    assert "Cannot index number" in task.reason_for_incompletion
    assert task.output_data == {"error": task.reason_for_incompletion}
    assert flow.wf.status is WorkflowStatus.FAILED


def test_a_jq_program_that_does_not_compile_is_refused_at_registration() -> None:
    doc = workflow_doc(
        [system("JSON_JQ_TRANSFORM", "jq", inputParameters={"queryExpression": ".a |||"})]
    )
    problems = refused(doc)
    assert "syntax error" in problems["$.tasks[0].inputParameters.queryExpression"]
    missing = refused(workflow_doc([system("JSON_JQ_TRANSFORM", "jq", taskDefinition={})]))
    assert "queryExpression" in missing["$.tasks[0].inputParameters.queryExpression"]


def test_lambda_runs_its_script_expression_as_a_function_body(js: JavaScript) -> None:
    script = "if ($.n > 2) { return {big: true, n: $.n}; } return {big: false};"
    lam = system(
        "LAMBDA", "lam", inputParameters={"n": "${workflow.input.n}", "scriptExpression": script}
    )
    flow = started(js, workflow_doc([lam]), {"n": 5})
    assert flow.task("lam").output_data == {"result": {"big": True, "n": 5}}
    assert flow.task("lam").task_type == "LAMBDA"
    assert flow.wf.status is WorkflowStatus.COMPLETED
    assert (
        "scriptExpression"
        in refused(workflow_doc([system("LAMBDA", "l", inputParameters={})]))[
            "$.tasks[0].inputParameters.scriptExpression"
        ]
    )


def test_noop_completes_and_human_waits_for_an_update(js: JavaScript) -> None:
    flow = started(
        js, workflow_doc([system("NOOP", "nothing"), system("HUMAN", "approve"), simple("after")])
    )
    assert flow.task("nothing").status is TaskStatus.COMPLETED
    human = flow.task("approve")
    assert human.status is TaskStatus.IN_PROGRESS
    assert flow.refs() == ["nothing", "approve"]
    flow.step([update(human.task_id, "COMPLETED", output={"ok": True})])
    assert flow.task("approve").output_data == {"ok": True}
    assert flow.refs() == ["nothing", "approve", "after"]


def test_kafka_publish_is_accepted_and_fails_without_a_broker(js: JavaScript) -> None:
    task = system(
        "KAFKA_PUBLISH", "k", inputParameters={"kafka_request": {"topic": "t", "value": 1}}
    )
    flow = started(js, workflow_doc([task]))
    assert flow.task("k").status is TaskStatus.FAILED
    assert "Kafka broker" in flow.task("k").reason_for_incompletion
    assert (
        "kafka_request"
        in refused(workflow_doc([system("KAFKA_PUBLISH", "k", taskDefinition={})]))[
            "$.tasks[0].inputParameters.kafka_request"
        ]
    )


@pytest.mark.parametrize(
    ("sink", "event", "queue"),
    [
        ("conductor", "conductor:flow:ev", "conductor-events"),
        ("conductor:orders", "conductor:flow:orders", "conductor-events"),
        ("dynoq:audit", "dynoq:audit", "audit"),
    ],
)
def test_event_publishes_its_input(js: JavaScript, sink: str, event: str, queue: str) -> None:
    ev = system("EVENT", "ev", sink=sink, inputParameters={"order": "${workflow.input.id}"})
    flow = started(js, workflow_doc([ev]), {"id": 7}, correlation_id="corr")
    task = flow.task("ev")
    (publish,) = flow.decisions[-1].publishes
    assert publish == Publish(
        queue,
        task.task_id,
        {
            "event": event,
            "payload": {"order": 7},
            "workflowInstanceId": flow.wf.workflow_id,
            "workflowType": "flow",
            "workflowVersion": 1,
            "correlationId": "corr",
            "taskId": task.task_id,
            "taskRefName": "ev",
            "publishedTime": NOW,
        },
    )
    assert task.status is TaskStatus.COMPLETED
    assert task.output_data["event_produced"] == event
    assert task.output_data["sink"] == sink
    assert task.output_data["order"] == 7
    assert task.output_data["workflowInstanceId"] == flow.wf.workflow_id


def test_event_sinks_dynoq_cannot_publish_to_are_refused_by_name() -> None:
    problems = refused(workflow_doc([system("EVENT", "ev", sink="sqs:my-queue")]))
    assert "'sqs' is not supported" in problems["$.tasks[0].sink"]
    assert "needs a sink" in refused(workflow_doc([system("EVENT", "ev")]))["$.tasks[0].sink"]


def test_event_with_async_complete_waits_after_publishing(js: JavaScript) -> None:
    flow = started(js, workflow_doc([system("EVENT", "ev", sink="conductor", asyncComplete=True)]))
    assert flow.task("ev").status is TaskStatus.IN_PROGRESS
    assert len(flow.decisions[-1].publishes) == 1


def test_start_workflow_starts_another_and_completes_with_its_id(js: JavaScript) -> None:
    request = {"name": "other", "version": 2, "input": {"x": "${workflow.input.x}"}}
    flow = started(
        js,
        workflow_doc([system("START_WORKFLOW", "go", inputParameters={"startWorkflow": request})]),
        {"x": 1},
        correlation_id="c-9",
    )
    (child,) = flow.decisions[-1].children
    assert (child.name, child.version, child.input, child.correlation_id) == (
        "other",
        2,
        {"x": 1},
        "c-9",
    )
    assert child.parent_workflow_id == ""  # not a sub-workflow: its end is nobody's business
    go = flow.task("go")
    assert child.started_by == (flow.wf.workflow_id, go.task_id)
    assert go.status is TaskStatus.IN_PROGRESS  # until the start is carried out
    flow.step([update(go.task_id, "COMPLETED", output={"workflowId": child.workflow_id})])
    assert flow.task("go").output_data == {"workflowId": child.workflow_id}
    assert flow.wf.status is WorkflowStatus.COMPLETED
    again = started(js, workflow_doc([system("START_WORKFLOW", "go", inputParameters={})]))
    assert again.task("go").reason_for_incompletion == "Missing 'startWorkflow' in input data."


def exclusive_doc() -> dict[str, Any]:
    decision = system(
        "DECISION",
        "pick",
        caseValueParam="kind",
        inputParameters={"kind": "${workflow.input.kind}"},
        decisionCases={"a": [simple("a1")], "b": [simple("b1")]},
        defaultCase=[simple("d1")],
    )
    join = system("EXCLUSIVE_JOIN", "ej", joinOn=["a1", "b1"], defaultExclusiveJoinTask=["d1"])
    return workflow_doc(
        [decision, join, simple("after", inputParameters={"got": "${ej.output.v}"})]
    )


@pytest.mark.parametrize(("kind", "ran"), [("b", "b1"), ("zzz", "d1")])
def test_exclusive_join_takes_the_output_of_the_branch_that_ran(
    js: JavaScript, kind: str, ran: str
) -> None:
    flow = started(js, exclusive_doc(), {"kind": kind})
    flow.complete(ran, {"v": ran})
    ej = flow.task("ej")
    assert (ej.status, ej.task_type, ej.output_data) == (
        TaskStatus.COMPLETED,
        "EXCLUSIVE_JOIN",
        {"v": ran},
    )
    assert flow.task("after").input_data == {"got": ran}


def test_exclusive_join_passes_an_optional_branch_that_failed(js: JavaScript) -> None:
    doc = exclusive_doc()
    doc["tasks"][0]["decisionCases"]["a"][0]["optional"] = True
    flow = started(js, doc, {"kind": "a"})
    tid = flow.task("a1").task_id
    flow.step([polled(tid), failed(tid, "no stock", terminal=True)])
    assert flow.task("a1").status is TaskStatus.COMPLETED_WITH_ERRORS  # successful, for Conductor
    assert flow.task("ej").status is TaskStatus.COMPLETED
    assert flow.refs()[-1] == "after"


# -- results that used to differ silently ----------------------------------------------------
@pytest.mark.parametrize(
    ("given", "output"),
    [({"a": 1}, {"a": 1}), ("done", {"output": "done"}), ([1, 2], {"output": [1, 2]}), (None, {})],
)
def test_terminate_wraps_an_output_that_is_not_a_map(
    js: JavaScript, given: Any, output: Any
) -> None:
    stop = system(
        "TERMINATE",
        "stop",
        inputParameters={"terminationStatus": "COMPLETED", "workflowOutput": given},
    )
    flow = started(js, workflow_doc([stop, simple("never")]))
    assert flow.wf.status is WorkflowStatus.COMPLETED
    assert flow.wf.output == output
    assert flow.task("stop").output_data == output
    assert flow.wf.reason_for_incompletion == (
        f"Workflow is COMPLETED by TERMINATE task: {flow.task('stop').task_id}"
    )


def test_decision_reports_case_output_and_takes_the_default_for_an_empty_case(
    js: JavaScript,
) -> None:
    decision = system(
        "DECISION",
        "d",
        caseValueParam="k",
        inputParameters={"k": "${workflow.input.k}"},
        decisionCases={"x": [simple("x1")], "empty": []},
        defaultCase=[simple("dflt")],
    )
    flow = started(js, workflow_doc([decision]), {"k": "empty"})
    d = flow.task("d")
    assert d.output_data["caseOutput"] == ["empty"]
    assert d.input_data["case"] == "empty"
    assert (d.task_type, d.task_def_name) == ("DECISION", "DECISION")
    assert flow.refs() == ["d", "dflt"]


def test_system_tasks_report_conductor_s_task_types(js: JavaScript) -> None:
    fork = system("FORK_JOIN", "fork", forkTasks=[[simple("l")], [simple("r")]])
    join = system("JOIN", "join", joinOn=["l", "r"])
    flow = started(js, workflow_doc([fork, join]))
    types = {t.reference_task_name: (t.task_type, t.task_def_name) for t in flow.wf.tasks}
    assert types == {
        "fork": ("FORK", "FORK"),
        "l": ("l", "l"),
        "r": ("r", "r"),
        "join": ("JOIN", "JOIN"),
    }
    context_type = flow.step().workflow  # the context reports the same type
    assert context_type.tasks[0].task_type == "FORK"


def test_cpewf_task_id_resolves_to_the_task_s_own_id(js: JavaScript) -> None:
    flow = started(
        js,
        workflow_doc(
            [simple("a", inputParameters={"me": "${CPEWF_TASK_ID}", "x": "id ${CPEWF_TASK_ID}"})]
        ),
    )
    task = flow.task("a")
    assert task.input_data == {"me": task.task_id, "x": f"id {task.task_id}"}


def test_task_def_input_template_fills_inputs_that_resolve_to_null(js: JavaScript) -> None:
    tdef = {"name": "a", "inputTemplate": {"region": "eu", "level": 1}}
    flow = started(
        js,
        workflow_doc([simple("a", inputParameters={"region": "${workflow.input.region}"})]),
        {},
        task_defs=[tdef],
    )
    assert flow.task("a").input_data == {"region": "eu", "level": 1}


@pytest.mark.parametrize("form", ["$workflow.input.onFail", "${workflow.input.onFail}"])
def test_failure_workflow_from_the_input_and_its_id_in_the_output(
    js: JavaScript, form: str
) -> None:
    flow = started(js, workflow_doc([simple("a")], failureWorkflow=form), {"onFail": "cleanup"})
    tid = flow.task("a").task_id
    decision = flow.step([polled(tid), failed(tid, terminal=True)])
    assert decision.failure_workflow is not None
    assert decision.failure_workflow.name == "cleanup"
    assert flow.wf.output["conductor.failure_workflow"] == decision.failure_workflow.workflow_id


def test_sub_workflow_inline_definition_keeps_its_expressions_for_the_child(js: JavaScript) -> None:
    child_def = workflow_doc(
        [simple("c", inputParameters={"v": "${workflow.input.v}"})], name="child"
    )
    sub = system(
        "SUB_WORKFLOW",
        "sub",
        subWorkflowParam={"name": "child", "workflowDefinition": child_def},
        inputParameters={"v": "${workflow.input.parentV}"},
    )
    flow = started(js, workflow_doc([sub]), {"parentV": 3})
    (child,) = flow.decisions[-1].children
    assert child.definition == child_def  # not resolved in the parent's context
    assert child.input == {"v": 3}


# -- DO_WHILE ---------------------------------------------------------------------------------
def test_do_while_resolves_its_condition_input_each_iteration(js: JavaScript) -> None:
    loop = system(
        "DO_WHILE",
        "loop",
        inputParameters={"last": "${step.output.n}"},
        loopCondition="$.last < 3",
        loopOver=[simple("step", inputParameters={"i": "${loop.output.iteration}"})],
    )
    flow = started(js, workflow_doc([loop]))
    seen = []
    for n in (1, 2, 3):
        step = flow.task(f"step__{n}")
        seen.append(step.input_data["i"])
        flow.complete(f"step__{n}", {"n": n})
    assert seen == [1, 2, 3]
    assert flow.task("loop").status is TaskStatus.COMPLETED
    assert flow.task("loop").output_data["iteration"] == 3


def test_do_while_over_items_with_keep_last_n(js: JavaScript) -> None:
    loop = system(
        "DO_WHILE",
        "loop",
        items="${workflow.input.names}",
        inputParameters={"keepLastN": 2},
        loopOver=[simple("greet", inputParameters={"who": "${loop.output.loopItem}"})],
    )
    flow = started(js, workflow_doc([loop]), {"names": ["ann", "bob", "cy"]})
    got = []
    for n in (1, 2, 3):
        got.append(flow.task(f"greet__{n}").input_data["who"])
        flow.complete(f"greet__{n}", {"n": n})
    assert got == ["ann", "bob", "cy"]
    loop_task = flow.task("loop")
    assert loop_task.status is TaskStatus.COMPLETED
    assert sorted(k for k in loop_task.output_data if k.isdigit()) == ["2", "3"]
    assert [
        t.reference_task_name for t in flow.wf.tasks if t.reference_task_name.startswith("greet")
    ] == [
        "greet__2",
        "greet__3",
    ]


def test_do_while_over_an_empty_list_completes_at_once(js: JavaScript) -> None:
    loop = system("DO_WHILE", "loop", items="${workflow.input.names}", loopOver=[simple("g")])
    flow = started(js, workflow_doc([loop, simple("after")]), {"names": []})
    assert flow.task("loop").output_data == {"iteration": 0}
    assert flow.refs() == ["loop", "after"]


@pytest.mark.parametrize("condition", ["$.nothing.here > 1", "null"])
def test_a_loop_condition_that_errors_or_gives_null_fails_the_loop(
    js: JavaScript, condition: str
) -> None:
    loop = system("DO_WHILE", "loop", loopCondition=condition, loopOver=[simple("s")])
    flow = started(js, workflow_doc([loop]))
    flow.complete("s__1")
    task = flow.task("loop")
    assert task.status is TaskStatus.FAILED_WITH_TERMINAL_ERROR
    assert task.reason_for_incompletion.startswith(f"Unable to evaluate condition {condition}")
    assert flow.wf.status is WorkflowStatus.FAILED
    assert [t.reference_task_name for t in flow.wf.tasks] == ["loop", "s__1"]


# -- definitions ----------------------------------------------------------------------------
def test_schema_version_1_is_refused_as_conductor_refuses_it() -> None:
    assert refused(workflow_doc([simple("a")], schemaVersion=1)) == {
        "$.schemaVersion": "workflowDef schemaVersion: 1 is only supported"
    }


def test_an_embedded_task_definition_is_not_held_to_the_timeout_check() -> None:
    inline = {"timeoutSeconds": 10, "responseTimeoutSeconds": 3600}
    parsed = parse_workflow_def(workflow_doc([simple("a", taskDefinition=inline)]))
    assert parsed.tasks[0].task_definition is not None


# -- expressions ------------------------------------------------------------------------------
def test_jsonpath_forms_as_jayway_gives_them(js: JavaScript) -> None:
    items = [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 3}, {"sku": "c", "qty": 5}]
    inputs = {
        "all": "${workflow.input.items[*].sku}",
        "deep": "${workflow.input..qty}",
        "many": "${workflow.input.items[?(@.qty > 2)].sku}",
        "last": "${workflow.input.items[-1].sku}",
        "count": "${workflow.input.items.length()}",
        "none": "${workflow.input.items[?(@.qty > 9)].sku}",
    }
    flow = started(js, workflow_doc([simple("a", inputParameters=inputs)]), {"items": items})
    assert flow.task("a").input_data == {
        "all": ["a", "b", "c"],
        "deep": [1, 3, 5],
        "many": ["b", "c"],
        "last": "c",
        "count": 3,
        "none": [],
    }


def test_javascript_java_idioms_on_lists_and_maps(js: JavaScript) -> None:
    bindings = {"items": [4, 5, 6], "m": {"a": 1, "b": 2}}
    assert js.evaluate("$.items.get(1) + $.items.size()", bindings) == 8
    assert js.evaluate("$.m.get('b') + $.m.size() + $.m.length", bindings) == 6
    assert js.evaluate("$.m.containsKey('a') && !$.m.isEmpty() && $.items.contains(6)", bindings)
    assert js.evaluate("JSON.stringify($.m)", bindings) == '{"a":1,"b":2}'
    assert js.evaluate("Object.keys($.m)", bindings) == ["a", "b"]


# -- HTTP_POLL --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("strategy", "delays"),
    [("FIXED", [5, 5, 5]), ("LINEAR_BACKOFF", [5, 10, 15]), ("EXPONENTIAL_BACKOFF", [5, 10, 20])],
)
def test_http_poll_waits_as_its_polling_strategy_says(strategy: str, delays: list[int]) -> None:
    settings = poll_settings(
        {"http_request": {"uri": "u", "pollingInterval": 5, "pollingStrategy": strategy}}
    )
    assert [poll_delay(settings, n) for n in (1, 2, 3)] == delays


def test_http_poll_needs_a_termination_condition_that_compiles() -> None:
    bare = system("HTTP_POLL", "p", inputParameters={"http_request": {"uri": "u"}})
    assert (
        "terminationCondition"
        in refused(workflow_doc([bare]))[
            "$.tasks[0].inputParameters.http_request.terminationCondition"
        ]
    )
    broken = system(
        "HTTP_POLL",
        "p",
        inputParameters={"http_request": {"uri": "u", "terminationCondition": "$.output ==="}},
    )
    assert (
        "SyntaxError"
        in refused(workflow_doc([broken]))[
            "$.tasks[0].inputParameters.http_request.terminationCondition"
        ]
    )


# -- domains ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("mapping", "active", "expected"),
    [
        ({"pay": "eu,us"}, {"us"}, "us"),  # the first listed domain with an active poller
        ({"pay": "eu,us"}, set(), "us"),  # none active: the last listed
        ({"pay": "eu,NO_DOMAIN"}, set(), ""),  # ... unless that is NO_DOMAIN
        ({"pay": "eu,NO_DOMAIN"}, {"eu"}, "eu"),
        ({"*": "test"}, set(), "test"),  # "*" for every task type not listed
        ({"*": "test", "pay": "NO_DOMAIN"}, {"test"}, ""),
        ({"other": "x"}, {"x"}, ""),
    ],
)
def test_a_task_s_domain_follows_conductor_s_rules(
    mapping: dict[str, str], active: set[str], expected: str
) -> None:
    assert pick_domain(domain_choices("pay", mapping), active) == expected


def test_a_task_in_a_domain_waits_on_the_domain_s_queue(js: JavaScript) -> None:
    flow = make_flow(
        js, workflow_doc([simple("pay"), simple("ship")]), task_to_domain={"pay": "eu,us"}
    )
    decision = flow.step()
    assert flow.task("pay").domain == "us"
    assert [p.task_type for p in decision.pushes] == ["us:pay"]
    decision = flow.step([update(flow.task("pay").task_id, "COMPLETED")])
    assert flow.task("ship").domain == ""
    assert [p.task_type for p in decision.pushes] == ["ship"]


@pytest.mark.parametrize(
    ("field", "value", "where"),
    [
        ("permissive", True, "$.tasks[0].permissive"),
        ("cacheConfig", {"key": "k", "ttlInSecond": 5}, "$.tasks[0].cacheConfig"),
        ("onStateChange", {"onStart": [{"type": "x"}]}, "$.tasks[0].onStateChange"),
        ("totalTimeoutSeconds", 30, "$.tasks[0].taskDefinition.totalTimeoutSeconds"),
    ],
)
def test_a_feature_dynoq_lacks_is_refused_by_name(field: str, value: Any, where: str) -> None:
    task = simple("a")
    doc = workflow_doc([task])
    if where.startswith("$.tasks[0].taskDefinition"):
        task["taskDefinition"] = {field: value}
    elif where.startswith("$.tasks"):
        task[field] = value
    else:
        doc[field] = value
    assert "not supported by dynoq" in refused(doc)[where]


def test_a_long_loop_of_system_tasks_carries_on_in_the_next_decide(js: JavaScript) -> None:
    body = system(
        "INLINE",
        "inc",
        inputParameters={"evaluatorType": "javascript", "expression": "1"},
    )
    loop = system("DO_WHILE", "loop", loopCondition="$.loop.iteration < 260", loopOver=[body])
    flow = started(js, workflow_doc([loop]))
    rounds = 1
    while flow.wf.status is WorkflowStatus.RUNNING and rounds < 20:
        assert flow.decisions[-1].next_due_ms == NOW  # not left for an hour
        flow.step()
        rounds += 1
    assert flow.wf.status is WorkflowStatus.COMPLETED
    assert rounds > 1  # it did take more than one decide
    assert flow.task("loop").output_data["iteration"] == 260


def test_a_dynamic_fork_of_fork_task_inputs(js: JavaScript) -> None:
    fork = system(
        "FORK_JOIN_DYNAMIC",
        "fan",
        inputParameters={"forkTaskName": "resize", "forkTaskInputs": "${workflow.input.images}"},
    )
    join = system("JOIN", "join")
    flow = started(js, workflow_doc([fork, join]), {"images": [{"url": "a"}, "b"]})
    assert flow.task("fan").output_data == {"forkedTasks": ["_resize_0", "_resize_1"]}
    first, second = flow.task("_resize_0"), flow.task("_resize_1")
    assert (first.task_type, first.input_data) == ("resize", {"url": "a", "__index": 0})
    assert second.input_data == {"input": "b", "__index": 1}
    flow.complete("_resize_0", {"w": 1})
    flow.complete("_resize_1", {"w": 2})
    assert flow.task("join").output_data == {"_resize_0": {"w": 1}, "_resize_1": {"w": 2}}
    assert flow.wf.status is WorkflowStatus.COMPLETED
    workflow_fork = system("FORK_JOIN_DYNAMIC", "f", inputParameters={"forkTaskWorkflow": "w"})
    assert (
        "not supported"
        in refused(workflow_doc([workflow_fork, join]))[
            "$.tasks[0].inputParameters.forkTaskWorkflow"
        ]
    )


def test_enforce_schema_is_refused_only_with_a_schema_to_enforce() -> None:
    parse_workflow_def(workflow_doc([simple("a")], enforceSchema=True))  # Conductor's default
    with_schema = workflow_doc([simple("a")], enforceSchema=True, inputSchema={"name": "s"})
    assert "not supported by dynoq" in refused(with_schema)["$.enforceSchema"]
