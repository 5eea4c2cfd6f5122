"""A soak: rounds of queue and workflow load through ``dynoq server``, a worker and a decider.
After each round (everything acked, the finished workflows removed) the Redis key count is
back where it was, and Redis memory and the RSS of server, worker and decider stay flat.
``DYNOQ_SOAK_SECONDS`` (default 10) makes it run longer."""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path

import pytest

from dynoq.testing import wait_until
from tests.faults.support import RestartableRedis, call, processes, start_server

SECONDS = float(os.environ.get("DYNOQ_SOAK_SECONDS", "10"))
MIB = 1024 * 1024

WORKER_APP = """
    import dynoq

    worker = dynoq.Worker()

    @worker.handler("soak")
    async def handle(msg):
        pass
"""

DEFINITION = {
    "name": "soak",
    "version": 1,
    "tasks": [{"name": "step", "taskReferenceName": "step", "type": "SIMPLE"}],
}


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


def one_round(base: str, n: int) -> None:
    for b in range(4):
        batch = [{"id": f"r{n}-{b}-{i}", "payload": {"i": i}} for i in range(50)]
        assert call(base, "POST", "/v1/queues/soak/messages", {"messages": batch})[0] == 201
    ids = []
    for i in range(10):
        status, workflow_id = call(base, "POST", "/api/workflow/soak", {"i": i})
        assert status == 200
        ids.append(workflow_id)
    done = 0
    while done < len(ids):
        status, tasks = call(base, "GET", "/api/tasks/poll/batch/step?count=10&timeout=200")
        for task in tasks if status == 200 else []:
            result = {
                "taskId": task["taskId"],
                "workflowInstanceId": task["workflowInstanceId"],
                "status": "COMPLETED",
                "outputData": {"ok": True},
            }
            assert call(base, "POST", "/api/tasks", result)[0] == 200
            done += 1
    for workflow_id in ids:
        wait_until(
            lambda w=workflow_id: (
                call(base, "GET", f"/api/workflow/{w}/status")[1]["status"] == "COMPLETED"
            ),
            timeout=30,
        )
        # removed only once the decider is done with it (its entry acked): a remove racing the
        # decider's last save leaves index entries behind (see docs/reliability.md)
        wait_until(
            lambda w=workflow_id: (
                call(base, "GET", f"/v1/queues/wf.decider/messages/{w}")[0] == 404
            ),
            timeout=30,
        )
        assert call(base, "DELETE", f"/api/workflow/{workflow_id}/remove")[0] in (200, 204)
    wait_until(
        lambda: (s := call(base, "GET", "/v1/queues/soak")[1])["ready"] + s["in_flight"] == 0,
        timeout=30,
    )


def kept(key: bytes, namespace: str) -> bool:
    name = key.decode()
    if name == f"_dynoq:registry:{namespace}":
        return True
    kinds = ("wfdef:", "wfdefs", "wfsnapshot:", "wfpolls:", "ui:minute:")
    return any(name.startswith(f"{namespace}:{kind}") for kind in kinds)


@pytest.mark.timeout(SECONDS * 3 + 120)
def test_memory_keys_and_rss_stay_flat(namespace, tmp_path: Path):
    (tmp_path / "soakapp.py").write_text(textwrap.dedent(WORKER_APP))
    with RestartableRedis() as server, processes() as running:
        args = ("--redis-url", server.url, "--namespace", namespace)
        base = start_server(running, server.url, namespace)
        worker = running.dynoq("worker", "soakapp:worker", *args, cwd=tmp_path)
        decider = running.dynoq("decider", *args, "--no-system-tasks")
        pids = {"server": running.started[0].pid, "worker": worker.pid, "decider": decider.pid}
        assert call(base, "POST", "/api/metadata/workflow", DEFINITION)[0] in (200, 204)
        admin = server.client()
        samples = []
        started = time.monotonic()
        n = 0
        while n < 4 or time.monotonic() - started < SECONDS:
            one_round(base, n)
            n += 1
            # what stays once everything is acked and the workflows removed: the registry,
            # the definitions (with their snapshots), the poll data and the web UI's chart
            # (docs/reliability.md)
            wait_until(
                lambda: not [k for k in admin.scan_iter(count=1000) if not kept(k, namespace)],
                timeout=30,
                message="keys were left behind",
            )
            samples.append(
                {
                    # the UI's chart adds one hash a minute (each expires after two hours)
                    "keys": sum(1 for k in admin.scan_iter(count=1000) if b":ui:minute:" not in k),
                    "memory": int(admin.info("memory")["used_memory"]),
                    **{name: rss(pid) for name, pid in pids.items()},
                }
            )
        admin.close()
    first, last = samples[1], samples[-1]  # round 0 warms up
    shown = ("keys", "memory", *pids)
    print(
        f"{n} rounds in {time.monotonic() - started:.0f} s; after round 1: "
        f"{ {k: first[k] for k in shown} }; last: { {k: last[k] for k in shown} }"
    )
    assert all(s["keys"] == first["keys"] for s in samples[1:]), samples
    assert last["memory"] - first["memory"] < 2 * MIB, samples
    for name in pids:
        assert last[name] - first[name] < 20 * MIB, (name, samples)
