"""dramatiq (Redis broker): ``actor.send`` per job (the Redis broker has no batch enqueue); the
worker as its CLI's defaults set it up: one process per core, 8 threads each. No per-message
priority."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from benchmarks import sink
from benchmarks.peers.base import QUEUE, Given, Peer, console_script

THREADS = 8
PROCESSES = os.cpu_count() or 1

broker = RedisBroker(url=os.environ.get("BENCH_URL", "redis://127.0.0.1:6379/0"))
dramatiq.set_broker(broker)


@dramatiq.actor(queue_name=QUEUE, max_retries=0)
def noop(tag: str) -> None:
    sink.record(tag)


class Dramatiq(Peer):
    name = "dramatiq"
    given = Given(
        concurrency=f"dramatiq --processes {PROCESSES} --threads {THREADS}",
        batch_api="none",
        delay_api="send_with_options(delay=ms)",
        priority_api="none",
    )

    def enqueue(self, tags: Sequence[str]) -> None:
        for tag in tags:
            noop.send(sink.pad(tag))

    def enqueue_at(self, tag: str, due: float) -> float:
        delay_ms = max(0, round((due - time.time()) * 1000))
        noop.send_with_options(args=(sink.pad(tag),), delay=delay_ms)
        return due

    def worker_argv(self) -> list[str]:
        return [
            console_script("dramatiq"),
            "benchmarks.peers.dramatiq_peer",
            "--processes",
            str(PROCESSES),
            "--threads",
            str(THREADS),
        ]

    def close(self) -> None:
        broker.close()
        super().close()
