"""Conductor's own Python SDK (conductor-python 2.0.0), unchanged, against ``dynoq server``
with a decider and a workflow sweeper: definitions registered, workflows started and operated
through its WorkflowExecutor, tasks run by its TaskHandler in its own worker processes."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("conductor.client", reason="conductor-python is in the dev extra")

from conductor.client.automator.task_handler import TaskHandler
from conductor.client.configuration.configuration import Configuration
from conductor.client.http.models.skip_task_request import SkipTaskRequest
from conductor.client.http.models.start_workflow_request import StartWorkflowRequest
from conductor.client.http.models.task_def import TaskDef
from conductor.client.orkes.orkes_metadata_client import OrkesMetadataClient
from conductor.client.worker.worker import Worker
from conductor.client.workflow.conductor_workflow import ConductorWorkflow
from conductor.client.workflow.executor.workflow_executor import WorkflowExecutor
from conductor.client.workflow.task.simple_task import SimpleTask
from conductor.client.workflow.task.switch_task import SwitchTask

from dynoq.testing import wait_until
from tests.conductor import workers

# task type -> (worker function or None for a task nobody works, TaskDef settings)
TASKS: dict[str, tuple[Any, dict[str, Any]]] = {
    "greet": (workers.greet, {}),
    "double": (workers.double, {}),
    "shout": (workers.shout, {}),
    "call_me_back": (workers.call_me_back, {"response_timeout_seconds": 10}),
    "flaky": (workers.flaky, {"retry_count": 2}),
    "broken": (workers.broken, {"retry_count": 1}),
    "fatal": (workers.fatal, {"retry_count": 3}),
    "gated": (workers.gated, {}),
    "idle": (None, {}),
}
TERMINAL = ("COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED")
# the SDK's own TaskDef serialisation touches its deprecated owner_app field
pytestmark = [
    pytest.mark.sdk,
    pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning"),
]


@pytest.fixture(scope="module")
def configuration(conductor_url: str) -> Configuration:
    return Configuration(server_api_url=conductor_url)


@pytest.fixture(scope="module")
def executor(configuration: Configuration) -> WorkflowExecutor:
    return WorkflowExecutor(configuration)


@pytest.fixture(scope="module")
def task_defs(configuration: Configuration) -> None:
    metadata = OrkesMetadataClient(configuration)
    for name, (_, settings) in TASKS.items():
        options = {"retry_count": 0, "retry_delay_seconds": 0, **settings}
        metadata.register_task_def(TaskDef(name=name, **options))
    assert metadata.get_task_def("flaky").retry_count == 2


@pytest.fixture(scope="module")
def task_handler(configuration: Configuration, task_defs: None) -> Iterator[TaskHandler]:
    """One SDK worker process per task type that has a worker, polling every 10 ms."""
    runners = [
        Worker(name, function, poll_interval=10)
        for name, (function, _) in TASKS.items()
        if function is not None
    ]
    handler = TaskHandler(
        workers=runners,
        configuration=configuration,
        scan_for_annotated_workers=False,
        monitor_processes=False,
    )
    try:
        handler.start_processes()
        yield handler
    finally:
        handler.stop_processes()


def simple(task_type: str, reference: str, **inputs: Any) -> SimpleTask:
    task = SimpleTask(task_type, reference)
    task.input_parameters.update(inputs)
    return task


def workflow(executor: WorkflowExecutor, *tasks: Any, **output: str) -> ConductorWorkflow:
    """A new workflow definition (a fresh name), registered through the executor."""
    definition = ConductorWorkflow(executor=executor, name="wf_" + uuid.uuid4().hex[:10])
    for task in tasks:
        definition >> task
    definition.output_parameters(output)
    definition.register(overwrite=True)
    return definition


def start(executor: WorkflowExecutor, definition: ConductorWorkflow, **inputs: Any) -> str:
    request = StartWorkflowRequest(name=definition.name, version=1, input=inputs)
    return str(executor.start_workflow(request))


def wait_for(
    executor: WorkflowExecutor, workflow_id: str, *statuses: str, timeout: float = 20
) -> Any:
    wanted = statuses or TERMINAL

    def reached() -> Any:
        found = executor.get_workflow(workflow_id, include_tasks=True)
        return found if found.status in wanted else None

    return wait_until(
        reached, timeout=timeout, interval=0.05, message=f"{workflow_id} never {wanted}"
    )


def statuses(run: Any) -> list[tuple[str, str]]:
    return [(t.reference_task_name, t.status) for t in run.tasks]


@pytest.mark.usefixtures("task_handler")
class TestWorkflowsRunBySdkWorkers:
    def test_a_linear_workflow(self, executor):
        definition = workflow(
            executor,
            simple("greet", "greet_ref", who="${workflow.input.who}"),
            simple("shout", "shout_ref", text="${greet_ref.output.greeting}"),
            result="${shout_ref.output.text}",
        )
        run = wait_for(executor, start(executor, definition, who="dynoq"))
        assert run.status == "COMPLETED", run.reason_for_incompletion
        assert run.output == {"result": "HELLO DYNOQ!"}
        assert statuses(run) == [("greet_ref", "COMPLETED"), ("shout_ref", "COMPLETED")]
        assert run.tasks[0].output_data == {"greeting": "hello dynoq"}

        query = f"workflowType IN ({definition.name}) AND status IN (COMPLETED)"

        def searched() -> Any:
            found = executor.search(query=query).results
            return found if found else None

        [summary] = wait_until(searched, timeout=10, interval=0.05)
        assert (summary.workflow_id, summary.status) == (run.workflow_id, "COMPLETED")
        assert (
            executor.search(
                query=f"workflowType IN ({definition.name}) AND status IN (FAILED)"
            ).results
            == []
        )

    def test_execute_answers_when_the_workflow_ends(self, executor):
        definition = workflow(
            executor,
            simple("greet", "greet_ref", who="${workflow.input.who}"),
            result="${greet_ref.output.greeting}",
        )
        run = definition.execute(workflow_input={"who": "sync"}, wait_for_seconds=20)
        assert (run.status, run.output) == ("COMPLETED", {"result": "hello sync"})
        assert [t.status for t in run.tasks] == ["COMPLETED"]

    def test_fork_and_join(self, executor):
        definition = workflow(
            executor,
            [
                [simple("double", "double_ref", n="${workflow.input.n}")],
                [
                    simple("greet", "greet_ref", who="${workflow.input.who}"),
                    simple("shout", "shout_ref", text="${greet_ref.output.greeting}"),
                ],
            ],
            simple("greet", "after_join", who="${shout_ref.output.text}"),
            doubled="${double_ref.output.n}",
            greeting="${after_join.output.greeting}",
        )
        run = wait_for(executor, start(executor, definition, n=21, who="fork"))
        assert run.status == "COMPLETED", run.reason_for_incompletion
        assert run.output == {"doubled": 42, "greeting": "hello HELLO FORK!"}
        kinds = [t.task_type for t in run.tasks]
        assert kinds[0] == "FORK" and "JOIN" in kinds  # Conductor reports a FORK_JOIN as FORK

    def test_a_switch(self, executor):
        route = (
            SwitchTask("route", "${workflow.input.kind}")
            .switch_case("number", [simple("double", "double_ref", n="${workflow.input.n}")])
            .default_case([simple("greet", "greet_ref", who="${workflow.input.kind}")])
        )
        definition = workflow(executor, route)
        number = start(executor, definition, kind="number", n=5)
        other = start(executor, definition, kind="words", n=5)
        run = wait_for(executor, number)
        assert run.status == "COMPLETED"
        assert [t.reference_task_name for t in run.tasks] == ["route", "double_ref"]
        assert run.tasks[1].output_data == {"n": 10}
        run = wait_for(executor, other)
        assert [t.reference_task_name for t in run.tasks] == ["route", "greet_ref"]
        assert run.tasks[1].output_data == {"greeting": "hello words"}

    def test_in_progress_with_a_callback(self, executor):
        definition = workflow(executor, simple("call_me_back", "cb_ref"))
        started = time.monotonic()
        run = wait_for(executor, start(executor, definition))
        assert run.status == "COMPLETED", run.reason_for_incompletion
        assert time.monotonic() - started >= 1.0  # the callback delay was honoured
        [task] = run.tasks
        assert task.poll_count >= 2 and task.output_data["polls"] >= 2

    def test_a_raising_worker_is_retried_per_its_task_def(self, executor):
        recovers = start(executor, workflow(executor, simple("flaky", "flaky_ref")))
        gives_up = start(executor, workflow(executor, simple("broken", "broken_ref")))
        run = wait_for(executor, recovers)
        assert run.status == "COMPLETED", run.reason_for_incompletion
        assert [t.status for t in run.tasks] == ["FAILED", "FAILED", "COMPLETED"]
        assert [t.retry_count for t in run.tasks] == [0, 1, 2]
        assert run.tasks[0].reason_for_incompletion  # the exception, reported by the SDK
        run = wait_for(executor, gives_up)
        assert run.status == "FAILED"
        assert [t.status for t in run.tasks] == ["FAILED", "FAILED"]  # retryCount 1

    def test_a_non_retryable_exception_fails_at_once(self, executor):
        run = wait_for(executor, start(executor, workflow(executor, simple("fatal", "fatal_ref"))))
        assert run.status == "FAILED"
        assert statuses(run) == [("fatal_ref", "FAILED_WITH_TERMINAL_ERROR")]
        assert "no point in retrying" in run.tasks[0].reason_for_incompletion

    def test_pause_resume_terminate_restart(self, executor):
        definition = workflow(executor, simple("idle", "idle_ref"))
        workflow_id = start(executor, definition)
        wait_until(lambda: executor.get_workflow(workflow_id, True).tasks, timeout=10)
        executor.pause(workflow_id)
        assert executor.get_workflow_status(workflow_id).status == "PAUSED"
        executor.resume(workflow_id)
        assert executor.get_workflow_status(workflow_id).status == "RUNNING"
        executor.terminate(workflow_id, reason="stop it")
        run = wait_for(executor, workflow_id, "TERMINATED")
        assert run.reason_for_incompletion == "stop it"
        assert [t.status for t in run.tasks] == ["CANCELED"]
        executor.restart(workflow_id)
        run = wait_for(executor, workflow_id, "RUNNING")
        wait_until(lambda: executor.get_workflow(workflow_id, True).tasks, timeout=10)
        executor.terminate(workflow_id, reason="done")
        wait_for(executor, workflow_id, "TERMINATED")

    def test_skip_a_task(self, executor):
        definition = workflow(
            executor,
            simple("idle", "idle_ref"),
            simple("greet", "greet_ref", who="skipper"),
            result="${greet_ref.output.greeting}",
        )
        workflow_id = start(executor, definition)
        wait_until(lambda: executor.get_workflow(workflow_id, True).tasks, timeout=10)
        # the SDK sends the SkipTaskRequest as a query parameter, which dynoq ignores
        executor.skip_task_from_workflow(workflow_id, "idle_ref", SkipTaskRequest())
        run = wait_for(executor, workflow_id)
        assert run.status == "COMPLETED", run.reason_for_incompletion
        assert statuses(run) == [("idle_ref", "SKIPPED"), ("greet_ref", "COMPLETED")]
        assert run.output == {"result": "hello skipper"}

    def test_retry_after_a_failure(self, executor, tmp_path: Path):
        gate = tmp_path / "gate"
        definition = workflow(executor, simple("gated", "gated_ref", gate="${workflow.input.gate}"))
        workflow_id = start(executor, definition, gate=str(gate))
        assert wait_for(executor, workflow_id).status == "FAILED"
        gate.touch()
        executor.retry(workflow_id)
        run = wait_for(executor, workflow_id, "COMPLETED")
        assert [t.status for t in run.tasks][-1] == "COMPLETED"
        assert run.tasks[-1].output_data == {"passed": True}
