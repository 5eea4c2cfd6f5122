"""Conductor's JavaScript SDK (@io-orkes/conductor-javascript 4.0.0 from npm), unchanged, runs
a worker against ``dynoq server``. Needs node and ``npm install --legacy-peer-deps`` in
tests/conductor/js (the SDK's optional AI peer dependencies conflict without that flag)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from dynoq.testing import wait_until

JS = Path(__file__).parent / "js"
SDK = JS / "node_modules" / "@io-orkes" / "conductor-javascript"

pytestmark = [
    pytest.mark.sdk,
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
    pytest.mark.skipif(
        not SDK.is_dir(),
        reason="the JavaScript SDK is not installed: npm install --legacy-peer-deps in " + str(JS),
    ),
]


def call(url: str, method: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        raw = response.read().decode()
    return json.loads(raw) if raw[:1] in ("{", "[") else raw


def test_a_javascript_worker_completes_a_task(conductor_url):
    task_type = "js_greet_" + uuid.uuid4().hex[:8]
    name = "js_workflow_" + uuid.uuid4().hex[:8]
    call(conductor_url + "/metadata/taskdefs", "POST", [{"name": task_type, "retryCount": 0}])
    definition = {
        "name": name,
        "version": 1,
        "tasks": [
            {
                "name": task_type,
                "taskReferenceName": "greet_ref",
                "type": "SIMPLE",
                "inputParameters": {"who": "${workflow.input.who}"},
            }
        ],
        "outputParameters": {"greeting": "${greet_ref.output.greeting}"},
    }
    call(conductor_url + "/metadata/workflow", "POST", definition)
    workflow_id = call(
        conductor_url + "/workflow", "POST", {"name": name, "input": {"who": "node"}}
    )
    worker = subprocess.Popen(
        ["node", "worker.cjs", task_type],
        cwd=JS,
        env={**os.environ, "CONDUCTOR_SERVER_URL": conductor_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:

        def completed() -> Any:
            found = call(f"{conductor_url}/workflow/{workflow_id}", "GET")
            return found if found["status"] == "COMPLETED" else None

        workflow = wait_until(completed, timeout=30, interval=0.1)
        assert workflow["output"] == {"greeting": "hello node from js"}
        assert workflow["tasks"][0]["workerId"] == "js-worker"
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def test_the_javascript_clients_events_updates_by_reference_and_search(conductor_url):
    name = "js_wait_" + uuid.uuid4().hex[:8]
    definition = {
        "name": name,
        "version": 1,
        "tasks": [{"name": "hold", "taskReferenceName": "hold", "type": "WAIT"}],
    }
    call(conductor_url + "/metadata/workflow", "POST", definition)
    env = {**os.environ, "CONDUCTOR_SERVER_URL": conductor_url}
    run = subprocess.run(
        ["node", str(JS / "clients.cjs"), name],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["handlers"] == [f"{name}_handler"] and seen["afterRemove"] == []
    first, second = seen["ids"]
    assert seen["byRef"] == f"{first}.1"  # the task id, as Conductor answers
    assert seen["syncStatus"] == "COMPLETED"
    assert seen["first"] == {"status": "COMPLETED", "output": {"via": "ref"}}
    assert seen["search"] == [first, second]
    assert seen["taskSearch"] == [["WAIT", "COMPLETED"]]
