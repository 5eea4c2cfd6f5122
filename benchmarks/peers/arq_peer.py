"""arq: ``enqueue_job`` per job (no batch API); worker ``max_jobs=50, poll_delay=0.01``. arq's docs
give no throughput advice; its defaults (10 jobs, a poll every 0.5 s) cap a worker far below
what it can do, so it gets dynoq's concurrency and a short poll."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from typing import Any

from benchmarks import sink
from benchmarks.peers.base import QUEUE, Given, Peer, python_module

MAX_JOBS = 50
POLL_DELAY = 0.01


class Arq(Peer):
    name = "arq"
    given = Given(
        concurrency=f"Worker(max_jobs={MAX_JOBS}, poll_delay={POLL_DELAY}), 1 process",
        batch_api="none",
        delay_api="enqueue_job(_defer_until=datetime)",
        priority_api="none",
    )

    def __init__(self, url: str) -> None:
        super().__init__(url)
        from arq import create_pool
        from arq.connections import RedisSettings

        self.pool = self.run(create_pool(RedisSettings.from_dsn(url), default_queue_name=QUEUE))

    def enqueue(self, tags: Sequence[str]) -> None:
        async def go() -> None:
            for tag in tags:
                await self.pool.enqueue_job("noop", sink.pad(tag))

        self.run(go())

    def enqueue_at(self, tag: str, due: float) -> float:
        when = dt.datetime.fromtimestamp(due, tz=dt.UTC)
        self.run(self.pool.enqueue_job("noop", sink.pad(tag), _defer_until=when))
        return due

    def worker_argv(self) -> list[str]:
        return python_module("benchmarks.peers.arq_peer")

    def close(self) -> None:
        self.run(self.pool.aclose())
        super().close()


async def noop(ctx: dict[str, Any], tag: str) -> None:
    sink.record(tag)


def work() -> None:
    from arq.connections import RedisSettings
    from arq.worker import Worker

    settings = RedisSettings.from_dsn(os.environ["BENCH_URL"])
    worker = Worker(
        functions=[noop],
        redis_settings=settings,
        queue_name=QUEUE,
        max_jobs=MAX_JOBS,
        poll_delay=POLL_DELAY,
        keep_result=0,
        handle_signals=True,
    )
    worker.run()


if __name__ == "__main__":
    work()
