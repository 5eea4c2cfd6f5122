"""Where each task of a definition sits, and what runs after it.

A definition is a tree: the top-level list, switch cases, fork branches and loop bodies are lists
of WorkflowTasks. ``Layout`` indexes it once per definition so the decider can ask "what comes
after this task?" and "which loop is this task in?" in constant time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dynoq.workflow.definitions import TaskType, WorkflowDef, WorkflowTask

_ITERATION_SUFFIX = re.compile(r"__(\d+)$")


def base_ref(reference_name: str) -> str:
    """A loop iteration's reference name without its ``__N`` suffix."""
    return _ITERATION_SUFFIX.sub("", reference_name)


def iteration_ref(reference_name: str, iteration: int) -> str:
    return f"{reference_name}__{iteration}" if iteration else reference_name


@dataclass(frozen=True, slots=True)
class Place:
    """A task's list, its index there, and the task owning that list (None at the top)."""

    siblings: tuple[WorkflowTask, ...]
    index: int
    owner: WorkflowTask | None
    loop: str  # the reference name of the innermost DO_WHILE around it, or ""


class Layout:
    """The index of one definition's task tree."""

    def __init__(self, definition: WorkflowDef) -> None:
        self.definition = definition
        self.places: dict[str, Place] = {}
        self._index(definition.tasks, None, "")

    def _index(
        self, tasks: tuple[WorkflowTask, ...], owner: WorkflowTask | None, loop: str
    ) -> None:
        for i, task in enumerate(tasks):
            self.places[task.task_reference_name] = Place(tasks, i, owner, loop)
            inner = task.task_reference_name if task.type is TaskType.DO_WHILE else loop
            for branch in task.children():
                self._index(branch, task, inner)

    def task(self, reference_name: str) -> WorkflowTask | None:
        place = self.places.get(base_ref(reference_name))
        return place.siblings[place.index] if place else None

    def loop_of(self, reference_name: str) -> str:
        place = self.places.get(base_ref(reference_name))
        return place.loop if place else ""

    def next_after(self, reference_name: str) -> WorkflowTask | None:
        """What runs once this task is done: the next sibling, or, at the end of a switch case,
        what follows the switch. The end of a fork branch or a loop body has no next task: the
        JOIN or the DO_WHILE takes over there."""
        place = self.places.get(base_ref(reference_name))
        while place is not None:
            if place.index + 1 < len(place.siblings):
                following = place.siblings[place.index + 1]
                return following
            owner = place.owner
            if owner is None or owner.type not in (TaskType.SWITCH, TaskType.DECISION):
                return None
            place = self.places.get(owner.task_reference_name)
        return None


_LAYOUTS: dict[int, Layout] = {}  # by id(definition); each Layout keeps its definition alive


def layout(definition: WorkflowDef) -> Layout:
    found = _LAYOUTS.get(id(definition))
    if found is None or found.definition is not definition:
        if len(_LAYOUTS) > 256:
            _LAYOUTS.clear()
        found = _LAYOUTS[id(definition)] = Layout(definition)
    return found
