"""dynoq, as a library (pop + ack_many in the benchmark's process) and as the ``Worker`` runtime
(a child process, ``concurrency=50, prefetch=50`` as in the README)."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Sequence
from itertools import count

import redis

from benchmarks import sink
from benchmarks.peers.base import QUEUE, Given, Peer, chunks, python_module

NAMESPACE = "bench"
WORKER_CONCURRENCY = 50
WORKER_PREFETCH = 50  # as the Worker's docs advise for many short jobs (no-op here)
POP_BATCH = 100


class DynoqLibrary(Peer):
    name = "dynoq"
    given = Given(
        concurrency="library loop in one process: pop(100) + ack_many",
        batch_api="push(list)",
        delay_api="Message(delay=s)",
        priority_api="Message(priority=0..99)",
    )

    def __init__(self, url: str) -> None:
        super().__init__(url)
        from dynoq import Queue

        self.client = redis.Redis.from_url(url)
        self.queue = Queue(self.client, QUEUE, namespace=NAMESPACE)
        self.ids = count()

    def _message(self, tag: str, priority: int = 0, delay: float = 0.0):  # type: ignore[no-untyped-def]
        from dynoq import Message

        return Message(f"j{next(self.ids)}", sink.pad(tag), priority, delay)

    def enqueue(self, tags: Sequence[str]) -> None:
        for tag in tags:
            self.queue.push(self._message(tag))

    def enqueue_batch(self, tags: Sequence[str], size: int = 100) -> None:
        for part in chunks(tags, size):
            self.queue.push([self._message(tag) for tag in part])

    def enqueue_at(self, tag: str, due: float) -> float:
        self.queue.push(self._message(tag, delay=max(0.0, due - time.time())))
        return due

    def enqueue_priority(self, jobs: Sequence[tuple[str, int]]) -> None:
        for part in chunks(jobs, 100):
            self.queue.push([self._message(tag, priority=level) for tag, level in part])

    def drain_here(self, n: int) -> None:
        """Pops and acks ``n`` messages in this process, recording each start."""
        done = 0
        while done < n:
            got = self.queue.pop(POP_BATCH)
            for message in got:
                sink.record(message.payload)
            if got:
                self.queue.ack_many(got)
            done += len(got)

    def worker_argv(self) -> list[str]:
        return python_module("benchmarks.peers.dynoq_peer")

    def close(self) -> None:
        self.queue.close()
        self.client.close()


class DynoqWorker(DynoqLibrary):
    name = "dynoq-worker"
    given = Given(
        concurrency=f"Worker(concurrency={WORKER_CONCURRENCY}, prefetch={WORKER_PREFETCH}),"
        " async handler, 1 process (prefetch where the checkout has it)",
        batch_api="push(list)",
        delay_api="Message(delay=s)",
        priority_api="Message(priority=0..99)",
    )
    drain_here = None  # type: ignore[assignment]


def main() -> None:
    import dynoq

    options = {"concurrency": WORKER_CONCURRENCY}
    if "prefetch" in {f.name for f in dataclasses.fields(dynoq.WorkerConfig)}:
        options["prefetch"] = WORKER_PREFETCH  # a checkout from before it has no such option
    worker = dynoq.Worker.from_url(os.environ["BENCH_URL"], namespace=NAMESPACE, **options)

    @worker.handler(QUEUE)
    async def noop(message: dynoq.Message) -> None:
        sink.record(message.payload)

    worker.run()


if __name__ == "__main__":
    main()
