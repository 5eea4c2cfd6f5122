"""The services Conductor's SDKs talk to, as the operator runs them: ``dynoq server``,
``dynoq decider`` and ``dynoq workflow-sweeper`` as child processes on the session's
redis-server, in a namespace of their own."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dynoq.testing import RedisServer, free_port, wait_until


def _spawn(log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "dynoq", *args], stdout=subprocess.DEVNULL, stderr=stderr
        )


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _stop(processes: list[subprocess.Popen[bytes]]) -> list[str]:
    """SIGTERM to each; the ones not gone within 10 s are killed and named."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    killed = []
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            killed.append(str(process.args[3]))
    return killed


@pytest.fixture(scope="package")
def conductor_url(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """``http://127.0.0.1:<port>/api``, with a decider and a workflow sweeper running."""
    logs = tmp_path_factory.mktemp("conductor-services")
    common = ("--redis-url", redis_server.url, "--namespace", "c" + uuid.uuid4().hex[:10])
    port = free_port()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for command in ("server", "decider", "workflow-sweeper"):
            extra = ("--port", str(port)) if command == "server" else ()
            processes.append(_spawn(logs / f"{command}.log", command, *common, *extra))
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            for process in processes:
                if process.poll() is not None:
                    log = Path(logs / f"{process.args[3]}.log").read_text()
                    raise RuntimeError(f"{process.args[3:4]} exited: {log[-2000:]}")
            return _healthy(base)

        wait_until(up, timeout=30, interval=0.1, message="dynoq server did not come up")
        yield base + "/api"
        for process in processes:
            assert process.poll() is None, f"{process.args[3:4]} died during the tests"
    finally:
        killed = _stop(processes)
    assert not killed, f"{killed} ignored SIGTERM"
    assert [p.returncode for p in processes] == [0, 0, 0]
