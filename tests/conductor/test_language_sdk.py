"""The workflow language through Conductor's own Python SDK (conductor-python 2.0.0): its task
builders for JSON_JQ_TRANSFORM, INLINE (a script with Java idioms), HUMAN, TERMINATE and EVENT
registered and run against ``dynoq server`` as Conductor would run them (issue 12)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

pytest.importorskip("conductor.client", reason="conductor-python is in the dev extra")

from conductor.client.configuration.configuration import Configuration
from conductor.client.http.api.task_resource_api import TaskResourceApi
from conductor.client.http.api_client import ApiClient
from conductor.client.http.models.start_workflow_request import StartWorkflowRequest
from conductor.client.http.models.task_result import TaskResult
from conductor.client.http.rest import ApiException
from conductor.client.workflow.conductor_workflow import ConductorWorkflow
from conductor.client.workflow.executor.workflow_executor import WorkflowExecutor
from conductor.client.workflow.task.event_task import ConductorEventTask, SqsEventTask
from conductor.client.workflow.task.human_task import HumanTask
from conductor.client.workflow.task.inline import InlineTask
from conductor.client.workflow.task.json_jq_task import JsonJQTask
from conductor.client.workflow.task.task import TaskInterface
from conductor.client.workflow.task.task_type import TaskType

from dynoq.testing import wait_until

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning")


@pytest.fixture(scope="module")
def configuration(conductor_url: str) -> Configuration:
    return Configuration(server_api_url=conductor_url)


@pytest.fixture(scope="module")
def executor(configuration: Configuration) -> WorkflowExecutor:
    return WorkflowExecutor(configuration)


def workflow(executor: WorkflowExecutor, *tasks: Any, **output: str) -> ConductorWorkflow:
    definition = ConductorWorkflow(executor=executor, name="lang_" + uuid.uuid4().hex[:10])
    for task in tasks:
        definition >> task
    definition.output_parameters(output)
    return definition


def terminate(ref: str, output: Any) -> TaskInterface:
    return TaskInterface(
        task_reference_name=ref,
        task_type=TaskType.TERMINATE,
        input_parameters={"terminationStatus": "COMPLETED", "workflowOutput": output},
    )


def test_jq_and_a_java_idiom_script_run_as_conductor_runs_them(executor: WorkflowExecutor) -> None:
    jq = JsonJQTask("pick", ".items | map(select(.ok)) | map(.name)")
    jq.input_parameters["items"] = "${workflow.input.items}"
    script = InlineTask(
        "count",
        "(function () { var l = $.names; return l.size() + ':' + l.get(0); })()",
        bindings={"names": "${pick.output.result}"},
    )
    definition = workflow(
        executor,
        jq,
        script,
        terminate("stop", "${count.output.result}"),
    )
    definition.register(overwrite=True)
    items = [{"name": "a", "ok": True}, {"name": "b", "ok": False}, {"name": "c", "ok": True}]
    run = definition.execute({"items": items}, wait_for_seconds=15)
    assert run.status == "COMPLETED", run.reason_for_incompletion
    assert run.output == {"output": "2:a"}  # TERMINATE wraps an output that is not a map
    types = [t.task_type for t in run.tasks]
    assert types == ["JSON_JQ_TRANSFORM", "INLINE", "TERMINATE"]
    assert run.tasks[0].output_data == {"result": ["a", "c"], "resultList": [["a", "c"]]}


def test_a_human_task_waits_for_an_update(
    executor: WorkflowExecutor, configuration: Configuration
) -> None:
    definition = workflow(
        executor,
        HumanTask("approve"),
        ConductorEventTask("tell", "approvals"),
        who="${approve.output.who}",
    )
    definition.register(overwrite=True)
    workflow_id = str(definition.start_workflow_with_input({}))

    def waiting() -> Any:
        found = executor.get_workflow(workflow_id, include_tasks=True)
        return found.tasks[0] if found.tasks and found.tasks[0].status == "IN_PROGRESS" else None

    human = wait_until(waiting, timeout=15, interval=0.05)
    assert human.task_type == "HUMAN"
    TaskResourceApi(ApiClient(configuration)).update_task(
        TaskResult(
            workflow_instance_id=workflow_id,
            task_id=human.task_id,
            status="COMPLETED",
            output_data={"who": "ann"},
        )
    )

    def ended() -> Any:
        found = executor.get_workflow(workflow_id, include_tasks=True)
        return found if found.status == "COMPLETED" else None

    run = wait_until(ended, timeout=15, interval=0.05)
    assert run.output == {"who": "ann"}
    # Conductor's expansion of the sink conductor:approvals: the workflow's name goes in
    assert run.tasks[1].output_data["event_produced"] == f"conductor:{definition.name}:approvals"


def test_a_sink_dynoq_cannot_publish_to_is_refused_naming_it(executor: WorkflowExecutor) -> None:
    definition = workflow(executor, SqsEventTask("tell", "orders"))
    with pytest.raises(ApiException) as caught:
        definition.register(overwrite=True)
    assert caught.value.status == 400
    assert "'sqs' is not supported" in str(caught.value.body)


def test_task_to_domain_keeps_a_task_from_pollers_without_the_domain(
    executor: WorkflowExecutor, configuration: Configuration
) -> None:
    task_type = "dom_" + uuid.uuid4().hex[:8]
    definition = workflow(
        executor,
        TaskInterface(task_reference_name="t", task_type=TaskType.SIMPLE, task_name=task_type),
    )
    definition.register(overwrite=True)
    request = StartWorkflowRequest(
        name=definition.name, version=1, input={}, task_to_domain={task_type: "blue"}
    )
    workflow_id = str(executor.start_workflow(request))
    tasks = TaskResourceApi(ApiClient(configuration))
    assert tasks.batch_poll(task_type, workerid="plain", count=5, timeout=200) == []
    (got,) = tasks.batch_poll(task_type, workerid="b", domain="blue", count=5, timeout=5000)
    assert (got.workflow_instance_id, got.domain) == (workflow_id, "blue")
