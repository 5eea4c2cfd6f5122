"""embedded:// and the dynoq command."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from dynoq import EmbeddedRedisError, Message, Queue
from dynoq.backend.embedded import RedisServer


def test_embedded_url_starts_a_private_redis():
    with Queue.from_url("embedded://", "q") as q:
        q.push(Message("a", 1))
        [m] = q.pop()
        assert q.ack(m)
        assert q.client.connection_pool.connection_kwargs["path"].endswith("redis.sock")


def test_a_missing_redis_server_says_how_to_install_it(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(EmbeddedRedisError, match="apt-get install redis-server"):
        RedisServer().start()


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dynoq", *args],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip


@pytest.mark.processes
def test_demo_runs_on_the_embedded_redis_and_every_message_is_acked():
    result = run_cli("demo", "--library", "--messages", "300", "--shards", "2")
    assert result.returncode == 0, result.stderr
    assert "every message acked exactly once: True (300/300)" in result.stdout
    assert "left behind: ready 0, delayed 0, in flight 0" in result.stdout


@pytest.mark.processes
def test_demo_against_a_given_redis_url(redis_url):
    result = run_cli("demo", "--library", "--messages", "100", "--redis-url", redis_url)
    assert result.returncode == 0, result.stderr


@pytest.mark.processes
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["demo", "--redis-url", "http://nope"], "scheme 'http' is not supported"),
        (["demo", "--messages", "0"], "--messages must be at least 1"),
        (["demo", "--redis-url", "redis://127.0.0.1:1/0", "--messages", "5"], "unavailable"),
    ],
)
def test_cli_errors_are_one_line_with_a_non_zero_exit(args, message):
    result = run_cli(*args)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.processes
def test_demo_without_redis_server_installed_explains(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}
    result = run_cli("demo", env=env)
    assert result.returncode != 0
    assert "apt-get install redis-server" in result.stderr and "Traceback" not in result.stderr
