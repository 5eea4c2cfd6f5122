"""A queue-only install (no ``dynoq[workflow]``, so no mini-racer): the queue API and the UI's
queue pages are served, ``/api`` is not (nor in ``/openapi.json``) and the server says why in one
log line; the UI's workflow pages say the extra is missing; ``dynoq scheduler`` fires message
schedules; the workflow services refuse in one line. The missing extra is simulated by a
``sitecustomize`` that blocks ``py_mini_racer``."""

from __future__ import annotations

import html
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from dynoq import AsyncQueue, MessageAction, Schedule, Schedules, Timing
from dynoq.core.schedule import WorkflowAction
from dynoq.testing import async_wait_until, free_port, wait_until
from dynoq.workflow import MISSING_EXTRA

from .test_processes import call, healthy, stop

pytestmark = pytest.mark.processes


@pytest.fixture
def without_workflow_extra(tmp_path: Path) -> dict[str, str]:
    """The environment of a child process in which ``import py_mini_racer`` fails."""
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.modules['py_mini_racer'] = None\n")
    path = os.pathsep.join(p for p in (str(tmp_path), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path}


def test_the_server_serves_queues_without_api_and_says_so(
    standalone_url, namespace, tmp_path, without_workflow_extra
):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "stderr"
    command = [sys.executable, "-m", "dynoq", "server", "--redis-url", standalone_url]
    command += ["--namespace", namespace, "--port", str(port)]
    with log.open("wb") as stderr:
        server = subprocess.Popen(
            command, env=without_workflow_extra, stdout=subprocess.DEVNULL, stderr=stderr
        )
        try:
            wait_until(lambda: healthy(base), timeout=30, message="server did not come up")
            pushed = call(base, "POST", "/v1/queues/jobs/messages", {"messages": [{"id": "a"}]})
            assert pushed == (201, {"ids": ["a"]})
            status, body = call(base, "GET", "/api/metadata/workflow")
            assert status == 404 and body["code"] == "NOT_FOUND"
            status, document = call(base, "GET", "/openapi.json")
            assert status == 200 and "/v1/queues/{queue}/messages" in document["paths"]
            assert [p for p in document["paths"] if p.startswith("/api")] == []
            status, overview = page(base, "/ui/")
            assert status == 200 and "/ui/queues/jobs" in overview and MISSING_EXTRA in overview
            status, queue = page(base, "/ui/queues/jobs")
            assert status == 200 and "jobs" in queue
            for path in ("/ui/workflows", "/ui/definitions", "/ui/tasks"):
                status, text = page(base, path)
                assert (status, MISSING_EXTRA in text) == (404, True), path
        finally:
            assert stop(server) == 0
    lines = [line for line in log.read_text().splitlines() if "/api" in line]
    assert len(lines) == 1 and "pip install 'dynoq[workflow]'" in lines[0]
    assert "Traceback" not in log.read_text()


def page(base: str, path: str) -> tuple[int, str]:
    """A UI page's status and its HTML, unescaped."""
    try:
        with urllib.request.urlopen(base + path, timeout=10) as response:
            return response.status, html.unescape(response.read().decode())
    except urllib.error.HTTPError as error:
        return error.code, html.unescape(error.read().decode())


async def test_the_scheduler_fires_message_schedules(
    standalone_url, namespace, tmp_path, without_workflow_extra
):
    schedules = Schedules.from_url(standalone_url, namespace)
    target = AsyncQueue.from_url(standalone_url, "fired", namespace=namespace)
    every_second = Timing(interval_ms=1000)
    await schedules.save_many(
        [
            Schedule("messages", every_second, MessageAction("fired")),
            Schedule("workflows", every_second, WorkflowAction({"name": "nightly"})),
        ]
    )
    log = tmp_path / "stderr"
    command = [sys.executable, "-m", "dynoq", "scheduler", "--redis-url", standalone_url]
    with log.open("wb") as stderr:
        scheduler = subprocess.Popen(
            [*command, "--namespace", namespace],
            env=without_workflow_extra,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            fired = await async_wait_until(lambda: target.pop(1, wait=0.5), timeout=30)
            assert fired[0].payload["schedule"] == "messages"

            async def workflow_fire() -> list[dict[str, object]]:
                return (await schedules.executions("workflows"))[1]

            [execution, *_] = await async_wait_until(workflow_fire, timeout=30)
            assert execution["state"] == "FAILED" and MISSING_EXTRA in str(execution["reason"])
        finally:
            scheduler.send_signal(signal.SIGTERM)
            assert scheduler.wait(timeout=30) == 0
            await target.aclose()
            await schedules.aclose()
    text = log.read_text()
    assert "Traceback" not in text
    assert len([line for line in text.splitlines() if "message schedules only" in line]) == 1


@pytest.mark.parametrize("command", ["decider", "workflow-sweeper"])
def test_workflow_services_refuse_in_one_line(command, standalone_url, without_workflow_extra):
    result = subprocess.run(
        [sys.executable, "-m", "dynoq", command, "--redis-url", standalone_url],
        env=without_workflow_extra,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"dynoq: error: '{command}': workflows need the workflow extra: "
        "pip install 'dynoq[workflow]'"
    ]
