"""The Redis side of the queue: running script calls, translating errors, waiting for wake-ups."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import weakref
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.cluster

from dynoq.backend.scripts import script_sha, script_source
from dynoq.core.ops import DeleteKeys, ScriptCall
from dynoq.errors import ConfigError, DynoqError, InvalidArgument, RedisUnavailable, ScriptFailed

# What a cluster node's own client for pub/sub takes over from the cluster client.
_SUBSCRIBER_OPTIONS = (
    "username", "password", "socket_connect_timeout", "ssl_ca_certs", "ssl_cert_reqs",
    "ssl_certfile", "ssl_keyfile", "ssl_check_hostname",
)  # fmt: skip

log = logging.getLogger("dynoq.backend")

# While the subscription is down, a waiting pop re-checks at least this often.
CLOSE_WAIT_SECONDS = 10.0  # a read is bounded by 1 s, a disconnect by the 5 s connect timeout
DEGRADED_POLL_SECONDS = 0.5


OUT_OF_MEMORY = (
    "Redis is out of memory (maxmemory reached, policy noeviction): writes are refused until "
    "memory is freed"
)


# redis-py's RedisClusterException is not a RedisError
REDIS_ERRORS = (redis.exceptions.RedisError, redis.exceptions.RedisClusterException)


def translate_error(exc: Exception) -> DynoqError:
    """The DynoqError a redis-py exception (one of REDIS_ERRORS) stands for; raise it
    ``from exc``."""
    match exc:
        case (
            redis.exceptions.ConnectionError()
            | redis.exceptions.TimeoutError()
            | redis.exceptions.ClusterError()
            | redis.exceptions.TryAgainError()
            | redis.exceptions.RedisClusterException()
        ):
            return RedisUnavailable(f"Redis is unavailable: {exc}")
        case redis.exceptions.OutOfMemoryError():
            return RedisUnavailable(OUT_OF_MEMORY + "; nothing of this call was written")
        case redis.exceptions.ResponseError():
            text = str(exc)
            if "dynoq bad argument" in text:
                return InvalidArgument(text.split("dynoq ", 1)[1])
            return ScriptFailed(f"Redis rejected a queue script: {text}")
    return DynoqError(f"Redis error: {exc}")


@contextlib.contextmanager
def translated_errors() -> Iterator[None]:
    """Re-raises redis-py exceptions as DynoqError subclasses, keeping the cause."""
    try:
        yield
    except REDIS_ERRORS as exc:
        raise translate_error(exc) from exc


def check_client(client: Any) -> None:
    kwargs = getattr(client, "connection_pool", None)
    kwargs = getattr(kwargs, "connection_kwargs", {}) if kwargs is not None else {}
    if kwargs.get("decode_responses"):
        raise ConfigError("the Redis client must not use decode_responses=True: payloads are bytes")


class SyncScripts:
    """Runs scripts (queue and workflow alike) by SHA (EVALSHA); on NOSCRIPT, by source (EVAL),
    which loads them again. Falling back to EVAL rather than SCRIPT LOAD + EVALSHA cannot lose
    a race with another SCRIPT FLUSH."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._pool: ThreadPoolExecutor | None = None
        if isinstance(client, redis.cluster.RedisCluster):
            self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="dynoq-shard")

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)

    def run_all(self, calls: list[ScriptCall | DeleteKeys], tolerant: bool) -> list[Any]:
        """Runs the calls in one pipeline: one round trip (per node, in parallel, on a
        cluster) instead of one per call. With ``tolerant``, a failed call's DynoqError is
        its result instead of being raised."""
        if not calls:
            return []
        if len(calls) > 1 and self._pool is not None:
            # redis-py's cluster pipeline refuses EVALSHA: one thread per call instead.
            return list(self._pool.map(lambda call: self._settle(call, None, tolerant), calls))
        if len(calls) > 1:
            try:
                with translated_errors():
                    pipe = self._client.pipeline(transaction=False)
                    for call in calls:
                        if isinstance(call, DeleteKeys):
                            pipe.delete(*call.keys)
                        else:
                            pipe.evalsha(
                                script_sha(call.script), len(call.keys), *call.keys, *call.args
                            )
                    replies = pipe.execute(raise_on_error=False)
            except DynoqError:
                if not tolerant:
                    raise
                replies = [None] * len(calls)  # find out call by call which ones fail
        else:
            replies = [None]
        return [
            self._settle(call, reply, tolerant) for call, reply in zip(calls, replies, strict=True)
        ]

    def _settle(self, call: ScriptCall | DeleteKeys, reply: Any, tolerant: bool) -> Any:
        """A pipelined reply, or the call run on its own when it has none yet or hit NOSCRIPT."""
        try:
            if reply is None or isinstance(reply, redis.exceptions.NoScriptError):
                return self.run(call)
            if isinstance(reply, Exception):
                with translated_errors():
                    raise reply
            return reply
        except DynoqError as exc:
            if tolerant:
                return exc
            raise

    def run(self, call: ScriptCall | DeleteKeys) -> Any:
        with translated_errors():
            if isinstance(call, DeleteKeys):
                return self._client.delete(*call.keys)
            try:
                return self._client.evalsha(
                    script_sha(call.script), len(call.keys), *call.keys, *call.args
                )
            except redis.exceptions.NoScriptError:
                return self._client.eval(
                    script_source(call.script), len(call.keys), *call.keys, *call.args
                )


