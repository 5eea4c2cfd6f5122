"""JavaScript expressions in V8: statement values, JSON results, limits, errors and isolation."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from dynoq.errors import JavaScriptError
from dynoq.workflow.javascript import JavaScript, syntax_problem


@pytest.fixture(scope="module")
def js() -> JavaScript:
    return JavaScript()


@pytest.mark.parametrize(
    ("expression", "bindings", "expected"),
    [
        ("$.a > 1 ? 'x' : 'y'", {"a": 2}, "x"),
        ("$.a > 1 ? 'x' : 'y'", {"a": 0}, "y"),
        ("(function () { return $.v + 1; })()", {"v": 41}, 42),
        (
            "if ($.loop['iteration'] < 3) { true; } else { false; }",
            {"loop": {"iteration": 1}},
            True,
        ),
        (
            "if ($.loop['iteration'] < 3) { true; } else { false; }",
            {"loop": {"iteration": 3}},
            False,
        ),
        ("var total = 0; for (var x of $.items) total += x; total", {"items": [1, 2, 3]}, 6),
        ("$.missing", {}, None),
        ("undefined", {}, None),
        ("(function () {})", {}, None),
        ("1.5 * 2", {}, 3),
        ("'s' + $.n", {"n": None}, "snull"),
    ],
)
def test_values(js: JavaScript, expression: str, bindings: dict[str, Any], expected: Any) -> None:
    assert js.evaluate(expression, bindings) == expected


def test_objects_and_lists_come_back_as_dicts_and_lists(js: JavaScript) -> None:
    result = js.evaluate(
        "({list: [1, 'two', {three: null}], skipped: undefined, n: $.n})", {"n": 1}
    )
    assert result == {"list": [1, "two", {"three": None}], "n": 1}


def test_bindings_are_a_copy(js: JavaScript) -> None:
    bindings = {"a": {"b": [1]}}
    js.evaluate("$.a.b.push(2); $.a.c = 1; $", bindings)
    assert bindings == {"a": {"b": [1]}}


def test_nothing_leaks_between_calls(js: JavaScript) -> None:
    js.evaluate("leaked = 1; var local = 2; globalThis.other = 3; function f() {} 0", {})
    assert (
        js.evaluate("[typeof leaked, typeof local, typeof other, typeof f]", {})
        == ["undefined"] * 4
    )
    js.evaluate("Array.prototype.polluted = 1; JSON.parse = null; Math.max = null; 0", {})
    assert js.evaluate("[[].polluted, typeof JSON.parse, Math.max(1, 2)]", {}) == [
        None,
        "function",
        2,
    ]
    js.evaluate("Object.defineProperty(globalThis, 'stuck', {value: 1}); 0", {})
    assert js.evaluate("typeof stuck", {}) == "undefined"


def test_an_infinite_loop_times_out(js: JavaScript) -> None:
    quick = JavaScript(timeout=0.2)
    started = time.monotonic()
    with pytest.raises(JavaScriptError, match=r"timed out after 0\.2 s"):
        quick.evaluate("while (true) {}", {})
    assert time.monotonic() - started < 5
    assert quick.evaluate("$.a", {"a": 1}) == 1


def test_a_memory_bomb_is_stopped() -> None:
    small = JavaScript(timeout=10, max_memory_bytes=32 * 2**20)
    with pytest.raises(JavaScriptError, match="memory limit"):
        small.evaluate("var a = []; while (true) { a.push(new Array(100000).fill(1)); }", {})
    assert small.evaluate("$.a", {"a": 1}) == 1


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("throw new Error('boom')", "Error: boom"),
        ("null.x", "TypeError: Cannot read properties of null (reading 'x')"),
        ("nope + 1", "ReferenceError: nope is not defined"),
        ("a +", "SyntaxError: Unexpected end of input"),
        ("var c = {}; c.c = c; c", "TypeError: Converting circular structure to JSON"),
    ],
)
def test_errors_are_one_line_script_errors(js: JavaScript, expression: str, message: str) -> None:
    with pytest.raises(JavaScriptError) as caught:
        js.evaluate(expression, {})
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_bindings_must_be_json(js: JavaScript) -> None:
    with pytest.raises(JavaScriptError, match="not JSON"):
        js.evaluate("1", {"x": object()})


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("$.a > 1 ? 'x' : 'y'", None),
        ("if ($.a) { true; } else { false; }", None),
        ("x = 1", None),
        ("a +", "SyntaxError: Unexpected end of input"),
        ("if (x) {", "SyntaxError: Unexpected end of input"),
        ("return 1", "SyntaxError: Illegal return statement"),
        ("'unterminated", "SyntaxError: Invalid or unexpected token"),
    ],
)
def test_syntax_problem(expression: str, problem: str | None) -> None:
    assert syntax_problem(expression) == problem


def test_syntax_check_runs_nothing(js: JavaScript) -> None:
    assert syntax_problem("globalThis.ran = 1; while (true) {}") is None
    assert js.syntax_problem("globalThis.ran = 1") is None
    assert js.evaluate("typeof ran", {}) == "undefined"


def test_threads_each_get_their_own_context(js: JavaScript) -> None:
    results: list[Any] = []

    def work(n: int) -> None:
        results.append(js.evaluate("var s = 0; for (var i = 0; i < $.n; i++) s += i; s", {"n": n}))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == sorted(n * (n - 1) // 2 for n in range(1, 9))
