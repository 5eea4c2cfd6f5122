"""``dynoq doctor`` against real redis-servers configured well and badly."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from dynoq import Message, Queue
from dynoq.backend import acl
from dynoq.cli import doctor
from dynoq.testing import RedisServer


def run_doctor(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dynoq", "doctor", "--redis-url", url, *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def findings(url: str, *args: str) -> tuple[int, dict[str, list[dict[str, str]]]]:
    result = run_doctor(url, "--json", *args)
    assert not result.stderr, result.stderr
    by_check: dict[str, list[dict[str, str]]] = {}
    for finding in json.loads(result.stdout)["findings"]:
        by_check.setdefault(finding["check"], []).append(finding)
    return result.returncode, by_check


@pytest.fixture(scope="module")
def durable() -> Iterator[RedisServer]:
    """A Redis set up as docs and deploy/ advise: AOF everysec, noeviction."""
    args = ("--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory-policy", "noeviction")
    with RedisServer(port=0, extra_args=args) as server:
        yield server


@pytest.mark.processes
def test_a_well_configured_redis_passes_and_lists_its_queues(durable: RedisServer) -> None:
    with Queue.from_url(durable.url, "orders", shards=2) as q:
        q.push([Message("a", 1), Message("b", 2)])
        [popped] = q.pop()
        q.nack(popped)
        q.push(Message("late", 3, delay=600))
    code, found = findings(durable.url)
    assert code == 0
    assert found["maxmemory-policy"][0]["level"] == "ok"
    assert "appendfsync everysec" in found["persistence"][0]["detail"]
    assert found["acl"][0]["level"] == "ok"
    [queue] = found["queue"]
    assert "orders: ready 2, delayed 1, in flight 0, dead 0" in queue["detail"]
    # a lone master is a warning, never an error
    assert found["replication"][0]["level"] == "warning"


@pytest.mark.processes
def test_an_evicting_policy_is_an_error_with_its_fix() -> None:
    with RedisServer(port=0, extra_args=("--maxmemory-policy", "allkeys-lru")) as server:
        result = run_doctor(server.url)
    assert result.returncode == 1
    line = next(x for x in result.stdout.splitlines() if "maxmemory-policy" in x)
    assert line.startswith("ERROR") and "allkeys-lru" in line
    assert "fix: CONFIG SET maxmemory-policy noeviction" in result.stdout


@pytest.mark.processes
def test_a_user_missing_a_permission_the_services_need_is_an_error(durable: RedisServer) -> None:
    admin = redis.Redis.from_url(durable.url)
    admin.execute_command("ACL", "SETUSER", "narrow", "on", ">pw", "~*", "&*", "+@all", "-evalsha")
    try:
        url = durable.url.replace("redis://", "redis://narrow:pw@")
        code, found = findings(url)
    finally:
        admin.execute_command("ACL", "DELUSER", "narrow")
        admin.close()
    assert code == 1
    [finding] = found["acl"]
    assert finding["level"] == "error" and "fits no service" in finding["detail"]
    assert "app (lacks evalsha)" in finding["detail"]


def test_the_least_privilege_users_of_docs_security_md_fit_their_service(
    durable: RedisServer,
) -> None:
    """The doc's ACL lines and dynoq.backend.acl are one list: the doc's app user fits the
    queue-only services, not the server, and --service names what is missing."""
    admin = redis.Redis.from_url(durable.url)
    doc = (Path(__file__).parents[2] / "docs" / "security.md").read_text()
    lines = [line for line in doc.splitlines() if line.startswith("ACL SETUSER ")]
    users = []
    for line in lines:
        words = line.replace("NS", "dynoq").replace("PASSWORD", "pw").split()[1:]
        admin.execute_command("ACL", *words)
        users.append(words[1])
        service = words[1].removeprefix("dynoq-")
        assert sorted(w[1:] for w in words if w.startswith("+")) == sorted(
            acl.SERVICE_COMMANDS[service]
        ), f"docs/security.md and dynoq/backend/acl.py disagree on {service}"
    try:
        # connected as the app user itself: no INFO, no ACL rights: warnings, no crash
        app = durable.url.replace("redis://", "redis://dynoq-app:pw@")
        code, found = findings(app)
        assert code == 0
        assert found["redis info"][0]["level"] == "warning"
        assert "--acl-user" in found["acl"][0]["fix"]
        # an admin checks the app user on its behalf
        code, found = findings(durable.url, "--acl-user", "dynoq-app")
        [finding] = found["acl"]
        assert code == 0 and finding["level"] == "warning"
        assert "fits app, cli" in finding["detail"] and "server (lacks" in finding["detail"]
        result = run_doctor(durable.url, "--acl-user", "dynoq-app", "--service", "server")
        assert result.returncode == 1
        assert "cannot run server: lacks exists, get, set" in result.stdout
        result = run_doctor(durable.url, "--acl-user", "dynoq-server", "--service", "server")
        assert "may send every command server sends" in result.stdout
    finally:
        for name in users:
            admin.execute_command("ACL", "DELUSER", name)
        admin.close()


def test_an_unreachable_redis_is_one_line_and_exit_1() -> None:
    with RedisServer(port=0) as server:
        url = server.url
    result = run_doctor(url)
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout.splitlines()[0].startswith("ERROR   connect")


@pytest.mark.cluster
@pytest.mark.processes
def test_cluster_slots_and_shard_balance(redis_cluster, namespace: str) -> None:
    with Queue.from_url(redis_cluster.url, "spread", namespace=namespace, shards=6) as q:
        q.push(Message("x", 1))
    result = run_doctor(redis_cluster.url, "--namespace", namespace, "--json")
    found = {f["check"]: f for f in json.loads(result.stdout)["findings"]}
    assert found["cluster"]["level"] == "ok"
    assert "16384/16384" in found["cluster"]["detail"]
    assert found["shard balance"]["level"] == "ok"  # 6 shards over 3 masters: 2 each
    assert "6 shards over 3 masters" in found["shard balance"]["detail"]


def test_verdicts_on_their_own() -> None:
    assert doctor.check_clock(12.0).level == "ok"
    assert doctor.check_clock(-900.0).level == "warning"
    assert doctor.check_clock(7000.0).level == "error"
    assert doctor.check_balance("q", {"a": 3, "b": 1}, 4).level == "warning"
    assert doctor.check_balance("q", {"a": 2, "b": 1}, 3).level == "ok"
    node = doctor.NodeFacts("n", {"redis_version": "6.0.9"})
    assert doctor.check_version(node).level == "error"
    node = doctor.NodeFacts("n", {"aof_enabled": 1}, {"appendfsync": "no"})
    assert doctor.check_persistence(node).level == "warning"