_cluster_locks: weakref.WeakKeyDictionary[Any, asyncio.Lock] = weakref.WeakKeyDictionary()
_initialized_clusters: weakref.WeakSet[Any] = weakref.WeakSet()


async def ensure_initialized(client: Any) -> None:
    """Lets a ``redis.asyncio.RedisCluster`` discover the topology once, before any concurrent
    use: when many commands race to do it on first use, redis-py (8.1) can recycle
    connections that are in use, and replies get lost. A no-op for other clients."""
    if client in _initialized_clusters or not isinstance(
        client, redis.asyncio.cluster.RedisCluster
    ):
        return
    lock = _cluster_locks.setdefault(client, asyncio.Lock())
    async with lock:
        if client not in _initialized_clusters:
            with translated_errors():
                await client.initialize()
            _initialized_clusters.add(client)


class AsyncScripts:
    """The asyncio form of :class:`SyncScripts`."""

    def __init__(self, client: Any) -> None:
        self._client = client

    async def ensure_initialized(self) -> None:
        await ensure_initialized(self._client)

    async def run(self, call: ScriptCall | DeleteKeys) -> Any:
        await ensure_initialized(self._client)
        with translated_errors():
            if isinstance(call, DeleteKeys):
                return await self._client.delete(*call.keys)
            try:
                return await self._client.evalsha(
                    script_sha(call.script), len(call.keys), *call.keys, *call.args
                )
            except redis.exceptions.NoScriptError:
                return await self._client.eval(
                    script_source(call.script), len(call.keys), *call.keys, *call.args
                )


