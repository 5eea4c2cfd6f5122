"""Schemathesis on every route of ``/openapi.json`` (``/v1`` and ``/api``) against a real
``dynoq server``: no answer is a server error, every error is a JSON document, and a push that
is refused changes nothing in its queue. The server runs no HTTP tasks (a fuzzed workflow could
name any address), and long polls are capped so the run takes seconds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error

from dynoq.testing import RedisServer
from tests.faults.support import processes, start_server

EXAMPLES = 12


@pytest.fixture(scope="module")
def fuzzed_server(redis_server: RedisServer) -> Iterator[str]:
    with processes() as running:
        yield start_server(
            running,
            redis_server.url,
            "fuzz",
            "--no-system-tasks",
            env={"DYNOQ_MAX_WAIT": "0.05"},
        )


@pytest.fixture(scope="module")
def api_schema(fuzzed_server: str) -> Any:
    return schemathesis.openapi.from_url(f"{fuzzed_server}/openapi.json")


def queue_counts(base: str, queue: str) -> Any:
    answer = requests.get(f"{base}/v1/queues/{queue}", timeout=10)
    return answer.json() if answer.status_code == 200 else answer.status_code


CASES: list[int] = []


def check(case: Any, base: str) -> None:
    CASES.append(1)
    if case.query and "timeout" in case.query:  # Conductor's long poll, in ms
        case.query["timeout"] = 10
    pushes = case.method == "POST" and case.path == "/v1/queues/{queue}/messages"
    queue = (case.path_parameters or {}).get("queue")
    before = queue_counts(base, queue) if pushes and isinstance(queue, str) else None
    response = case.call(timeout=30)
    case.validate_response(response, checks=[not_a_server_error])
    if response.status_code >= 400:
        [kind] = response.headers.get("content-type", [""])
        assert "json" in kind, response.text[:200]
        json.loads(response.text)
        if before is not None:
            assert queue_counts(base, queue) == before, "a refused push wrote"


@pytest.mark.timeout(600)
def test_no_route_answers_a_server_error(fuzzed_server: str) -> None:
    """(schemathesis's own pytest plugin does not run on this pytest: Hypothesis drives each
    operation's strategy here instead)"""
    schema = schemathesis.openapi.from_url(f"{fuzzed_server}/openapi.json")
    failures: dict[str, BaseException] = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure shows as found
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: Any) -> None:
            check(case, fuzzed_server)

        try:
            fuzz()
        except Exception as exc:
            failures[operation.label] = exc
    assert operations >= 50
    print(f"{len(CASES)} cases on {operations} operations, {len(failures)} failed")
    assert not failures, "\n".join(f"{label}: {exc}" for label, exc in failures.items())
