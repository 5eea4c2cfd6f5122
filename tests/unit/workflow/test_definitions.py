"""Definitions: parsing Conductor's JSON, defaults, round trips and every validation problem."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from dynoq.errors import InvalidDefinition
from dynoq.workflow.definitions import (
    RetryLogic,
    TaskDef,
    TaskTimeoutPolicy,
    TaskType,
    WorkflowDef,
    WorkflowTimeoutPolicy,
    iter_workflow_tasks,
    parse_task_def,
    parse_workflow_def,
    task_def_to_doc,
    workflow_def_to_doc,
    workflow_task_index,
)


def simple(ref: str, **extra: Any) -> dict[str, Any]:
    return {"name": f"{ref}_task", "taskReferenceName": ref, "type": "SIMPLE", **extra}


def workflow(*tasks: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": "flow", "version": 1, "schemaVersion": 2, "tasks": list(tasks), **extra}


FULL: dict[str, Any] = workflow(
    simple(
        "charge",
        inputParameters={"orderId": "${workflow.input.orderId}", "fixed": [1, {"a": None}]},
        retryCount=5,
        optional=True,
        startDelay=10,
        asyncComplete=True,
        taskDefinition={"retryCount": 1, "retryLogic": "EXPONENTIAL_BACKOFF"},
        rateLimited=True,  # not modelled: kept in raw and carried back out
    ),
    {
        "name": "route",
        "taskReferenceName": "route",
        "type": "SWITCH",
        "evaluatorType": "javascript",
        "expression": "$.amount > 100 ? 'big' : 'small'",
        "inputParameters": {"amount": "${charge.output.amount}"},
        "decisionCases": {
            "big": [simple("approve")],
            "odd case": [
                {
                    "name": "wait",
                    "taskReferenceName": "hold",
                    "type": "WAIT",
                    "inputParameters": {"duration": "1 minute"},
                }
            ],
        },
        "defaultCase": [
            {
                "name": "inline",
                "taskReferenceName": "calc",
                "type": "INLINE",
                "inputParameters": {
                    "evaluatorType": "graaljs",
                    "expression": "(function () { return $.x * ${workflow.input.factor}; })()",
                    "x": 2,
                },
            }
        ],
    },
    {
        "name": "fork",
        "taskReferenceName": "fork",
        "type": "FORK_JOIN",
        "forkTasks": [[simple("left")], [simple("right"), simple("right2")]],
    },
    {"name": "join", "taskReferenceName": "join", "type": "JOIN", "joinOn": ["left", "right2"]},
    {
        "name": "loop",
        "taskReferenceName": "loop",
        "type": "DO_WHILE",
        "loopCondition": "if ($.loop['iteration'] < 3) { true; } else { false; }",
        "loopOver": [simple("step")],
        "inputParameters": {},
    },
    {
        "name": "child",
        "taskReferenceName": "child",
        "type": "SUB_WORKFLOW",
        "subWorkflowParam": {"name": "child_flow", "version": 2},
    },
    {
        "name": "dyn",
        "taskReferenceName": "dyn",
        "type": "DYNAMIC",
        "dynamicTaskNameParam": "taskToRun",
        "inputParameters": {"taskToRun": "${workflow.input.which}"},
    },
    {
        "name": "dfork",
        "taskReferenceName": "dfork",
        "type": "FORK_JOIN_DYNAMIC",
        "dynamicForkTasksParam": "tasks",
        "dynamicForkTasksInputParamName": "inputs",
    },
    {"name": "djoin", "taskReferenceName": "djoin", "type": "JOIN"},
    {
        "name": "vars",
        "taskReferenceName": "vars",
        "type": "SET_VARIABLE",
        "inputParameters": {"seen": True},
    },
    {
        "name": "stop",
        "taskReferenceName": "stop",
        "type": "TERMINATE",
        "inputParameters": {"terminationStatus": "COMPLETED"},
    },
    description="an order",
    inputParameters=["orderId", "factor"],
    outputParameters={"id": "${charge.output.id}", "note": "done with ${calc.output.result}"},
    timeoutSeconds=3600,
    timeoutPolicy="TIME_OUT_WF",
    failureWorkflow="cleanup",
    restartable=False,
    variables={"seen": False},
    ownerEmail="a@b.c",
    createTime=1700000000000,
    updateTime=1700000000001,
    inputTemplate={"factor": 2},
    workflowStatusListenerEnabled=True,
)


def problems_of(doc: Any, **kwargs: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidDefinition) as caught:
        parse_workflow_def(doc, **kwargs)
    return caught.value.problems


def paths_of(doc: Any, **kwargs: Any) -> list[str]:
    return [path for path, _ in problems_of(doc, **kwargs)]


# --------------------------------------------------------------------------- parsing


def test_a_full_definition_parses() -> None:
    wf = parse_workflow_def(FULL)
    assert (wf.name, wf.version, wf.description, wf.timeout_seconds) == (
        "flow",
        1,
        "an order",
        3600,
    )
    assert wf.timeout_policy is WorkflowTimeoutPolicy.TIME_OUT_WF
    assert wf.input_parameters == ("orderId", "factor")
    assert (wf.restartable, wf.variables, wf.failure_workflow) == (
        False,
        {"seen": False},
        "cleanup",
    )
    assert wf.raw == FULL
    charge, route, fork, join = wf.tasks[:4]
    assert (charge.retry_count, charge.optional, charge.start_delay, charge.async_complete) == (
        5,
        True,
        10,
        True,
    )
    assert charge.task_definition is not None
    assert charge.task_definition.name == "charge_task"
    assert charge.task_definition.retry_logic is RetryLogic.EXPONENTIAL_BACKOFF
    assert route.type is TaskType.SWITCH and route.evaluator_type == "javascript"
    assert [t.task_reference_name for t in route.decision_cases["odd case"]] == ["hold"]
    assert fork.fork_tasks[1][1].task_reference_name == "right2"
    assert join.join_on == ("left", "right2")
    assert wf.tasks[4].loop_over[0].task_reference_name == "step"
    assert wf.tasks[5].sub_workflow_param == {"name": "child_flow", "version": 2}


def test_defaults() -> None:
    wf = parse_workflow_def({"name": "w", "tasks": [{"name": "a", "taskReferenceName": "a"}]})
    assert wf == WorkflowDef(name="w", tasks=wf.tasks)
    task = wf.tasks[0]
    assert task.type is TaskType.SIMPLE
    assert (task.retry_count, task.task_definition, task.evaluator_type) == (
        None,
        None,
        "value-param",
    )
    assert parse_task_def({"name": "t"}) == TaskDef(name="t")
    td = TaskDef(name="t")
    assert (td.retry_count, td.retry_logic, td.retry_delay_seconds) == (3, RetryLogic.FIXED, 60)
    assert (td.response_timeout_seconds, td.timeout_policy) == (3600, TaskTimeoutPolicy.TIME_OUT_WF)


def test_unknown_fields_are_ignored_but_kept_in_raw() -> None:
    wf = parse_workflow_def(workflow(simple("a", rateLimited=True), mystery={"x": 1}))
    assert wf.raw["mystery"] == {"x": 1}
    assert wf.tasks[0].raw["rateLimited"] is True
    td = parse_task_def({"name": "t", "baseType": "x", "runtimeMetadata": {"a": 1}})
    assert td == TaskDef(name="t")


def test_the_parsed_values_do_not_share_the_document() -> None:
    doc = copy.deepcopy(FULL)
    wf = parse_workflow_def(doc)
    doc["tasks"][0]["inputParameters"]["orderId"] = "changed"
    doc["variables"]["seen"] = "changed"
    assert wf.tasks[0].input_parameters["orderId"] == "${workflow.input.orderId}"
    assert wf.variables == {"seen": False}


def test_graaljs_switches_read_as_javascript() -> None:
    doc = workflow(
        {
            "name": "s",
            "taskReferenceName": "s",
            "type": "SWITCH",
            "evaluatorType": "graaljs",
            "expression": "'a'",
            "defaultCase": [simple("d")],
        }
    )
    assert parse_workflow_def(doc).tasks[0].evaluator_type == "javascript"


# --------------------------------------------------------------------------- documents


def test_round_trip() -> None:
    wf = parse_workflow_def(FULL)
    doc = workflow_def_to_doc(wf)
    again = parse_workflow_def(doc)
    assert again == wf
    assert workflow_def_to_doc(again) == doc
    doc["tasks"][0]["inputParameters"]["fixed"].append(2)
    doc["tasks"][0]["rateLimited"] = False
    assert workflow_def_to_doc(wf)["tasks"][0]["inputParameters"]["fixed"] == [1, {"a": None}]
    assert workflow_def_to_doc(wf)["tasks"][0]["rateLimited"] is True


def test_an_inline_task_def_takes_the_task_name() -> None:
    wf = parse_workflow_def(workflow(simple("a", taskDefinition={"name": ""})))
    assert wf.tasks[0].task_definition == TaskDef(name="a_task")


def test_documents_hold_every_field_in_camel_case() -> None:
    doc = workflow_def_to_doc(parse_workflow_def(FULL))
    assert doc["timeoutPolicy"] == "TIME_OUT_WF" and doc["schemaVersion"] == 2
    assert doc["inputParameters"] == ["orderId", "factor"]
    assert doc["inputTemplate"] == {"factor": 2}  # not modelled, carried over
    charge = doc["tasks"][0]
    assert charge["type"] == "SIMPLE" and charge["rateLimited"] is True
    assert charge["taskDefinition"]["retryLogic"] == "EXPONENTIAL_BACKOFF"
    assert charge["taskDefinition"]["inputKeys"] == []
    route = doc["tasks"][1]
    assert route["decisionCases"]["odd case"][0]["type"] == "WAIT"
    assert route["defaultCase"][0]["taskReferenceName"] == "calc"
    assert doc["tasks"][2]["forkTasks"][1][0]["name"] == "right_task"
    assert doc["tasks"][4]["loopOver"][0]["retryCount"] is None
    assert set(doc["tasks"][8]) >= {"name", "joinOn", "loopOver", "subWorkflowParam", "type"}


def test_task_def_round_trip() -> None:
    doc = {
        "name": "t",
        "description": "d",
        "retryCount": 0,
        "retryLogic": "LINEAR_BACKOFF",
        "retryDelaySeconds": 5,
        "backoffScaleFactor": 2,
        "maxRetryDelaySeconds": 60,
        "timeoutSeconds": 120,
        "responseTimeoutSeconds": 30,
        "pollTimeoutSeconds": 10,
        "timeoutPolicy": "RETRY",
        "inputKeys": ["a"],
        "outputKeys": ["b"],
        "inputTemplate": {"a": 1},
        "concurrentExecLimit": 4,
        "rateLimitPerFrequency": 10,
        "rateLimitFrequencyInSeconds": 60,
        "ownerEmail": "o@e",
        "createTime": 1,
        "updateTime": 2,
    }
    td = parse_task_def(doc)
    assert task_def_to_doc(td) == doc
    assert parse_task_def(task_def_to_doc(td)) == td


# --------------------------------------------------------------------------- helpers


def test_iteration_and_index() -> None:
    wf = parse_workflow_def(FULL)
    refs = [task.task_reference_name for task in iter_workflow_tasks(wf.tasks)]
    assert refs[:8] == ["charge", "route", "approve", "hold", "calc", "fork", "left", "right"]
    assert refs[8:12] == ["right2", "join", "loop", "step"]
    index = workflow_task_index(wf)
    assert refs[12:] == ["child", "dyn", "dfork", "djoin", "vars", "stop"]
    assert len(index) == len(refs) == 18
    assert index["hold"].type is TaskType.WAIT


# --------------------------------------------------------------------------- problems


def test_several_problems_are_reported_together_with_their_paths() -> None:
    doc = workflow(
        simple("a", startDelay=-1, optional="yes"),
        {
            "name": "s",
            "taskReferenceName": "s",
            "type": "SWITCH",
            "expression": "x",
            "decisionCases": {"a": [simple("a")], "b": [{"name": "n", "type": "NOPE"}]},
        },
        name="",
        schemaVersion=1,
        timeoutPolicy="RETRY",
        version="2",
        outputParameters={"x": "${}"},
    )
    problems = problems_of(doc)
    assert [path for path, _ in problems] == [
        "$.name",
        "$.tasks[0].optional",
        "$.tasks[0].startDelay",
        "$.tasks[1].decisionCases.a[0].taskReferenceName",
        "$.tasks[1].decisionCases.b[0].taskReferenceName",
        "$.tasks[1].decisionCases.b[0].type",
        "$.version",
        "$.timeoutPolicy",
        "$.schemaVersion",
        "$.outputParameters.x",
    ]
    messages = dict(problems)
    assert (
        "duplicate taskReferenceName 'a'"
        in messages["$.tasks[1].decisionCases.a[0].taskReferenceName"]
    )
    assert messages["$.tasks[1].decisionCases.b[0].type"] == "unknown task type 'NOPE'"
    assert messages["$.tasks[0].startDelay"] == "must be at least 0, not -1"
    assert messages["$.version"] == "must be an integer, not a string"
    assert "ALERT_ONLY" in messages["$.timeoutPolicy"]
    assert messages["$.schemaVersion"] == "workflowDef schemaVersion: 1 is only supported"


def test_the_error_message_lists_every_problem() -> None:
    with pytest.raises(InvalidDefinition) as caught:
        parse_workflow_def({"tasks": []})
    assert caught.value.problems == [
        ("$.name", "name is required"),
        ("$.tasks", "a workflow needs at least one task"),
    ]
    assert "$.name: name is required; $.tasks:" in str(caught.value)
    assert caught.value.field == "$.name"


@pytest.mark.parametrize(
    ("doc", "path", "fragment"),
    [
        ("nope", "$", "must be an object"),
        ({"name": "w", "tasks": None}, "$.tasks", "at least one task"),
        ({"name": "w", "tasks": {}}, "$.tasks", "must be a list"),
        ({"name": "  ", "tasks": [simple("a")]}, "$.name", "required"),
        ({"name": None, "tasks": [simple("a")]}, "$.name", "required"),
        ({"name": 5, "tasks": [simple("a")]}, "$.name", "must be a string"),
        (workflow("x"), "$.tasks[0]", "must be an object"),
        (workflow({"taskReferenceName": "a"}), "$.tasks[0].name", "required"),
        (workflow({"name": "a"}), "$.tasks[0].taskReferenceName", "required"),
        (workflow(simple("a"), timeoutSeconds=1.5), "$.timeoutSeconds", "integer"),
        (workflow(simple("a"), timeoutSeconds=True), "$.timeoutSeconds", "integer"),
        (workflow(simple("a"), restartable="no"), "$.restartable", "true or false"),
        (workflow(simple("a"), inputParameters=["a", 1]), "$.inputParameters[1]", "string"),
        (workflow(simple("a"), variables=[]), "$.variables", "object"),
        (workflow(simple("a", retryCount=-2)), "$.tasks[0].retryCount", "at least 0"),
        (workflow(simple("a", type="SIMPLE_ISH")), "$.tasks[0].type", "unknown task type"),
        (workflow(simple("a", type=["SIMPLE"])), "$.tasks[0].type", "unknown task type"),
        (workflow(simple("a"), timeoutPolicy=["X"]), "$.timeoutPolicy", "must be one of"),
        (
            workflow(simple("a", inputParameters={"x": ["${a"]})),
            "$.tasks[0].inputParameters.x[0]",
            "unclosed",
        ),
        (workflow(simple("a"), failureWorkflow="${a...b}"), "$.failureWorkflow", "bad expression"),
        (workflow(simple("a"), simple("a")), "$.tasks[1].taskReferenceName", "duplicate"),
    ],
)
def test_workflow_problems(doc: Any, path: str, fragment: str) -> None:
    problems = problems_of(doc)
    assert path in dict(problems), problems
    assert fragment in dict(problems)[path]


def control(kind: str, **fields: Any) -> dict[str, Any]:
    return {"name": kind.lower(), "taskReferenceName": kind.lower(), "type": kind, **fields}


@pytest.mark.parametrize(
    ("tasks", "path", "fragment"),
    [
        ([control("JOIN", joinOn=["a", "ghost"]), simple("a")], "$.tasks[0].joinOn[1]", "'ghost'"),
        ([control("SWITCH", expression="x")], "$.tasks[0]", "decisionCases or a defaultCase"),
        (
            [control("SWITCH", evaluatorType="python", expression="x", defaultCase=[simple("d")])],
            "$.tasks[0].evaluatorType",
            "value-param or javascript",
        ),
        ([control("SWITCH", defaultCase=[simple("d")])], "$.tasks[0].expression", "expression"),
        (
            [
                control(
                    "SWITCH",
                    evaluatorType="javascript",
                    expression="$.a >",
                    defaultCase=[simple("d")],
                )
            ],
            "$.tasks[0].expression",
            "SyntaxError",
        ),
        ([control("DECISION", defaultCase=[simple("d")])], "$.tasks[0]", "caseValueParam"),
        (
            [control("DECISION", caseExpression="(", defaultCase=[simple("d")])],
            "$.tasks[0].caseExpression",
            "SyntaxError",
        ),
        (
            [
                control(
                    "INLINE", inputParameters={"evaluatorType": "javascript", "expression": "1 +"}
                )
            ],
            "$.tasks[0].inputParameters.expression",
            "SyntaxError",
        ),
        (
            [control("INLINE", inputParameters={"expression": "1"})],
            "$.tasks[0].inputParameters.evaluatorType",
            "javascript or graaljs",
        ),
        (
            [control("INLINE", inputParameters={"evaluatorType": "javascript"})],
            "$.tasks[0].inputParameters.expression",
            "needs a script",
        ),
        (
            [control("DO_WHILE", loopCondition="$.x <", loopOver=[simple("b")])],
            "$.tasks[0].loopCondition",
            "SyntaxError",
        ),
        ([control("DO_WHILE", loopOver=[simple("b")])], "$.tasks[0].loopCondition", "needs"),
        ([control("DO_WHILE", loopCondition="false")], "$.tasks[0].loopOver", "needs"),
        ([control("SUB_WORKFLOW")], "$.tasks[0].subWorkflowParam.name", "needs"),
        (
            [control("SUB_WORKFLOW", subWorkflowParam={"name": "c", "version": "1"})],
            "$.tasks[0].subWorkflowParam.version",
            "integer",
        ),
        (
            [control("SUB_WORKFLOW", subWorkflowParam={"workflowDefinition": {"name": "c"}})],
            "$.tasks[0].subWorkflowParam.workflowDefinition.tasks",
            "at least one task",
        ),
        ([control("FORK_JOIN"), control("JOIN")], "$.tasks[0].forkTasks", "at least one branch"),
        (
            [control("FORK_JOIN", forkTasks=[[simple("a")], []]), control("JOIN")],
            "$.tasks[0].forkTasks[1]",
            "at least one task",
        ),
        (
            [control("FORK_JOIN", forkTasks=[[simple("a")]]), simple("b"), control("JOIN")],
            "$.tasks[0]",
            "followed by a JOIN",
        ),
        ([control("FORK_JOIN", forkTasks=[[simple("a")]])], "$.tasks[0]", "followed by a JOIN"),
        (
            [control("FORK_JOIN_DYNAMIC", dynamicForkTasksParam="t")],
            "$.tasks[0]",
            "followed by a JOIN",
        ),
        (
            [control("FORK_JOIN_DYNAMIC"), control("JOIN")],
            "$.tasks[0].dynamicForkTasksParam",
            "needs",
        ),
        ([control("DYNAMIC")], "$.tasks[0].dynamicTaskNameParam", "needs"),
        ([control("TERMINATE")], "$.tasks[0].inputParameters.terminationStatus", "COMPLETED"),
        (
            [simple("a", taskDefinition={"responseTimeoutSeconds": 0})],
            "$.tasks[0].taskDefinition.responseTimeoutSeconds",
            "at least 1",
        ),
    ],
)
def test_task_problems(tasks: list[dict[str, Any]], path: str, fragment: str) -> None:
    problems = problems_of(workflow(*tasks))
    assert path in dict(problems), problems
    assert fragment in dict(problems)[path]


def test_nested_problems_carry_the_nested_path() -> None:
    doc = workflow(
        control(
            "FORK_JOIN",
            forkTasks=[
                [control("DO_WHILE", loopCondition="true", loopOver=[simple("x", retryCount="1")])]
            ],
        ),
        control("JOIN", joinOn=["x"]),
    )
    assert paths_of(doc) == ["$.tasks[0].forkTasks[0][0].loopOver[0].retryCount"]


def test_script_checks_see_resolved_expressions() -> None:
    inline = control(
        "INLINE",
        inputParameters={"evaluatorType": "javascript", "expression": "$.a > ${workflow.input.n}"},
    )
    assert parse_workflow_def(workflow(inline)).tasks[0].type is TaskType.INLINE


def test_terminate_status_may_be_an_expression() -> None:
    stop = control("TERMINATE", inputParameters={"terminationStatus": "${workflow.input.s}"})
    assert parse_workflow_def(workflow(stop)).tasks[0].type is TaskType.TERMINATE


def test_registered_task_defs_are_required_when_given() -> None:
    doc = workflow(simple("a"), simple("b", taskDefinition={}), control("WAIT"))
    assert paths_of(doc, task_defs={}) == ["$.tasks[0].name"]
    assert parse_workflow_def(doc, task_defs={"a_task": TaskDef(name="a_task")}).name == "flow"
    assert parse_workflow_def(doc).name == "flow"


@pytest.mark.parametrize(
    ("doc", "path", "fragment"),
    [
        ({}, "$.name", "required"),
        ([], "$", "must be an object"),
        ({"name": "t", "retryLogic": "RANDOM"}, "$.retryLogic", "FIXED"),
        ({"name": "t", "timeoutPolicy": "TIME_OUT"}, "$.timeoutPolicy", "ALERT_ONLY"),
        ({"name": "t", "retryCount": -1}, "$.retryCount", "at least 0"),
        ({"name": "t", "retryDelaySeconds": "5"}, "$.retryDelaySeconds", "integer"),
        ({"name": "t", "backoffScaleFactor": 0}, "$.backoffScaleFactor", "at least 1"),
        ({"name": "t", "responseTimeoutSeconds": 0}, "$.responseTimeoutSeconds", "at least 1"),
        (
            {"name": "t", "timeoutSeconds": 10, "responseTimeoutSeconds": 20},
            "$.responseTimeoutSeconds",
            "must not exceed timeoutSeconds (10)",
        ),
        ({"name": "t", "inputKeys": "a"}, "$.inputKeys", "list"),
        ({"name": "t", "inputTemplate": []}, "$.inputTemplate", "object"),
    ],
)
def test_task_def_problems(doc: Any, path: str, fragment: str) -> None:
    with pytest.raises(InvalidDefinition) as caught:
        parse_task_def(doc)
    problems = dict(caught.value.problems)
    assert path in problems, problems
    assert fragment in problems[path]


def test_response_timeout_may_equal_timeout_or_exceed_no_timeout() -> None:
    assert parse_task_def({"name": "t", "timeoutSeconds": 30, "responseTimeoutSeconds": 30})
    assert parse_task_def({"name": "t", "timeoutSeconds": 0, "responseTimeoutSeconds": 9999})


# ------------------------------------------- ${workflow.env.X} only where it is filled in


def test_variables_are_refused_where_dynoq_would_leave_them_unresolved() -> None:
    """They are filled in when a task is handed to its worker; in a SWITCH, an INLINE script's
    input or the workflow's output they would stay text, so the definition is refused."""
    switch = {
        "name": "s",
        "taskReferenceName": "s",
        "type": "SWITCH",
        "evaluatorType": "value-param",
        "expression": "mode",
        "inputParameters": {"mode": "${workflow.env.MODE}"},
        "decisionCases": {"fast": [{"name": "work", "taskReferenceName": "f"}]},
    }
    [(path, message)] = problems_of({"name": "wf", "tasks": [switch]})
    assert path.endswith("tasks[0].inputParameters")
    assert "not in a SWITCH task" in message and "${workflow.env.X}" in message
    doc = {
        "name": "wf",
        "tasks": [{"name": "work", "taskReferenceName": "w"}],
        "outputParameters": {"key": "${workflow.secrets.API_KEY}"},
    }
    [(path, message)] = problems_of(doc)
    assert path.endswith("outputParameters") and "workflow's output" in message


def test_variables_in_the_input_of_worker_tasks_are_accepted() -> None:
    for kind in ("SIMPLE", "HTTP"):
        task = {
            "name": "work",
            "taskReferenceName": "w",
            "type": kind,
            "inputParameters": {"key": "${workflow.secrets.API_KEY}", "http_request": {}},
        }
        assert parse_workflow_def({"name": "wf", "tasks": [task]}).tasks[0].type == kind


def test_the_worker_types_are_the_queued_types() -> None:
    from dynoq.workflow import definitions
    from dynoq.workflow.effects import QUEUED_TYPES

    assert {str(t) for t in QUEUED_TYPES} == definitions._WORKER_TYPES
