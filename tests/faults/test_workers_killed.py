"""``dynoq worker`` processes SIGKILLed again and again while they drain a queue, with and
without ``dynoq sweeper``: no message is lost, and only messages a killed worker held are
handled twice (each comes back when its lease runs out: a pop notices it, or the sweeper)."""

from __future__ import annotations

import os
import random
import signal
import textwrap
from pathlib import Path

import pytest
import redis

from dynoq import Message, Queue
from dynoq.testing import wait_until
from tests.faults.support import processes

MESSAGES = 600
CONCURRENCY = 8
KILLS = 5

APP = """
    import os, time
    import redis
    import dynoq

    worker = dynoq.Worker()
    recorder = redis.Redis.from_url(os.environ["FAULTS_REDIS_URL"])

    @worker.handler("drain", unack_timeout=1.0)
    def handle(msg):
        time.sleep(0.02)
        recorder.hincrby(os.environ["FAULTS_DONE_KEY"], msg.id, 1)
"""


@pytest.mark.timeout(120)
@pytest.mark.parametrize("sweeper", [False, True], ids=["no-sweeper", "sweeper"])
def test_killed_workers_lose_nothing(standalone_url, namespace, tmp_path: Path, sweeper):
    (tmp_path / "drainapp.py").write_text(textwrap.dedent(APP))
    done_key = f"{namespace}:done"
    env = {"FAULTS_REDIS_URL": standalone_url, "FAULTS_DONE_KEY": done_key}
    recorder = redis.Redis.from_url(standalone_url)
    rng = random.Random(15)
    with (
        Queue.from_url(standalone_url, "drain", namespace=namespace, unack_timeout=1.0) as queue,
        processes() as running,
    ):
        queue.push([Message(f"m{i}", i) for i in range(MESSAGES)])
        args = ("--redis-url", standalone_url, "--namespace", namespace)

        def worker() -> None:
            running.dynoq(
                "worker",
                "drainapp:worker",
                *args,
                "--concurrency",
                str(CONCURRENCY),
                cwd=tmp_path,
                env=env,
            )

        if sweeper:
            running.dynoq("sweeper", *args, "--interval", "0.2")
        worker()
        worker()
        kills = 0
        while kills < KILLS:
            # kill a worker once it handled something since the last kill: mid-drain
            handled = sum(int(v) for v in recorder.hvals(done_key))
            wait_until(
                lambda h=handled: sum(int(v) for v in recorder.hvals(done_key)) >= h + 20,
                timeout=30,
            )
            alive = [p for p in running.started if p.poll() is None and "worker" in p.args]
            stats = queue.stats()
            assert stats.ready + stats.in_flight > 0, "the drain ended before the kill"
            victim = rng.choice(alive)
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait()
            kills += 1
            worker()
        wait_until(
            lambda: (s := queue.stats()).ready + s.delayed + s.in_flight == 0,
            timeout=60,
            message="the queue did not drain",
        )
        counts = {k.decode(): int(v) for k, v in recorder.hgetall(done_key).items()}
        assert set(counts) == {f"m{i}" for i in range(MESSAGES)}, "a message was lost"
        twice = sum(n - 1 for n in counts.values())
        print(f"{MESSAGES} messages, {KILLS} workers killed: 0 lost, {twice} handled twice")
        # only what a killed worker held (at most CONCURRENCY each) runs again
        assert twice <= KILLS * CONCURRENCY
        assert queue.stats().dead == 0
    recorder.delete(done_key)
    recorder.close()
