"""The services as the operator runs them: ``dynoq server``, ``dynoq worker`` and ``dynoq
sweeper`` as child processes, talked to over sockets, stopped with SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from dynoq import Message, MessageState, Queue
from dynoq.testing import free_port, wait_until

pytestmark = pytest.mark.processes


def spawn(*args: str, cwd: Path | None = None, stderr: Any = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "dynoq", *args],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=stderr if stderr is not None else subprocess.DEVNULL,
    )


def stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=30)


@pytest.fixture
def processes():
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def call(base: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
    kind = "json" if raw[:1] in (b"{", b"[") else "text"
    return status, json.loads(raw) if kind == "json" else raw.decode()


def healthy(base: str) -> bool:
    try:
        return call(base, "GET", "/health")[0] == 200
    except OSError:
        return False


def test_dynoq_server_over_a_socket(redis_url, namespace, processes):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    processes.append(
        spawn("server", "--redis-url", redis_url, "--namespace", namespace, "--port", str(port))
    )
    wait_until(lambda: healthy(base), timeout=30, message="server did not come up")
    assert call(base, "GET", "/ready") == (200, {"status": "ready"})
    status, body = call(
        base, "POST", "/v1/queues/jobs/messages", {"messages": [{"id": "a", "payload": {"x": 1}}]}
    )
    assert (status, body) == (201, {"ids": ["a"]})
    status, body = call(base, "POST", "/v1/queues/jobs/pop", {"count": 5, "wait": 1})
    [message] = body["messages"]
    assert message["payload"] == {"x": 1}
    ack = {"messages": [{"id": "a", "receipt": message["receipt"]}]}
    assert call(base, "POST", "/v1/queues/jobs/ack", ack) == (200, {"acked": 1})
    assert call(base, "POST", "/v1/queues/jobs/pop", {"count": "x"})[0] == 400
    status, metrics = call(base, "GET", "/metrics")
    assert 'dynoq_messages_pushed_total{queue="jobs"} 1.0' in metrics
    assert 'dynoq_messages_acked_total{queue="jobs"} 1.0' in metrics
    assert stop(processes[0]) == 0


WORKER_APP = """
    import asyncio, pathlib
    import dynoq

    worker = dynoq.Worker()

    @worker.handler("jobs", unack_timeout=60)
    async def handle(msg):
        pathlib.Path("started").write_text(msg.id)
        await asyncio.sleep(3600)
"""


def test_sigterm_mid_handler_gives_the_message_back(redis_url, namespace, tmp_path, processes):
    (tmp_path / "slowapp.py").write_text(textwrap.dedent(WORKER_APP))
    with Queue.from_url(redis_url, "jobs", namespace=namespace, unack_timeout=60) as q:
        q.push(Message("m1", "work"))
        processes.append(
            spawn(
                "worker",
                "slowapp:worker",
                "--redis-url",
                redis_url,
                "--namespace",
                namespace,
                "--grace-period",
                "0.2",
                cwd=tmp_path,
            )
        )
        wait_until(lambda: (tmp_path / "started").exists(), timeout=30)
        assert q.get("m1").state is MessageState.IN_FLIGHT
        assert stop(processes[0]) == 0
        message = q.get("m1")
        # Back at once, not after the 60 s lease: ready, with the one delivery counted.
        assert message.state is MessageState.READY and message.attempts == 1


def test_services_without_a_redis_url_warn_that_nothing_is_persisted(tmp_path, processes):
    log = tmp_path / "stderr"
    with log.open("wb") as stderr:
        processes.append(spawn("sweeper", stderr=stderr))
        wait_until(lambda: "NOTHING IS PERSISTED" in log.read_text(), timeout=30)
        assert stop(processes[0]) == 0
    assert "Traceback" not in log.read_text()


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dynoq", *args], capture_output=True, text=True, timeout=60
    )


def test_inspection_commands(redis_url, namespace, tmp_path):
    common = ("--redis-url", redis_url, "--namespace", namespace)
    lines = tmp_path / "m.jsonl"
    lines.write_text('{"id": "f1", "payload": 1, "priority": 2}\n{"id": "f2", "delay": 60}\n')
    assert run_cli("push", "jobs", '{"n": 1}', "--id", "one", *common).stdout == "one\n"
    pushed = run_cli("push", "jobs", "--file", str(lines), *common)
    assert "pushed 2 message(s)" in pushed.stderr
    table = run_cli("queues", *common).stdout.splitlines()
    assert table[0].split() == ["QUEUE", "SHARDS", "READY", "DELAYED", "IN_FLIGHT", "DEAD"]
    assert table[1].split() == ["jobs", "1", "2", "1", "0", "0"]
    peeked = [json.loads(line) for line in run_cli("peek", "jobs", *common).stdout.splitlines()]
    assert [m["id"] for m in peeked] == ["one", "f1"]
    with Queue.from_url(redis_url, "jobs", namespace=namespace, max_deliveries=1) as q:
        [m] = q.pop()
        q.nack(m)
    dead = run_cli("dead", "ls", "jobs", *common).stdout
    assert json.loads(dead)["id"] == "one"
    assert "requeued 1" in run_cli("dead", "requeue", "jobs", *common).stderr
    assert run_cli("purge", "jobs", "--yes", *common).returncode == 0
    assert run_cli("queues", *common).stdout.splitlines()[1:] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["queues"], "needs a Redis"),
        (["peek", "nosuch", "--redis-url", "redis://127.0.0.1:1/0"], "unavailable"),
        (["worker", "no_such_module:worker"], "cannot import 'no_such_module'"),
        (["worker", "json"], "expected MODULE:OBJECT"),
        (["worker", "json:dumps"], "not a dynoq.Worker"),
        (["server", "--port", "70000"], "port must be in 0..65535"),
        (["nonsense"], "invalid choice"),
        (["push", "q", "{bad", "--redis-url", "redis://127.0.0.1:1/0"], "unavailable"),
        (["--log-level", "loud", "queues"], "invalid choice"),
    ],
)
def test_command_errors_are_one_line(args, message):
    result = run_cli(*args)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_demo_with_services_runs_the_api_a_sweeper_and_a_worker(redis_url):
    result = run_cli("demo", "--messages", "300", "--redis-url", redis_url)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert "handled: 297, dead-lettered (poison): 3 of 3" in result.stdout
