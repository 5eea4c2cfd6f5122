"""saq: ``Queue.enqueue`` per job, no batch enqueue; ``Worker(concurrency=50)``, its one knob for
throughput (default 10), set as dynoq's worker."""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import Sequence
from typing import Any

from benchmarks import sink
from benchmarks.peers.base import QUEUE, Given, Peer, python_module

CONCURRENCY = 50


class Saq(Peer):
    name = "saq"
    given = Given(
        concurrency=f"Worker(concurrency={CONCURRENCY}), 1 process",
        batch_api="none",
        delay_api="enqueue(scheduled=<whole unix seconds>)",
        priority_api="none",
    )

    def __init__(self, url: str) -> None:
        super().__init__(url)
        from saq import Queue

        self.queue = Queue.from_url(url, name=QUEUE)
        self.run(self.queue.connect())

    def enqueue(self, tags: Sequence[str]) -> None:
        async def go() -> None:
            for tag in tags:
                await self.queue.enqueue("noop", tag=sink.pad(tag))

        self.run(go())

    def enqueue_at(self, tag: str, due: float) -> float:
        scheduled = math.ceil(due)  # saq schedules in whole seconds
        self.run(self.queue.enqueue("noop", tag=sink.pad(tag), scheduled=scheduled))
        return float(scheduled)

    def worker_argv(self) -> list[str]:
        return python_module("benchmarks.peers.saq_peer")

    def close(self) -> None:
        self.run(self.queue.disconnect())
        super().close()


async def noop(ctx: dict[str, Any], *, tag: str) -> None:
    sink.record(tag)


async def work() -> None:
    from saq import Queue, Worker

    queue = Queue.from_url(os.environ["BENCH_URL"], name=QUEUE)
    await Worker(queue, functions=[noop], concurrency=CONCURRENCY).start()


if __name__ == "__main__":
    asyncio.run(work())
