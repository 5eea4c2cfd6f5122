"""Turning a Redis URL (see :mod:`dynoq.core.urls`) into a redis-py client, blocking or asyncio.

Clients made here time out: a socket read waits at most 5 s (``?socket_timeout=`` to change),
so one dead node cannot hang a caller; dynoq never issues a command that blocks server-side.
"""

from __future__ import annotations

from typing import Any

import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.asyncio.sentinel
import redis.cluster
import redis.sentinel

from dynoq.backend.embedded import shared_server
from dynoq.backend.packing import hiredis_packing
from dynoq.backend.pipelining import PipeliningRedis
from dynoq.backend.runner import ensure_initialized, translated_errors
from dynoq.backend.runner import translate_error as translate_error  # re-exported: services
from dynoq.core.urls import RedisTarget, Topology, parse_redis_url
from dynoq.errors import ConfigError

SyncClient = redis.Redis | redis.cluster.RedisCluster
AsyncClient = redis.asyncio.Redis | redis.asyncio.cluster.RedisCluster

ASYNC_MAX_CONNECTIONS = 100
UNBOUNDED_CONNECTIONS = 10_000  # Redis' own default maxclients
DEFAULT_TIMEOUTS = {"socket_timeout": 5.0, "socket_connect_timeout": 5.0}
_FLOAT_OPTIONS = ("socket_timeout", "socket_connect_timeout", "health_check_interval")
_TEXT_OPTIONS = ("ssl_cert_reqs", "ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "client_name")
SENTINEL_ONLY_OPTIONS = ("sentinel_username", "sentinel_password")


def resolve_url(url: str) -> str:
    """Checks the URL and replaces ``embedded://`` by the embedded server's own URL."""
    target = parse_redis_url(url)
    return shared_server().url if target.topology is Topology.EMBEDDED else url


def _client_options(target: RedisTarget) -> dict[str, Any]:
    options: dict[str, Any] = {**DEFAULT_TIMEOUTS, "decode_responses": False}
    for name, value in target.options.items():
        if name in _FLOAT_OPTIONS:
            try:
                options[name] = float(value)
            except ValueError:
                raise ConfigError(f"Redis URL option {name}={value!r} must be a number") from None
        elif name in _TEXT_OPTIONS:
            options[name] = value
        elif name not in SENTINEL_ONLY_OPTIONS:
            raise ConfigError(f"Redis URL option {name!r} is not supported here")
    if target.username:
        options["username"] = target.username
    if target.password:
        options["password"] = target.password
    if target.tls:
        options["ssl"] = True
    return options


def _sentinel_options(target: RedisTarget, options: dict[str, Any]) -> dict[str, Any]:
    sentinel = {k: v for k, v in options.items() if k.startswith("socket_") or k.startswith("ssl")}
    if "sentinel_username" in target.options:
        sentinel["username"] = target.options["sentinel_username"]
    if "sentinel_password" in target.options:
        sentinel["password"] = target.options["sentinel_password"]
    return sentinel


def _from_standalone_url(factory: Any, url: str) -> Any:
    try:
        return factory.from_url(url, decode_responses=False, **DEFAULT_TIMEOUTS)
    except ValueError as exc:
        raise ConfigError(f"bad Redis URL {url!r}: {exc}") from exc


def sync_client(url: str) -> SyncClient:
    target = parse_redis_url(url)
    if target.topology in (Topology.STANDALONE, Topology.EMBEDDED):
        return _from_standalone_url(redis.Redis, resolve_url(url))  # type: ignore[no-any-return]
    options = _client_options(target)
    if target.topology is Topology.CLUSTER:
        nodes = [redis.cluster.ClusterNode(h, p) for h, p in target.nodes]  # type: ignore[no-untyped-call]
        with translated_errors():  # the blocking client discovers the topology right away
            return redis.cluster.RedisCluster(startup_nodes=nodes, **options)
    sentinel = redis.sentinel.Sentinel(  # type: ignore[no-untyped-call]
        list(target.nodes), sentinel_kwargs=_sentinel_options(target, options), **options
    )
    return sentinel.master_for(target.service_name, db=target.db)  # type: ignore[no-any-return,no-untyped-call]


def async_client(url: str, *, bounded: bool = True, pipelined: bool = False) -> AsyncClient:
    """An asyncio client. ``bounded`` (standalone): at most 100 connections, a command past
    that waits (up to 20 s) instead of failing with "Too many connections"; unbounded pools
    skip that bookkeeping (about a tenth of a busy client's CPU), for callers whose own
    concurrency is bounded, like the workflow engine's services. ``pipelined`` (standalone):
    the commands issued in one turn of the event loop go out as one pipeline
    (:class:`~dynoq.backend.pipelining.PipeliningRedis`)."""
    target = parse_redis_url(url)
    if target.topology in (Topology.STANDALONE, Topology.EMBEDDED):
        resolved = resolve_url(url)
        try:
            pool: redis.asyncio.ConnectionPool
            if bounded:
                pool = redis.asyncio.BlockingConnectionPool.from_url(
                    resolved, max_connections=ASYNC_MAX_CONNECTIONS, timeout=20,
                    decode_responses=False, **DEFAULT_TIMEOUTS,
                )  # fmt: skip
            else:
                pool = redis.asyncio.ConnectionPool.from_url(
                    resolved,
                    max_connections=UNBOUNDED_CONNECTIONS,
                    decode_responses=False,
                    **DEFAULT_TIMEOUTS,
                )
        except ValueError as exc:
            raise ConfigError(f"bad Redis URL {url!r}: {exc}") from exc
        pool.connection_class = hiredis_packing(pool.connection_class)
        return (PipeliningRedis if pipelined else redis.asyncio.Redis).from_pool(pool)
    options = _client_options(target)
    if target.topology is Topology.CLUSTER:
        nodes = [redis.asyncio.cluster.ClusterNode(host, port) for host, port in target.nodes]
        return redis.asyncio.cluster.RedisCluster(startup_nodes=nodes, **options)
    sentinel = redis.asyncio.sentinel.Sentinel(  # type: ignore[no-untyped-call]
        list(target.nodes), sentinel_kwargs=_sentinel_options(target, options), **options
    )
    return sentinel.master_for(target.service_name, db=target.db)  # type: ignore[no-any-return]


async def aping(client: AsyncClient) -> None:
    """Returns when Redis answers a PING; raises RedisUnavailable when it does not."""
    await ensure_initialized(client)
    with translated_errors():
        await client.ping()


async def ainfo(client: AsyncClient) -> dict[str, Any]:
    """Redis' INFO (on a cluster, a dict per node); raises RedisUnavailable when unreadable."""
    await ensure_initialized(client)
    with translated_errors():
        return dict(await client.info())
