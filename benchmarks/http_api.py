"""Push + pop + ack throughput through the HTTP API, side by side with the library directly.

Each round moves N messages through their whole life cycle (push, pop, ack) in batches of B,
with C concurrent clients, once through ``dynoq server`` (a child process, as deployed) and once
through ``AsyncQueue`` in this process, on the same redis-server. The ratio is HTTP / library
(1.00 = the API costs nothing).

    python benchmarks/http_api.py [--redis-url URL] [--messages N] [--repeat R] [--quick]

Without --redis-url it starts a private redis-server on a loopback port (no persistence).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Awaitable, Callable
from functools import partial

import aiohttp

from dynoq import AsyncQueue, Message
from dynoq.testing import RedisServer, free_port, wait_until

PAYLOAD = {"user": 12345, "action": "send-email"}


async def through_library(queue: AsyncQueue, ids: list[str], batch: int) -> None:
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        await queue.push([Message(i, PAYLOAD) for i in chunk])
        got: list[Message] = []
        while len(got) < len(chunk):  # concurrent clients may take each other's messages
            got += await queue.pop(len(chunk) - len(got), wait=1)
        await queue.ack_many(got)


def http_lifecycle(base: str) -> Callable[[aiohttp.ClientSession, list[str], int], Awaitable[None]]:
    async def run(session: aiohttp.ClientSession, ids: list[str], batch: int) -> None:
        q = f"{base}/v1/queues/bench"
        for start in range(0, len(ids), batch):
            chunk = [{"id": i, "payload": PAYLOAD} for i in ids[start : start + batch]]
            async with session.post(f"{q}/messages", json={"messages": chunk}) as response:
                assert response.status == 201, await response.text()
            got: list[dict[str, str]] = []
            while len(got) < len(chunk):
                want = {"count": len(chunk) - len(got), "wait": 1}
                async with session.post(f"{q}/pop", json=want) as response:
                    got += (await response.json())["messages"]
            acks = [{"id": m["id"], "receipt": m["receipt"]} for m in got]
            async with session.post(f"{q}/ack", json={"messages": acks}) as response:
                assert response.status == 200

    return run


async def timed(clients: int, total: int, one: Callable[[list[str]], Awaitable[None]]) -> float:
    """Messages per second for ``total`` messages split over ``clients`` concurrent loops."""
    ids = [uuid.uuid4().hex for _ in range(total)]
    started = time.perf_counter()
    await asyncio.gather(*(one(ids[c::clients]) for c in range(clients)))
    return total / (time.perf_counter() - started)


async def measure(url: str, base: str, namespace: str, args: argparse.Namespace) -> None:
    http = http_lifecycle(base)
    print(f"{'batch':>5} {'clients':>7}  {'HTTP msg/s':<24}{'library msg/s':<24}{'ratio':>5}")
    async with (
        aiohttp.ClientSession() as session,
        AsyncQueue.from_url(url, "bench", namespace=namespace) as queue,
    ):
        for batch, clients in ((1, 1), (1, 8), (100, 1), (100, 8)):
            total = args.messages if batch > 1 else args.messages // 10
            ours: list[float] = []
            base_line: list[float] = []
            for _ in range(args.repeat):
                ours.append(await timed(clients, total, partial(http, session, batch=batch)))
                base_line.append(
                    await timed(clients, total, partial(through_library, queue, batch=batch))
                )
            o, b = statistics.median(ours), statistics.median(base_line)
            http_cell = f"{o:,.0f} ({min(ours):,.0f}-{max(ours):,.0f})"
            lib_cell = f"{b:,.0f} ({min(base_line):,.0f}-{max(base_line):,.0f})"
            print(f"{batch:>5} {clients:>7}  {http_cell:<24}{lib_cell:<24}{o / b:>5.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url")
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="2,000 messages, 1 repeat")
    args = parser.parse_args()
    if args.quick:
        args.messages, args.repeat = 2_000, 1
    server = None if args.redis_url else RedisServer(port=0).start()
    url = args.redis_url or server.url  # type: ignore[union-attr]
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    port = free_port()
    api = subprocess.Popen(
        [sys.executable, "-m", "dynoq", "server", "--redis-url", url, "--namespace", namespace,
         "--port", str(port), "--log-level", "warning"],
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=1):
                    return True
            except OSError:
                return False

        wait_until(up, timeout=30, message="dynoq server did not start")
        print(f"dynoq HTTP API vs library: push+pop+ack, {args.messages} messages, on {url}")
        asyncio.run(measure(url, base, namespace, args))
    finally:
        api.terminate()
        api.wait(timeout=30)
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
