"""Conductor's Python SDK scheduler client (conductor-python 2.0.0), unchanged, against
``dynoq server`` with a ``dynoq scheduler``: schedules saved, read, paused, resumed and
deleted through it, workflows started at each fire, executions searched, bad crons refused."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator

import pytest

pytest.importorskip("conductor.client", reason="conductor-python is in the dev extra")

from conductor.client.configuration.configuration import Configuration
from conductor.client.http.models.save_schedule_request import SaveScheduleRequest
from conductor.client.http.models.start_workflow_request import StartWorkflowRequest
from conductor.client.http.rest import ApiException
from conductor.client.orkes.orkes_metadata_client import OrkesMetadataClient
from conductor.client.orkes.orkes_scheduler_client import OrkesSchedulerClient
from conductor.client.orkes.orkes_workflow_client import OrkesWorkflowClient
from conductor.client.workflow.conductor_workflow import ConductorWorkflow
from conductor.client.workflow.executor.workflow_executor import WorkflowExecutor
from conductor.client.workflow.task.simple_task import SimpleTask

from dynoq.testing import RedisServer, free_port, wait_until

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning")


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def configuration(redis_server: RedisServer) -> Iterator[Configuration]:
    common = ("--redis-url", redis_server.url, "--namespace", "s" + uuid.uuid4().hex[:10])
    port = free_port()
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "dynoq", *command, *common],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for command in (("server", "--port", str(port)), ("scheduler",))
    ]
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: _healthy(base), timeout=30, message="dynoq server did not come up")
        yield Configuration(server_api_url=base + "/api")
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        codes = [process.wait(timeout=15) for process in processes]
    assert codes == [0, 0]


@pytest.fixture(scope="module")
def workflow(configuration: Configuration) -> str:
    executor = WorkflowExecutor(configuration)
    flow = ConductorWorkflow(executor=executor, name="scheduled_report", version=1)
    flow.add(SimpleTask(task_def_name="make_report", task_reference_name="report"))
    OrkesMetadataClient(configuration).register_workflow_def(flow.to_workflow_def(), True)
    return "scheduled_report"


def test_a_schedule_through_the_sdk_starts_workflows(configuration, workflow):
    client = OrkesSchedulerClient(configuration)
    request = SaveScheduleRequest(
        name="every_second_report",
        cron_expression="* * * * * ?",
        zone_id="Europe/Berlin",
        start_workflow_request=StartWorkflowRequest(name=workflow, input={"team": "ops"}),
        description="a report a second",
    )
    client.save_schedule(request)
    schedule = client.get_schedule("every_second_report")
    assert schedule.cron_expression == "* * * * * ?" and schedule.zone_id == "Europe/Berlin"
    assert schedule.start_workflow_request.name == workflow and not schedule.paused
    assert [s.name for s in client.get_all_schedules(workflow)] == ["every_second_report"]
    assert client.get_all_schedules("another_workflow") == []

    def fired():
        found = client.search_schedule_executions(query="scheduleName='every_second_report'")
        return found if found.total_hits >= 2 else None

    found = wait_until(fired, timeout=20, interval=0.2, message="no fires")
    execution = found.results[0]
    assert execution.state == "EXECUTED" and execution.workflow_name == workflow
    started = OrkesWorkflowClient(configuration).get_workflow(execution.workflow_id, False)
    assert started.workflow_name == workflow
    assert started.input["team"] == "ops"
    assert started.input["_scheduledTime"] == execution.scheduled_time

    client.pause_schedule("every_second_report")
    assert client.get_schedule("every_second_report").paused
    client.resume_schedule("every_second_report")
    assert not client.get_schedule("every_second_report").paused
    client.delete_schedule("every_second_report")
    with pytest.raises(ApiException) as missing:
        client.get_schedule("every_second_report")
    assert missing.value.status == 404


def test_next_few_schedules(configuration):
    times = OrkesSchedulerClient(configuration).get_next_few_schedule_execution_times(
        "0 0 9 ? * MON-FRI", limit=4
    )
    assert len(times) == 4 and times == sorted(times)
    assert all(t % 86_400_000 == 9 * 3_600_000 for t in times)  # 09:00 UTC


def test_a_bad_cron_is_a_400_that_says_so(configuration, workflow):
    client = OrkesSchedulerClient(configuration)
    request = SaveScheduleRequest(
        name="broken",
        cron_expression="0 0 25 * * *",
        start_workflow_request=StartWorkflowRequest(name=workflow),
    )
    with pytest.raises(ApiException) as caught:
        client.save_schedule(request)
    assert caught.value.status == 400
    assert "Bad hour" in caught.value.body and "cronExpression" in caught.value.body
