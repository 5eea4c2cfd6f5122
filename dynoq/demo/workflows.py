"""The second act of ``dynoq demo``: workflows over Conductor's REST API, live.

The HTTP API, a decider and a workflow sweeper run in this process. Orders are started over
``/api``; each forks a stock check and a payment (which fails now and then and is retried with
backoff), joins, waits a second (a timer), then ships, or ends declined when the payment is
refused. Workers poll and report over HTTP, as Conductor's SDK workers do.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from typing import Any

import aiohttp

from dynoq.backend.embedded import free_port
from dynoq.demo.health import wait_for_health
from dynoq.runtime.settings import DeciderConfig, ServerConfig, WorkflowSweeperConfig
from dynoq.services import decider, server, workflow_sweeper

ORDER = {
    "name": "order",
    "version": 1,
    "tasks": [
        {
            "name": "fork",
            "taskReferenceName": "fork",
            "type": "FORK_JOIN",
            "forkTasks": [
                [
                    {
                        "name": "check_stock",
                        "taskReferenceName": "stock",
                        "inputParameters": {"sku": "${workflow.input.sku}"},
                    }
                ],
                [
                    {
                        "name": "charge",
                        "taskReferenceName": "charge",
                        "inputParameters": {"amount": "${workflow.input.amount}"},
                    }
                ],
            ],
        },
        {
            "name": "join",
            "taskReferenceName": "join",
            "type": "JOIN",
            "joinOn": ["stock", "charge"],
        },
        {
            "name": "paid",
            "taskReferenceName": "paid",
            "type": "SWITCH",
            "evaluatorType": "javascript",
            "expression": "$.approved && $.inStock ? 'ship' : 'decline'",
            "inputParameters": {
                "approved": "${charge.output.approved}",
                "inStock": "${stock.output.inStock}",
            },
            "decisionCases": {
                "ship": [
                    {
                        "name": "cool_off",
                        "taskReferenceName": "cool_off",
                        "type": "WAIT",
                        "inputParameters": {"duration": "1 second"},
                    },
                    {
                        "name": "ship",
                        "taskReferenceName": "ship",
                        "inputParameters": {"sku": "${workflow.input.sku}"},
                    },
                ],
                "decline": [
                    {
                        "name": "declined",
                        "taskReferenceName": "declined",
                        "type": "TERMINATE",
                        "inputParameters": {
                            "terminationStatus": "TERMINATED",
                            "terminationReason": "payment refused",
                        },
                    },
                ],
            },
        },
    ],
    "outputParameters": {"tracking": "${ship.output.tracking}"},
}
TASK_DEFS = [
    {"name": "check_stock", "retryCount": 0, "responseTimeoutSeconds": 10},
    {"name": "charge", "retryCount": 3, "retryLogic": "EXPONENTIAL_BACKOFF",
     "retryDelaySeconds": 1, "responseTimeoutSeconds": 10},
    {"name": "ship", "retryCount": 0, "responseTimeoutSeconds": 10},
]  # fmt: skip


def _work(task_type: str, inputs: dict[str, Any], rng: random.Random) -> tuple[str, dict[str, Any]]:
    if task_type == "check_stock":
        return "COMPLETED", {"inStock": True}
    if task_type == "charge":
        if rng.random() < 0.25:
            return "FAILED", {"error": "payment gateway timeout"}
        return "COMPLETED", {"approved": rng.random() > 0.1}
    return "COMPLETED", {"tracking": f"TRK-{rng.randrange(10**6):06}"}


async def _worker(
    session: aiohttp.ClientSession,
    api: str,
    task_type: str,
    stop: asyncio.Event,
    done: dict[str, int],
) -> None:
    rng = random.Random(task_type)
    while not stop.is_set():
        async with session.get(
            f"{api}/tasks/poll/batch/{task_type}",
            params={"count": 20, "timeout": 200, "workerid": "demo"},
        ) as response:
            tasks = await response.json()
        for task in tasks:
            status, output = _work(task_type, task["inputData"], rng)
            done[status] = done.get(status, 0) + 1
            body = {
                "taskId": task["taskId"],
                "workflowInstanceId": task["workflowInstanceId"],
                "status": status,
                "outputData": output,
                "workerId": "demo",
            }
            async with session.post(f"{api}/tasks", json=body) as reply:
                reply.raise_for_status()


async def run_workflow_demo(url: str, total: int, namespace: str = "") -> int:
    namespace = namespace or f"dynoq-demo-wf-{uuid.uuid4().hex[:8]}"
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    stop = asyncio.Event()
    services = [
        asyncio.create_task(
            server.run(ServerConfig(redis_url=url, namespace=namespace, port=port), stop=stop)
        ),
        asyncio.create_task(
            decider.run(DeciderConfig(redis_url=url, namespace=namespace), stop=stop)
        ),
        asyncio.create_task(
            workflow_sweeper.run(
                WorkflowSweeperConfig(redis_url=url, namespace=namespace), stop=stop
            )
        ),
    ]
    print(f"\ndynoq demo, workflows: Conductor's REST API on {api}, a decider and a sweeper")
    print(f"{total} orders: fork (stock, payment) -> join -> switch -> wait 1 s -> ship | decline")
    done: dict[str, int] = {}
    started = time.monotonic()
    try:
        async with aiohttp.ClientSession() as session:
            await wait_for_health(session, api.removesuffix("/api"))
            async with session.post(f"{api}/metadata/taskdefs", json=TASK_DEFS) as r:
                r.raise_for_status()
            async with session.post(f"{api}/metadata/workflow", json=ORDER) as r:
                r.raise_for_status()
            workers = [
                asyncio.create_task(_worker(session, api, t, stop, done))
                for t in ("check_stock", "charge", "ship")
            ]
            ids = []
            for i in range(total):
                body = {
                    "name": "order",
                    "input": {"sku": f"sku-{i % 7}", "amount": 10 + i},
                    "correlationId": f"order-{i}",
                }
                async with session.post(f"{api}/workflow", json=body) as r:
                    ids.append(await r.text())
            statuses: dict[str, int] = {}
            while True:
                statuses = await _count(session, api)
                print(
                    f"\r{time.monotonic() - started:5.1f}s  "
                    + "  ".join(f"{k.lower()} {v:3}" for k, v in sorted(statuses.items()))
                    + f"  payment failures retried {done.get('FAILED', 0):3}",
                    end="",
                    flush=True,
                )
                if statuses.get("RUNNING", 0) == 0 and sum(statuses.values()) >= total:
                    break
                await asyncio.sleep(0.25)
            lateness = await _wait_lateness(session, api, ids)
            stop.set()
            await asyncio.gather(*workers, return_exceptions=True)
    finally:
        stop.set()
        await asyncio.gather(*services, return_exceptions=True)
    elapsed = time.monotonic() - started
    print("\n\nsummary")
    print(
        f"  shipped {statuses.get('COMPLETED', 0)}, declined {statuses.get('TERMINATED', 0)}, "
        f"failed {statuses.get('FAILED', 0)} (payment still failing after 3 retries)"
    )
    print(f"  1 s waits ended at most {max(lateness, default=0)} ms after their deadline")
    print(f"  {total / elapsed:.0f} workflows/s end to end over {elapsed:.1f} s")
    ok = sum(statuses.values()) == total and statuses.get("RUNNING", 0) == 0
    return 0 if ok else 1


async def serve_ui(url: str, namespace: str, port: int, stop: asyncio.Event) -> None:
    """The server (its web UI), a decider and a sweeper on the demo's workflows until ``stop``,
    so what is clicked in the UI (retry, restart, start) runs."""
    services = [
        server.run(ServerConfig(redis_url=url, namespace=namespace, port=port), stop=stop),
        decider.run(DeciderConfig(redis_url=url, namespace=namespace), stop=stop),
        workflow_sweeper.run(WorkflowSweeperConfig(redis_url=url, namespace=namespace), stop=stop),
    ]
    async with aiohttp.ClientSession() as session:
        running = [asyncio.create_task(s) for s in services]
        try:
            await wait_for_health(session, f"http://127.0.0.1:{port}")
            print(f"\nthe web UI: http://127.0.0.1:{port}/ui/  (Ctrl-C to stop)", flush=True)
            await stop.wait()
        finally:
            stop.set()
            await asyncio.gather(*running, return_exceptions=True)


async def _count(session: aiohttp.ClientSession, api: str) -> dict[str, int]:
    counts = {}
    for status in ("RUNNING", "COMPLETED", "TERMINATED", "FAILED"):
        query = f"workflowType IN (order) AND status IN ({status})"
        async with session.get(f"{api}/workflow/search", params={"query": query, "size": 1}) as r:
            counts[status] = (await r.json())["totalHits"]
    return counts


async def _wait_lateness(session: aiohttp.ClientSession, api: str, ids: list[str]) -> list[int]:
    late = []
    for workflow_id in ids:
        async with session.get(f"{api}/workflow/{workflow_id}") as r:
            workflow = await r.json()
        for task in workflow["tasks"]:
            if task["taskType"] == "WAIT" and task["status"] == "COMPLETED":
                late.append(task["endTime"] - task["waitTimeout"])
    return late