class AsyncWakeListener:
    """One subscription per queue object; every message on the channel bumps an epoch that
    waiting pops watch. A dropped subscription is re-established, and the epoch bumped, since
    a wake-up may have been missed meanwhile."""

    def __init__(self, client: Any, channel: str) -> None:
        self._client = client
        self._channel = channel
        self._epoch = 0
        self._changed = asyncio.Condition()
        self._subscribed = asyncio.Event()
        self._settled = asyncio.Event()  # the first subscribe attempt succeeded or failed
        self._task: asyncio.Task[None] | None = None
        self._attempt = 0
        self._closed = False

    async def listen(self, timeout: float) -> int:
        if self._closed:
            return self._epoch
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._settled.wait(), timeout)
        return self._epoch

    async def wait(self, seconds: float, since: int) -> int:
        if not self._subscribed.is_set():
            seconds = min(seconds, DEGRADED_POLL_SECONDS)
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self._epoch != since), seconds
                )
        return self._epoch

    async def _bump(self) -> None:
        async with self._changed:
            self._epoch += 1
            self._changed.notify_all()

    async def _subscriber(self) -> tuple[Any, Any]:
        """A pub/sub connection and what must be closed with it. On a cluster, a plain client
        on one node (rotating on failure): PUBLISH reaches every node, and the cluster client's
        own pub/sub would share connections with commands."""
        if not isinstance(self._client, redis.asyncio.cluster.RedisCluster):
            return self._client.pubsub(), None
        nodes = self._client.get_nodes()  # the queue initialized the client before listening
        node = nodes[self._attempt % len(nodes)]
        given = node.connection_kwargs
        kwargs = {k: given[k] for k in _SUBSCRIBER_OPTIONS if k in given}
        if issubclass(given.get("connection_class", object), redis.asyncio.SSLConnection):
            kwargs["ssl"] = True
        client = redis.asyncio.Redis(host=node.host, port=int(node.port), **kwargs)
        return client.pubsub(), client

    async def _run(self) -> None:
        backoff = 0.05
        while not self._closed:
            pubsub: Any = None
            owned: Any = None
            try:
                pubsub, owned = await self._subscriber()
                await pubsub.subscribe(self._channel)
                while not self._closed:
                    # A bounded read: a quiet channel is not a dead connection.
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        self._subscribed.set()
                        self._settled.set()
                        backoff = 0.05
                    await self._bump()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                level = logging.WARNING if self._subscribed.is_set() else logging.DEBUG
                log.log(level, "wake-up subscription to %s lost (%s): polling until it is back",
                        self._channel, exc)  # fmt: skip
                self._attempt += 1
                self._subscribed.clear()
                self._settled.set()
                await self._bump()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
            finally:
                try:
                    if pubsub is not None:
                        await pubsub.aclose()
                    if owned is not None:
                        await owned.aclose()
                except Exception as exc:  # the connection is gone either way
                    log.debug("closing the subscription to %s: %s", self._channel, exc)

    async def aclose(self) -> None:
        """Ends the subscription, in bounded time: were the cancellation swallowed below (a
        library catching it, a cancel racing a read's own timeout), the loop still ends on
        ``_closed`` after its current bounded read; a task that never ends is left, logged."""
        self._closed = True
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=CLOSE_WAIT_SECONDS)
        if not done:
            log.warning("the subscription to %s did not end; left behind", self._channel)
        elif not task.cancelled() and task.exception() is not None:
            log.debug("the subscription to %s ended with %r", self._channel, task.exception())


class SyncWakeListener:
    """The blocking counterpart of :class:`AsyncWakeListener`; one thread reads at a time."""

    def __init__(self, client: Any, channel: str) -> None:
        self._client = client
        self._channel = channel
        self._epoch = 0
        self._lock = threading.Lock()
        self._pubsub: redis.client.PubSub | None = None

    def listen(self, timeout: float) -> int:
        if not self._lock.acquire(timeout=timeout):
            return self._epoch
        try:
            if self._pubsub is None:
                self._subscribe(timeout)
        finally:
            self._lock.release()
        return self._epoch

    def _subscribe(self, timeout: float) -> None:
        pubsub = self._client.pubsub()
        try:
            pubsub.subscribe(self._channel)
            deadline = time.monotonic() + max(timeout, 0.001)
            # Only a confirmed subscription guarantees no later publish is missed.
            while (remaining := deadline - time.monotonic()) > 0:
                message = pubsub.get_message(timeout=remaining)
                if message is not None and message["type"] == "subscribe":
                    self._pubsub = pubsub
                    self._epoch += 1
                    return
        except redis.exceptions.RedisError as exc:
            log.debug("subscribing to %s failed (%s): polling instead", self._channel, exc)
        pubsub.close()

    def wait(self, seconds: float, since: int) -> int:
        deadline = time.monotonic() + seconds
        if not self._lock.acquire(timeout=seconds):
            return self._epoch
        try:
            if self._pubsub is None:
                self._subscribe(min(seconds, DEGRADED_POLL_SECONDS))
                if self._pubsub is None:
                    time.sleep(max(0.0, min(deadline - time.monotonic(), DEGRADED_POLL_SECONDS)))
                    return self._epoch
            while self._epoch == since and (remaining := deadline - time.monotonic()) > 0:
                try:
                    message = self._pubsub.get_message(timeout=remaining)
                except redis.exceptions.RedisError as exc:
                    log.warning("wake-up subscription to %s lost (%s)", self._channel, exc)
                    self._pubsub.close()
                    self._pubsub = None
                    self._epoch += 1
                    break
                if message is not None and message["type"] == "message":
                    self._epoch += 1
        finally:
            self._lock.release()
        return self._epoch

    def close(self) -> None:
        with self._lock:
            if self._pubsub is not None:
                self._pubsub.close()
                self._pubsub = None
