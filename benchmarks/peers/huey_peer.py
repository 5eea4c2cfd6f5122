"""huey (``RedisHuey``, blocking BRPOP reads, so no polling delay applies): calling the task
enqueues it (no batch API); ``huey_consumer -w <cores> -k process``: its consumer docs name
processes for CPU-bound work, and a no-op job is nothing but CPU. Priority needs
``PriorityRedisHuey``, used for the priority workload only."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence

from huey import PriorityRedisHuey, RedisHuey

from benchmarks import sink
from benchmarks.peers.base import QUEUE, Given, Peer, console_script

WORKERS = os.cpu_count() or 1
WORKER_TYPE = "process"
_url = os.environ.get("BENCH_URL", "redis://127.0.0.1:6379/0")
_huey_class = PriorityRedisHuey if os.environ.get("BENCH_MODE") == "priority" else RedisHuey
huey = _huey_class(QUEUE, url=_url, results=False, utc=True)


def _noop(tag: str) -> None:
    sink.record(tag)


noop = huey.task(name="noop")(_noop)


class Huey(Peer):
    name = "huey"
    given = Given(
        concurrency=f"huey_consumer -w {WORKERS} -k {WORKER_TYPE}",
        batch_api="none",
        delay_api="task.schedule(eta=datetime)",
        priority_api="PriorityRedisHuey, task priority (higher first)",
    )

    def enqueue(self, tags: Sequence[str]) -> None:
        for tag in tags:
            noop(sink.pad(tag))

    def enqueue_at(self, tag: str, due: float) -> float:
        eta = dt.datetime.fromtimestamp(due, tz=dt.UTC)
        noop.schedule(args=(sink.pad(tag),), eta=eta)
        return due

    def enqueue_priority(self, jobs: Sequence[tuple[str, int]]) -> None:
        prio = PriorityRedisHuey(QUEUE, url=self.url, results=False, utc=True)
        prio_noop = prio.task(name="noop")(_noop)  # the same task, on the priority storage
        for tag, level in jobs:
            task = prio_noop.s(sink.pad(tag))
            task.priority = 9 - level  # huey runs the highest number first
            prio.enqueue(task)

    def worker_argv(self) -> list[str]:
        return [
            console_script("huey_consumer"),
            "benchmarks.peers.huey_peer.huey",
            "-w",
            str(WORKERS),
            "-k",
            WORKER_TYPE,
            "-q",
        ]
