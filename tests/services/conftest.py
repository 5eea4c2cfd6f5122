"""Fixtures for the services: the HTTP API on the aiohttp test server, over the session's
real redis-server, in the test's own namespace."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from dynoq.runtime.settings import ServerConfig
from dynoq.services.server import build_app


@pytest.fixture
def metrics_registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
async def make_api(
    redis_url: str, namespace: str, metrics_registry: CollectorRegistry
) -> AsyncIterator[Callable[..., Any]]:
    clients: list[TestClient[Any, Any]] = []

    async def factory(**options: Any) -> TestClient[Any, Any]:
        options.setdefault("redis_url", redis_url)
        options.setdefault("namespace", namespace)
        # the queue API's tests list the namespace's queues: no HTTP task queue among them
        options.setdefault("system_tasks", False)
        app = build_app(ServerConfig(**options), metrics_registry)
        client: TestClient[Any, Any] = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.close()


@pytest.fixture
async def api(make_api: Callable[..., Any]) -> TestClient[Any, Any]:
    return await make_api()  # type: ignore[no-any-return]
