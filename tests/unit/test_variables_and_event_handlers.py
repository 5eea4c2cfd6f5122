"""Secrets and environment variables filled into a task's input at hand-off; expressions leave
them for then; event handler documents validated."""

from __future__ import annotations

import pytest

from dynoq.errors import InvalidDefinition
from dynoq.workflow.events import parse_event_handler, queue_of
from dynoq.workflow.expressions import resolve
from dynoq.workflow.variables import redact, refers_to_variables, substitute

VALUES = {"env": {"base": "https://x.test"}, "secrets": {"key": "s3"}}


def test_expressions_leave_env_and_secrets_for_the_hand_off():
    template = {
        "a": "${workflow.secrets.key}",
        "b": "${workflow.env.base}/v1/${workflow.input.id}",
        "c": ["${workflow.input.id}"],
    }
    resolved = resolve(template, {"workflow": {"input": {"id": 7}}})
    assert resolved == {
        "a": "${workflow.secrets.key}",
        "b": "${workflow.env.base}/v1/7",
        "c": [7],
    }
    assert refers_to_variables(resolved) and not refers_to_variables({"c": [7]})
    assert substitute(resolved, VALUES) == {"a": "s3", "b": "https://x.test/v1/7", "c": [7]}


def test_unknown_names_resolve_to_nothing():
    assert substitute({"a": "${workflow.secrets.nope}", "b": "x${workflow.env.nope}y"}, VALUES) == {
        "a": None,
        "b": "xy",
    }


def test_an_event_handler_gets_defaults_and_its_queue():
    doc = parse_event_handler(
        {
            "name": "h",
            "event": "dynoq:approvals",
            "actions": [
                {"action": "terminate_workflow", "terminate_workflow": {"workflowId": "${id}"}}
            ],
        }
    )
    assert (doc["active"], doc["evaluatorType"]) == (True, "javascript")
    assert queue_of(doc["event"]) == "approvals"
    assert queue_of("conductor:wf:ref") == "conductor-events"


@pytest.mark.parametrize(
    ("doc", "path"),
    [
        (
            {
                "event": "e",
                "actions": [
                    {
                        "action": "complete_task",
                        "complete_task": {"workflowId": "w", "taskRefName": "r"},
                    }
                ],
            },
            "$.name",
        ),
        ({"name": "h", "event": "e", "actions": []}, "$.actions"),
        (
            {
                "name": "h",
                "event": "e",
                "actions": [{"action": "complete_task", "complete_task": {"workflowId": "w"}}],
            },
            "$.actions[0].complete_task.taskRefName",
        ),
        (
            {"name": "h", "event": "e", "actions": [{"action": "start_workflow"}]},
            "$.actions[0].start_workflow",
        ),
        (
            {
                "name": "h",
                "event": "e",
                "evaluatorType": "python",
                "actions": [{"action": "start_workflow", "start_workflow": {"name": "w"}}],
            },
            "$.evaluatorType",
        ),
    ],
)
def test_invalid_handlers_name_the_problem(doc, path):
    with pytest.raises(InvalidDefinition) as raised:
        parse_event_handler(doc)
    assert path in [p for p, _ in raised.value.problems]


def test_secret_values_are_masked_in_what_a_system_task_reports():
    secrets = {"token": "s3cret-value", "pin": "12"}
    reported = [{"body": {"echo": "Bearer s3cret-value"}, "n": 12}, "GET /?t=s3cret-value failed"]
    assert redact(reported, secrets) == [
        {"body": {"echo": "Bearer ***"}, "n": 12},
        "GET /?t=*** failed",
    ]  # values shorter than 4 characters are left alone: they would blank out ordinary text
