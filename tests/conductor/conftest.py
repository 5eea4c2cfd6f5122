"""The services Conductor's SDKs talk to, as the operator runs them: ``dynoq server``,
``dynoq decider`` and ``dynoq workflow-sweeper`` as child processes on the session's
redis-server, in a namespace of their own."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.request
import uuid
import warnings
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


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM, and SIGKILL (with a warning) for a service not gone within 5 s."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            warnings.warn(f"{process.args[3:4]} ignored SIGTERM and was killed", stacklevel=1)  # type: ignore[index]


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
                    log = Path(logs / f"{process.args[3]}.log").read_text()  # type: ignore[index]
                    raise RuntimeError(f"{process.args[3:4]} exited: {log[-2000:]}")  # type: ignore[index]
            return _healthy(base)

        wait_until(up, timeout=30, interval=0.1, message="dynoq server did not come up")
        yield base + "/api"
        for process in processes:
            assert process.poll() is None, f"{process.args[3:4]} died during the tests"  # type: ignore[index]
    finally:
        _stop(processes)
