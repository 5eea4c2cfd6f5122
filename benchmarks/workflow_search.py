"""Workflow search latency with many finished workflows stored.

Fills the search indexes with N finished workflows (what ``WorkflowStore.index`` keeps for each:
its entries in the sorted sets by start time per type, status, type+status and in ``all``, and
its summary), written in pipelined batches with the store's own keys and encoding (running N
workflows through the engine would take hours on a small machine and changes nothing the search
reads). Then times, one query at a time from one client:

- ``index``: Conductor's UI query ``workflowType = T AND status = S AND startTime > a AND
  startTime < b`` (one day of 30) through :func:`search_workflows`, answered by ``ZCOUNT`` and
  ``ZREVRANGEBYSCORE ... LIMIT`` on one index key: it costs the page, not the history;
- ``or``: ``(workflowType = T OR workflowType = U) AND status = S`` (the OR over one field is
  read as an IN, so two index keys answer it);
- ``text``: ``workflowType = T AND status = FAILED`` with a ``freeText`` word: the index key's
  summaries are read and matched (at most 10,000);
- ``before``: the index query through the search this branch replaced (``WorkflowEngine.search``
  with a SearchFilter: it read summaries page by page to count the total, at most 10,000).

    python benchmarks/workflow_search.py [--workflows N] [--queries Q] [--redis-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from dynoq.testing import RedisServer
from dynoq.workflow.engine import WorkflowEngine
from dynoq.workflow.model import SearchFilter, WorkflowStatus
from dynoq.workflow.query import parse_query
from dynoq.workflow.search import search_workflows
from dynoq.workflow.store import SUMMARY_FIELDS, pack

DAY_MS = 86_400_000
TYPES = [f"flow_{i:02}" for i in range(20)]
ENDED = [WorkflowStatus.COMPLETED] * 8 + [WorkflowStatus.FAILED, WorkflowStatus.TERMINATED]
BATCH = 1_000


async def fill(engine: WorkflowEngine, count: int, now_ms: int, rng: random.Random) -> float:
    """Writes ``count`` finished workflows' index entries; seconds it took."""
    store = engine.store
    client: Any = engine.client
    started = time.perf_counter()
    for first in range(0, count, BATCH):
        pipe = client.pipeline(transaction=False)
        for n in range(first, min(count, first + BATCH)):
            workflow_id = f"wf-{n:08}"
            kind = rng.choice(TYPES)
            status = str(rng.choice(ENDED))
            start = now_ms - rng.randrange(30 * DAY_MS)
            summary = dict.fromkeys(SUMMARY_FIELDS)
            summary.update(
                workflowType=kind,
                version=1,
                workflowId=workflow_id,
                correlationId=f"order-{n}",
                startTime=start,
                updateTime=start + 900,
                endTime=start + 900,
                status=status,
                input={"orderId": n},
                output={"shipped": status == "COMPLETED"},
                reasonForIncompletion="",
                priority=0,
                failedReferenceTaskNames=[],
                failedTaskNames=[],
                createdBy="",
                parentWorkflowId="",
            )
            for parts in (("all",), ("type", kind), ("status", status)):
                pipe.zadd(store.index_key(*parts), {workflow_id: start})
            pipe.zadd(store.index_key("type", kind, "status", status), {workflow_id: start})
            pipe.zadd(store.index_key("corr", f"order-{n}"), {workflow_id: start})
            pipe.hset(store.summaries_key, workflow_id, pack(summary))
        await pipe.execute()
        print(f"\r  filled {min(count, first + BATCH):,} of {count:,}", end="", flush=True)
    print()
    return time.perf_counter() - started


async def timed(call: Callable[[], Awaitable[Any]], queries: int) -> list[float]:
    out = []
    for _ in range(queries):
        started = time.perf_counter()
        await call()
        out.append((time.perf_counter() - started) * 1000)
    return out


async def redis_cpu(engine: WorkflowEngine) -> float:
    """Seconds of CPU the Redis server used so far (a figure the machine's load does not
    inflate, unlike wall-clock latency)."""
    info = await engine.client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]


async def run(url: str, workflows: int, queries: int) -> None:
    rng = random.Random(7)
    now = int(time.time() * 1000)
    # the fill's pipelines can keep a busy machine's Redis past the default 5 s socket timeout
    separator = "&" if "?" in url else "?"
    async with WorkflowEngine.from_url(
        url + separator + "socket_timeout=120", "searchbench"
    ) as engine:
        await engine.client.flushdb()
        seconds = await fill(engine, workflows, now, rng)
        memory = (await engine.client.info("memory"))["used_memory"]
        print(
            f"{workflows:,} finished workflows indexed in {seconds:.0f} s, {memory / 2**20:.0f} MiB"
        )

        def window() -> tuple[int, int]:
            low = now - rng.randrange(1, 30) * DAY_MS
            return low, low + DAY_MS

        async def by_index() -> Any:
            low, high = window()
            text = (
                f"workflowType = {rng.choice(TYPES)} AND status = COMPLETED"
                f" AND startTime > {low} AND startTime < {high}"
            )
            return await search_workflows(engine.store, parse_query(text), "*", (), 0, 100)

        async def by_or() -> Any:
            one, other = rng.sample(TYPES, 2)
            text = f"(workflowType = {one} OR workflowType = {other}) AND status = FAILED"
            return await search_workflows(engine.store, parse_query(text), "*", (), 0, 100)

        async def by_text() -> Any:
            text = f"workflowType = {rng.choice(TYPES)} AND status = FAILED"
            word = f"order-{rng.randrange(workflows)}"
            return await search_workflows(engine.store, parse_query(text), word, (), 0, 100)

        async def before() -> Any:
            low, high = window()
            where = SearchFilter(
                workflow_types=(rng.choice(TYPES),),
                statuses=(WorkflowStatus.COMPLETED,),
                start_time_from=low + 1,
                start_time_to=high - 1,
            )
            return await engine.search(where, 0, 100)

        total, page = await by_index()
        print(f"an index query: {total:,} hits, a page of {len(page)}")
        print(
            f"{'query':8} {'p50 ms':>8} {'p99 ms':>8} {'Redis CPU ms/query':>19}"
            f"  ({queries} queries, one client)"
        )
        calls = (("index", by_index), ("or", by_or), ("text", by_text), ("before", before))
        for name, call in calls:
            cpu_before = await redis_cpu(engine)
            latencies = await timed(call, queries)
            cpu = (await redis_cpu(engine) - cpu_before) * 1000 / queries
            p50, p99 = quantile(latencies, 0.5), quantile(latencies, 0.99)
            print(f"{name:8} {p50:8.2f} {p99:8.2f} {cpu:19.2f}")
        await engine.client.flushdb()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workflows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--redis-url", default="")
    args = parser.parse_args()
    if args.redis_url:
        asyncio.run(run(args.redis_url, args.workflows, args.queries))
        return
    with RedisServer() as server:
        asyncio.run(run(server.url, args.workflows, args.queries))


if __name__ == "__main__":
    main()
