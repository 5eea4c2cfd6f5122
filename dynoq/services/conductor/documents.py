"""The JSON documents the API answers, shaped as Conductor's server shapes them.

Conductor leaves a field out when it is null (its Jackson mapper writes non-null values only),
so an unset text field is absent, not ``""``: Conductor's UI formats any ``endTime`` present as
a date and sends ``domain`` back when present. A task carries the entry of the workflow
definition it was made from (``workflowTask``), which the UI reads for switch branches, the
diagram and the task list.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dynoq.core.models import is_digits
from dynoq.workflow.model import Task, Workflow

# fields of dynoq's own bookkeeping, not Conductor's
_INTERNAL_TASK_FIELDS = ("loopParent",)
# fields of Conductor's Task that dynoq does not track, with the values Conductor gives them
_TASK_DEFAULTS = {
    "callbackFromWorker": True,
    "rateLimitPerFrequency": 0,
    "rateLimitFrequencyInSeconds": 0,
}
_INTERNAL_WORKFLOW_FIELDS = ("taskCounter", "definitionKey")


def _without_unset(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if v != "" and v is not None}


# values the user wrote: an empty string there means an empty string
_USER_DATA = frozenset(
    ("inputParameters", "outputParameters", "input", "output", "variables", "inputTemplate")
)


def definition_doc(doc: Any) -> Any:
    """A WorkflowDef, TaskDef or WorkflowTask document without unset (empty or null) fields,
    at any depth outside the user's own data."""
    if isinstance(doc, dict):
        return {
            k: v if k in _USER_DATA else definition_doc(v)
            for k, v in doc.items()
            if v != "" and v is not None
        }
    if isinstance(doc, list):
        return [definition_doc(item) for item in doc]
    return doc


def definition_tasks(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every WorkflowTask of a definition document, nested ones too, by reference name."""
    return {wt["taskReferenceName"]: wt for wt in _walk(definition.get("tasks") or [])}


def _walk(tasks: list[Any]) -> Iterator[dict[str, Any]]:
    for wt in tasks:
        if not isinstance(wt, dict) or not isinstance(wt.get("taskReferenceName"), str):
            continue
        yield wt
        for branch in (wt.get("decisionCases") or {}).values():
            yield from _walk(branch or [])
        yield from _walk(wt.get("defaultCase") or [])
        for branch in wt.get("forkTasks") or []:
            yield from _walk(branch or [])
        yield from _walk(wt.get("loopOver") or [])


def _base_reference(reference: str) -> str:
    """A loop iteration's reference ``ref__2`` is made from the definition's ``ref``."""
    head, sep, tail = reference.rpartition("__")
    return head if sep and is_digits(tail) else reference


def task_doc(task: Task, by_reference: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Conductor's Task document; ``by_reference`` (from :func:`definition_tasks`) supplies
    ``workflowTask`` where the task does not carry its own."""
    doc = task.to_doc()
    doc.update(_TASK_DEFAULTS)
    for name in _INTERNAL_TASK_FIELDS:
        doc.pop(name, None)
    workflow_task = {k: v for k, v in task.workflow_task.items() if not k.startswith("_")}
    if not workflow_task and by_reference:
        workflow_task = by_reference.get(_base_reference(task.reference_task_name), {})
    doc["workflowTask"] = definition_doc(workflow_task)
    if not workflow_task:
        del doc["workflowTask"]
    return _without_unset(doc)


def workflow_doc(workflow: Workflow, include_tasks: bool = True) -> dict[str, Any]:
    """Conductor's Workflow document (the execution, with its definition)."""
    doc = workflow.to_doc(include_tasks=False)
    for name in _INTERNAL_WORKFLOW_FIELDS:
        doc.pop(name, None)
    by_reference = definition_tasks(workflow.workflow_definition)
    doc["tasks"] = [task_doc(t, by_reference) for t in workflow.tasks] if include_tasks else []
    if workflow.workflow_definition:
        doc["workflowDefinition"] = definition_doc(workflow.workflow_definition)
    else:
        doc.pop("workflowDefinition", None)
    return _without_unset(doc)
