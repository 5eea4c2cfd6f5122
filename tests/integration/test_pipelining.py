"""PipeliningRedis: the commands of one event-loop turn go out together, each caller gets its
own reply (or its own error), and order is kept."""

from __future__ import annotations

import asyncio

import pytest
import redis

from dynoq.backend.connect import async_client
from dynoq.testing import RedisServer


async def test_concurrent_commands_share_one_connection_and_keep_their_order(
    standalone_url: str, namespace: str
) -> None:
    name = f"pipe{namespace.replace(':', '')}"
    client = async_client(f"{standalone_url}?client_name={name}", bounded=False, pipelined=True)
    key = f"{namespace}:list"
    try:
        lengths = await asyncio.gather(*(client.rpush(key, str(i)) for i in range(50)))
        assert lengths == list(range(1, 51))  # run in the order they were issued
        assert await client.lrange(key, 0, -1) == [str(i).encode() for i in range(50)]
        # one pipeline, so one connection: a plain pool opens one per concurrent command
        clients = await client.client_list()
        assert sum(1 for c in clients if c["name"] == name) == 1
    finally:
        await client.delete(key)
        await client.aclose()


async def test_each_caller_gets_its_own_reply_or_error(standalone_url: str, namespace: str) -> None:
    client = async_client(standalone_url, bounded=False, pipelined=True)
    key = f"{namespace}:text"
    try:
        results = await asyncio.gather(
            client.set(key, "x"),
            client.incr(key),  # not an integer: this caller alone sees the error
            client.get(key),
            client.hgetall(f"{namespace}:none"),
            return_exceptions=True,
        )
        assert results[0] is True
        assert isinstance(results[1], redis.ResponseError)
        assert list(results[2:]) == [b"x", {}]  # replies parsed as without batching
    finally:
        await client.delete(key)
        await client.aclose()


async def test_a_lost_connection_reaches_every_caller_of_the_batch() -> None:
    server = RedisServer().start()
    client = async_client(server.url + "?socket_timeout=1", bounded=False, pipelined=True)
    try:
        assert await client.ping() is True
        server.stop()
        results = await asyncio.gather(
            *(client.get(f"k{i}") for i in range(5)), return_exceptions=True
        )
        assert all(isinstance(r, redis.ConnectionError) for r in results), results
    finally:
        await client.aclose()
        server.stop()


async def test_a_cancelled_caller_does_not_disturb_the_others(
    standalone_url: str, namespace: str
) -> None:
    client = async_client(standalone_url, bounded=False, pipelined=True)
    key = f"{namespace}:n"
    try:
        doomed = asyncio.ensure_future(client.incr(key))
        kept = asyncio.ensure_future(client.incr(key))
        await asyncio.sleep(0)
        doomed.cancel()
        assert await kept in (1, 2)
        assert doomed.cancelled()
        assert await client.incr(key) in (2, 3)
    finally:
        await client.delete(key)
        await client.aclose()


async def test_a_pipeline_joins_the_batch_and_a_transaction_stays_one(
    standalone_url: str, namespace: str
) -> None:
    client = async_client(standalone_url, bounded=False, pipelined=True)
    key = f"{namespace}:joined"
    try:
        pipe = client.pipeline(transaction=False)
        pipe.rpush(key, "b")
        pipe.lpop(f"{namespace}:none")
        first, (length, popped) = await asyncio.gather(client.rpush(key, "a"), pipe.execute())
        assert (first, length, popped) == (1, 2, None)
        failing = client.pipeline(transaction=False)
        failing.incr(key)
        with pytest.raises(redis.ResponseError):
            await failing.execute()
        async with client.pipeline(transaction=True) as multi:
            multi.rpush(key, "c")
            multi.lrange(key, 0, -1)
            assert (await multi.execute())[1] == [b"a", b"b", b"c"]
    finally:
        await client.delete(key)
        await client.aclose()
