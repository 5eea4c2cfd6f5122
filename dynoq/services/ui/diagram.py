"""A workflow's graph as Graphviz ``dot`` source (pure), and the SVG ``dot`` lays out from it.

The layout is Graphviz's; this module only says which nodes and edges there are: forks and their
joins, switch cases, loops (a back edge), sub-workflows (a double border). An execution colours
each node by the status of the task that ran it last (a retry or a later loop iteration wins)
and links it to that task's details on the page.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import subprocess
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from dynoq.workflow.definitions import TaskType, WorkflowDef, WorkflowTask
from dynoq.workflow.model import Task, TaskStatus
from dynoq.workflow.structure import base_ref

# fill, border/text: readable on white, told apart without the legend's words
STATUS_COLOURS: Mapping[str, tuple[str, str]] = {
    TaskStatus.SCHEDULED: ("#fff4c2", "#8a6d00"),
    TaskStatus.IN_PROGRESS: ("#cfe3ff", "#1f5fbf"),
    TaskStatus.COMPLETED: ("#d3f2d8", "#1e7a34"),
    TaskStatus.COMPLETED_WITH_ERRORS: ("#e8f2c8", "#5a7a1e"),
    TaskStatus.FAILED: ("#ffd6d6", "#b3261e"),
    TaskStatus.FAILED_WITH_TERMINAL_ERROR: ("#ffd6d6", "#b3261e"),
    TaskStatus.TIMED_OUT: ("#ffe2c4", "#a64d00"),
    TaskStatus.CANCELED: ("#e6e6e6", "#555555"),
    TaskStatus.SKIPPED: ("#eeeeee", "#777777"),
}
NOT_RUN = ("#ffffff", "#9a9a9a")
DEFINITION_ONLY = ("#f4f7fc", "#3b4b66")  # a definition's graph, with no execution to show
INSTALL_HINT = (
    "Diagrams need Graphviz's dot program, which is not installed on this server: "
    "apt-get install graphviz (Debian, Ubuntu), dnf install graphviz (Fedora), "
    "brew install graphviz (macOS); then reload this page."
)
DOT_TIMEOUT_SECONDS = 10.0

_SHAPES: Mapping[TaskType, str] = {
    TaskType.SWITCH: "diamond",
    TaskType.DECISION: "diamond",
    TaskType.FORK_JOIN: "trapezium",
    TaskType.FORK_JOIN_DYNAMIC: "trapezium",
    TaskType.JOIN: "invtrapezium",
    TaskType.DO_WHILE: "hexagon",
    TaskType.TERMINATE: "octagon",
}


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


@dataclass
class _Graph:
    latest: Mapping[str, Task]
    link: Mapping[str, str]
    execution: bool
    lines: list[str] = field(default_factory=list)
    count: int = 0

    def node(self, wt: WorkflowTask) -> str:
        self.count += 1
        name = f"n{self.count}"
        ran = self.latest.get(wt.task_reference_name)
        idle = NOT_RUN if self.execution else DEFINITION_ONLY
        fill, ink = STATUS_COLOURS.get(ran.status, idle) if ran else idle
        label = f"{wt.task_reference_name}\n{wt.type.value}"
        if wt.type is not TaskType.SIMPLE and wt.name != wt.task_reference_name:
            label = f"{wt.task_reference_name}\n{wt.type.value}: {wt.name}"
        attrs = {
            "label": label,
            "shape": _SHAPES.get(wt.type, "box"),
            "fillcolor": fill,
            "color": ink,
            "fontcolor": "#222222" if ran or not self.execution else ink,
            "tooltip": _tooltip(wt, ran, self.execution),
            "id": "node-" + _safe_id(wt.task_reference_name),
        }
        if wt.type is TaskType.SUB_WORKFLOW:
            attrs["peripheries"] = "2"
        href = self.link.get(wt.task_reference_name)
        if href:
            attrs["URL"] = href
            attrs["target"] = "_self"
        body = ", ".join(f"{k}={_quote(v)}" for k, v in attrs.items())
        self.lines.append(f"  {name} [{body}];")
        return name

    def edge(self, tail: str, head: str, label: str = "", **extra: str) -> None:
        attrs = {"label": label, **extra} if label else dict(extra)
        body = ", ".join(f"{k}={_quote(v)}" for k, v in attrs.items())
        self.lines.append(f"  {tail} -> {head}" + (f" [{body}]" if body else "") + ";")

    def chain(
        self, tasks: Sequence[WorkflowTask], tails: list[tuple[str, str]]
    ) -> list[tuple[str, str]]:
        """Draws ``tasks`` in a row after ``tails`` (node, edge label); the row's exits."""
        for wt in tasks:
            name = self.node(wt)
            for tail, label in tails:
                self.edge(tail, name, label)
            tails = self.exits(wt, name)
        return tails

    def exits(self, wt: WorkflowTask, name: str) -> list[tuple[str, str]]:
        if wt.type in (TaskType.SWITCH, TaskType.DECISION):
            out: list[tuple[str, str]] = []
            cases = [*wt.decision_cases.items(), ("default", wt.default_case)]
            for case, branch in cases:
                out.extend(self.chain(branch, [(name, case)]))
            return out
        if wt.type is TaskType.FORK_JOIN:
            out = []
            for branch in wt.fork_tasks:
                out.extend(self.chain(branch, [(name, "")]))
            return out or [(name, "")]
        if wt.type is TaskType.DO_WHILE and wt.loop_over:
            for tail, _ in self.chain(wt.loop_over, [(name, "")]):
                self.edge(tail, name, "loop", style="dashed", constraint="false")
            return [(name, "done")]
        return [(name, "")]


