"""Commands packed by hiredis (C) on asyncio connections. redis-py's blocking connections pack
with hiredis when it is installed; its asyncio ones always pack in Python, which costs a busy
client (a server, a decider) about 5 µs per command of a dozen arguments, like a dynoq script
call. The bytes sent are the same."""

from __future__ import annotations

from typing import Any

from redis.connection import HiredisRespSerializer

_SERIALIZER = HiredisRespSerializer()  # the packer redis-py's blocking connections use


class _HiredisPacking:
    def pack_command(self, *args: Any) -> list[bytes]:
        return _SERIALIZER.pack(*args)  # type: ignore[no-any-return]


_PACKING: dict[type, type] = {}


def hiredis_packing(connection_class: type[Any]) -> type[Any]:
    """``connection_class`` packing its commands with hiredis (one subclass per class)."""
    if issubclass(connection_class, _HiredisPacking):
        return connection_class
    made = _PACKING.get(connection_class)
    if made is None:
        made = _PACKING[connection_class] = type(
            connection_class.__name__, (_HiredisPacking, connection_class), {}
        )
    return made
