"""celery (Redis broker): ``task.delay`` per job (no batch enqueue; ``group`` still sends one
message per task); a prefork worker with one child per core (its default), gossip, mingle and
heartbeat off and a prefetch multiplier of 64, as its optimisation guide advises for many
short tasks. Priority: the Redis transport's priority
steps (0 first)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence

from celery import Celery as CeleryApp

from benchmarks import sink
from benchmarks.peers.base import QUEUE, Given, Peer, console_script

CONCURRENCY = os.cpu_count() or 1
PREFETCH_MULTIPLIER = 64

app = CeleryApp("bench", broker=os.environ.get("BENCH_URL", "redis://127.0.0.1:6379/0"))
app.conf.update(
    task_ignore_result=True,
    task_default_queue=QUEUE,
    broker_connection_retry_on_startup=True,
    broker_transport_options={
        "queue_order_strategy": "priority",
        "priority_steps": list(range(10)),
    },
    worker_hijack_root_logger=False,
    worker_prefetch_multiplier=PREFETCH_MULTIPLIER,
)


@app.task(name="noop")
def noop(tag: str) -> None:
    sink.record(tag)


class Celery(Peer):
    name = "celery"
    given = Given(
        concurrency=f"celery worker -P prefork -c {CONCURRENCY} (cores),"
        f" worker_prefetch_multiplier={PREFETCH_MULTIPLIER}",
        batch_api="none",
        delay_api="apply_async(eta=datetime)",
        priority_api="apply_async(priority=0..9)",
    )

    def enqueue(self, tags: Sequence[str]) -> None:
        for tag in tags:
            noop.delay(sink.pad(tag))

    def enqueue_at(self, tag: str, due: float) -> float:
        noop.apply_async((sink.pad(tag),), eta=dt.datetime.fromtimestamp(due, tz=dt.UTC))
        return due

    def enqueue_priority(self, jobs: Sequence[tuple[str, int]]) -> None:
        for tag, level in jobs:
            noop.apply_async((sink.pad(tag),), priority=level)

    def worker_argv(self) -> list[str]:
        return [
            console_script("celery"),
            "-A",
            "benchmarks.peers.celery_peer",
            "worker",
            "-P",
            "prefork",
            "-c",
            str(CONCURRENCY),
            "-Q",
            QUEUE,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "WARNING",
        ]
