"""``dynoq bench`` against a real redis-server: the report, clean-up, refusal and bad input.
No timing figure is asserted: other work shares the machine."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dynoq import Message, Queue
from dynoq.backend.registry import registry_key
from dynoq.testing import wait_until
from tests.integration.keyspace import queue_keys

pytestmark = pytest.mark.processes


def bench(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dynoq", "bench", *args],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip


def assert_one_line_error(result: subprocess.CompletedProcess[str], text: str) -> None:
    assert result.returncode == 2, result.stderr
    assert text in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def assert_nothing_left(raw, namespace: str) -> None:
    assert queue_keys(raw, namespace) == []
    assert raw.exists(registry_key(namespace)) == 0


def test_a_closed_loop_run_reports_sane_figures_and_leaves_no_key(
    redis_url, namespace, raw, tmp_path: Path
):
    report = tmp_path / "bench.json"
    result = bench(
        "--redis-url", redis_url, "--namespace", namespace, "--duration", "1.5",
        "--producers", "2", "--consumers", "2", "--processes", "2", "--batch", "10",
        "--shards", "2", "--priorities", "0:0.9,9:0.1", "--json", str(report),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "latency p99 ms" in result.stdout and "Traceback" not in result.stderr
    figures = json.loads(report.read_text())
    assert figures["options"]["mode"] == "closed" and figures["scheduled"] is None
    assert figures["errors"] == 0
    assert 0 < figures["acked"] <= figures["pushed"]
    assert [s["second"] for s in figures["seconds"]] == [0, 1]
    assert sum(s["pushed"] for s in figures["seconds"]) == figures["pushed"]
    assert sum(s["acked"] for s in figures["seconds"]) == figures["acked"]
    latency = figures["latency_ms"]
    assert latency["count"] == figures["acked"]
    assert 0 <= latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["max"]
    assert_nothing_left(raw, namespace)


def test_an_open_loop_run_pushes_about_rate_times_duration(
    standalone_url, namespace, tmp_path: Path
):
    report = tmp_path / "bench.json"
    result = bench(
        "--redis-url", standalone_url, "--namespace", namespace, "--rate", "100",
        "--duration", "2", "--producers", "2", "--delay-mix", "0.2:0.5", "--json", str(report),
        "--progress",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    figures = json.loads(report.read_text())
    assert figures["options"]["mode"] == "open" and figures["scheduled"] == 200
    assert 160 <= figures["pushed"] <= 200
    assert len(result.stderr.strip().splitlines()) == 3  # what runs, then one line a second


@pytest.fixture
def raw_standalone(standalone_url):
    with Queue.from_url(standalone_url, "unused") as queue:
        yield queue.client


@pytest.fixture
def busy_queue(standalone_url, namespace):
    with Queue.from_url(standalone_url, "busy", namespace=namespace) as queue:
        queue.push(Message("kept", {"n": 1}))
        yield queue


def test_a_queue_holding_data_is_refused_and_left_alone(standalone_url, namespace, busy_queue):
    result = bench("--redis-url", standalone_url, "--namespace", namespace, "--queue", "busy")
    assert_one_line_error(result, "queue 'busy' in namespace")
    assert "--force" in result.stderr
    assert busy_queue.get("kept") is not None and busy_queue.size() == 1


def test_a_stray_key_of_the_queue_is_enough_to_refuse(standalone_url, namespace):
    with Queue.from_url(standalone_url, "q", namespace=namespace) as queue:
        queue.client.set(f"{namespace}:stray:0:x", b"1")
        result = bench("--redis-url", standalone_url, "--namespace", namespace, "--queue", "stray")
        assert_one_line_error(result, "holds data")
        assert queue.client.get(f"{namespace}:stray:0:x") == b"1"


def test_force_runs_on_a_queue_holding_data_and_deletes_it(
    standalone_url, namespace, busy_queue, raw_standalone
):
    result = bench(
        "--redis-url", standalone_url, "--namespace", namespace, "--queue", "busy", "--force",
        "--duration", "1",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert_nothing_left(raw_standalone, namespace)


def test_ctrl_c_stops_the_run_and_deletes_its_keys(standalone_url, namespace, raw_standalone):
    process = subprocess.Popen(
        [sys.executable, "-m", "dynoq", "bench", "--redis-url", standalone_url,
         "--namespace", namespace, "--duration", "60", "--rate", "50"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_until(lambda: queue_keys(raw_standalone, namespace), timeout=20)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert_nothing_left(raw_standalone, namespace)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--priorities", "0:x"], "--priorities '0:x'"),
        (["--priorities", "100:1"], "must be in 0..99"),
        (["--delay-mix", "5"], "is not VALUE:SHARE"),
        (["--delay-mix", "5:0.7,9:0.7"], "add up to more than 1"),
        (["--producers", "0"], "--producers must be in 1.."),
        (["--rate", "-5"], "--rate must be"),
        (["--duration", "soon"], "invalid float value"),
        (["--queue", "no spaces"], "queue name must match"),
        (["--redis-url", "http://nope"], "scheme 'http' is not supported"),
        (["--redis-url", "redis://127.0.0.1:1/0"], "unavailable"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(args, message):
    assert_one_line_error(bench(*args), message)


def test_png_without_matplotlib_says_which_extra(tmp_path: Path, standalone_url):
    fake = tmp_path / "matplotlib"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('no matplotlib here')\n")
    env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = bench("--redis-url", standalone_url, "--png", str(tmp_path / "x.png"), env=env)
    assert_one_line_error(result, "dynoq[bench]")
