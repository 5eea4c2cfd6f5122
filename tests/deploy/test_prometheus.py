"""The alert rules and the dashboard against real Prometheus: promtool checks and unit-tests
the rules, and a Prometheus scraping running dynoq processes must have collected every metric
the dashboard and the alerts name."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from dynoq.testing import free_port, wait_until

ROOT = Path(__file__).parents[2]
DEPLOY = ROOT / "deploy"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
DASHBOARD = DEPLOY / "grafana" / "dynoq.json"

pytestmark = pytest.mark.skipif(
    shutil.which("promtool") is None or shutil.which("prometheus") is None,
    reason="Debian's prometheus package is not installed (make test installs it)",
)


def referenced_metrics() -> set[str]:
    exprs = [
        t["expr"] for p in json.loads(DASHBOARD.read_text())["panels"] for t in p.get("targets", [])
    ]
    text = "\n".join(exprs) + ALERTS.read_text()
    return set(re.findall(r"\bdynoq_[a-z_]+\b", text))


def test_promtool_checks_the_rules() -> None:
    result = subprocess.run(
        ["promtool", "check", "rules", str(ALERTS)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_every_alert() -> None:
    tests = DEPLOY / "prometheus" / "alerts.test.yml"
    tested = set(re.findall(r"alertname: (\w+)", tests.read_text()))
    defined = set(re.findall(r"- alert: (\w+)", ALERTS.read_text()))
    assert defined == tested, "every alert has a unit test"
    result = subprocess.run(
        ["promtool", "test", "rules", tests.name], cwd=tests.parent, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_runbook_section() -> None:
    readme = (DEPLOY / "README.md").read_text()
    for alert in re.findall(r"- alert: (\w+)", ALERTS.read_text()):
        assert re.search(rf"^### {alert}$", readme, re.MULTILINE), f"no runbook for {alert}"


def spawn(*args: str, **env: str) -> subprocess.Popen[bytes]:
    import os

    return subprocess.Popen(
        [sys.executable, "-m", "dynoq", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def call(base: str, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
    except urllib.error.HTTPError as error:
        raise AssertionError(f"{method} {path}: {error.code} {error.read()!r}") from None
    return json.loads(raw) if raw[:1] in (b"{", b"[") else raw.decode()


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


@pytest.mark.processes
@pytest.mark.timeout(120)
def test_prometheus_collects_every_metric_the_dashboard_and_alerts_name(
    standalone_url: str, namespace: str
) -> None:
    ports = {
        name: free_port()
        for name in ("server", "worker", "sweeper", "decider", "wfsweeper", "scheduler", "prom")
    }
    common = ("--redis-url", standalone_url, "--namespace", namespace)
    processes = [
        spawn("server", *common, "--port", str(ports["server"])),
        spawn(
            "worker",
            "tests.deploy.metrics_worker:worker",
            *common,
            "--metrics-port",
            str(ports["worker"]),
        ),
        spawn("sweeper", *common, "--interval", "0.2", "--metrics-port", str(ports["sweeper"])),
        spawn("decider", *common, "--metrics-port", str(ports["decider"])),
        spawn("workflow-sweeper", *common, "--metrics-port", str(ports["wfsweeper"])),
        spawn("scheduler", *common, "--metrics-port", str(ports["scheduler"])),
    ]
    data = tempfile.mkdtemp(prefix="dynoq-prom-")
    config = Path(data) / "prometheus.yml"
    targets = {name: [f"127.0.0.1:{port}"] for name, port in ports.items() if name != "prom"}
    jobs = "\n".join(
        f"  - job_name: dynoq-{name}\n    static_configs:\n"
        f"      - targets: {json.dumps(addresses)}\n        labels: {{namespace: {namespace}}}"
        for name, addresses in targets.items()
    )
    config.write_text(f"global:\n  scrape_interval: 1s\nscrape_configs:\n{jobs}\n")
    base = f"http://127.0.0.1:{ports['server']}"
    try:
        wait_until(lambda: answers(base + "/health"), timeout=30, message="server did not start")
        # queues: a worker handles "jobs" (one poison message dead-letters); a consumer over
        # HTTP pops "leased" and never acks, so the sweeper hands the message back
        call(
            base,
            "POST",
            "/v1/queues/jobs/messages",
            {
                "messages": [{"payload": {"n": i}} for i in range(20)]
                + [{"payload": {"fail": True}}]
            },
        )
        call(base, "POST", "/v1/queues/leased/messages", {"messages": [{"id": "x"}]})
        call(base, "POST", "/v1/queues/leased/pop", {"count": 1})
        [message] = call(base, "POST", "/v1/queues/leased/pop", {"count": 1, "wait": 0})[
            "messages"
        ] or [None]
        assert message is None, "leased for 60 s: not handed out twice"
        call(base, "POST", "/v1/queues/leased/messages/x/lease", {"timeout": 0.1})
        call(base, "POST", "/v1/queues/given-back/messages", {"messages": [{"id": "y"}]})
        [given] = call(base, "POST", "/v1/queues/given-back/pop", {"count": 1})["messages"]
        call(base, "POST", "/v1/queues/given-back/messages/y/nack", {"receipt": given["receipt"]})
        every_second = {"name": "tick", "interval": 1, "message": {"queue": "ticks"}}
        call(base, "POST", "/v1/schedules", every_second)
        # workflows: one with an INLINE task, decided by the decider
        call(
            base,
            "PUT",
            "/api/metadata/workflow",
            [
                {
                    "name": "tiny",
                    "version": 1,
                    "schemaVersion": 2,
                    "tasks": [
                        {
                            "name": "calc",
                            "taskReferenceName": "calc",
                            "type": "INLINE",
                            "inputParameters": {
                                "evaluatorType": "javascript",
                                "expression": "1 + 1",
                            },
                        }
                    ],
                }
            ],
        )
        call(base, "POST", "/api/workflow/tiny", {})
        prometheus = subprocess.Popen(
            ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={data}/tsdb",
             f"--web.listen-address=127.0.0.1:{ports['prom']}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        processes.append(prometheus)
        prom = f"http://127.0.0.1:{ports['prom']}"
        wanted = referenced_metrics()
        missing: set[str] = set(wanted)

        def collected_all() -> bool:
            nonlocal missing
            try:
                names = set(call(prom, "GET", "/api/v1/label/__name__/values")["data"])
            except OSError:
                return False
            missing = wanted - names
            return not missing

        try:
            wait_until(collected_all, timeout=40, interval=0.5)
        except TimeoutError:
            pytest.fail(f"Prometheus never collected: {sorted(missing)}")
        up = call(prom, "GET", "/api/v1/query?query=up")["data"]["result"]
        assert {r["metric"]["job"] for r in up if r["value"][1] == "1"} == {
            f"dynoq-{n}" for n in targets
        }
    finally:
        for process in processes:
            process.kill()
            process.wait()
        shutil.rmtree(data, ignore_errors=True)
