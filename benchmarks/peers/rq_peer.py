"""rq: ``Queue.enqueue`` per job and ``enqueue_many`` (pipelined) in batches; rq's docs scale a
worker out with ``rq worker-pool``: one ``SimpleWorker`` per core (no fork per job; each runs
jobs one at a time), schedulers on.
Priority is rq's documented way: one queue per level, the worker listening in order."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence

from benchmarks import sink
from benchmarks.peers.base import QUEUE, Given, Peer, chunks, python_module

LEVELS = 10
WORKERS = os.cpu_count() or 1


def level_queue(level: int) -> str:
    return f"{QUEUE}-p{level}"


class Rq(Peer):
    name = "rq"
    given = Given(
        concurrency=f"WorkerPool(num_workers={WORKERS}, worker_class=SimpleWorker)",
        batch_api="enqueue_many(pipeline)",
        delay_api="enqueue_at(datetime)",
        priority_api="one queue per level, worker listens in order",
    )

    def __init__(self, url: str) -> None:
        super().__init__(url)
        from redis import Redis
        from rq import Queue

        self.redis = Redis.from_url(url)
        self.queue = Queue(QUEUE, connection=self.redis)

    def enqueue(self, tags: Sequence[str]) -> None:
        for tag in tags:
            self.queue.enqueue(noop, sink.pad(tag), result_ttl=0)

    def enqueue_batch(self, tags: Sequence[str], size: int = 100) -> None:
        from rq import Queue

        for part in chunks(tags, size):
            jobs = [Queue.prepare_data(noop, (sink.pad(tag),), result_ttl=0) for tag in part]
            with self.redis.pipeline() as pipe:
                self.queue.enqueue_many(jobs, pipeline=pipe)
                pipe.execute()

    def enqueue_at(self, tag: str, due: float) -> float:
        when = dt.datetime.fromtimestamp(due, tz=dt.UTC)
        self.queue.enqueue_at(when, noop, sink.pad(tag), result_ttl=0)
        return due

    def enqueue_priority(self, jobs: Sequence[tuple[str, int]]) -> None:
        from rq import Queue

        queues = [Queue(level_queue(level), connection=self.redis) for level in range(LEVELS)]
        for tag, level in jobs:
            queues[level].enqueue(noop, sink.pad(tag), result_ttl=0)

    def worker_argv(self) -> list[str]:
        return python_module("benchmarks.peers.rq_peer")

    def close(self) -> None:
        self.redis.close()
        super().close()


def noop(tag: str) -> None:
    sink.record(tag)


def work() -> None:
    from redis import Redis
    from rq import SimpleWorker
    from rq.worker_pool import WorkerPool

    redis = Redis.from_url(os.environ["BENCH_URL"])
    names = [QUEUE]
    if os.environ.get("BENCH_MODE") == "priority":
        names = [level_queue(level) for level in range(LEVELS)]
    pool = WorkerPool(names, connection=redis, num_workers=WORKERS, worker_class=SimpleWorker)
    pool.start(logging_level="WARNING")


if __name__ == "__main__":
    work()
