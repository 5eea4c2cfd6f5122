"""Workflow and task definitions in Conductor's JSON, parsed into frozen values.

``parse_workflow_def`` and ``parse_task_def`` accept the JSON documents Conductor's clients send
(unknown fields are ignored, as Conductor does) and raise :class:`InvalidDefinition` listing every
problem with its JSON path (``$.tasks[2].decisionCases.a[0].taskReferenceName``).
``task_def_to_doc`` and ``workflow_def_to_doc`` give the documents back with Conductor's field
names; fields this module does not model are carried over from ``raw`` so they survive a round
trip. ``iter_workflow_tasks`` and ``workflow_task_index`` walk the nested task tree.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from dynoq.errors import InvalidDefinition
from dynoq.workflow.expressions import expression_problems, key_path, with_placeholders
from dynoq.workflow.javascript import lambda_source, syntax_problem
from dynoq.workflow.transforms import jq_problem, sink_problem


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
    JSON_JQ_TRANSFORM = "JSON_JQ_TRANSFORM"
    LAMBDA = "LAMBDA"  # Conductor's older INLINE: ``scriptExpression`` is a function body
    EVENT = "EVENT"
    HUMAN = "HUMAN"
    START_WORKFLOW = "START_WORKFLOW"
    NOOP = "NOOP"
    EXCLUSIVE_JOIN = "EXCLUSIVE_JOIN"
    KAFKA_PUBLISH = "KAFKA_PUBLISH"
    HTTP_POLL = "HTTP_POLL"


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
    default_exclusive_join_task: tuple[str, ...] = ()  # EXCLUSIVE_JOIN
    # DO_WHILE
    loop_condition: str = ""
    loop_over: tuple[WorkflowTask, ...] = ()
    items: str = ""  # an expression giving the list to iterate over
    sink: str = ""  # EVENT
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
    input_template: dict[str, Any] = field(default_factory=dict)  # defaults of missing inputs
    schema_version: int = 2
    owner_email: str = ""
    create_time: int = 0
    update_time: int = 0
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


Problem = tuple[str, str]

# Conductor fields that change how a workflow runs and that dynoq does not implement: a
# definition setting one is refused, naming it, rather than accepted and run differently.
_UNSUPPORTED_TASK_FIELDS = {
    "permissive": "permissive tasks",
    "onStateChange": "onStateChange events",
    "cacheConfig": "task output caching (cacheConfig)",
    "dynamicForkJoinTasksParam": "the legacy dynamicForkJoinTasksParam (use dynamicForkTasksParam)",
}
_UNSUPPORTED_WORKFLOW_FIELDS = {
    "rateLimitConfig": "workflow rate limits (rateLimitConfig)",
}
_UNSUPPORTED_TASK_DEF_FIELDS = {
    "totalTimeoutSeconds": "totalTimeoutSeconds",
    "isolationGroupId": "isolation groups (isolationGroupId)",
    "executionNameSpace": "execution namespaces (executionNameSpace)",
    "backoffJitterMs": "retry jitter (backoffJitterMs)",
}


# ${workflow.env.X} / ${workflow.secrets.X} are filled in when a task is handed to its worker
# (dynoq.workflow.variables), so only tasks handed to workers (effects.QUEUED_TYPES) can use
# them; anywhere else they would stay unresolved text, so such a definition is refused
_VARIABLE_REFERENCE = re.compile(r"\$\{workflow\.(?:env|secrets)\.")
_WORKER_TYPES = frozenset({"SIMPLE", "DYNAMIC", "HTTP", "HTTP_POLL"})


def _uses_variables(value: Any) -> bool:
    if isinstance(value, str):
        return bool(_VARIABLE_REFERENCE.search(value))
    if isinstance(value, Mapping):
        return any(_uses_variables(v) for v in value.values())
    if isinstance(value, list):
        return any(_uses_variables(v) for v in value)
    return False


def _variables_outside_workers(read: _Reader, type_name: str, fields: Sequence[str]) -> None:
    for key in fields:
        if _uses_variables(read.doc.get(key)):
            read.problem(
                key,
                "${workflow.env.X} and ${workflow.secrets.X} are resolved only in the input of "
                f"tasks handed to workers (SIMPLE, DYNAMIC, HTTP, HTTP_POLL), not in {type_name}",
            )


def _unsupported(read: _Reader, fields: Mapping[str, str]) -> None:
    for key, feature in fields.items():
        if read.doc.get(key):  # unset, null, false, 0, "" and {} all mean "not used"
            read.problem(key, f"{feature} is not supported by dynoq")


_SWITCH_EVALUATORS = ("value-param", "javascript")
_SCRIPT_EVALUATORS = ("javascript", "graaljs")
_TERMINATION_STATUSES = ("COMPLETED", "FAILED", "TERMINATED")
_FORKS = (TaskType.FORK_JOIN, TaskType.FORK_JOIN_DYNAMIC)

_TASK_DEF_FIELDS = {
    "name": "name",
    "description": "description",
    "retryCount": "retry_count",
    "retryLogic": "retry_logic",
    "retryDelaySeconds": "retry_delay_seconds",
    "backoffScaleFactor": "backoff_scale_factor",
    "maxRetryDelaySeconds": "max_retry_delay_seconds",
    "timeoutSeconds": "timeout_seconds",
    "responseTimeoutSeconds": "response_timeout_seconds",
    "pollTimeoutSeconds": "poll_timeout_seconds",
    "timeoutPolicy": "timeout_policy",
    "inputKeys": "input_keys",
    "outputKeys": "output_keys",
    "inputTemplate": "input_template",
    "concurrentExecLimit": "concurrent_exec_limit",
    "rateLimitPerFrequency": "rate_limit_per_frequency",
    "rateLimitFrequencyInSeconds": "rate_limit_frequency_in_seconds",
    "ownerEmail": "owner_email",
    "createTime": "create_time",
    "updateTime": "update_time",
}

_WORKFLOW_TASK_FIELDS = {
    "name": "name",
    "taskReferenceName": "task_reference_name",
    "type": "type",
    "description": "description",
    "inputParameters": "input_parameters",
    "optional": "optional",
    "startDelay": "start_delay",
    "asyncComplete": "async_complete",
    "retryCount": "retry_count",
    "taskDefinition": "task_definition",
    "evaluatorType": "evaluator_type",
    "expression": "expression",
    "caseValueParam": "case_value_param",
    "decisionCases": "decision_cases",
    "defaultCase": "default_case",
    "forkTasks": "fork_tasks",
    "joinOn": "join_on",
    "dynamicForkTasksParam": "dynamic_fork_tasks_param",
    "dynamicForkTasksInputParamName": "dynamic_fork_tasks_input_param_name",
    "loopCondition": "loop_condition",
    "loopOver": "loop_over",
    "items": "items",
    "sink": "sink",
    "defaultExclusiveJoinTask": "default_exclusive_join_task",
    "subWorkflowParam": "sub_workflow_param",
    "dynamicTaskNameParam": "dynamic_task_name_param",
}

_WORKFLOW_DEF_FIELDS = {
    "name": "name",
    "version": "version",
    "description": "description",
    "tasks": "tasks",
    "inputParameters": "input_parameters",
    "outputParameters": "output_parameters",
    "timeoutSeconds": "timeout_seconds",
    "timeoutPolicy": "timeout_policy",
    "failureWorkflow": "failure_workflow",
    "restartable": "restartable",
    "variables": "variables",
    "inputTemplate": "input_template",
    "schemaVersion": "schema_version",
    "ownerEmail": "owner_email",
    "createTime": "create_time",
    "updateTime": "update_time",
}


# --------------------------------------------------------------------------- parsing


def parse_task_def(doc: Any) -> TaskDef:
    """The TaskDef in a Conductor JSON document; raises InvalidDefinition listing every problem."""
    problems: list[Problem] = []
    task_def = _task_def(doc, "$", problems)
    if problems or task_def is None:
        raise InvalidDefinition(problems or [("$", "must be a JSON object")])
    return task_def


def parse_workflow_def(doc: Any, task_defs: Mapping[str, TaskDef] | None = None) -> WorkflowDef:
    """The WorkflowDef in a Conductor JSON document; raises InvalidDefinition listing every problem.

    With ``task_defs`` (the registered task definitions by name), a SIMPLE task that has neither
    a registered nor an inline definition is a problem; without it such tasks get the defaults.
    """
    problems: list[Problem] = []
    workflow = _workflow_def(doc, "$", problems, task_defs)
    if problems or workflow is None:
        raise InvalidDefinition(problems or [("$", "must be a JSON object")])
    return workflow


_E = TypeVar("_E", bound=StrEnum)


class _Reader:
    """Reads typed fields of one JSON object, noting a problem for each bad one."""

    def __init__(self, doc: Mapping[str, Any], path: str, problems: list[Problem]) -> None:
        self.doc = doc
        self.path = path
        self.problems = problems

    def problem(self, key: str | None, message: str) -> None:
        self.problems.append((self.path if key is None else f"{self.path}.{key}", message))

    def integer(self, key: str, default: int, minimum: int = 0) -> int:
        value = self.doc.get(key)
        if value is None:
            return default
        if not isinstance(value, int) or isinstance(value, bool):
            self.problem(key, f"must be an integer, not {_describe(value)}")
            return default
        if value < minimum:
            self.problem(key, f"must be at least {minimum}, not {value}")
            return default
        return value

    def optional_integer(self, key: str) -> int | None:
        return None if self.doc.get(key) is None else self.integer(key, 0)

    def text(self, key: str, default: str = "") -> str:
        value = self.doc.get(key)
        if value is None:
            return default
        if not isinstance(value, str):
            self.problem(key, f"must be a string, not {_describe(value)}")
            return default
        return value

    def name(self, key: str) -> str:
        value = self.text(key)
        raw = self.doc.get(key)
        if not value.strip() and (raw is None or isinstance(raw, str)):
            self.problem(key, f"{key} is required")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.doc.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problem(key, f"must be true or false, not {_describe(value)}")
            return default
        return value

    def choice(self, key: str, kind: type[_E], default: _E) -> _E:
        value = self.doc.get(key)
        if value is None:
            return default
        if not isinstance(value, str) or value not in kind.__members__:
            self.problem(key, f"must be one of {', '.join(kind.__members__)}, not {value!r}")
            return default
        return kind(value)

    def mapping(self, key: str) -> dict[str, Any]:
        value = self.doc.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(key, f"must be an object, not {_describe(value)}")
            return {}
        return copy.deepcopy(value)

    def items(self, key: str) -> list[Any]:
        value = self.doc.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(key, f"must be a list, not {_describe(value)}")
            return []
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        values = self.items(key)
        for index, value in enumerate(values):
            if not isinstance(value, str):
                self.problems.append(
                    (f"{self.path}.{key}[{index}]", f"must be a string, not {_describe(value)}")
                )
        return tuple(value for value in values if isinstance(value, str))


def _describe(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    names |= {list: "a list", dict: "an object", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _object(doc: Any, path: str, problems: list[Problem]) -> Mapping[str, Any] | None:
    if isinstance(doc, Mapping):
        return doc
    problems.append((path, f"must be an object, not {_describe(doc)}"))
    return None


def _task_def(
    doc: Any, path: str, problems: list[Problem], default_name: str = "", embedded: bool = False
) -> TaskDef | None:
    obj = _object(doc, path, problems)
    if obj is None:
        return None
    read = _Reader(obj, path, problems)
    name = (read.text("name") or default_name) if default_name else read.name("name")
    task_def = TaskDef(
        name=name,
        description=read.text("description"),
        retry_count=read.integer("retryCount", 3),
        retry_logic=read.choice("retryLogic", RetryLogic, RetryLogic.FIXED),
        retry_delay_seconds=read.integer("retryDelaySeconds", 60),
        backoff_scale_factor=read.integer("backoffScaleFactor", 1, minimum=1),
        max_retry_delay_seconds=read.integer("maxRetryDelaySeconds", 0),
        timeout_seconds=read.integer("timeoutSeconds", 0),
        response_timeout_seconds=read.integer("responseTimeoutSeconds", 3600, minimum=1),
        poll_timeout_seconds=read.integer("pollTimeoutSeconds", 0),
        timeout_policy=read.choice(
            "timeoutPolicy", TaskTimeoutPolicy, TaskTimeoutPolicy.TIME_OUT_WF
        ),
        input_keys=read.texts("inputKeys"),
        output_keys=read.texts("outputKeys"),
        input_template=read.mapping("inputTemplate"),
        concurrent_exec_limit=read.integer("concurrentExecLimit", 0),
        rate_limit_per_frequency=read.integer("rateLimitPerFrequency", 0),
        rate_limit_frequency_in_seconds=read.integer("rateLimitFrequencyInSeconds", 1),
        owner_email=read.text("ownerEmail"),
        create_time=read.integer("createTime", 0),
        update_time=read.integer("updateTime", 0),
    )
    _unsupported(read, _UNSUPPORTED_TASK_DEF_FIELDS)
    if not embedded and 0 < task_def.timeout_seconds < task_def.response_timeout_seconds:
        read.problem(
            "responseTimeoutSeconds",
            f"must not exceed timeoutSeconds ({task_def.timeout_seconds}),"
            f" not {task_def.response_timeout_seconds}",
        )
    return task_def


class _Tree:
    """What checks across the whole task tree need: every reference and every JOIN."""

    def __init__(self, problems: list[Problem], task_defs: Mapping[str, TaskDef] | None) -> None:
        self.problems = problems
        self.task_defs = task_defs
        self.refs: dict[str, str] = {}  # reference name -> path of its first task
        self.joins: list[tuple[str, tuple[str, ...]]] = []  # (path, joinOn)

    def add_ref(self, ref: str, path: str) -> None:
        if not ref:
            return
        if ref in self.refs:
            self.problems.append(
                (
                    f"{path}.taskReferenceName",
                    f"duplicate taskReferenceName {ref!r} (also at {self.refs[ref]})",
                )
            )
        else:
            self.refs[ref] = path

    def check_joins(self) -> None:
        for path, join_on in self.joins:
            for index, ref in enumerate(join_on):
                if ref not in self.refs:
                    self.problems.append(
                        (f"{path}[{index}]", f"no task has the reference name {ref!r}")
                    )


def _workflow_def(
    doc: Any, path: str, problems: list[Problem], task_defs: Mapping[str, TaskDef] | None
) -> WorkflowDef | None:
    obj = _object(doc, path, problems)
    if obj is None:
        return None
    read = _Reader(obj, path, problems)
    tree = _Tree(problems, task_defs)
    name = read.name("name")
    tasks = _task_list(read.items("tasks"), f"{path}.tasks", tree)
    if not tasks and isinstance(obj.get("tasks"), list | None):
        read.problem("tasks", "a workflow needs at least one task")
    tree.check_joins()
    workflow = WorkflowDef(
        name=name,
        tasks=tasks,
        version=read.integer("version", 1),
        description=read.text("description"),
        input_parameters=read.texts("inputParameters"),
        output_parameters=read.mapping("outputParameters"),
        timeout_seconds=read.integer("timeoutSeconds", 0),
        timeout_policy=read.choice(
            "timeoutPolicy", WorkflowTimeoutPolicy, WorkflowTimeoutPolicy.ALERT_ONLY
        ),
        failure_workflow=read.text("failureWorkflow"),
        restartable=read.flag("restartable", True),
        variables=read.mapping("variables"),
        input_template=read.mapping("inputTemplate"),
        schema_version=read.integer("schemaVersion", 2),
        owner_email=read.text("ownerEmail"),
        create_time=read.integer("createTime", 0),
        update_time=read.integer("updateTime", 0),
        raw=copy.deepcopy(dict(obj)),
    )
    if workflow.schema_version != 2:
        # Conductor's own check (@Min(2) @Max(2) on WorkflowDef.schemaVersion), same words
        version = workflow.schema_version
        read.problem("schemaVersion", f"workflowDef schemaVersion: {version} is only supported")
    _unsupported(read, _UNSUPPORTED_WORKFLOW_FIELDS)
    # Conductor's enforceSchema defaults to true; it only matters with a schema to enforce
    if obj.get("enforceSchema", True) and (obj.get("inputSchema") or obj.get("outputSchema")):
        read.problem(
            "enforceSchema", "schema enforcement (enforceSchema) is not supported by dynoq"
        )
    _expressions(workflow.output_parameters, f"{path}.outputParameters", problems)
    _variables_outside_workers(read, "the workflow's output", ("outputParameters",))
    _expressions(workflow.failure_workflow, f"{path}.failureWorkflow", problems)
    read.optional_integer("failureWorkflowVersion")
    return workflow


def _expressions(template: Any, path: str, problems: list[Problem]) -> None:
    problems.extend(
        (path + sub_path, message) for sub_path, message in expression_problems(template)
    )


def _task_list(docs: list[Any], path: str, tree: _Tree) -> tuple[WorkflowTask, ...]:
    tasks: list[WorkflowTask] = []
    for index, doc in enumerate(docs):
        task = _workflow_task(doc, f"{path}[{index}]", tree)
        if task is not None:
            tasks.append(task)
    _check_forks_are_joined(docs, path, tree.problems)
    return tuple(tasks)


def _check_forks_are_joined(docs: list[Any], path: str, problems: list[Problem]) -> None:
    types = [doc.get("type") if isinstance(doc, Mapping) else None for doc in docs]
    for index, kind in enumerate(types):
        following = types[index + 1] if index + 1 < len(types) else None
        if kind in _FORKS and following != TaskType.JOIN:
            problems.append((f"{path}[{index}]", f"a {kind} must be followed by a JOIN"))


def _workflow_task(doc: Any, path: str, tree: _Tree) -> WorkflowTask | None:
    obj = _object(doc, path, tree.problems)
    if obj is None:
        return None
    read = _Reader(obj, path, tree.problems)
    name = read.name("name")
    ref = read.name("taskReferenceName")
    tree.add_ref(ref, path)
    task = WorkflowTask(
        name=name,
        task_reference_name=ref,
        type=_task_type(read),
        description=read.text("description"),
        input_parameters=read.mapping("inputParameters"),
        optional=read.flag("optional", False),
        start_delay=read.integer("startDelay", 0),
        async_complete=read.flag("asyncComplete", False),
        retry_count=read.optional_integer("retryCount"),
        task_definition=_inline_task_def(obj, path, tree.problems, name),
        evaluator_type=_evaluator_type(read),
        expression=read.text("expression"),
        case_value_param=read.text("caseValueParam"),
        decision_cases=_decision_cases(read, tree),
        default_case=_task_list(read.items("defaultCase"), f"{path}.defaultCase", tree),
        fork_tasks=_fork_tasks(read, tree),
        join_on=read.texts("joinOn"),
        dynamic_fork_tasks_param=read.text("dynamicForkTasksParam"),
        dynamic_fork_tasks_input_param_name=read.text("dynamicForkTasksInputParamName"),
        loop_condition=read.text("loopCondition"),
        loop_over=_task_list(read.items("loopOver"), f"{path}.loopOver", tree),
        items=read.text("items"),
        sink=read.text("sink"),
        default_exclusive_join_task=read.texts("defaultExclusiveJoinTask"),
        sub_workflow_param=read.mapping("subWorkflowParam"),
        dynamic_task_name_param=read.text("dynamicTaskNameParam"),
        raw=copy.deepcopy(dict(obj)),
    )
    _expressions(task.input_parameters, f"{path}.inputParameters", tree.problems)
    _unsupported(read, _UNSUPPORTED_TASK_FIELDS)
    if task.type not in _WORKER_TYPES:
        fields = ("inputParameters", "expression", "loopCondition", "caseValueParam", "items")
        _variables_outside_workers(read, f"a {task.type} task", fields)
    _CHECKS.get(task.type, _no_check)(task, read, tree)
    return task


def _task_type(read: _Reader) -> TaskType:
    value = read.doc.get("type")
    if value is None:
        return TaskType.SIMPLE
    if not isinstance(value, str) or value not in TaskType.__members__:
        read.problem("type", f"unknown task type {value!r}")
        return TaskType.SIMPLE
    return TaskType(value)


def _evaluator_type(read: _Reader) -> str:
    value = read.text("evaluatorType", "value-param")
    # graaljs is Conductor's other name for its JavaScript evaluator
    return "javascript" if value == "graaljs" else value


def _inline_task_def(
    obj: Mapping[str, Any], path: str, problems: list[Problem], name: str
) -> TaskDef | None:
    doc = obj.get("taskDefinition")
    if doc is None:
        return None
    # Conductor does not validate an embedded TaskDef as a registered one: no timeout check
    return _task_def(
        doc, f"{path}.taskDefinition", problems, default_name=name or "inline", embedded=True
    )


def _decision_cases(read: _Reader, tree: _Tree) -> dict[str, tuple[WorkflowTask, ...]]:
    cases = read.doc.get("decisionCases")
    if cases is None:
        return {}
    if not isinstance(cases, Mapping):
        read.problem("decisionCases", f"must be an object, not {_describe(cases)}")
        return {}
    parsed: dict[str, tuple[WorkflowTask, ...]] = {}
    for key, docs in cases.items():
        case_path = f"{read.path}.decisionCases{key_path(key)}"
        if not isinstance(docs, list):
            tree.problems.append((case_path, f"must be a list, not {_describe(docs)}"))
            continue
        parsed[str(key)] = _task_list(docs, case_path, tree)
    return parsed


def _fork_tasks(read: _Reader, tree: _Tree) -> tuple[tuple[WorkflowTask, ...], ...]:
    branches: list[tuple[WorkflowTask, ...]] = []
    for index, docs in enumerate(read.items("forkTasks")):
        branch_path = f"{read.path}.forkTasks[{index}]"
        if not isinstance(docs, list):
            tree.problems.append((branch_path, f"must be a list, not {_describe(docs)}"))
            continue
        if not docs:
            tree.problems.append((branch_path, "a fork branch needs at least one task"))
        branches.append(_task_list(docs, branch_path, tree))
    return tuple(branches)


# --------------------------------------------------------------------------- type-specific checks


def _no_check(task: WorkflowTask, read: _Reader, tree: _Tree) -> None:
    """Task types with no fields of their own to check."""


def _check_simple(task: WorkflowTask, read: _Reader, tree: _Tree) -> None:
    if tree.task_defs is None or task.task_definition is not None or not task.name:
        return
    if task.name not in tree.task_defs:
        read.problem("name", f"no task definition is registered under {task.name!r}")


def _check_switch(task: WorkflowTask, read: _Reader, tree: _Tree) -> None:
    if not task.decision_cases and not task.default_case:
        read.problem(None, f"a {task.type} needs decisionCases or a defaultCase")
    if task.type is TaskType.DECISION:
        _check_decision(task, read)
        return
    if task.evaluator_type not in _SWITCH_EVALUATORS:
        read.problem(
            "evaluatorType",
            f"must be value-param or javascript, not {task.evaluator_type!r}",
        )
    elif not task.expression.strip():
        read.problem("expression", "a SWITCH needs an expression")
    elif task.evaluator_type == "javascript":
        _check_script(task.expression, read, "expression")


def _check_decision(task: WorkflowTask, read: _Reader) -> None:
    case_expression = read.text("caseExpression")
    if case_expression:
        _check_script(case_expression, read, "caseExpression")
    elif not task.case_value_param:
        read.problem(None, "a DECISION needs caseValueParam or caseExpression")


def _check_inline(task: WorkflowTask, read: _Reader, tree: _Tree) -> None:
    evaluator = task.input_parameters.get("evaluatorType")
    expression = task.input_parameters.get("expression")
    if evaluator not in _SCRIPT_EVALUATORS:
        read.problem(
            "inputParameters.evaluatorType", f"must be javascript or graaljs, not {evaluator!r}"
        )
    if not isinstance(expression, str) or not expression.strip():
        read.problem("inputParameters.expression", "an INLINE task needs a script expression")
    elif evaluator in _SCRIPT_EVALUATORS:
        # the expression is resolved like any input before it runs, so check it as it will be
        _check_script(with_placeholders(expression), read, "inputParameters.expression")


def _check_do_while(task: WorkflowTask, read: _Reader, tree: _Tree) -> None:
    if not task.loop_over:
        read.problem("loopOver", "a DO_WHILE needs at least one task in loopOver")
    if task.loop_condition.strip():
        _check_script(task.loop_condition, read, "loopCondition")
    elif not task.items.strip():
        read.problem("loopCondition", "a DO_WHILE needs a loopCondition (or items to iterate)")
    _expressions(task.items, f"{read.path}.items", tree.problems)
    keep = task.input_parameters.get("keepLastN")
    if keep is not None and (not isinstance(keep, int) or isinstance(keep, bool) or keep < 1):
        read.problem("inputParameters.keepLastN", f"must be a positive integer, not {keep!r}")


def _template_has(task: WorkflowTask, tree: _Tree, key: str) -> bool:
    """Whether the task's input (or its TaskDef's inputTemplate, when known) gives ``key``."""
    if key in task.input_parameters:
        return True
    tdef = task.task_definition or (tree.task_defs or {}).get(task.name)
    # registered TaskDefs are not known at registration: assume the template may give it
    return (tdef is not None and key in tdef.input_template) or (
        tdef is None and tree.task_defs is None and task.task_definition is None
    )


def _check_json_jq(task: WorkflowTask, read: _Reader, tree: _Tree) -> None:
    query = task.input_parameters.get("queryExpression")
    if query is None:
        if not _template_has(task, tree, "queryExpression"):
            read.problem(
                "inputParameters.queryExpression",
                "a JSON_JQ_TRANSFORM needs inputParameters.queryExpression",
            )
        return
    if not isinstance(query, str):
        read.problem("inputParameters.queryExpression", f"must be a string, not {_describe(query)}")
    elif "${" not in query:
        problem = jq_problem(query)
        if problem is not None:
            read.problem("inputParameters.queryExpression", problem)


def _check_lambda(task: WorkflowTask, read: _Reader, tree: _Tree) -> None:
    script = task.input_parameters.get("scriptExpression")
    if not isinstance(script, str) or not script.strip():
        read.problem("inputParameters.scriptExpression", "a LAMBDA needs a scriptExpression")
    else:
        source = lambda_source(with_placeholders(script))
        _check_script(source, read, "inputParameters.scriptExpression")


def _check_event(task: WorkflowTask, read: _Reader, tree: _Tree) -> None:
    if not task.sink.strip():
        read.problem("sink", "an EVENT task needs a sink")
        return
    _expressions(task.sink, f"{read.path}.sink", tree.problems)
    if "${" not in task.sink:
        problem = sink_problem(task.sink)
        if problem is not None:
            read.problem("sink", problem)


def _check_http_poll(task: WorkflowTask, read: _Reader, tree: _Tree) -> None:
    request = task.input_parameters.get("http_request")
    fields = {**task.input_parameters, **(request if isinstance(request, Mapping) else {})}
    condition = fields.get("terminationCondition")
    key = (
        "http_request.terminationCondition"
        if isinstance(request, Mapping)
        else "terminationCondition"
    )
    if not isinstance(condition, str) or not condition.strip():
        read.problem(f"inputParameters.{key}", "an HTTP_POLL needs a terminationCondition")
    elif "${" not in condition:
        _check_script(condition, read, f"inputParameters.{key}")
    strategy = fields.get("pollingStrategy")
    if strategy is not None and strategy not in ("FIXED", "LINEAR_BACKOFF", "EXPONENTIAL_BACKOFF"):
        read.problem(
            f"inputParameters.{key.replace('terminationCondition', 'pollingStrategy')}",
            f"must be FIXED, LINEAR_BACKOFF or EXPONENTIAL_BACKOFF, not {strategy!r}",
        )


def _check_kafka_publish(task: WorkflowTask, read: _Reader, tree: _Tree) -> None:
    if not _template_has(task, tree, "kafka_request"):
        read.problem(
            "inputParameters.kafka_request", "a KAFKA_PUBLISH needs inputParameters.kafka_request"
        )


def _check_fork_join(task: WorkflowTask, read: _Reader, tree: _Tree) -> None:
    if not task.fork_tasks:
        read.problem("forkTasks", "a FORK_JOIN needs at least one branch in forkTasks")


def _check_join(task: WorkflowTask, read: _Reader, tree: _Tree) -> None:
    tree.joins.append((f"{read.path}.joinOn", task.join_on))
    if task.type is TaskType.EXCLUSIVE_JOIN and task.default_exclusive_join_task:
        tree.joins.append(
            (f"{read.path}.defaultExclusiveJoinTask", task.default_exclusive_join_task)
        )


def _check_sub_workflow(task: WorkflowTask, read: _Reader, tree: _Tree) -> None:
    param = task.sub_workflow_param
    path = f"{read.path}.subWorkflowParam"
    inline = param.get("workflowDefinition")
    if isinstance(inline, Mapping):
        _workflow_def(inline, f"{path}.workflowDefinition", tree.problems, tree.task_defs)
    elif not isinstance(inline, str) or not inline:
        name = param.get("name")
        if not isinstance(name, str) or not name.strip():
            tree.problems.append((f"{path}.name", "a SUB_WORKFLOW needs subWorkflowParam.name"))
    version = param.get("version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        tree.problems.append((f"{path}.version", f"must be an integer, not {_describe(version)}"))


def _check_dynamic(task: WorkflowTask, read: _Reader, tree: _Tree) -> None:
    if not task.dynamic_task_name_param:
        read.problem("dynamicTaskNameParam", "a DYNAMIC task needs dynamicTaskNameParam")


def _check_fork_join_dynamic(task: WorkflowTask, read: _Reader, tree: _Tree) -> None:
    inputs = task.input_parameters
    if "forkTaskWorkflow" in inputs:
        read.problem(
            "inputParameters.forkTaskWorkflow",
            "forking sub-workflows (forkTaskWorkflow) is not supported by dynoq",
        )
    kind = inputs.get("forkTaskType")
    if kind is not None and kind != "SIMPLE":
        read.problem(
            "inputParameters.forkTaskType",
            f"forkTaskType {kind!r} is not supported by dynoq (only SIMPLE tasks are forked)",
        )
    if "forkTaskInputs" in inputs:
        return  # the newer form: forkTaskName (or the fork's reference) with a list of inputs
    if not task.dynamic_fork_tasks_param:
        read.problem("dynamicForkTasksParam", "a FORK_JOIN_DYNAMIC needs dynamicForkTasksParam")


def _check_terminate(task: WorkflowTask, read: _Reader, tree: _Tree) -> None:
    status = task.input_parameters.get("terminationStatus")
    if isinstance(status, str) and "${" in status:
        return
    if status not in _TERMINATION_STATUSES:
        read.problem(
            "inputParameters.terminationStatus",
            f"must be one of {', '.join(_TERMINATION_STATUSES)}, not {status!r}",
        )


def _check_script(source: str, read: _Reader, key: str) -> None:
    problem = syntax_problem(source)
    if problem is not None:
        read.problem(key, problem)


_CHECKS: dict[TaskType, Callable[[WorkflowTask, _Reader, _Tree], None]] = {
    TaskType.SIMPLE: _check_simple,
    TaskType.SWITCH: _check_switch,
    TaskType.DECISION: _check_switch,
    TaskType.INLINE: _check_inline,
    TaskType.DO_WHILE: _check_do_while,
    TaskType.FORK_JOIN: _check_fork_join,
    TaskType.JOIN: _check_join,
    TaskType.SUB_WORKFLOW: _check_sub_workflow,
    TaskType.DYNAMIC: _check_dynamic,
    TaskType.FORK_JOIN_DYNAMIC: _check_fork_join_dynamic,
    TaskType.TERMINATE: _check_terminate,
    TaskType.JSON_JQ_TRANSFORM: _check_json_jq,
    TaskType.LAMBDA: _check_lambda,
    TaskType.EVENT: _check_event,
    TaskType.KAFKA_PUBLISH: _check_kafka_publish,
    TaskType.HTTP_POLL: _check_http_poll,
    TaskType.EXCLUSIVE_JOIN: _check_join,
}


# --------------------------------------------------------------------------- documents


def task_def_to_doc(task_def: TaskDef) -> dict[str, Any]:
    """The TaskDef as Conductor's JSON, every field included."""
    return {key: _jsonable(getattr(task_def, attr)) for key, attr in _TASK_DEF_FIELDS.items()}


