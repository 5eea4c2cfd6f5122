"""Workflow and task definitions in Conductor's JSON, parsed into frozen values.

``parse_workflow_def`` and ``parse_task_def`` accept the JSON documents Conductor's clients send
(unknown fields are ignored, as Conductor does) and raise :class:`InvalidDefinition` listing every
problem with its JSON path. ``to_doc`` gives the documents back with Conductor's field names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class TaskType(StrEnum):
    SIMPLE = "SIMPLE"
    SWITCH = "SWITCH"
    DECISION = "DECISION"  # Conductor's older SWITCH, accepted for old definitions
    FORK_JOIN = "FORK_JOIN"
    JOIN = "JOIN"
    SUB_WORKFLOW = "SUB_WORKFLOW"
    HTTP = "HTTP"
    INLINE = "INLINE"
    DO_WHILE = "DO_WHILE"
    WAIT = "WAIT"
    TERMINATE = "TERMINATE"
    SET_VARIABLE = "SET_VARIABLE"
    FORK_JOIN_DYNAMIC = "FORK_JOIN_DYNAMIC"
    DYNAMIC = "DYNAMIC"


class RetryLogic(StrEnum):
    FIXED = "FIXED"
    LINEAR_BACKOFF = "LINEAR_BACKOFF"
    EXPONENTIAL_BACKOFF = "EXPONENTIAL_BACKOFF"


class TaskTimeoutPolicy(StrEnum):
    RETRY = "RETRY"
    TIME_OUT_WF = "TIME_OUT_WF"
    ALERT_ONLY = "ALERT_ONLY"


class WorkflowTimeoutPolicy(StrEnum):
    TIME_OUT_WF = "TIME_OUT_WF"
    ALERT_ONLY = "ALERT_ONLY"


@dataclass(frozen=True, slots=True)
class TaskDef:
    """Conductor's TaskDef, with Conductor's defaults."""

    name: str
    description: str = ""
    retry_count: int = 3
    retry_logic: RetryLogic = RetryLogic.FIXED
    retry_delay_seconds: int = 60
    backoff_scale_factor: int = 1
    max_retry_delay_seconds: int = 0  # 0 = no cap
    timeout_seconds: int = 0  # 0 = no timeout; counted from the task's start
    response_timeout_seconds: int = 3600
    poll_timeout_seconds: int = 0  # 0 = none; counted from scheduling while not yet polled
    timeout_policy: TaskTimeoutPolicy = TaskTimeoutPolicy.TIME_OUT_WF
    input_keys: tuple[str, ...] = ()
    output_keys: tuple[str, ...] = ()
    input_template: dict[str, Any] = field(default_factory=dict)
    concurrent_exec_limit: int = 0  # 0 = unlimited
    rate_limit_per_frequency: int = 0  # 0 = unlimited
    rate_limit_frequency_in_seconds: int = 1
    owner_email: str = ""
    create_time: int = 0
    update_time: int = 0


@dataclass(frozen=True, slots=True)
class WorkflowTask:
    """One entry of a workflow's ``tasks`` (Conductor's WorkflowTask), nested for control flow."""

    name: str
    task_reference_name: str
    type: TaskType = TaskType.SIMPLE
    description: str = ""
    input_parameters: dict[str, Any] = field(default_factory=dict)
    optional: bool = False
    start_delay: int = 0  # seconds before the first push of the task
    async_complete: bool = False
    retry_count: int | None = None  # overrides the TaskDef's retryCount when set
    task_definition: TaskDef | None = None  # an inline TaskDef, preferred over the registered one
    # SWITCH / DECISION
    evaluator_type: str = "value-param"  # "value-param" | "javascript"
    expression: str = ""
    case_value_param: str = ""  # DECISION's way of naming the input parameter
    decision_cases: dict[str, tuple[WorkflowTask, ...]] = field(default_factory=dict)
    default_case: tuple[WorkflowTask, ...] = ()
    # FORK_JOIN / JOIN / FORK_JOIN_DYNAMIC
    fork_tasks: tuple[tuple[WorkflowTask, ...], ...] = ()
    join_on: tuple[str, ...] = ()
    dynamic_fork_tasks_param: str = ""
    dynamic_fork_tasks_input_param_name: str = ""
    # DO_WHILE
    loop_condition: str = ""
    loop_over: tuple[WorkflowTask, ...] = ()
    # SUB_WORKFLOW: {"name", "version"?, "workflowDefinition"?, "taskToDomain"?}
    sub_workflow_param: dict[str, Any] = field(default_factory=dict)
    # DYNAMIC
    dynamic_task_name_param: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def children(self) -> tuple[tuple[WorkflowTask, ...], ...]:
        """Every nested task list: switch cases (default last), fork branches, the loop body."""
        lists = [*self.decision_cases.values()]
        if self.default_case:
            lists.append(self.default_case)
        return (*lists, *self.fork_tasks, *((self.loop_over,) if self.loop_over else ()))


@dataclass(frozen=True, slots=True)
class WorkflowDef:
    """Conductor's WorkflowDef (schemaVersion 2)."""

    name: str
    tasks: tuple[WorkflowTask, ...]
    version: int = 1
    description: str = ""
    input_parameters: tuple[str, ...] = ()
    output_parameters: dict[str, Any] = field(default_factory=dict)
    timeout_seconds: int = 0
    timeout_policy: WorkflowTimeoutPolicy = WorkflowTimeoutPolicy.ALERT_ONLY
    failure_workflow: str = ""
    restartable: bool = True
    variables: dict[str, Any] = field(default_factory=dict)
    schema_version: int = 2
    owner_email: str = ""
    create_time: int = 0
    update_time: int = 0
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
