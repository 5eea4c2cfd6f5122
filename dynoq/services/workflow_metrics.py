"""Prometheus counters of the orchestrator, fed by the executor's observer seam: workflows
started and ended per type, tasks scheduled and ended per task type. Labels are definition
names and statuses, never ids, so cardinality stays that of the definitions."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from dynoq.workflow.observer import Changes


class WorkflowMetrics:
    """A :class:`dynoq.workflow.observer.WorkflowObserver` counting into ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.started_total = Counter(
            "dynoq_workflows_started",
            "Workflows started, by workflow type.",
            ["workflow"],
            registry=registry,
        )
        self.finished_total = Counter(
            "dynoq_workflows_finished",
            "Workflows that ended, by type and status (COMPLETED, FAILED, TERMINATED, TIMED_OUT).",
            ["workflow", "status"],
            registry=registry,
        )
        self.tasks_scheduled = Counter(
            "dynoq_workflow_tasks_scheduled",
            "Tasks scheduled, by task type (the task definition's name for SIMPLE tasks).",
            ["task_type"],
            registry=registry,
        )
        self.tasks_finished = Counter(
            "dynoq_workflow_tasks_finished",
            "Tasks that ended, by task type and status.",
            ["task_type", "status"],
            registry=registry,
        )

    def started(self, workflow_type: str) -> None:
        self.started_total.labels(workflow_type).inc()

    def changed(self, workflow_type: str, what: Changes) -> None:
        for task_type in what.scheduled:
            self.tasks_scheduled.labels(task_type).inc()
        for task_type, status in what.ended:
            self.tasks_finished.labels(task_type, status).inc()
        if what.workflow_ended is not None:
            self.finished_total.labels(workflow_type, what.workflow_ended).inc()