def workflow_task_to_doc(task: WorkflowTask) -> dict[str, Any]:
    """The WorkflowTask as Conductor's JSON; fields not modelled here are kept from ``raw``."""
    doc = _extras(task.raw, _WORKFLOW_TASK_FIELDS)
    for key, attr in _WORKFLOW_TASK_FIELDS.items():
        doc[key] = _jsonable(getattr(task, attr))
    return doc


def workflow_def_to_doc(workflow: WorkflowDef) -> dict[str, Any]:
    """The WorkflowDef as Conductor's JSON; fields not modelled here are kept from ``raw``."""
    doc = _extras(workflow.raw, _WORKFLOW_DEF_FIELDS)
    for key, attr in _WORKFLOW_DEF_FIELDS.items():
        doc[key] = _jsonable(getattr(workflow, attr))
    return doc


def _extras(raw: Mapping[str, Any], modelled: Mapping[str, str]) -> dict[str, Any]:
    """Copies of the fields of ``raw`` that are not modelled."""
    return {key: copy.deepcopy(value) for key, value in raw.items() if key not in modelled}


def _jsonable(value: Any) -> Any:
    if isinstance(value, TaskDef):
        return task_def_to_doc(value)
    if isinstance(value, WorkflowTask):
        return workflow_task_to_doc(value)
    if isinstance(value, StrEnum):
        return str(value)
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    return value


# --------------------------------------------------------------------------- helpers


def iter_workflow_tasks(tasks: Sequence[WorkflowTask]) -> Iterator[WorkflowTask]:
    """Every task in the list and nested below it, depth first, each before its children."""
    for task in tasks:
        yield task
        for child_list in task.children():
            yield from iter_workflow_tasks(child_list)


def workflow_task_index(workflow: WorkflowDef) -> dict[str, WorkflowTask]:
    """Every task of the workflow, nested ones included, by reference name."""
    return {task.task_reference_name: task for task in iter_workflow_tasks(workflow.tasks)}
