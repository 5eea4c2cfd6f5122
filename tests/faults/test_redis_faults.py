"""redis-server SIGKILLed and restarted on its AOF, stopped with SIGSTOP, down for a while: no
acknowledged push is lost (``appendfsync always``; ``everysec`` measured), callers see
RedisUnavailable / HTTP 503 with the JSON error (never a 500), and the server, a worker and
a sweeper serve again after the fault without being restarted."""

from __future__ import annotations

import signal
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from dynoq import Message, Queue
from dynoq.errors import RedisUnavailable
from dynoq.testing import wait_until
from tests.faults.support import RestartableRedis, call, processes, start_server

FAULT_SECONDS = 10.0


class Pusher(threading.Thread):
    """Pushes one message at a time through the library, until stopped; keeps the ids whose
    push returned (acknowledged) and the errors it saw."""

    def __init__(self, url: str, namespace: str) -> None:
        super().__init__(daemon=True)
        self.queue = Queue.from_url(url, "acked", namespace=namespace)
        self.acked: list[str] = []
        self.errors: Counter[str] = Counter()
        self.stop = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            try:
                self.queue.push(Message(f"p{n}", n))
                self.acked.append(f"p{n}")
            except RedisUnavailable:
                self.errors["RedisUnavailable"] += 1
                time.sleep(0.01)
            except Exception as exc:  # anything else is a failure of the test
                self.errors[type(exc).__name__] += 1

    def close(self) -> None:
        self.stop.set()
        self.join(timeout=30)
        self.queue.close()


def missing(client: redis.Redis, queue: Queue, ids: list[str]) -> list[str]:
    key = queue.spec.keys[0].messages
    found = client.hmget(key, ids) if ids else []
    return [i for i, value in zip(ids, found, strict=True) if value is None]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("appendfsync", ["always", "everysec"])
def test_redis_killed_and_restarted_on_its_aof(namespace, appendfsync):
    with RestartableRedis(appendfsync=appendfsync) as server:
        pusher = Pusher(server.url, namespace)
        pusher.start()
        try:
            wait_until(lambda: len(pusher.acked) >= 300, timeout=30)
            server.kill()
            acked_before_kill = list(pusher.acked)
            server.start()
            wait_until(lambda: len(pusher.acked) >= len(acked_before_kill) + 100, timeout=30)
        finally:
            pusher.close()
        with server.client() as client:
            lost = missing(client, pusher.queue, acked_before_kill)
        print(f"appendfsync {appendfsync}: {len(acked_before_kill)} acknowledged, {len(lost)} lost")
        assert set(pusher.errors) <= {"RedisUnavailable"}, pusher.errors
        if appendfsync == "always":
            assert lost == []
        else:  # measured (docs/reliability.md): a process crash loses nothing written
            assert len(lost) <= len(acked_before_kill)


WORKER_APP = """
    import os
    import redis
    import dynoq

    worker = dynoq.Worker()
    recorder = redis.Redis.from_url(os.environ["FAULTS_REDIS_URL"])

    @worker.handler("jobs", unack_timeout=2.0)
    def handle(msg):
        recorder.sadd(os.environ["FAULTS_DONE_KEY"], msg.id)
"""


class Prober(threading.Thread):
    """Pushes over HTTP in a loop and keeps (status, is JSON) of every answer."""

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.base = base
        self.answers: list[tuple[float, int, bool]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            body = {"messages": [{"id": f"h{n}", "payload": n}]}
            status, answer = call(self.base, "POST", "/v1/queues/http/messages", body, timeout=30)
            self.answers.append((time.monotonic(), status, isinstance(answer, dict)))
            if status != 201:
                time.sleep(0.05)

    def close(self) -> None:
        self.stop.set()
        self.join(timeout=60)


@pytest.fixture
def redis_always() -> Iterator[RestartableRedis]:
    with RestartableRedis(appendfsync="always") as server:
        yield server


@pytest.mark.timeout(180)
@pytest.mark.parametrize("fault", ["stopped", "down"])
def test_services_answer_503_during_and_serve_again_after(
    redis_always, namespace, tmp_path: Path, fault
):
    url = redis_always.url
    done_key = f"{namespace}:done"
    (tmp_path / "jobsapp.py").write_text(textwrap.dedent(WORKER_APP))
    env = {"FAULTS_REDIS_URL": url, "FAULTS_DONE_KEY": done_key}
    args = ("--redis-url", url, "--namespace", namespace)
    with processes() as running, Queue.from_url(url, "jobs", namespace=namespace) as jobs:
        base = start_server(running, url, namespace)
        running.dynoq("worker", "jobsapp:worker", *args, cwd=tmp_path, env=env)
        running.dynoq("sweeper", *args, "--interval", "0.2")
        recorder = redis_always.client()

        def handled(prefix: str, n: int) -> bool:
            return all(recorder.sismember(done_key, f"{prefix}{i}") for i in range(n))

        jobs.push([Message(f"before{i}", i) for i in range(20)])
        wait_until(lambda: handled("before", 20), timeout=30, message="worker not working")
        prober = Prober(base)
        prober.start()
        try:
            wait_until(lambda: len(prober.answers) >= 20, timeout=30)
            fault_started = time.monotonic()
            if fault == "stopped":
                redis_always.signal(signal.SIGSTOP)
            else:
                redis_always.kill()
            time.sleep(FAULT_SECONDS)  # the fault itself lasts this long
            if fault == "stopped":
                redis_always.signal(signal.SIGCONT)
            else:
                redis_always.start()
            fault_ended = time.monotonic()
            wait_until(
                lambda: any(t > fault_ended and s == 201 for t, s, _ in prober.answers),
                timeout=30,
                message="the server did not serve again",
            )
            http_back = min(t for t, s, _ in prober.answers if t > fault_ended and s == 201)
        finally:
            prober.close()
            recorder.close()
        jobs.push([Message(f"after{i}", i) for i in range(20)])
        wait_until(lambda: handled("after", 20), timeout=30, message="the worker did not resume")
        worker_back = time.monotonic() - fault_ended
        during = Counter(s for t, s, _ in prober.answers if fault_started <= t <= fault_ended)
        statuses = Counter(s for _, s, _ in prober.answers)
        print(
            f"redis {fault} {FAULT_SECONDS:.0f} s: answers during {dict(during)}, "
            f"HTTP serving {http_back - fault_ended:.2f} s after, worker {worker_back:.2f} s"
        )
        assert 500 not in statuses and set(statuses) <= {201, 503}, statuses
        assert all(is_json for _, _, is_json in prober.answers)
        # every acknowledged HTTP push survived the fault
        with redis_always.client() as client:
            acked = [f"h{i + 1}" for i, (_, s, _) in enumerate(prober.answers) if s == 201]
            queue = Queue.from_url(url, "http", namespace=namespace)
            assert missing(client, queue, acked) == []
            queue.close()
