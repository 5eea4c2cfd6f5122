"""The UI's pure parts: the workflow graph handed to Graphviz, JSON lines for errors, charts."""

from __future__ import annotations

import asyncio

import pytest

from dynoq.services.ui.chart import line_chart, nice_ceiling
from dynoq.services.ui.diagram import DiagramRenderer, DotMissing, latest_by_ref, workflow_dot
from dynoq.services.ui.jsonview import dump_with_lines, line_of
from dynoq.workflow.definitions import parse_workflow_def
from dynoq.workflow.model import Task, TaskStatus


def simple(ref: str) -> dict[str, object]:
    return {"name": ref, "taskReferenceName": ref, "type": "SIMPLE"}


FLOW = parse_workflow_def(
    {
        "name": "flow",
        "tasks": [
            {
                "name": "pick",
                "taskReferenceName": "pick",
                "type": "SWITCH",
                "evaluatorType": "value-param",
                "expression": "k",
                "inputParameters": {"k": "${workflow.input.k}"},
                "decisionCases": {"a": [simple("in_a")]},
                "defaultCase": [],
            },
            {
                "name": "fork",
                "taskReferenceName": "fork",
                "type": "FORK_JOIN",
                "forkTasks": [[simple("x")], [simple("y")]],
            },
            {"name": "join", "taskReferenceName": "join", "type": "JOIN", "joinOn": ["x", "y"]},
            {
                "name": "loop",
                "taskReferenceName": "loop",
                "type": "DO_WHILE",
                "loopCondition": "$.loop['iteration'] < 2",
                "loopOver": [simple("step")],
            },
        ],
    }
)


def edges(dot: str, names: dict[str, str]) -> set[tuple[str, str, str]]:
    """(tail ref, head ref, label) of every edge, node names translated to reference names."""
    found = set()
    for line in dot.splitlines():
        if "->" not in line:
            continue
        tail, _, rest = line.strip().partition(" -> ")
        head = rest.split(" ")[0].rstrip(";")
        label = rest.split('label="')[1].split('"')[0] if 'label="' in rest else ""
        found.add((names.get(tail, tail), names.get(head, head), label))
    return found


def node_names(dot: str) -> dict[str, str]:
    names = {}
    for line in dot.splitlines():
        if 'id="node-' in line:
            names[line.split()[0]] = line.split('id="node-')[1].split('"')[0]
    return names


def test_the_graph_has_switch_cases_fork_branches_joins_and_a_loop_back_edge() -> None:
    dot = workflow_dot(FLOW)
    assert edges(dot, node_names(dot)) == {
        ("start", "pick", ""),
        ("pick", "in_a", "a"),
        ("in_a", "fork", ""),
        ("pick", "fork", "default"),  # an empty case goes straight on
        ("fork", "x", ""),
        ("fork", "y", ""),
        ("x", "join", ""),
        ("y", "join", ""),
        ("join", "loop", ""),
        ("loop", "step", ""),
        ("step", "loop", "loop"),
        ("loop", "end", "done"),
    }


def test_nodes_take_the_colour_of_the_last_run_and_link_to_it() -> None:
    tasks = [
        Task("w.1", "SIMPLE", "step__1", "step", "w", TaskStatus.COMPLETED, seq=1),
        Task("w.2", "SIMPLE", "step__2", "step", "w", TaskStatus.FAILED, seq=2),
    ]
    assert latest_by_ref(tasks)["step"].task_id == "w.2"
    dot = workflow_dot(FLOW, tasks, {"step": "#task-2"})
    [step] = [line for line in dot.splitlines() if 'id="node-step"' in line]
    assert 'fillcolor="#ffd6d6"' in step and 'URL="#task-2"' in step
    [x] = [line for line in dot.splitlines() if 'id="node-x"' in line]
    assert 'fillcolor="#ffffff"' in x and "URL" not in x


def test_labels_are_quoted_for_dot() -> None:
    odd = parse_workflow_def(
        {"name": "q", "tasks": [{"name": 'a"b\\c', "taskReferenceName": 'r"1', "type": "SIMPLE"}]}
    )
    assert 'label="r\\"1\\nSIMPLE"' in workflow_dot(odd)


def test_a_missing_dot_says_how_to_install_it() -> None:
    renderer = DiagramRenderer(binary="dynoq-no-such-dot")
    assert not renderer.available()
    with pytest.raises(DotMissing, match="apt-get install graphviz"):
        asyncio.run(renderer.svg("digraph { a }"))


def test_json_lines_point_at_the_path_or_its_nearest_parent() -> None:
    text, where = dump_with_lines({"name": "n", "tasks": [{"name": "a"}, {"x": [1, 2]}]})
    lines = text.splitlines()
    assert lines[line_of("$.tasks[0].name", where) - 1].strip() == '"name": "a"'
    assert lines[line_of("$.tasks[1].x[1]", where) - 1].strip() == "2"
    assert line_of("$.tasks[0].taskReferenceName", where) == where["$.tasks[0]"]
    assert line_of("$['name']", where) == where["$.name"]


def test_chart_scales_to_a_round_top_and_skips_missing_minutes() -> None:
    assert [nice_ceiling(v) for v in (0, 4, 5, 9, 21, 41, 999)] == [4, 4, 8, 20, 40, 80, 2000]
    chart = line_chart([10, 11, 12], {"ready": [None, 6, 3]}, {"ready": "#000"}, 12)
    [series] = chart.series
    assert len(series.points.split()) == 2 and series.last == 3
    assert [label for _, label in chart.y_ticks] == ["0", "2", "4", "6", "8"]
    assert series.end == tuple(float(n) for n in series.points.split()[-1].split(","))
