"""Schedules against the session's redis-server (standalone only: the keys share one hash tag,
and the tick queue is an ordinary queue already covered on the cluster)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from prometheus_client import CollectorRegistry

from dynoq import Schedules
from dynoq.backend.connect import async_client
from dynoq.services.scheduler import Scheduler
from dynoq.testing import ManualClock, RedisServer


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


@pytest.fixture
async def schedules(redis_url: str, namespace: str, clock: ManualClock) -> AsyncIterator[Schedules]:
    client = async_client(redis_url)
    async with Schedules(client, namespace, clock=clock) as s:
        yield s
    await client.aclose()


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def scheduler(schedules: Schedules, registry: CollectorRegistry) -> Scheduler:
    return Scheduler(schedules, None, registry=registry)
