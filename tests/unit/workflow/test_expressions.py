"""``${...}`` expressions: typed values, interpolation, escapes, paths and problem reports."""

from __future__ import annotations

from typing import Any

import pytest

from dynoq.workflow.expressions import expression_problems, parse_path, resolve

CONTEXT: dict[str, Any] = {
    "workflow": {
        "input": {"orderId": "o-1", "qty": 3, "flag": True, "none": None, "tags": ["a", "b"]},
        "variables": {"z": {"deep": [10, 20]}},
        "workflowId": "wf-9",
    },
    "charge": {
        "output": {"a": {"b": [{"c": 42}, {"c": 43}]}, "odd key": "x", "amount": 1.5},
        "status": "COMPLETED",
    },
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("${workflow.input.orderId}", "o-1"),
        ("${workflow.input.qty}", 3),
        ("${workflow.input.flag}", True),
        ("${workflow.input.none}", None),
        ("${workflow.input.tags}", ["a", "b"]),
        ("${workflow.variables.z}", {"deep": [10, 20]}),
        ("${charge.output.a.b[0].c}", 42),
        ("${charge.output.a.b[1]}", {"c": 43}),
        ("${$.charge.status}", "COMPLETED"),
        ("${charge.output['odd key']}", "x"),
        ('${charge.output["a"]["b"][1]["c"]}', 43),
        ("${ workflow.workflowId }", "wf-9"),
    ],
)
def test_a_single_expression_gives_the_typed_value(template: str, expected: Any) -> None:
    assert resolve(template, CONTEXT) == expected


@pytest.mark.parametrize(
    "template",
    [
        "${workflow.input.missing}",
        "${nosuchtask.output.x}",
        "${charge.output.a.b[7].c}",
        "${charge.output.a.b.c}",  # a name on a list
        "${charge.output.a[0]}",  # an index on a dict
        "${workflow.input.orderId.x}",  # a name on a string
        "${workflow...input}",  # malformed: None, not an exception
    ],
)
def test_missing_paths_give_none(template: str) -> None:
    assert resolve(template, CONTEXT) is None


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("order ${workflow.input.orderId}!", "order o-1!"),
        ("${workflow.input.qty}x${workflow.input.qty}", "3x3"),
        ("n=${workflow.input.none}", "n=null"),
        ("f=${workflow.input.flag}", "f=true"),
        ("t=${workflow.input.tags}", 't=["a","b"]'),
        ("v=${workflow.variables.z}", 'v={"deep":[10,20]}'),
        ("a=${charge.output.amount}", "a=1.5"),
        ("m=${workflow.input.missing}", "m=null"),
    ],
)
def test_other_strings_are_interpolated(template: str, expected: str) -> None:
    assert resolve(template, CONTEXT) == expected


def test_double_dollar_escapes_a_literal_expression() -> None:
    assert resolve("$${workflow.input.orderId}", CONTEXT) == "${workflow.input.orderId}"
    assert resolve("cost $${x} for ${workflow.input.orderId}", CONTEXT) == "cost ${x} for o-1"
    assert resolve("$5 and $", CONTEXT) == "$5 and $"


def test_an_unclosed_expression_stays_literal() -> None:
    assert resolve("a ${workflow.input.orderId", CONTEXT) == "a ${workflow.input.orderId"


def test_nested_maps_and_lists_are_resolved_into_new_containers() -> None:
    template = {
        "id": "${workflow.input.orderId}",
        "list": ["${workflow.input.qty}", {"deep": "${charge.output.a.b[0]}"}, 7, None],
        "keep": False,
        "${not.a.key}": 1,
    }
    resolved = resolve(template, CONTEXT)
    assert resolved == {
        "id": "o-1",
        "list": [3, {"deep": {"c": 42}}, 7, None],
        "keep": False,
        "${not.a.key}": 1,
    }
    assert template["id"] == "${workflow.input.orderId}"


def test_typed_values_are_copies() -> None:
    resolved = resolve("${workflow.variables.z}", CONTEXT)
    resolved["deep"].append(30)
    assert CONTEXT["workflow"]["variables"]["z"] == {"deep": [10, 20]}


def test_paths() -> None:
    assert parse_path("$.a.b[2]['c d'][\"e\"]") == ("a", "b", 2, "c d", "e")
    assert parse_path("ref-1.output.x_y") == ("ref-1", "output", "x_y")
    assert parse_path("a['it\\'s']") == ("a", "it's")
    for bad in ["", "$.", "a..b", "a.", "[0]", "a[x]", "a['b'", "a[-1]", "a b"]:
        with pytest.raises(ValueError):
            parse_path(bad)


def test_quoted_keys_may_hold_a_closing_brace() -> None:
    assert resolve("${charge.output['}']}", {"charge": {"output": {"}": 5}}}) == 5


def test_problems_name_the_sub_path() -> None:
    template = {
        "ok": "${workflow.input.x} and $${escaped",
        "empty": "${}",
        "unclosed": "a ${workflow.input.x",
        "list": [1, "${a...b}"],
        "odd key": {"x": "${a[?(@.b >)]}"},
    }
    problems = expression_problems(template)
    paths = [path for path, _ in problems]
    assert paths == [".empty", ".unclosed", ".list[1]", '["odd key"].x']
    messages = dict(problems)
    assert "empty path" in messages[".empty"]
    assert "unclosed" in messages[".unclosed"]
    assert expression_problems("${}") == [("", "bad expression '${}': empty path")]
    assert expression_problems(["plain", 3, None, {"k": "${a.b[0]}"}]) == []
