"""What can be checked of the container and cluster files on a machine without a container
runtime or a cluster: YAML lint, the compose file's schema (docker-compose config), the
Kubernetes manifests against the API schemas (kubernetes-validate), and that each names the
probes, image entry point and commands dynoq has."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dynoq.cli.main import build_parser

DEPLOY = Path(__file__).parents[2] / "deploy"
BIN = Path(sys.executable).parent


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def test_yamllint_passes_on_every_deploy_file() -> None:
    result = run(str(BIN / "yamllint"), "-c", str(DEPLOY / ".yamllint"), str(DEPLOY))
    assert result.returncode == 0, result.stdout


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="make test installs it")
def test_compose_file_is_valid_and_runs_every_service() -> None:
    compose = DEPLOY / "compose" / "compose.yaml"
    result = run("docker-compose", "-f", str(compose), "config")
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    services = config["services"]
    commands = {name: s.get("command") for name, s in services.items()}
    assert {"redis", "prometheus", "grafana"} <= set(services)
    dynoq_commands = sorted(
        c[0] for c in commands.values() if isinstance(c, list) and c and not c[0].startswith("-")
    )
    assert dynoq_commands == sorted(
        ["server", "sweeper", "decider", "decider", "workflow-sweeper", "scheduler", "worker"]
    )
    for command in commands.values():
        if isinstance(command, list) and command and not command[0].startswith("-"):
            build_parser().parse_args(command)  # exits on an option dynoq does not have
    assert "--appendonly yes" in services["redis"]["command"]
    assert "noeviction" in services["redis"]["command"]


@pytest.mark.skipif(shutil.which("promtool") is None, reason="make test installs it")
def test_compose_prometheus_config_is_valid_and_scrapes_each_service() -> None:
    config = DEPLOY / "compose" / "prometheus.yml"
    result = run("promtool", "check", "config", "--syntax-only", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    jobs = {job["job_name"] for job in yaml.safe_load(config.read_text())["scrape_configs"]}
    assert jobs == {
        "dynoq-server", "dynoq-sweeper", "dynoq-decider", "dynoq-workflow-sweeper", "dynoq-worker",
        "dynoq-scheduler",
    }  # fmt: skip


def test_kubernetes_manifests_validate_against_the_api_schemas() -> None:
    manifests = sorted(str(p) for p in (DEPLOY / "kubernetes").glob("*.yaml"))
    result = run(str(BIN / "kubernetes-validate"), "--strict", "--quiet", *manifests)
    assert result.returncode == 0, result.stdout + result.stderr


def test_kubernetes_deployments_probe_and_parse() -> None:
    docs = [
        doc
        for path in (DEPLOY / "kubernetes").glob("*.yaml")
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    ]
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    assert set(deployments) == {
        "dynoq-server", "dynoq-sweeper", "dynoq-decider", "dynoq-workflow-sweeper", "dynoq-worker",
        "dynoq-scheduler",
    }  # fmt: skip
    server = deployments["dynoq-server"]["spec"]["template"]["spec"]["containers"][0]
    assert server["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert server["livenessProbe"]["httpGet"]["path"] == "/health"
    for deployment in deployments.values():
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        assert container["resources"]["requests"]
        env = {e["name"]: e for e in container["env"]}
        assert env["DYNOQ_REDIS_URL"]["valueFrom"]["secretKeyRef"]["key"] == "redis-url"
        build_parser().parse_args(container["args"])
    budgets = {
        d["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"]
        for d in docs
        if d["kind"] == "PodDisruptionBudget"
    }
    assert {"server", "decider", "sweeper", "scheduler"} <= budgets


def test_containerfile_runs_dynoq_as_a_non_root_user_with_a_health_check() -> None:
    text = (DEPLOY / "Containerfile").read_text()
    assert re.search(r"^FROM python:3\.\d+-slim", text, re.MULTILINE)
    assert re.search(r"^USER dynoq$", text, re.MULTILINE)
    assert 'ENTRYPOINT ["dynoq"]' in text
    [check] = re.findall(r"^\s+CMD (.+)$", text, re.MULTILINE)
    assert "/health" in check
    assert shlex.split(
        re.findall(r"^CMD (.+)$", text, re.MULTILINE)[0]
        .replace('"', "")
        .strip("[]")
        .replace(",", " ")
    ) == ["server"]
