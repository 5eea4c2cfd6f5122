"""bullmq (Python): ``Queue.add`` per job and ``addBulk`` in batches; one ``Worker`` with
``concurrency=100`` (an async processor, so the documented way to go wide is concurrency)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Sequence
from typing import Any

from benchmarks import sink
from benchmarks.peers.base import QUEUE, Given, Peer, chunks, python_module

CONCURRENCY = 100
DONE = {"removeOnComplete": True, "removeOnFail": True}


class BullMQ(Peer):
    name = "bullmq"
    given = Given(
        concurrency=f"Worker(concurrency={CONCURRENCY}), async processor, 1 process",
        batch_api="addBulk",
        delay_api="add(opts.delay=ms)",
        priority_api="add(opts.priority=1..10)",
    )

    def __init__(self, url: str) -> None:
        super().__init__(url)
        from bullmq import Queue

        self.queue = Queue(QUEUE, {"connection": url})

    def enqueue(self, tags: Sequence[str]) -> None:
        async def go() -> None:
            for tag in tags:
                await self.queue.add("noop", {"tag": sink.pad(tag)}, DONE)

        self.run(go())

    def enqueue_batch(self, tags: Sequence[str], size: int = 100) -> None:
        async def go() -> None:
            for part in chunks(tags, size):
                jobs = [{"name": "noop", "data": {"tag": sink.pad(t)}, "opts": DONE} for t in part]
                await self.queue.addBulk(jobs)

        self.run(go())

    def enqueue_at(self, tag: str, due: float) -> float:
        delay_ms = max(0, round((due - time.time()) * 1000))
        self.run(self.queue.add("noop", {"tag": sink.pad(tag)}, {**DONE, "delay": delay_ms}))
        return due

    def enqueue_priority(self, jobs: Sequence[tuple[str, int]]) -> None:
        async def go() -> None:
            for tag, level in jobs:  # bullmq: 1 is the highest priority, 0 means none
                opts = {**DONE, "priority": level + 1}
                await self.queue.add("noop", {"tag": sink.pad(tag)}, opts)

        self.run(go())

    def worker_argv(self) -> list[str]:
        return python_module("benchmarks.peers.bullmq_peer")

    def close(self) -> None:
        self.run(self.queue.close())
        super().close()


async def noop(job: Any, token: str) -> None:
    sink.record(job.data["tag"])


async def work() -> None:
    from bullmq import Worker

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    worker = Worker(
        QUEUE, noop, {"connection": os.environ["BENCH_URL"], "concurrency": CONCURRENCY}
    )
    await stop.wait()
    await worker.close(force=True)


if __name__ == "__main__":
    asyncio.run(work())
