"""The orchestrator's Prometheus metrics after a known set of workflows."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry

from dynoq.services.decider import Decider
from dynoq.services.workflow_metrics import WorkflowMetrics
from dynoq.workflow.engine import WorkflowEngine
from dynoq.workflow.model import WorkflowStatus

from .conftest import Services, wait_for_status


def value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


async def test_workflow_and_task_counts_by_type_and_status(engine: WorkflowEngine) -> None:
    registry = CollectorRegistry()
    engine.observe(WorkflowMetrics(registry))
    services = Services(engine)
    services.jobs.append(asyncio.create_task(Decider(engine, 8, registry).run(services.stop)))
    try:
        await engine.register_task_defs([{"name": "work", "retryCount": 0}])
        await engine.register_workflow_def(
            {
                "name": "pair",
                "version": 1,
                "tasks": [
                    {"name": "work", "taskReferenceName": "a", "type": "SIMPLE"},
                    {"name": "work", "taskReferenceName": "b", "type": "SIMPLE"},
                ],
            }
        )

        await engine.register_workflow_def(
            {
                "name": "stuck",
                "version": 1,
                "tasks": [{"name": "nobody", "taskReferenceName": "n", "type": "SIMPLE"}],
            }
        )
        services.worker("work", lambda task: {})
        done = [await engine.start_workflow("pair", {}) for _ in range(3)]
        failed = await engine.start_workflow("stuck", {})
        for workflow_id in done:
            await wait_for_status(engine, workflow_id)
        await engine.terminate(failed, "stop it")
        await wait_for_status(engine, failed, WorkflowStatus.TERMINATED)
    finally:
        await services.close()

    assert value(registry, "dynoq_workflows_started_total", workflow="pair") == 3
    assert value(registry, "dynoq_workflows_started_total", workflow="stuck") == 1
    assert (
        value(registry, "dynoq_workflows_finished_total", workflow="pair", status="COMPLETED") == 3
    )
    assert (
        value(registry, "dynoq_workflows_finished_total", workflow="stuck", status="TERMINATED")
        == 1
    )
    completed = value(
        registry, "dynoq_workflow_tasks_finished_total", task_type="work", status="COMPLETED"
    )
    scheduled = value(registry, "dynoq_workflow_tasks_scheduled_total", task_type="work")
    canceled = value(
        registry, "dynoq_workflow_tasks_finished_total", task_type="work", status="CANCELED"
    )
    assert completed == 6
    # the terminated one had one task scheduled, which ended CANCELED (or COMPLETED first)
    assert scheduled == completed + canceled
    assert value(registry, "dynoq_workflow_decider_lag_seconds_count") > 0
    assert value(registry, "dynoq_workflow_decisions_total", outcome="decided") > 0
