"""Running a service: the event loop (uvloop when installed), SIGTERM/SIGINT, the Redis URL."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, start_http_server

from dynoq.backend.connect import sync_client
from dynoq.core.eviction import evicts
from dynoq.runtime.settings import EMBEDDED_URL

if TYPE_CHECKING:
    from dynoq.workflow.engine import WorkflowEngine

log = logging.getLogger("dynoq")

EMBEDDED_WARNING = (
    "WARNING: no Redis URL given (--redis-url or DYNOQ_REDIS_URL): running on a private, "
    "embedded redis-server. NOTHING IS PERSISTED and no other process can see these queues."
)

Service = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


def warn_if_embedded(url: str) -> None:
    """Says loudly, on stderr and in the log, that an embedded Redis keeps nothing."""
    if url.lower().startswith(EMBEDDED_URL):
        banner = "!" * 78
        print(f"{banner}\n{EMBEDDED_WARNING}\n{banner}", file=sys.stderr, flush=True)
        log.warning(EMBEDDED_WARNING)


def warn_if_evicting(url: str) -> str | None:
    """Warns when the Redis at ``url`` may evict keys (``maxmemory-policy`` other than
    ``noeviction``): an evicted key is a lost message or workflow. Returns the policy warned
    about; None when fine or when it cannot be read (a user without the INFO command). Read
    from ``INFO memory``, not ``CONFIG GET``, which would also hand out the server's secrets."""
    if url.lower().startswith(EMBEDDED_URL):
        return None
    try:
        client = sync_client(url)
        try:
            reply = client.info("memory")
        finally:
            client.close()
    except Exception as exc:  # never stop a service for a check it cannot make
        log.debug("could not read maxmemory_policy: %s", exc)
        return None
    policy = _policy(reply)
    if not evicts(policy):
        return None
    log.warning(
        "WARNING: Redis maxmemory-policy is %s: when Redis reaches maxmemory it evicts keys, "
        "and an evicted key is a lost message or workflow. Set maxmemory-policy noeviction "
        "(writes are then refused, and dynoq reports it, until memory is freed).",
        policy,
    )
    return policy


def _policy(reply: Any) -> str | None:
    if isinstance(reply, dict):
        for key, value in reply.items():
            name = key.decode() if isinstance(key, bytes) else str(key)
            if name == "maxmemory_policy":
                return value.decode() if isinstance(value, bytes) else str(value)
            if isinstance(value, dict):  # a cluster client: one reply per node
                found = _policy(value)
                if found is not None:
                    return found
    return None


async def _until_signalled(service: Service) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await service(stop)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


def serve(service: Service) -> None:
    """Runs ``service(stop)`` until it returns; SIGTERM or SIGINT sets ``stop``."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(_until_signalled(service))
    else:
        uvloop.run(_until_signalled(service))


@contextlib.asynccontextmanager
async def workflow_service(
    redis_url: str, namespace: str, metrics_port: int, registry: CollectorRegistry | None
) -> AsyncIterator[tuple[WorkflowEngine, CollectorRegistry]]:
    """What each workflow service starts with: the embedded-Redis warning, its metrics registry
    (served on ``metrics_port`` when set) and an engine, closed when the service ends."""
    from dynoq.workflow.engine import WorkflowEngine

    warn_if_embedded(redis_url)
    warn_if_evicting(redis_url)
    registry = registry if registry is not None else CollectorRegistry()
    if metrics_port:
        start_http_server(metrics_port, registry=registry)
    engine = WorkflowEngine.from_url(redis_url, namespace)
    try:
        yield engine, registry
    finally:
        await engine.aclose()
