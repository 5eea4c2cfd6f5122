"""A queue-only install (no ``dynoq[workflow]``, so no mini-racer): the queue API is served,
``/api`` is not and the server says why in one log line; the workflow services refuse in one
line. The missing extra is simulated by a ``sitecustomize`` that blocks ``py_mini_racer``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dynoq.testing import free_port, wait_until

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
        finally:
            assert stop(server) == 0
    lines = [line for line in log.read_text().splitlines() if "/api" in line]
    assert len(lines) == 1 and "pip install 'dynoq[workflow]'" in lines[0]
    assert "Traceback" not in log.read_text()


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