def _tooltip(wt: WorkflowTask, ran: Task | None, execution: bool) -> str:
    if not execution:
        return f"{wt.task_reference_name}: {wt.type.value} {wt.name}"
    return f"{wt.task_reference_name} ({ran.status.value if ran else 'not run'})"


def _safe_id(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)


def latest_by_ref(tasks: Sequence[Task]) -> dict[str, Task]:
    """The task that ran each definition reference last (retries and loop iterations fold)."""
    latest: dict[str, Task] = {}
    for task in sorted(tasks, key=lambda t: t.seq):
        latest[base_ref(task.reference_task_name)] = task
    return latest


def workflow_dot(
    definition: WorkflowDef,
    tasks: Sequence[Task] | None = None,
    link: Mapping[str, str] | None = None,
) -> str:
    """``dot`` source of the definition's graph; with ``tasks`` (an execution's, even none
    yet), coloured by their status.
    ``link`` maps a reference name to the URL its node opens."""
    graph = _Graph(latest_by_ref(tasks or ()), link or {}, execution=tasks is not None)
    head = [
        "digraph workflow {",
        '  graph [rankdir=TB, nodesep=0.3, ranksep=0.35, bgcolor="transparent",'
        ' fontname="DejaVu Sans"];',
        '  node [style="filled,rounded", fontname="DejaVu Sans", fontsize=10, penwidth=1.4,'
        ' margin="0.15,0.05"];',
        '  edge [color="#777777", fontname="DejaVu Sans", fontsize=9, arrowsize=0.6];',
        '  start [label="start", shape=circle, style=filled, fillcolor="#444444",'
        ' fontcolor="white", fontsize=9, width=0.5, fixedsize=true];',
        '  end [label="end", shape=doublecircle, style=filled, fillcolor="#444444",'
        ' fontcolor="white", fontsize=9, width=0.45, fixedsize=true];',
    ]
    for tail, label in graph.chain(definition.tasks, [("start", "")]):
        graph.edge(tail, "end", label)
    return "\n".join([*head, *graph.lines, "}"]) + "\n"


def _run_dot(path: str, source: str) -> subprocess.CompletedProcess[bytes]:
    # close_fds=False (Python's fds are not inheritable anyway) and an absolute path let
    # subprocess use posix_spawn instead of fork: a fork of a process whose other threads hold
    # locks (V8's, in a server that runs JavaScript tasks) can hang the child before its exec.
    return subprocess.run(
        [path, "-Tsvg"],
        input=source.encode(),
        capture_output=True,
        timeout=DOT_TIMEOUT_SECONDS,
        close_fds=False,
        check=False,
    )


class DotMissing(Exception):
    """Graphviz's dot is not on PATH."""


class DiagramRenderer:
    """Runs ``dot -Tsvg``; keeps the last few hundred SVGs by their source (dot is slow next to
    a page, and a definition's or a finished workflow's graph never changes)."""

    def __init__(self, binary: str = "dot", cache_size: int = 256) -> None:
        self.binary = binary
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._cache_size = cache_size

    def available(self) -> bool:
        return shutil.which(self.binary) is not None

    async def svg(self, source: str) -> str:
        key = hashlib.sha1(source.encode()).hexdigest()
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
            return found
        path = shutil.which(self.binary)
        if path is None:
            raise DotMissing(INSTALL_HINT)
        try:
            done = await asyncio.to_thread(_run_dot, path, source)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"dot took longer than {DOT_TIMEOUT_SECONDS} s") from None
        if done.returncode != 0:
            raise RuntimeError(f"dot failed: {done.stderr.decode(errors='replace').strip()}")
        out = done.stdout
        text = out.decode()
        svg = text[text.find("<svg") :]  # drop the XML prolog and doctype: inline in HTML
        self._cache[key] = svg
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return svg
