"""Asyncio connections pack commands with hiredis: the same bytes as redis-py's own packer,
and the same typed error for a value Redis cannot take."""

from __future__ import annotations

import pytest
import redis.asyncio
from redis.exceptions import DataError

from dynoq.backend.packing import hiredis_packing

ARGS = [
    ("EVALSHA", "a" * 40, 2, "dynoq:{ns:q:0}:ready", b"dynoq:{ns:q:0}:dead", "", 0, -5, 2**70),
    ("SET", "k", 0.1, 1e20, float("inf"), bytearray(b"ba"), memoryview(b"mv")),
    ("CONFIG GET", "maxmemory"),
    (b"CLIENT SETNAME", "x"),
    ("SET", "ü", "é" * 3000),  # past redis-py's chunking cutoff
]


@pytest.mark.parametrize("args", ARGS)
def test_packs_the_bytes_redis_py_packs(args: tuple[object, ...]) -> None:
    plain = redis.asyncio.Connection()
    packing = hiredis_packing(redis.asyncio.Connection)()
    assert b"".join(packing.pack_command(*args)) == b"".join(plain.pack_command(*args))


@pytest.mark.parametrize("value", [None, True, object()])
def test_a_value_redis_cannot_take_is_a_data_error(value: object) -> None:
    with pytest.raises(DataError):
        hiredis_packing(redis.asyncio.UnixDomainSocketConnection)().pack_command("SET", "k", value)


def test_each_connection_class_keeps_its_kind() -> None:
    for base in (redis.asyncio.Connection, redis.asyncio.SSLConnection):
        made = hiredis_packing(base)
        assert issubclass(made, base) and hiredis_packing(made) is made
        assert hiredis_packing(base) is made
