"""``dynoq demo``: the HTTP API, a sweeper and a worker in one process, live; then workflows
(:mod:`dynoq.demo.workflows`).

Producers push over HTTP (mixed priorities and delays, a few poison messages); a consumer pops
over HTTP and "crashes" without acking, so the sweeper hands its leases back; the worker
handles everything, retrying failures with backoff and dead-lettering the poison.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import sys
import time
import uuid
from typing import Any

import aiohttp
from prometheus_client import CollectorRegistry

from dynoq.backend.connect import aping, async_client, resolve_url
from dynoq.backend.embedded import free_port
from dynoq.core.backoff import Constant
from dynoq.core.models import Message
from dynoq.demo.health import wait_for_health
from dynoq.runtime import serving
from dynoq.runtime.settings import ServerConfig, SweeperConfig
from dynoq.runtime.worker import Worker
from dynoq.services import server, sweeper
from dynoq.workflow import MISSING_EXTRA
from dynoq.workflow import installed as workflows_installed

QUEUE = "jobs"
LEASE_SECONDS = 1.0
MAX_DELIVERIES = 3
POISON_EVERY = 100  # every 100th message always fails
DEMO_UI_PORT = 8080  # where the demo serves the UI when that port is free


async def _produce(session: aiohttp.ClientSession, base: str, ids: list[str]) -> None:
    rng = random.Random(11)
    for start in range(0, len(ids), 25):
        batch = [
            {
                "id": message_id,
                "payload": {"n": int(message_id.rsplit("-", 1)[1])},
                "priority": rng.choice((0, 5, 9)),
                "delay": rng.choice((0, 0, 0, 0.5, 1.0)),
            }
            for message_id in ids[start : start + 25]
        ]
        async with session.post(f"{base}/v1/queues/{QUEUE}/messages", json={"messages": batch}):
            pass
        await asyncio.sleep(0.01)


async def _crashing_consumer(session: aiohttp.ClientSession, base: str) -> int:
    """Pops a few messages over HTTP and never acks them."""
    async with session.post(f"{base}/v1/queues/{QUEUE}/pop", json={"count": 10, "wait": 5}) as r:
        return len((await r.json())["messages"])


def _make_worker(
    url: str, namespace: str, handled: set[str], failures: list[int], expired: set[str]
) -> Worker:
    worker = Worker.from_url(url, namespace=namespace, concurrency=8, poll_wait=0.2)
    rng = random.Random(5)
    failed: set[str] = set()

    @worker.handler(
        QUEUE,
        unack_timeout=LEASE_SECONDS,
        max_deliveries=MAX_DELIVERIES,
        backoff=Constant(0.2),
    )
    async def handle(message: Message) -> None:
        await asyncio.sleep(rng.uniform(0, 0.01))
        if message.attempts > 1 and message.id not in failed:
            expired.add(message.id)  # its first delivery went to the crashed consumer
        if message.payload["n"] % POISON_EVERY == 0 or (
            message.attempts == 1 and rng.random() < 0.05
        ):
            failed.add(message.id)
            failures.append(message.payload["n"])
            raise RuntimeError("simulated failure")
        handled.add(message.id)

    return worker


async def run_services_demo(url: str, total: int) -> int:
    namespace = f"dynoq-demo-{uuid.uuid4().hex[:8]}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    stop = asyncio.Event()
    sweep_metrics = CollectorRegistry()
    handled: set[str] = set()
    failures: list[int] = []
    expired: set[str] = set()
    worker = _make_worker(url, namespace, handled, failures, expired)
    ids = [f"job-{i:05}" for i in range(total)]
    poison = len(range(0, total, POISON_EVERY))
    print(f"dynoq demo: HTTP API on {base}, a sweeper and a worker, on {url}")
    print(f"{total} messages pushed over HTTP, {poison} of them poison; a consumer crashes")
    services = [
        asyncio.create_task(
            server.run(ServerConfig(redis_url=url, namespace=namespace, port=port), stop=stop)
        ),
        asyncio.create_task(
            sweeper.run(
                SweeperConfig(redis_url=url, namespace=namespace, interval=0.2),
                registry=sweep_metrics,
                stop=stop,
            )
        ),
    ]
    started = time.monotonic()
    stats: dict[str, Any] = {}
    try:
        async with aiohttp.ClientSession() as session:
            await wait_for_health(session, base)
            # The worker registers the queue (with its 1 s lease) before anything is pushed.
            services.append(asyncio.create_task(worker.run_async(stop)))
            await _wait_for_queue(session, base)
            producer = asyncio.create_task(_produce(session, base, ids))
            crashed = await _crashing_consumer(session, base)
            while True:
                async with session.get(f"{base}/v1/queues/{QUEUE}") as response:
                    stats = await response.json()
                print(
                    f"\r{time.monotonic() - started:5.1f}s  handled {len(handled):5}"
                    f"  ready {stats['ready']:4}  delayed {stats['delayed']:4}"
                    f"  in flight {stats['in_flight']:3}  dead {stats['dead']:3}"
                    f"  failures {len(failures):3}  lease expired {len(expired):3}",
                    end="",
                    flush=True,
                )
                if producer.done() and len(handled) + stats["dead"] >= total:
                    break
                await asyncio.sleep(0.2)
            await producer
            async with session.delete(
                f"{base}/v1/queues/{QUEUE}", params={"confirm": QUEUE}
            ) as response:
                response.raise_for_status()
    finally:
        stop.set()
        await asyncio.gather(*services, return_exceptions=True)
    elapsed = time.monotonic() - started
    redelivered = sweep_metrics.get_sample_value(
        "dynoq_messages_redelivered_total", {"queue": QUEUE}
    )
    print("\n\nsummary")
    print(f"  handled: {len(handled)}, dead-lettered (poison): {stats['dead']} of {poison}")
    print(f"  failures retried with backoff: {len(failures) - poison * MAX_DELIVERIES}")
    print(
        f"  messages of the crashed consumer: {crashed}, delivered again after their lease: "
        f"{len(expired)} (by the sweeper: {redelivered or 0:.0f}, the rest by pop itself)"
    )
    print(f"  {total / elapsed:.0f} messages/s end to end over {elapsed:.1f} s")
    ok = len(handled) == total - poison and stats["dead"] == poison and len(expired) == crashed
    return 0 if ok else 1


async def _wait_for_queue(session: aiohttp.ClientSession, base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        async with session.get(f"{base}/v1/queues/{QUEUE}") as response:
            if response.status == 200:
                return
        await asyncio.sleep(0.05)
    raise TimeoutError("the worker did not register its queue")


def main(url: str, total: int, serve: bool | None = None) -> int:
    """Runs the queue demo, then the workflow demo; then, when ``serve`` (default: when stdin
    is a terminal), serves the web UI on the workflow demo's data until Ctrl-C."""
    # The demo shows failures itself; the services' own logs would garble the live line.
    logging.getLogger("dynoq").setLevel(logging.CRITICAL)
    # Resolved once, so the services share one embedded server and do not each warn about it.
    resolved = resolve_url(url)
    asyncio.run(_check_reachable(resolved))
    queues = asyncio.run(run_services_demo(resolved, total))
    if not workflows_installed():
        print(f"\nNo workflow demo: {MISSING_EXTRA}")
        return queues
    # Imported here: the workflow engine needs the workflow extra.
    from dynoq.demo.workflows import run_workflow_demo, serve_ui

    namespace = f"dynoq-demo-wf-{uuid.uuid4().hex[:8]}"
    workflows = asyncio.run(run_workflow_demo(resolved, min(100, max(10, total // 10)), namespace))
    if serve is None:
        serve = sys.stdin.isatty()
    if serve:
        port = DEMO_UI_PORT if _port_free(DEMO_UI_PORT) else free_port()
        serving.serve(lambda stop: serve_ui(resolved, namespace, port, stop))
    else:
        print("\n(`dynoq demo --serve`, or in a terminal, serves the web UI on this afterwards)")
    return queues or workflows


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


async def _check_reachable(url: str) -> None:
    """Fails with RedisUnavailable before any service starts, rather than half-way through."""
    client = async_client(url)
    try:
        await aping(client)
    finally:
        await client.aclose()
