"""The Celery app ``benchmarks/schedules.py`` runs ``celery beat`` with: ``BEAT_ENTRIES``
entries, each the same every-second schedule (``schedule: 1.0``), configured in
``beat_schedule`` as Celery's periodic-task docs show, on the broker in
``DYNOQ_BENCH_CELERY_BROKER``."""

from __future__ import annotations

import os

from celery import Celery

app = Celery("bench", broker=os.environ.get("DYNOQ_BENCH_CELERY_BROKER", "redis://127.0.0.1/1"))
app.conf.timezone = "UTC"
app.conf.beat_schedule = {
    f"every-second-{i}": {"task": "bench.tick", "schedule": 1.0, "args": (i,)}
    for i in range(int(os.environ.get("DYNOQ_BENCH_BEAT_ENTRIES", "10")))
}


@app.task(name="bench.tick")
def tick(entry: int) -> None:
    """Never run: the benchmark reads the messages beat sends straight off the broker."""
